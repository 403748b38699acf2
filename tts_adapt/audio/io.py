"""Loading audio into one canonical form, whatever its source rate, width or loudness.

The pretraining corpus mixes 8-48 kHz voices; if any trace of the source format survived
(bandwidth, level, leading silence) the model would learn the format instead of the voice.
So every file goes through the same chain: mono -> resample -> low-pass at ``fmax`` ->
trim silence -> loudness to ``target_dbfs`` (RMS of the non-silent frames) -> peak guard.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError
from tts_adapt.fsutil import atomic_file

SILENCE_PEAK = 1e-5  # -100 dBFS: a file this quiet holds no speech
# Below this no speech band fits (telephone audio, the narrowest in use, is 8 kHz). A header claiming
# less is damaged, and believing it is costly: 1 s of samples "at 8 Hz" resamples to 45 minutes of audio.
MIN_SAMPLE_RATE = 4000


class AudioLoadError(UserError):
    """A file that cannot become a training example; ``reason`` is a short category for summaries."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a file as float32 ``[samples, channels]`` and its sample rate (soundfile, else librosa)."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioLoadError(*_not_a_file(path))
    if path.stat().st_size == 0:
        raise AudioLoadError("empty audio", f"{path}: empty file")
    try:
        data, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as sf_error:  # soundfile raises several types for undecodable input
        data, sr = _read_with_librosa(path, sf_error)
    if data.shape[0] == 0:
        raise AudioLoadError("empty audio", f"{path}: no samples")
    if sr < MIN_SAMPLE_RATE:
        raise AudioLoadError("implausible sample rate", f"{path}: the header claims {sr} Hz; speech needs at "
                                                        f"least {MIN_SAMPLE_RATE} Hz (a damaged header?)")
    if not np.all(np.isfinite(data)):
        raise AudioLoadError("unreadable audio", f"{path}: holds NaN or infinite samples")
    return data, int(sr)


def _not_a_file(path: Path) -> tuple[str, str]:
    """(reason, message) for a path that is no regular file: what a person checks first, never opened
    (reading a named pipe would wait for a writer forever)."""
    if path.is_symlink() and not path.exists():  # a link to nothing, or a loop of links
        return "missing audio", f"{path}: a symbolic link to nothing that exists ({os.readlink(path)})"
    if not path.exists():
        return "missing audio", f"{path}: no such file"
    return "unreadable audio", f"{path}: not a regular file (a folder, a named pipe or a device)"


def _read_with_librosa(path: Path, sf_error: Exception) -> tuple[np.ndarray, int]:
    """Formats libsndfile cannot read (e.g. some mp3/m4a) may still decode through librosa."""
    import warnings

    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data, sr = librosa.load(path, sr=None, mono=False)
    except Exception:
        raise AudioLoadError("unreadable audio", f"{path}: cannot decode ({sf_error})") from None
    data = np.asarray(data, dtype=np.float32)
    return (data[:, None] if data.ndim == 1 else data.T), int(sr)


def load_audio(path: str | os.PathLike, cfg: AudioConfig) -> np.ndarray:
    """Mono float32 at ``cfg.sample_rate``, band-limited, trimmed and loudness-normalised."""
    data, sr = read_audio(path)
    return normalise_audio(data.mean(axis=1), sr, cfg, source=str(path))


def normalise_audio(wav: np.ndarray, sr: int, cfg: AudioConfig, source: str = "<array>") -> np.ndarray:
    """The canonical chain for a mono signal at rate ``sr`` (see the module docstring)."""
    import librosa

    wav = np.asarray(wav, dtype=np.float32)
    if np.max(np.abs(wav), initial=0.0) < SILENCE_PEAK:
        raise AudioLoadError("silent audio", f"{source}: silent")
    if sr != cfg.sample_rate:
        wav = librosa.resample(wav, orig_sr=sr, target_sr=cfg.sample_rate, res_type="soxr_hq")
    wav = lowpass(wav, cfg)
    wav, _ = librosa.effects.trim(
        wav, top_db=cfg.trim_top_db, frame_length=cfg.win_length, hop_length=cfg.hop_length
    )
    if wav.size == 0:
        raise AudioLoadError("silent audio", f"{source}: nothing left after trimming silence")
    return normalise_loudness(wav, cfg).astype(np.float32)


def lowpass(wav: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """Zero-phase Butterworth low-pass at ``cfg.fmax``: all sources share one bandwidth."""
    from scipy.signal import sosfiltfilt

    sos = _lowpass_sos(cfg.sample_rate, cfg.fmax)
    if sos is None:
        return wav
    padlen = min(wav.size - 1, 3 * (2 * len(sos) + 1))  # sosfiltfilt's default, capped for short signals
    return sosfiltfilt(sos, wav, padlen=max(padlen, 0)).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _lowpass_sos(sample_rate: int, cutoff: float) -> np.ndarray | None:
    from scipy.signal import butter

    if cutoff >= 0.99 * sample_rate / 2:
        return None  # nothing left to remove above the cut-off
    return butter(8, cutoff, btype="lowpass", fs=sample_rate, output="sos")


def voiced_rms_dbfs(wav: np.ndarray, cfg: AudioConfig) -> float:
    """RMS level (dBFS) of the frames within ``trim_top_db`` of the loudest: pauses do not count."""
    import librosa

    frame_rms = librosa.feature.rms(
        y=wav, frame_length=cfg.win_length, hop_length=cfg.hop_length, center=True
    )[0]
    loudest = float(frame_rms.max())
    if loudest <= 0:
        return float("-inf")
    voiced = frame_rms[frame_rms >= loudest * 10 ** (-cfg.trim_top_db / 20)]
    return float(20 * np.log10(np.sqrt(np.mean(voiced**2))))


def normalise_loudness(wav: np.ndarray, cfg: AudioConfig) -> np.ndarray:
    """Scale to ``target_dbfs``; scale down further only if the peak would pass ``peak_dbfs``.

    A single gain (no compression) keeps the waveform undistorted; the peak guard is linear too.
    """
    level = voiced_rms_dbfs(wav, cfg)
    if not np.isfinite(level):
        raise AudioLoadError("silent audio", "silent after trimming")
    gain = 10 ** ((cfg.target_dbfs - level) / 20)
    peak = float(np.max(np.abs(wav))) * gain
    limit = 10 ** (cfg.peak_dbfs / 20)
    if peak > limit:
        gain *= limit / peak
    return wav * gain


def save_wav(path: str | os.PathLike, wav: np.ndarray, sr: int) -> None:
    """Write 16-bit PCM through a temporary file, so a killed run leaves no half file behind."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.clip(np.nan_to_num(np.asarray(wav, dtype=np.float32)), -1.0, 1.0)
    with atomic_file(path) as tmp:
        sf.write(tmp, samples, int(sr), subtype="PCM_16", format="WAV")
