"""Training settings: one typed config, saved in the manifest so that a rerun resumes with the same ones.

The experiment YAML (``train --config``) may hold three sections: ``model:`` (a
``preset`` and/or :class:`~tts_adapt.model.config.ModelConfig` fields), ``training:``
(:class:`TrainingConfig` fields) and ``audio:`` (read by ``prepare``; training takes
the audio parameters from the prepared data).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from tts_adapt.configfields import config_values
from tts_adapt.errors import UserError

FREEZABLE_PARTS: dict[str, tuple[str, ...]] = {
    "embedding": ("tacotron/symbol_embedding/",),
    "speakers": ("tacotron/speaker_embedding/",),
    "encoder": ("tacotron/encoder/",),
    "prenet": ("tacotron/decoder/prenet/",),
    "attention": ("tacotron/decoder/attention/", "tacotron/decoder/attention_lstm/"),
    "decoder": ("tacotron/decoder/",),
    "projections": ("tacotron/decoder/frame_projection/", "tacotron/decoder/stop_projection/"),
    "postnet": ("tacotron/postnet/",),
}


@dataclass(frozen=True)
class TrainingConfig:
    steps: int = 3000  # train until the optimizer has taken this many steps in this run's schedule
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_decay_at: tuple[int, ...] = (2000,)  # steps (from the run's start) where the rate is multiplied...
    lr_decay_factor: float = 0.5  # ...by this: validation loss flattens at ~2,000 steps without decay
    adam_beta_1: float = 0.9
    adam_beta_2: float = 0.999
    adam_epsilon: float = 1e-6
    grad_clip_norm: float = 1.0
    guided_attention_sigma: float = 0.2
    guided_attention_weight: float = 1.0
    guided_attention_half_life: int = 2000  # weight halves every this many steps; 0 keeps it constant
    stop_pos_weight: float = 5.0  # stop frames are rare: weigh them up
    seed: int = 0
    checkpoint_every: int = 500
    keep: int = 3
    val_every: int = 250
    val_batches: int = 4
    log_every: int = 10
    freeze: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        positive = ("steps", "batch_size", "checkpoint_every", "keep", "val_every", "val_batches", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise UserError(f"training config: {name} must be >= 1")
        if self.learning_rate <= 0 or self.grad_clip_norm <= 0 or self.guided_attention_sigma <= 0:
            raise UserError("training config: learning_rate, grad_clip_norm and guided_attention_sigma must be > 0")
        unknown = [p for p in self.freeze if p not in FREEZABLE_PARTS]
        if unknown:
            raise UserError(f"cannot freeze {', '.join(unknown)}: parts are {', '.join(FREEZABLE_PARTS)}")

    def learning_rate_at(self, steps_done: int) -> float:
        """The rate for a run that has taken ``steps_done`` steps since it started."""
        decays = sum(1 for at in self.lr_decay_at if steps_done >= at)
        return self.learning_rate * self.lr_decay_factor ** decays

    def attention_weight_at(self, steps_done: int) -> float:
        if self.guided_attention_half_life <= 0:
            return self.guided_attention_weight
        return self.guided_attention_weight * 0.5 ** (steps_done / self.guided_attention_half_life)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["lr_decay_at"] = list(self.lr_decay_at)
        data["freeze"] = list(self.freeze)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: "TrainingConfig | None" = None,
                  source: str = "training config") -> "TrainingConfig":
        """``base`` (default: the defaults) with the fields of ``data``; unknown keys are errors."""
        values = config_values(cls, data, source)
        return dataclasses.replace(base or cls(), **values)


def read_experiment_config(path: str | os.PathLike | None) -> dict[str, dict[str, Any]]:
    """``{"model": {...}, "training": {...}}`` from an experiment YAML (missing sections are empty)."""
    if path is None:
        return {"model": {}, "training": {}}
    from tts_adapt.structured import parse_yaml, read_text

    path = Path(path)
    data = parse_yaml(read_text(path, "config file"), str(path))
    data = {} if data is None else data  # an empty file; "0" or "false" is no config, and is refused below
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with model:, training: and audio: sections")
    unknown = sorted(map(str, set(data) - {"model", "training", "audio"}))
    if unknown:
        raise UserError(f"{path}: unknown section(s) {', '.join(unknown)} (known: model, training, audio)")
    out = {}
    for section in ("model", "training"):
        value = data.get(section) or {}
        if not isinstance(value, dict):
            raise UserError(f"{path}: {section!r} must be a mapping")
        out[section] = value
    return out
