"""The toolkit's own checkpoints (dialect ``own``): readable keys, atomic saves, strict restores.

Keys (rules in :mod:`tts_adapt.checkpoint.own_keys`):

* every model variable, trainable or not (batch-norm moving statistics), under its
  Keras ``variable.path`` (``tacotron/encoder/conv_0/kernel``);
* Adam's slots of each trainable variable under ``slot_key(path, "m")`` and
  ``slot_key(path, "v")``. Keras 3 keeps them in ``optimizer._momentums`` and
  ``optimizer._velocities``, at the position ``optimizer._get_variable_index(variable)``
  (see :func:`adam_slots`: the one place that knows this);
* ``optimizer/iterations``: Adam's step counter (bias correction, learning-rate schedule).

A save writes ``DIR/ckpt-<step>`` with ``tf.raw_ops.SaveV2`` under a temporary
name, renames it into place, writes ``manifest.json`` and updates the
``checkpoint`` state file last (so ``tf.train.latest_checkpoint(DIR)`` never sees
a half-written checkpoint), then deletes all but the newest ``keep``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_adapt.checkpoint.own_keys import optimizer_key, slot_key, split_slot_key
from tts_adapt.checkpoint.paths import data_files, resolve_checkpoint
from tts_adapt.checkpoint.writer import write_checkpoint_state
from tts_adapt.errors import UserError
from tts_adapt.fsutil import sync
from tts_adapt.manifest import Manifest, write_manifest

PREFIX_STEM = "ckpt"
ITERATIONS_KEY = optimizer_key("iterations")
_SHOWN = 5  # names listed per problem in a restore error


def checkpoint_name(step: int) -> str:
    return f"{PREFIX_STEM}-{int(step)}"


def adam_slots(optimizer, variable) -> dict[str, Any]:
    """``{"m": momentum, "v": velocity}`` of ``variable`` in a built Keras 3 Adam optimizer.

    A ``LossScaleOptimizer`` (mixed_float16) keeps its Adam as ``inner_optimizer``; its loss
    scale is not saved (it adapts again within a few steps).
    """
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    index = optimizer._get_variable_index(variable)
    return {"m": optimizer._momentums[index], "v": optimizer._velocities[index]}


def weight_variables(model) -> dict[str, Any]:
    """Model variables by checkpoint key; duplicate paths would make a checkpoint ambiguous."""
    out: dict[str, Any] = {}
    for variable in model.variables:
        if variable.path in out:
            raise ValueError(f"two model variables share the path {variable.path}")
        out[variable.path] = variable
    return out


def optimizer_variables(model, optimizer) -> dict[str, Any]:
    """Slot and counter variables by checkpoint key (building the optimizer's slots if needed)."""
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    out: dict[str, Any] = {}
    for variable in model.trainable_variables:
        for slot, slot_variable in adam_slots(optimizer, variable).items():
            out[slot_key(variable.path, slot)] = slot_variable
    out[ITERATIONS_KEY] = optimizer.iterations
    return out


def _state_paths(directory: Path) -> list[str]:
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(str(directory))
    if state is None:
        return []
    return [Path(p).name for p in state.all_model_checkpoint_paths]


def save_checkpoint(directory: str | os.PathLike, model, optimizer, step: int, manifest: Manifest,
                    keep: int = 3) -> str:
    """Write ``directory/ckpt-<step>`` (weights, Adam slots, counter) and ``manifest.json``; return the prefix.

    ``optimizer`` may be None (weights only). ``manifest`` is written with ``step``,
    ``dialect="own"`` and ``checkpoint`` filled in.
    """
    import tensorflow as tf

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    variables = weight_variables(model)
    if optimizer is not None:
        variables.update(optimizer_variables(model, optimizer))
    name = checkpoint_name(step)
    temporary = directory / f".{name}.tmp-{os.getpid()}"
    keys = sorted(variables)
    try:
        tf.raw_ops.SaveV2(prefix=str(temporary), tensor_names=keys, shape_and_slices=[""] * len(keys),
                          tensors=[variables[k].value for k in keys])
        temp_files = data_files(str(temporary))
        for path in temp_files:
            sync(path)  # on disk before the renames that publish it
        for path in [*temp_files[1:], temp_files[0]]:  # data shards first, the index (which makes it visible) last
            os.replace(path, directory / (name + path.name[len(temporary.name):]))
        sync(directory)
    finally:
        for leftover in directory.glob(temporary.name + ".*"):
            leftover.unlink()
    write_manifest(directory, manifest.replace(dialect="own", step=int(step), checkpoint=name))
    names = [n for n in _state_paths(directory) if n != name] + [name]
    kept, dropped = names[-max(keep, 1):], names[:-max(keep, 1)]
    write_checkpoint_state(directory, *kept)
    for old in dropped:
        for path in data_files(str(directory / old)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return str(directory / name)


@dataclass(frozen=True)
class RestoreResult:
    prefix: str
    optimizer_restored: bool  # False: the checkpoint has no optimizer state (e.g. adapted with --optimizer reset)


def _listing(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def restore_checkpoint(checkpoint: str | os.PathLike, model, optimizer=None) -> RestoreResult:
    """Load a checkpoint into ``model`` (and ``optimizer``), strictly.

    Every model variable must be in the checkpoint with the same shape and every
    checkpoint key must belong to the model or (when ``optimizer`` is given) to the
    optimizer; otherwise a :class:`UserError` names what is missing, unexpected or
    mismatched. Optimizer state is all or nothing: a checkpoint without any
    (adapted with ``--optimizer reset``) leaves ``optimizer`` fresh; a partial one is an error.
    """
    from tts_adapt.checkpoint.reader import load_reader

    prefix, _ = resolve_checkpoint(checkpoint)
    reader = load_reader(prefix)
    shapes = {k: tuple(s) for k, s in reader.get_variable_to_shape_map().items()}
    weights = weight_variables(model)
    trainable = {v.path for v in model.trainable_variables}
    optimizer_keys = {k for k in shapes if k == ITERATIONS_KEY or split_slot_key(k) is not None}
    stray_slots = [k for k in optimizer_keys if k != ITERATIONS_KEY and split_slot_key(k)[0] not in trainable]
    problems = []
    missing = [k for k in weights if k not in shapes]
    unexpected = [k for k in shapes if k not in weights and k not in optimizer_keys] + stray_slots
    mismatched = [f"{k} {list(shapes[k])} vs model {list(weights[k].shape)}"
                  for k in weights if k in shapes and shapes[k] != tuple(weights[k].shape)]
    targets = dict(weights)
    optimizer_restored = False
    if optimizer is not None and optimizer_keys:
        wanted = optimizer_variables(model, optimizer)
        absent = [k for k in wanted if k not in shapes]
        if absent:
            problems.append(f"partial optimizer state, missing {len(absent)}: {_listing(absent)}")
        targets.update(wanted)
        optimizer_restored = True
    if missing:
        problems.append(f"missing {len(missing)}: {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected {len(unexpected)}: {_listing(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatch {len(mismatched)}: {_listing(mismatched)}")
    if problems:
        raise UserError(f"{prefix}: checkpoint does not fit the model ({'; '.join(problems)})")
    for key, variable in targets.items():
        if key in shapes:
            variable.assign(reader.get_tensor(key))
    return RestoreResult(prefix, optimizer_restored)
