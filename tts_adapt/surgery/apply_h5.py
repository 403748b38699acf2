"""Carry out a plan on a Keras ``.h5`` source: the weights into a new file of the same format and names,
the trainer checkpoint beside it (when kept) into a TF checkpoint of the same name, atomically.

One array is read, transformed and written at a time; the output directory appears only when complete.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tts_adapt.checkpoint.h5 import H5WeightsWriter
from tts_adapt.checkpoint.h5_checkpoint import H5Checkpoint
from tts_adapt.checkpoint.writer import StreamingCheckpointWriter, write_checkpoint_state
from tts_adapt.fsutil import atomic_output_dir
from tts_adapt.manifest import write_manifest
from tts_adapt.surgery.apply import (MIN_BUFFER_BYTES, _FileHasher, _transform, check_output_path, finished,
                                     output_manifest)
from tts_adapt.surgery.plan import Plan


def apply_h5_plan(plan: Plan, output: str | os.PathLike,
                  progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    out = check_output_path(plan, output)
    ckpt = plan.checkpoint
    assert isinstance(ckpt, H5Checkpoint) and ckpt.contents is not None
    started = time.perf_counter()
    hasher = _FileHasher(ckpt.files)
    hasher.start()
    weights_name = Path(ckpt.prefix).name
    trainer_keys = ckpt.trainer.keys if ckpt.trainer else {}
    deleted = {a.key for a in plan.actions if a.op == "delete"}
    kept_trainer = [key for key in trainer_keys if key not in deleted]
    if kept_trainer and len(kept_trainer) != len(trainer_keys):
        raise AssertionError("the trainer checkpoint is carried whole or not at all")
    rng = np.random.default_rng(plan.options.seed)
    contributions: dict = {}
    with atomic_output_dir(out) as tmp:
        weights = H5WeightsWriter(ckpt.contents, tmp / weights_name, deleted - set(trainer_keys))
        trainer = StreamingCheckpointWriter(tmp / ckpt.trainer.name, MIN_BUFFER_BYTES) if kept_trainer else None
        try:
            for index, action in enumerate(plan.actions):
                if progress:
                    progress(index, len(plan.actions), action.variable)
                if action.op == "delete":
                    continue
                value = _transform(plan, action, ckpt.read(action.key), contributions, rng)
                if action.shape_after is not None and tuple(value.shape) != tuple(action.shape_after):
                    raise AssertionError(f"{action.key}: planned {action.shape_after}, produced {value.shape}")
                if action.key in trainer_keys:
                    trainer.add(trainer_keys[action.key], value)
                else:
                    weights.add(action.key, value)
                del value
            weights.finish()
        finally:
            weights.close()
        if trainer is not None:
            trainer.finish()
            write_checkpoint_state(tmp, ckpt.trainer.name)
        hasher.join()
        write_manifest(tmp, output_manifest(plan, hasher.digests, weights_name))
    return finished(plan, out / weights_name, started, progress)
