"""The plan as a document: what ``adapt --format json`` prints and ``tts-adapt report`` reads.

Kept apart from the plan's making (which reads checkpoints through TensorFlow) so that a reader of
the document, such as the report, loads plain dataclasses and no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from tts_adapt.documents import Document, encode

Op = Literal["copy", "remap_rows", "drop_rows", "fold", "delete", "rewrite"]
OPS: tuple[str, ...] = ("copy", "remap_rows", "drop_rows", "fold", "delete", "rewrite")


class FoldSource(NamedTuple):
    """A kernel's speaker rows whose contribution a ``fold`` adds to its bias."""

    kernel: str  # tensor key
    rows: tuple[int, int]


@dataclass
class Action:
    key: str  # tensor key in the source (and, unless deleted, in the output)
    variable: str  # the variable it belongs to, as `inspect` names it
    role: str  # "weight", "slot <name>", "optimizer", "counter" or "meta"
    op: Op = field(metadata={"json": "action"})
    shape_before: tuple[int, ...]
    shape_after: tuple[int, ...] | None
    dtype: str
    reason: str
    segments: tuple[tuple[int, int], ...] = ()  # drop_rows: speaker row ranges
    fold_from: tuple[FoldSource, ...] = ()  # fold: contributions added to this bias

    def to_json(self) -> dict[str, Any]:
        return encode(self)


@dataclass(frozen=True)
class PlanSummary:
    variables: int
    tensors: int
    variables_by_action: dict[str, int]  # op -> count, in the order of OPS
    tensors_by_action: dict[str, int]


@dataclass(frozen=True)
class FoldedSpeaker:
    id: int | None  # the source's speaker row, None for a vector from elsewhere
    name: str | None
    vector_source: str  # human words: where the vector came from
    dim: int


@dataclass(frozen=True)
class PlannedSymbol:
    symbol: str
    new_id: int
    source: str = field(metadata={"json": "from"})  # copy | alias | a --new-rows strategy
    old_id: int | None
    alias: str | None
    init: str  # as people read it


@dataclass(frozen=True)
class PlanRecord:
    """The plan as ``adapt --dry-run --format json`` shows it (the checkpoint it reads stays behind)."""

    source: str
    dialect: str
    speaker: FoldedSpeaker | None
    options: dict[str, str]
    symbols: tuple[PlannedSymbol, ...] | None
    summary: PlanSummary
    notes: tuple[str, ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class AdaptReport(Document):
    """What ``tts-adapt adapt --format json`` prints: the plan, and the checkpoint once written."""

    KIND = "tts-adapt-adapt"

    dry_run: bool
    output: str
    plan: PlanRecord
    checkpoint: str | None = None  # the written checkpoint's prefix (not on a dry run)
    seconds: float | None = None
