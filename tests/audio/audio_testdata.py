"""Synthetic 'voices' for the audio and corpus tests: no recordings are committed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def voice(sr: int, seconds: float = 1.0, amplitude: float = 0.3, f0: float = 140.0,
          pad_seconds: float = 0.25, seed: int = 0) -> np.ndarray:
    """A harmonic tone with a gliding pitch and a syllable-rate envelope, between silences."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    pitch = f0 * (1 + 0.2 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    harmonics = sum(np.sin(k * phase) / k for k in range(1, 40) if k * f0 * 1.2 < sr / 2)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    tone = amplitude * harmonics * envelope / np.max(np.abs(harmonics * envelope))
    pad = np.zeros(int(sr * pad_seconds))
    signal = np.concatenate([pad, tone, pad]) + rng.normal(0, 1e-5, 2 * pad.size + t.size)
    return signal.astype(np.float32)


def write_voice(path: Path, sr: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, voice(sr, **kwargs), sr)
    return path
