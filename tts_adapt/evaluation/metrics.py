"""Objective metrics of one utterance: pure numpy/librosa functions, no model.

* ``masked_l1`` (from :mod:`tts_adapt.model.teacher_forcing`) - teacher-forced mel error over
  the real frames (the number training lowers).
* ``mcd_dtw`` - mel cepstral distortion in dB between a free-running mel and the
  recording's, after dynamic time warping (the two need not have the same length).
* attention focus / monotonicity / coverage / reached_end come from
  :func:`tts_adapt.model.alignment_metrics.alignment_metrics`, so evaluation and
  the training log's free-running check use one definition.
* ``length_ratio`` - did the stop token end the utterance at about the right length?
* ``f0_rmse`` - pitch error in Hz (pYIN) along the same DTW path, over the frames voiced in both.
"""

from __future__ import annotations

import math

import numpy as np

from tts_adapt.audio.features import denormalise_db

MCD_COEFFICIENTS = 13  # c0 (energy) is dropped: c1..c12 enter the distance
_MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)


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


def _aligned_cepstra(reference: np.ndarray, synthesized: np.ndarray, audio_cfg):
    """c1..c12 of both mels and their DTW path ``[(i_ref, j_syn)]`` (c0 left out: loudness does not count)."""
    import librosa

    if len(reference) == 0 or len(synthesized) == 0:
        raise ValueError("comparing two utterances needs at least one frame on each side")
    ref = mel_cepstrum(reference, audio_cfg)[:, 1:]  # [frames_ref, 12]
    syn = mel_cepstrum(synthesized, audio_cfg)[:, 1:]  # [frames_syn, 12]
    _, path = librosa.sequence.dtw(X=ref.T, Y=syn.T, metric="euclidean")  # end first
    return ref, syn, path


def mcd_dtw(reference: np.ndarray, synthesized: np.ndarray, audio_cfg) -> dict[str, float]:
    """MCD (dB) along the DTW path between two normalised log-mels ``[frames, n_mels]``.

    Returns ``{"mcd": dB, "path_length": steps}``.
    """
    ref, syn, path = _aligned_cepstra(reference, synthesized, audio_cfg)
    distances = np.linalg.norm(ref[path[:, 0]] - syn[path[:, 1]], axis=-1)
    return {"mcd": float(_MCD_SCALE * distances.mean()), "path_length": int(len(path))}


def pitch_track(wav: np.ndarray, audio_cfg) -> np.ndarray:
    """F0 in Hz per mel frame (NaN where pYIN hears no voicing), 50-500 Hz covers speaking voices.

    librosa's pYIN, its Viterbi pass over the band of its transitions (:mod:`tts_adapt.evaluation.pitch`):
    the same pitch, 3x faster."""
    from tts_adapt.evaluation.pitch import pyin_f0

    return pyin_f0(wav, fmin=50.0, fmax=500.0, sr=audio_cfg.sample_rate, frame_length=audio_cfg.n_fft,
                   hop_length=audio_cfg.hop_length)


def f0_rmse(reference_mel: np.ndarray, synthesized_mel: np.ndarray, reference_f0: np.ndarray,
            synthesized_f0: np.ndarray, audio_cfg) -> dict[str, float | None]:
    """Pitch error (Hz) along the mels' DTW path, over the frames both sides voice.

    The pitch tracks (:func:`pitch_track`) are of the two mels through the same vocoder, so
    their frames are the mels' frames and the vocoder's own pitch errors fall on both sides.
    Tracks, not waveforms: a track is what a cache keeps of a rendering. Also returns
    ``voicing_error``: the share of path steps voiced on one side only (RMSE None when
    no step is voiced on both).
    """
    _, _, path = _aligned_cepstra(reference_mel, synthesized_mel, audio_cfg)
    ref_f0 = _frames(np.asarray(reference_f0), len(reference_mel))[path[:, 0]]  # [steps]
    syn_f0 = _frames(np.asarray(synthesized_f0), len(synthesized_mel))[path[:, 1]]  # [steps]
    ref_voiced, syn_voiced = np.isfinite(ref_f0), np.isfinite(syn_f0)
    both = ref_voiced & syn_voiced
    rmse = float(np.sqrt(np.mean((ref_f0[both] - syn_f0[both]) ** 2))) if both.any() else None
    return {"f0_rmse": rmse, "voicing_error": float(np.mean(ref_voiced != syn_voiced))}


def _frames(track: np.ndarray, n_frames: int) -> np.ndarray:
    """A pitch track cut or NaN-padded to the mel's frame count (pYIN's centred frames may add one)."""
    out = np.full(n_frames, np.nan)
    out[: min(n_frames, len(track))] = track[:n_frames]
    return out


def length_ratio(predicted_frames: int, reference_frames: int) -> float:
    """Free-running length over the recording's: 1 = the stop token fired at the right time."""
    if reference_frames <= 0:
        raise ValueError("the reference must have at least one frame")
    return predicted_frames / reference_frames
