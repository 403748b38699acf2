"""A Keras ``.h5`` weights file as a source checkpoint (dialect ``h5``), with the trainer state beside it.

TensorFlowTTS saves ``model-<steps>.h5`` and, beside it, ``ckpt-<steps>``: a
``tf.train.Checkpoint(steps, epochs, optimizer)``. That checkpoint does not track the model, so
TensorFlow saved no Adam moments in it (it saves an optimizer's slots only for variables the
checkpoint reaches): it holds the counters and Adam's scalars, which carry over unchanged. A
trainer checkpoint that does hold per-variable tensors (newer Keras optimizers list their moments
by position, ``optimizer/_variables/<i>``) cannot follow rows by name; it is left behind and the
plan says the optimizer starts afresh.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tts_adapt.checkpoint import h5
from tts_adapt.checkpoint.dialects import Grouping, Role, TensorEntry, VariableGroup
from tts_adapt.checkpoint.reader import Checkpoint, load_reader
from tts_adapt.manifest import read_manifest

_STEPS_FILE = re.compile(r"^model-(\d+)\.h5$")
_COUNTERS = ("steps/", "epochs/")


@dataclass
class TrainerState:
    """The TF checkpoint carried beside the weights; plan keys are ``<its name>/<its key>``."""

    prefix: str
    keys: dict[str, str]  # plan key -> key inside the TF checkpoint
    reader: Any = field(repr=False)

    @property
    def name(self) -> str:
        return Path(self.prefix).name


class _Reader:
    """``get_tensor`` for weights (from the .h5, one array a read) and for the trainer's tensors."""

    def __init__(self, contents: h5.H5Contents, trainer: TrainerState | None) -> None:
        self.contents, self.trainer, self._weights = contents, trainer, contents.by_name()

    def get_tensor(self, key: str):
        if self.trainer is not None and key in self.trainer.keys:
            value = self.trainer.reader.get_tensor(self.trainer.keys[key])
            return np.array(value, dtype=object) if isinstance(value, bytes) else np.asarray(value)
        with h5.open_file(self.contents.path) as handle:
            return h5.read_array(self.contents, handle, self._weights[key])


@dataclass
class H5Checkpoint(Checkpoint):
    contents: h5.H5Contents | None = None
    trainer: TrainerState | None = None

    def read_tensor(self, key: str):
        return self.read(key)

    @property
    def files(self) -> list[Path]:
        trainer = [] if self.trainer is None else [Path(p) for p in _trainer_files(self.trainer.prefix)]
        return [Path(self.prefix), *trainer]

    def object_graph(self):
        return None


def _trainer_files(prefix: str) -> list[str]:
    from tts_adapt.checkpoint.paths import data_files

    return [str(p) for p in data_files(prefix)]


def trainer_prefix(weights: Path) -> str | None:
    """``ckpt-<steps>`` beside ``model-<steps>.h5``, when its index is there."""
    match = _STEPS_FILE.match(weights.name)
    if not match:
        return None
    prefix = weights.parent / f"ckpt-{match.group(1)}"
    return str(prefix) if Path(f"{prefix}.index").is_file() else None


def _trainer_role(key: str) -> Role:
    return "counter" if key.startswith(_COUNTERS) else "optimizer"


def _open_trainer(weights: Path, notes: list[str]) -> tuple[TrainerState | None, dict[str, tuple[Role, TensorEntry]]]:
    prefix = trainer_prefix(weights)
    if prefix is None:
        notes.append(f"no trainer checkpoint (ckpt-<steps>) beside {weights.name}: there is no optimizer state "
                     "to carry; training from the output starts Adam afresh")
        return None, {}
    reader = load_reader(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    name = Path(prefix).name
    per_variable = sorted(k for k, shape in shapes.items() if len(shape) > 0)
    if per_variable:
        notes.append(f"{name} holds {len(per_variable)} per-variable optimizer tensors ({per_variable[0]}, ...) "
                     "listed by position, which cannot follow rows by name: it is not carried, Adam starts afresh")
        return None, {}
    trainer = TrainerState(prefix, {f"{name}/{key}": key for key in sorted(shapes)}, reader)
    others = {plan_key: (_trainer_role(key), TensorEntry(plan_key, (), dtypes[key].name))
              for plan_key, key in trainer.keys.items()}
    notes.append(f"{name} (steps, epochs, Adam's step and hyper-parameters) holds no Adam moments: TensorFlow "
                 "saves an optimizer's slots only for variables its checkpoint reaches, and this one does not reach "
                 "the model; it is optimizer state like any other (kept, or left out with --optimizer reset)")
    return trainer, others


def open_h5_checkpoint(path: str | os.PathLike) -> H5Checkpoint:
    weights = Path(path)
    contents = h5.read_contents(weights)
    notes: list[str] = []
    trainer, others = _open_trainer(weights, notes)
    entries = {w.name: w.entry for w in contents.weights}
    entries.update({key: entry for key, (_, entry) in others.items()})
    grouping = Grouping({w.name: VariableGroup(w.name, w.entry) for w in contents.weights}, others)
    return H5Checkpoint(str(weights), weights.parent, "h5", entries, grouping, read_manifest(weights.parent),
                        _Reader(contents, trainer), notes=notes, contents=contents, trainer=trainer)
