"""Objective metrics of one utterance: pure numpy/librosa functions, no model.

* ``masked_l1`` - teacher-forced mel error over the real frames (the number training lowers).
* ``mcd_dtw`` - mel cepstral distortion in dB between a free-running mel and the
  recording's, after dynamic time warping (the two need not have the same length).
* attention focus / monotonicity / coverage / reached_end come from
  :func:`tts_adapt.model.alignment_metrics.alignment_metrics`, so evaluation and
  the training log's free-running check use one definition.
* ``length_ratio`` - did the stop token end the utterance at about the right length?
"""

from __future__ import annotations

import math

import numpy as np

from tts_adapt.audio.features import denormalise_db

MCD_COEFFICIENTS = 13  # c0 (energy) is dropped: c1..c12 enter the distance
_MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)


def masked_l1(prediction: np.ndarray, target: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mean |prediction - target| per item over its first ``lengths`` frames. Inputs [batch, frames, n_mels]."""
    frames = np.arange(prediction.shape[1])[None, :] < np.asarray(lengths)[:, None]  # [batch, frames]
    error = np.abs(prediction - target).mean(-1) * frames  # [batch, frames]
    return error.sum(-1) / np.maximum(frames.sum(-1), 1)


def mel_cepstrum(mel: np.ndarray, audio_cfg, n_coefficients: int = MCD_COEFFICIENTS) -> np.ndarray:
    """Cepstra ``[frames, n_coefficients]`` of a normalised log-mel ``[frames, n_mels]``.

    Scaled like a real cepstrum, ``ln|X(n)| = c0 + 2 * sum_k c_k cos(pi k (n + 1/2) / N)``
    over the N mel bands, from ln(amplitude): then the usual MCD constant
    ``10/ln 10 * sqrt(2)`` gives decibels comparable with mel-cepstrum MCDs (Kubichek
    1993), and the value does not grow with the number of mel bands.
    """
    import librosa

    n_mels = mel.shape[-1]
    log_amplitude = denormalise_db(mel, audio_cfg) * (math.log(10.0) / 20.0)  # [frames, n_mels]
    unnormalised = librosa.feature.mfcc(S=log_amplitude.T, n_mfcc=n_coefficients, dct_type=2, norm=None)
    return (unnormalised / (2.0 * n_mels)).T  # DCT-II without norm is 2 * sum(x cos(...))


def mcd_dtw(reference: np.ndarray, synthesized: np.ndarray, audio_cfg) -> dict[str, float]:
    """MCD (dB) along the DTW path between two normalised log-mels ``[frames, n_mels]``.

    Returns ``{"mcd": dB, "path_length": steps}``; c0 is left out so loudness does not count.
    """
    import librosa

    if len(reference) == 0 or len(synthesized) == 0:
        raise ValueError("mel cepstral distortion needs at least one frame on each side")
    ref = mel_cepstrum(reference, audio_cfg)[:, 1:]  # [frames_ref, 12]
    syn = mel_cepstrum(synthesized, audio_cfg)[:, 1:]  # [frames_syn, 12]
    _, path = librosa.sequence.dtw(X=ref.T, Y=syn.T, metric="euclidean")  # path: [(i_ref, j_syn)], end first
    distances = np.linalg.norm(ref[path[:, 0]] - syn[path[:, 1]], axis=-1)
    return {"mcd": float(_MCD_SCALE * distances.mean()), "path_length": int(len(path))}


def length_ratio(predicted_frames: int, reference_frames: int) -> float:
    """Free-running length over the recording's: 1 = the stop token fired at the right time."""
    if reference_frames <= 0:
        raise ValueError("the reference must have at least one frame")
    return predicted_frames / reference_frames
