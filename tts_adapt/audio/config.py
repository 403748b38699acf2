"""Audio parameters: one config drives loading, features and Griffin-Lim, and travels with every model.

The values that change the features (:meth:`AudioConfig.feature_fingerprint`) decide whether a
prepared cache is still valid; the Griffin-Lim settings only matter at synthesis time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from tts_adapt.configfields import config_values
from tts_adapt.errors import UserError

SYNTHESIS_ONLY_FIELDS = ("griffin_lim_iters", "power")


@dataclass(frozen=True)
class AudioConfig:
    """Signal processing parameters, identical for every speaker of a corpus."""

    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 200  # 12.5 ms at 16 kHz
    win_length: int = 800  # 50 ms at 16 kHz
    n_mels: int = 80
    fmin: float = 55.0
    fmax: float = 7600.0  # also the low-pass cut-off: every source ends up with the same bandwidth
    min_level_db: float = -100.0  # mel floor, maps to -4
    ref_level_db: float = 20.0  # dB subtracted before scaling; 0 dB re this maps to +4
    trim_top_db: float = 40.0  # silence = quieter than the loudest frame by this much
    target_dbfs: float = -23.0  # RMS loudness of the non-silent part after normalisation
    peak_dbfs: float = -1.0  # the whole signal is scaled down if its peak would exceed this
    griffin_lim_iters: int = 60
    power: float = 1.5  # magnitude sharpening before Griffin-Lim

    def __post_init__(self) -> None:
        problems = []
        if self.sample_rate <= 0:
            problems.append("sample_rate must be positive")
        if not 0 < self.win_length <= self.n_fft:
            problems.append("win_length must be in (0, n_fft]")
        if not 0 < self.hop_length <= self.win_length:
            problems.append("hop_length must be in (0, win_length]")
        if self.n_mels <= 0:
            problems.append("n_mels must be positive")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            problems.append(f"need 0 <= fmin < fmax <= sample_rate/2 ({self.sample_rate / 2:g})")
        if self.min_level_db >= 0:
            problems.append("min_level_db must be negative")
        if self.trim_top_db <= 0:
            problems.append("trim_top_db must be positive")
        if self.target_dbfs >= self.peak_dbfs or self.peak_dbfs > 0:
            problems.append("need target_dbfs < peak_dbfs <= 0")
        if self.griffin_lim_iters < 1 or self.power <= 0:
            problems.append("griffin_lim_iters must be >= 1 and power > 0")
        if problems:
            raise UserError("audio config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AudioConfig":
        """Build from a mapping; unknown keys are an error so that typos do not pass silently."""
        values = config_values(cls, data, "audio config")
        return cls(**values)

    def feature_fingerprint(self) -> str:
        """A short hash of every value that changes the features (a changed one invalidates a cache)."""
        relevant = {k: v for k, v in self.to_dict().items() if k not in SYNTHESIS_ONLY_FIELDS}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def load_audio_config(path: str | os.PathLike | None) -> AudioConfig:
    """Read the audio config from YAML: an ``audio:`` section, or a flat mapping of audio keys.

    A file with other sections only (``model:``, ``training:``) gives the defaults, so one
    experiment config can serve every command.
    """
    if path is None:
        return AudioConfig()
    from tts_adapt.structured import parse_yaml, read_text

    path = Path(path)
    data = parse_yaml(read_text(path, "config file"), str(path))
    if data is None:
        return AudioConfig()
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    if "audio" in data:
        section = data["audio"] or {}
        if not isinstance(section, dict):
            raise UserError(f"{path}: 'audio' must be a mapping")
        return _from_dict_in(section, path)
    flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
    return _from_dict_in(flat, path)


def _from_dict_in(data: Mapping[str, Any], path: Path) -> AudioConfig:
    try:
        return AudioConfig.from_dict(data)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
