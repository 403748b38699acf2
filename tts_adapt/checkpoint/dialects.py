"""Recognise a checkpoint's dialect and group each variable with its optimizer slots.

Three dialects, one picture: a list of *variables* (the name ``inspect`` shows,
the weight's tensor key, the slot keys that follow it), *optimizer* state
(beta powers, iteration counters), *counters* (``global_step``) and *meta*
tensors (the TF2 object graph, ``save_counter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Literal

from tts_adapt.checkpoint import own_keys

Dialect = Literal["tf1", "tf2", "own", "h5"]  # h5: Keras weights files (checkpoint/h5.py)
Role = Literal["optimizer", "counter", "meta"]

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
TF2_VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
TF2_SLOT_MARK = "/.OPTIMIZER_SLOT/"

# TF1 optimizers name their slots ``<var>/<Optimizer>[_<n>]`` (Adam, Adam_1, Momentum, ...).
_TF1_SLOT_RE = re.compile(
    r"^(Adam|AdamW|Momentum|RMSProp|Adagrad|AdagradDA|ProximalAdagrad|Adadelta|Ftrl|Nadam|Adamax|LazyAdam"
    r"|ExponentialMovingAverage|[A-Za-z]+Optimizer)(_\d+)?$"
)
_TF1_OPTIMIZER_SCALAR_RE = re.compile(r"(^|/)(beta[12]_power|beta[12]_power_\d+)$")
_TF1_COUNTER_RE = re.compile(r"(^|/)global_step$")


@dataclass(frozen=True)
class TensorEntry:
    key: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        size = 1
        for dim in self.shape:
            size *= dim
        import numpy as np

        try:
            return size * np.dtype(self.dtype).itemsize
        except TypeError:  # strings and other non-numeric dtypes
            return size * 8


@dataclass
class VariableGroup:
    """A weight and the optimizer slots that have its shape and must follow it."""

    name: str
    weight: TensorEntry
    slots: dict[str, TensorEntry] = field(default_factory=dict)


@dataclass
class Grouping:
    variables: dict[str, VariableGroup]
    others: dict[str, tuple[Role, TensorEntry]]  # key -> (role, entry)

    def entries(self) -> Iterable[TensorEntry]:
        for group in self.variables.values():
            yield group.weight
            yield from group.slots.values()
        for _, entry in self.others.values():
            yield entry


def detect_dialect(keys: Iterable[str], manifest_dialect: str | None = None) -> Dialect:
    keys = set(keys)
    if OBJECT_GRAPH_KEY in keys:
        return "tf2"
    if manifest_dialect == "own" or any(own_keys.SLOT_MARK in k for k in keys):
        return "own"
    return "tf1"


def group_tf1(entries: dict[str, TensorEntry]) -> Grouping:
    slot_owner: dict[str, tuple[str, str]] = {}
    for key, entry in entries.items():
        base, _, last = key.rpartition("/")
        if not base or not _TF1_SLOT_RE.match(last):
            continue
        parts = base.split("/")
        # The slot may carry an optimizer scope prefix: try the longest suffix of its base first.
        for start in range(len(parts)):
            candidate = "/".join(parts[start:])
            owner = entries.get(candidate)
            if owner is not None and candidate != key and owner.shape == entry.shape:
                slot_label = last if start == 0 else f"{'/'.join(parts[:start])}/…/{last}"
                slot_owner[key] = (candidate, slot_label)
                break
    variables: dict[str, VariableGroup] = {}
    others: dict[str, tuple[Role, TensorEntry]] = {}
    for key, entry in entries.items():
        if key in slot_owner:
            continue
        if _TF1_OPTIMIZER_SCALAR_RE.search(key):
            others[key] = ("optimizer", entry)
        elif _TF1_COUNTER_RE.search(key):
            others[key] = ("counter", entry)
        else:
            variables[key] = VariableGroup(key, entry)
    for key, (owner, label) in slot_owner.items():
        if owner in variables:
            variables[owner].slots[label] = entries[key]
        else:  # a slot of a slot cannot happen; keep it visible rather than lose it
            others[key] = ("optimizer", entries[key])
    return Grouping(variables, others)


def tf2_name(key: str) -> str:
    return key[: -len(TF2_VALUE_SUFFIX)] if key.endswith(TF2_VALUE_SUFFIX) else key


def group_tf2(entries: dict[str, TensorEntry], optimizer_paths: Iterable[str]) -> Grouping:
    optimizer_paths = tuple(p.rstrip("/") + "/" for p in optimizer_paths)
    variables: dict[str, VariableGroup] = {}
    slots: list[tuple[str, str, TensorEntry]] = []
    others: dict[str, tuple[Role, TensorEntry]] = {}
    for key, entry in entries.items():
        if TF2_SLOT_MARK in key and key.endswith(TF2_VALUE_SUFFIX):
            owner, _, slot = tf2_name(key).partition(TF2_SLOT_MARK)
            slots.append((owner, slot, entry))
        elif key == OBJECT_GRAPH_KEY or not key.endswith(TF2_VALUE_SUFFIX):
            others[key] = ("meta", entry)
        elif key.startswith(optimizer_paths):
            others[key] = ("optimizer", entry)
        elif tf2_name(key) == "save_counter":
            others[key] = ("meta", entry)
        elif tf2_name(key) in ("global_step", "step") and entry.shape == ():
            others[key] = ("counter", entry)
        else:
            name = tf2_name(key)
            variables[name] = VariableGroup(name, entry)
    return _attach_slots(variables, slots, others)


def _attach_slots(variables: dict[str, VariableGroup], slots: list[tuple[str, str, TensorEntry]],
                  others: dict[str, tuple[Role, TensorEntry]]) -> Grouping:
    """Slots join their variable; a slot whose variable is absent stays visible as optimizer state."""
    for owner, slot, entry in slots:
        if owner in variables:
            variables[owner].slots[slot] = entry
        else:
            others[entry.key] = ("optimizer", entry)
    return Grouping(variables, others)


def group_own(entries: dict[str, TensorEntry]) -> Grouping:
    variables: dict[str, VariableGroup] = {}
    slots: list[tuple[str, str, TensorEntry]] = []
    others: dict[str, tuple[Role, TensorEntry]] = {}
    for key, entry in entries.items():
        split = own_keys.split_slot_key(key)
        if split is not None:
            slots.append((split[0], split[1], entry))
        elif key.startswith(own_keys.OPTIMIZER_PREFIX):
            others[key] = ("optimizer", entry)
        else:
            variables[key] = VariableGroup(key, entry)
    return _attach_slots(variables, slots, others)
