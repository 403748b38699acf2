"""Log-mel features and their Griffin-Lim inverse.

Scale: magnitude STFT -> mel filterbank (``fmin``..``fmax``, Slaney norm) -> dB
(``20 log10``, floored at 1e-5) -> ``db - ref_level_db`` -> linear map of
``[min_level_db, 0]`` onto ``[-4, 4]``, clipped. So -4 is silence (mel amplitude
``<= 10**((min_level_db + ref_level_db) / 20)``) and +4 a mel amplitude of ``ref_level_db``
dB (10.0 by default); speech normalised to -23 dBFS peaks around +2 to +3, so little is
clipped. A symmetric range keeps the decoder's targets centred. One frame per ``hop_length`` samples (centred frames:
``1 + samples // hop_length`` frames).
"""

from __future__ import annotations

import functools

import numpy as np

from tts_adapt.audio.config import AudioConfig

MEL_MAX = 4.0
MEL_MIN = -4.0  # the value of silence; also the padding value of mel batches
AMPLITUDE_FLOOR = 1e-5


@functools.lru_cache(maxsize=8)
def mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """The ``[n_mels, 1 + n_fft // 2]`` filterbank (cached: building it costs more than one utterance)."""
    import librosa

    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)


def _basis(cfg: AudioConfig) -> np.ndarray:
    return mel_basis(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)


def normalise_db(db: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """dB relative to ``ref_level_db`` -> ``[MEL_MIN, MEL_MAX]``."""
    unit = np.clip((db - cfg.min_level_db) / -cfg.min_level_db, 0.0, 1.0)
    return (MEL_MIN + (MEL_MAX - MEL_MIN) * unit).astype(np.float32)


def denormalise_db(mel: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    unit = (np.clip(mel, MEL_MIN, MEL_MAX) - MEL_MIN) / (MEL_MAX - MEL_MIN)
    return unit * -cfg.min_level_db + cfg.min_level_db


def wav_to_mel(wav: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """Normalised log-mel ``[frames, n_mels]`` float32 in ``[-4, 4]`` (see the module docstring)."""
    import librosa

    spectrum = np.abs(
        librosa.stft(
            np.asarray(wav, dtype=np.float32),
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            win_length=cfg.win_length,
            center=True,
        )
    )  # [1 + n_fft/2, frames]
    mel = _basis(cfg) @ spectrum  # [n_mels, frames]
    db = 20 * np.log10(np.maximum(AMPLITUDE_FLOOR, mel)) - cfg.ref_level_db
    return normalise_db(db, cfg).T.copy()  # [frames, n_mels]


def mel_to_wav(mel: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """Griffin-Lim waveform of ``frames * hop_length`` samples; deterministic (seeded phase init)."""
    import librosa

    mel = np.asarray(mel, dtype=np.float32)
    if mel.ndim != 2 or mel.shape[1] != cfg.n_mels:
        raise ValueError(f"expected a mel of shape [frames, {cfg.n_mels}], got {mel.shape}")
    amplitude = 10 ** ((denormalise_db(mel, cfg) + cfg.ref_level_db) / 20)  # [frames, n_mels]
    spectrum = librosa.feature.inverse.mel_to_stft(
        amplitude.T, sr=cfg.sample_rate, n_fft=cfg.n_fft, power=1.0, fmin=cfg.fmin, fmax=cfg.fmax
    )  # [1 + n_fft/2, frames]
    wav = librosa.griffinlim(
        spectrum**cfg.power,
        n_iter=cfg.griffin_lim_iters,
        hop_length=cfg.hop_length,
        win_length=cfg.win_length,
        n_fft=cfg.n_fft,
        center=True,
        init="random",
        random_state=0,
    )  # [(frames - 1) * hop_length]: centred frames cover one hop less than they stand for
    return np.pad(wav, (0, mel.shape[0] * cfg.hop_length - wav.size)).astype(np.float32)
