"""A neural vocoder that turns the toolkit's mels into speech on a CPU (Vocos-style, spectral losses).

Griffin-Lim needs one fixed sharpening for every mel: real speech's mels want none, a fine-tuned
model's over-smoothed mels want a lot. A vocoder trained on the acoustic model's own
teacher-forced mels, paired with the recordings, learns that mapping instead.

* :mod:`.network` - the generator: ConvNeXt blocks at frame rate, STFT magnitude and phase, inverse STFT;
* :mod:`.losses` - multi-resolution STFT and mel losses;
* :mod:`.bundle` - a trained vocoder on disk (``vocoder.json`` + float16 weights) and its checks;
* :mod:`.render` - mel -> waveform with the chosen renderer (a vocoder or Griffin-Lim).
"""
