"""What a TF1 checkpoint does not record but its code fixed: the two codebases ``import`` knows.

A Saver checkpoint holds tensors only. Dimensions follow from their shapes (``importing/names.py``);
the rest (batch-norm order, zoneout, the audio and the symbols it was trained with) comes from
the codebase's defaults, read from its sources: Real-Time-Voice-Cloning at its last TF1 commit
(5425557, ``synthesizer/hparams.py``, ``synthesizer/utils/symbols.py``) and
Rayhane-mamah/Tacotron-2 (``hparams.py``, ``tacotron/utils/symbols.py``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError

# Both codebases: pad "_", end of sentence "~" (appended to every input), then these characters.
_CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + "!'\"(),-.:;? "
DEFAULT_SYMBOLS = ("_", "~", *_CHARACTERS)


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    speaker_vector: bool  # the memory ends with an external speaker embedding (RTVC's speaker encoder)
    activation_before_norm: bool  # hparams batch_norm_position "after" (Rayhane-mamah's last default)
    zoneout: float  # tacotron_zoneout_rate
    dropout: float  # tacotron_dropout_rate: prenet (always) and convolutions (training)
    max_decoder_steps: int  # max_iters
    audio: AudioConfig
    output_clip: tuple[float, ...] = ()  # clip_outputs: mels kept in [-max_abs_value - lower_bound_decay, max_abs]
    cleaners: tuple[str, ...] = ("english",)  # their english_cleaners, as near as the toolkit's go
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS


ARCHITECTURES: dict[str, Architecture] = {
    "rtvc": Architecture(
        "rtvc", "Real-Time-Voice-Cloning's TF1 synthesizer (speaker embedding concatenated to the encoder outputs)",
        speaker_vector=True, activation_before_norm=False, zoneout=0.1, dropout=0.5, max_decoder_steps=2000,
        audio=AudioConfig(sample_rate=16000, n_fft=800, hop_length=200, win_length=800, n_mels=80, fmin=55.0,
                          fmax=7600.0),
    ),
    "rayhane": Architecture(
        "rayhane", "Rayhane-mamah/Tacotron-2 (single speaker)",
        speaker_vector=False, activation_before_norm=True, zoneout=0.1, dropout=0.5, max_decoder_steps=10000,
        audio=AudioConfig(sample_rate=22050, n_fft=2048, hop_length=275, win_length=1100, n_mels=80, fmin=55.0,
                          fmax=7600.0),
        output_clip=(-4.1, 4.0),
    ),
}


def architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise UserError(f"unknown architecture {name!r} (choose from {', '.join(ARCHITECTURES)})") from None
