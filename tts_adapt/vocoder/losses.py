"""What the generator is trained to match: spectra at several resolutions, the mel, and phase.

Multi-resolution STFT loss (Parallel WaveGAN, arXiv 1910.11480): spectral convergence plus
log-magnitude L1 at three window sizes, so neither time nor frequency detail wins alone; an L1
between log-mels (HiFi-GAN, Vocos) weighs the bands the ear and the recogniser rely on. No
discriminator: on two CPU cores one multiplies the cost of a step and collapses easily on small data.

Magnitude losses leave the phase to be learned only through consistency between resolutions;
:func:`relative_phase_loss` trains it directly (after APNet, arXiv 2305.07952: group delay and
instantaneous frequency, anti-wrapped), on phase *differences* because a mel fixes those but
not the absolute phase of a frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tts_adapt.audio.features import mel_basis

RESOLUTIONS = ((512, 50, 240), (1024, 120, 600), (2048, 240, 1200))  # (fft, hop, window) in samples
EPSILON = 1e-5


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


def _compressed(spectrum, power: float = 0.3):
    """The complex STFT with its magnitude raised to ``power`` (loud bins do not drown the rest)."""
    magnitude_sq = tf.math.real(spectrum) ** 2 + tf.math.imag(spectrum) ** 2
    scale = (magnitude_sq + EPSILON**2) ** ((power - 1) / 2)
    return spectrum * tf.complex(scale, tf.zeros_like(scale))


def _neighbour_products(spectrum, axis: int):
    """X[n+1] * conj(X[n]) along frames (axis 1) or bins (axis 2): its angle is the phase difference."""
    if axis == 1:
        return spectrum[:, 1:, :] * tf.math.conj(spectrum[:, :-1, :])
    return spectrum[:, :, 1:] * tf.math.conj(spectrum[:, :, :-1])


def relative_phase_loss(generated, target, audio):
    """Weighted 1 - cos of the error in instantaneous frequency (along frames) and group delay (along bins).

    z = a * conj(b) compares the two phase differences; |z| - Re z = |a||b| (1 - cos(error)) is
    anti-wrapped by construction, smooth, and weighted by the (compressed) magnitudes, so silent
    bins whose phase is noise count for nothing."""
    def stft(wav):
        return _compressed(tf.signal.stft(wav, frame_length=audio.win_length, frame_step=audio.hop_length,
                                          fft_length=audio.n_fft, pad_end=True))

    predicted, wanted = stft(generated), stft(target)  # [batch, frames, bins]
    total = 0.0
    for axis in (1, 2):
        a, b = _neighbour_products(predicted, axis), _neighbour_products(wanted, axis)
        z = a * tf.math.conj(b)
        modulus = tf.sqrt(tf.math.real(z) ** 2 + tf.math.imag(z) ** 2 + EPSILON**2)
        scale = tf.reduce_sum(tf.math.real(b) ** 2 + tf.math.imag(b) ** 2) + EPSILON
        total += tf.reduce_sum(modulus - tf.math.real(z)) / scale
    return total / 2
