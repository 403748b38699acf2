"""What the generator is trained to match: spectra at several resolutions, and the mel itself.

Multi-resolution STFT loss (Parallel WaveGAN, arXiv 1910.11480): spectral convergence plus
log-magnitude L1 at three window sizes, so neither time nor frequency detail wins alone; an L1
between log-mels (HiFi-GAN, Vocos) weighs the bands the ear and the recogniser rely on. No
discriminator: on two CPU cores one costs ~15x per step and collapses easily on small data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tts_adapt.audio.features import mel_basis

RESOLUTIONS = ((512, 50, 240), (1024, 120, 600), (2048, 240, 1200))  # (fft, hop, window) in samples
EPSILON = 1e-5


@dataclass(frozen=True)
class LossWeights:
    stft: float = 1.0
    mel: float = 1.0


def _magnitude(wav, fft: int, hop: int, window: int):
    return tf.abs(tf.signal.stft(wav, frame_length=window, frame_step=hop, fft_length=fft, pad_end=True))


def multi_resolution_stft_loss(generated, target):
    """Mean over resolutions of spectral convergence + log-magnitude L1. Inputs [batch, samples]."""
    total = 0.0
    for fft, hop, window in RESOLUTIONS:
        predicted, wanted = _magnitude(generated, fft, hop, window), _magnitude(target, fft, hop, window)
        convergence = tf.norm(wanted - predicted) / (tf.norm(wanted) + EPSILON)
        log_l1 = tf.reduce_mean(tf.abs(tf.math.log(wanted + EPSILON) - tf.math.log(predicted + EPSILON)))
        total += convergence + log_l1
    return total / len(RESOLUTIONS)


class MelLoss:
    """L1 between natural-log mel amplitudes, with the features' own STFT and filterbank."""

    def __init__(self, audio) -> None:
        basis = mel_basis(audio.sample_rate, audio.n_fft, audio.n_mels, audio.fmin, audio.fmax)
        self.basis = tf.constant(np.ascontiguousarray(basis.T), tf.float32)  # [bins, n_mels]
        self.audio = audio

    def log_mel(self, wav):  # [batch, samples] -> [batch, frames, n_mels]
        a = self.audio
        return tf.math.log(_magnitude(wav, a.n_fft, a.hop_length, a.win_length) @ self.basis + EPSILON)

    def __call__(self, generated, target):
        return tf.reduce_mean(tf.abs(self.log_mel(generated) - self.log_mel(target)))
