"""Apply an import plan: fill the toolkit's model (and Adam's moments) from the TF1 tensors and save it.

The result is an ordinary toolkit checkpoint (dialect ``own``): ``adapt``, ``verify``, ``finetune``,
``synthesize`` and ``evaluate`` take it as they take a trained one. Its manifest records where it
came from (``imported``: the architecture, the source files' SHA-256, what became of every tensor).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from tts_adapt import __version__
from tts_adapt.checkpoint.own import adam_slots, save_checkpoint
from tts_adapt.documents import Document, encode
from tts_adapt.fsutil import atomic_output_dir, check_fresh_output_dir
from tts_adapt.importing.plan import ADAM_SLOTS, ImportPlan, PlanDocument, PlanSummary
from tts_adapt.importing.tensors import converted
from tts_adapt.manifest import Manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def build_model(plan: ImportPlan, progress: Callable[[int, int], None] | None = None):
    """(model, optimizer or None) holding the source's values, as the plan says."""
    import keras
    import numpy as np

    from tts_adapt.model.tacotron import Tacotron

    model = Tacotron(plan.config, len(plan.table))
    variables = {v.path: v for v in model.variables}
    optimizer = None
    if plan.optimizer == "carry":
        optimizer = keras.optimizers.Adam()
        optimizer.build(model.trainable_variables)
        optimizer.iterations.assign(plan.step)
    read = plan.checkpoint.read
    for done, move in enumerate(plan.moves):
        if progress:
            progress(done, len(plan.moves))
        variable = variables[move.target]
        if move.source is None:
            variable.assign(np.zeros(variable.shape, np.float32))
            continue
        input_rows = variables[move.target.rpartition("/")[0] + "/kernel"].shape[0] if move.op != "copy" else 0
        variable.assign(converted(move.op, read(move.source), input_rows, is_slot=False))
        if optimizer is not None and variable.trainable:
            for slot, moment in adam_slots(optimizer, variable).items():
                moment.assign(converted(move.op, read(f"{move.source}/{ADAM_SLOTS[slot]}"), input_rows, is_slot=True))
    return model, optimizer


def import_record(plan: ImportPlan, files: dict[str, str]) -> dict[str, Any]:
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "architecture": plan.architecture.name,
        "source": {"path": str(Path(plan.checkpoint.prefix).resolve()), "files": files},
        "optimizer": plan.optimizer,
        "source_step": plan.step,
        "summary": encode(plan.summary()),
        "tensors": encode(plan.tensors),
    }


@dataclass(frozen=True, kw_only=True)
class ImportReport(Document):
    """What ``import --format json`` prints: the plan, and with it what was written (nothing on a dry run)."""

    KIND = "tts-adapt-import"
    NULL_IS_ABSENT = True  # a dry run has no checkpoint, seconds or summary

    dry_run: bool
    output: str
    checkpoint: str | None = None
    seconds: float | None = None
    summary: PlanSummary | None = None
    plan: PlanDocument


def write_import(plan: ImportPlan, output: str | os.PathLike,
                 progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Write the imported checkpoint into ``output`` (a new directory); returns what was written."""
    check_fresh_output_dir(output)
    started = time.perf_counter()
    model, optimizer = build_model(plan, progress)
    audio = replace(plan.architecture.audio, n_mels=plan.config.n_mels)  # the mels the model predicts
    manifest = Manifest(
        symbols=tuple(plan.table.to_list()), speakers=(), cleaners=plan.cleaners, audio=audio,
        layout=model.layout().to_dict(), model=plan.config.to_dict(),
        extra={"imported": import_record(plan, {p.name: sha256_of(p) for p in plan.checkpoint.files})},
    )
    with atomic_output_dir(output) as tmp:
        prefix = save_checkpoint(tmp, model, optimizer, plan.step, manifest)
    return ImportReport(dry_run=False, output=str(Path(output)), checkpoint=str(Path(output) / Path(prefix).name),
                        seconds=round(time.perf_counter() - started, 3), summary=plan.summary(), plan=plan.document())
