"""Carry out a plan: stream tensors from the source, transform, write the output atomically.

At most one source tensor and one output buffer (bounded by the largest tensor)
are in memory; the output appears under its final name only when complete.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from tts_adapt import __version__
from tts_adapt.checkpoint.dialects import OBJECT_GRAPH_KEY
from tts_adapt.checkpoint.object_graph import prune_object_graph
from tts_adapt.checkpoint.writer import StreamingCheckpointWriter, write_checkpoint_state
from tts_adapt.errors import UserError
from tts_adapt.fsutil import atomic_output_dir, check_fresh_output_dir
from tts_adapt.manifest import Manifest, write_manifest
from tts_adapt.surgery import rows
from tts_adapt.surgery.plan import Plan
from tts_adapt.surgery.plan_document import Action

MIN_BUFFER_BYTES = 4 << 20  # small tensors are batched into shards of at least this size


class _FileHasher(threading.Thread):
    """sha256 of the source files, computed beside the surgery (hashlib releases the GIL)."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__(daemon=True)
        self.files = files
        self.digests: dict[str, str] = {}

    def run(self) -> None:
        for path in self.files:
            digest = hashlib.sha256()
            block = bytearray(1 << 20)  # one reused buffer: hashing adds no memory that grows
            view = memoryview(block)
            with open(path, "rb", buffering=0) as handle:
                while n := handle.readinto(block):
                    digest.update(view[:n])
            self.digests[path.name] = digest.hexdigest()


def check_output_path(plan: Plan, output: str | os.PathLike) -> Path:
    out = Path(output).resolve()
    source_dir = plan.checkpoint.directory.resolve()
    if out == source_dir or out == Path(plan.checkpoint.prefix).resolve():
        raise UserError(f"output {output} is the source checkpoint; choose a new directory")
    if source_dir in out.parents:  # the source's folder is its user's: a new checkpoint inside it would mix with it
        raise UserError(f"output {output} is inside the source checkpoint's folder {source_dir}; "
                        "choose a directory outside it")
    check_fresh_output_dir(out)
    return out


def _transform(plan: Plan, action: Action, value: np.ndarray, contributions: dict, rng: np.random.Generator) -> np.ndarray:
    if action.op == "drop_rows":
        if action.role == "weight" and plan.speaker is not None:
            for segment in action.segments:
                contributions[(action.key, segment)] = rows.speaker_contribution(value, segment, plan.speaker.vector)
        return rows.drop_segments(value, action.segments)
    if action.op == "remap_rows":
        assert plan.row_sources is not None
        remapped = rows.remap_rows(value, plan.row_sources, plan.options.new_rows, action.role != "weight", rng)
        if action.key in plan.constants:  # a folded additive term: every row gains it
            return (remapped + plan.constants[action.key]).astype(remapped.dtype)
        return remapped
    if action.op == "fold":
        total = value.astype(np.float64) + plan.constants.get(action.key, 0.0)
        for kernel_key, segment in action.fold_from:
            total = total + contributions.pop((kernel_key, segment))
        return total.astype(value.dtype)
    return value


def output_manifest(plan: Plan, source_files: dict[str, str], output_prefix: str) -> Manifest:
    """The source's manifest (model, audio, cleaners, training record) with the new table, no speakers,
    the new layout and the provenance of this adaptation."""
    ckpt = plan.checkpoint
    source = ckpt.manifest or Manifest()
    return source.replace(
        tool_version=__version__,
        dialect=ckpt.dialect,
        symbols=tuple(plan.new_symbols.to_list()) if plan.new_symbols else source.symbols,
        speakers=(),
        layout=plan.output_layout().to_dict(),
        model=_without_speaker_input(source.model),
        checkpoint=output_prefix,
        adaptation={
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tool_version": __version__,
            "source": {
                "path": str(Path(ckpt.prefix).resolve()),
                "dialect": ckpt.dialect,
                "files": source_files,
                "manifest_adaptation": source.adaptation,
            },
            "source_symbols": plan.old_symbols.to_list() if plan.old_symbols else None,
            "source_speakers": list(source.speakers) if ckpt.manifest else None,
            "source_layout": plan.layout.to_dict(),
            "folded_speaker": plan.speaker.to_json() if plan.speaker else None,
            "options": {"new_rows": plan.options.new_rows, "optimizer": plan.options.optimizer,
                        "seed": plan.options.seed},
            "summary": plan.summary(),
            "notes": plan.notes,
            "actions": [a.to_json() for a in plan.actions],
        },
    )


def _without_speaker_input(model: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A toolkit model that read its speaker as a vector reads none once its speaker rows are gone."""
    if model is None or model.get("speaker_input") != "vector":
        return model
    return {**model, "speaker_input": "table"}  # a table of no speakers: single-speaker


def apply_plan(
    plan: Plan,
    output: str | os.PathLike,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Write the adapted checkpoint into ``output`` (a new directory); returns a short result record."""
    if plan.checkpoint.dialect == "h5":
        from tts_adapt.surgery.apply_h5 import apply_h5_plan

        return apply_h5_plan(plan, output, progress)
    out = check_output_path(plan, output)
    ckpt = plan.checkpoint
    started = time.perf_counter()
    largest = max((e.nbytes for e in ckpt.entries.values()), default=0)
    hasher = _FileHasher(ckpt.files)
    hasher.start()
    prefix_name = Path(ckpt.prefix).name
    rng = np.random.default_rng(plan.options.seed)
    contributions: dict = {}
    deleted: set[str] = set()
    with atomic_output_dir(out) as tmp:
        writer = StreamingCheckpointWriter(tmp / prefix_name, max(largest // 2, MIN_BUFFER_BYTES))
        for index, action in enumerate(plan.actions):
            if progress:
                progress(index, len(plan.actions), action.variable)
            if action.op == "delete":
                deleted.add(action.key)
                continue
            if action.key == OBJECT_GRAPH_KEY:
                continue  # written last, once every deletion is known
            writer.reserve(ckpt.entries[action.key].nbytes)
            if action.op in ("copy", "drop_rows"):
                # no numpy round trip for the bulk of the tensors and for the largest kernels
                value = _transform(plan, action, ckpt.read_tensor(action.key), contributions, rng)
            else:
                value = _transform(plan, action, ckpt.read(action.key), contributions, rng)
            if action.shape_after is not None and tuple(value.shape) != tuple(action.shape_after):
                raise AssertionError(f"{action.key}: planned {action.shape_after}, produced {value.shape}")
            writer.add(action.key, value)
            del value
        graph = ckpt.object_graph()
        if graph is not None:
            pruned = prune_object_graph(graph, lambda key: key not in deleted)
            writer.add(OBJECT_GRAPH_KEY, np.array(pruned.SerializeToString(), dtype=object))
        writer.finish()
        write_checkpoint_state(tmp, prefix_name)
        hasher.join()
        write_manifest(tmp, output_manifest(plan, hasher.digests, prefix_name))
    return finished(plan, out / prefix_name, started, progress)


def finished(plan: Plan, checkpoint: Path, started: float,
             progress: Callable[[int, int, str], None] | None) -> dict[str, Any]:
    """The short record every writer of a plan returns once its output is in place."""
    if progress:
        progress(len(plan.actions), len(plan.actions), "done")
    return {
        "output": str(checkpoint.parent),
        "checkpoint": str(checkpoint),
        "seconds": round(time.perf_counter() - started, 3),
        "summary": plan.summary(),
    }
