"""The plan: one action for every tensor of the source checkpoint, decided before anything is written.

Weights get their action from the layout and the symbol tables; each optimizer
slot follows its weight (same row operation, new rows zero); optimizer scalars
and counters are kept or reset; a TF2 object graph is rewritten without the
objects that were deleted. Every inconsistency is a :class:`UserError` here,
so ``apply`` never stops half-way for a reason the plan could have seen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tts_adapt.checkpoint.dialects import OBJECT_GRAPH_KEY, TensorEntry, VariableGroup
from tts_adapt.checkpoint.reader import Checkpoint
from tts_adapt.errors import UserError
from tts_adapt.checkpoint.layout import Layout, SpeakerSite
from tts_adapt.surgery.additive import plan_folds
from tts_adapt.surgery.plan_document import (OPS, Action, FoldedSpeaker, FoldSource, Op, PlannedSymbol, PlanRecord,
                                             PlanSummary)
from tts_adapt.surgery.speaker import SpeakerChoice
from tts_adapt.symbols.mapping import RowSource, map_symbols
from tts_adapt.symbols.table import SymbolTable


@dataclass
class AdaptOptions:
    new_rows: str = "mean"
    optimizer: str = "keep"  # keep | reset
    seed: int = 0


@dataclass
class Plan:
    """What ``apply`` does, in order. The order is part of the contract: ``apply`` streams the
    actions one tensor at a time, and a ``fold`` adds contributions computed while its kernels'
    ``drop_rows`` ran, so every kernel comes before the bias it folds into (checked here)."""

    checkpoint: Checkpoint
    layout: Layout
    actions: list[Action]
    options: AdaptOptions
    speaker: SpeakerChoice | None
    old_symbols: SymbolTable | None
    new_symbols: SymbolTable | None
    row_sources: list[RowSource] | None
    notes: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)  # tensor key -> additive speaker term it gains

    def __post_init__(self) -> None:
        position = {action.key: index for index, action in enumerate(self.actions)}
        for index, action in enumerate(self.actions):
            late = [kernel for kernel, _ in action.fold_from if position.get(kernel, len(self.actions)) > index]
            if late:
                raise ValueError(f"plan order: {action.key} folds {late[0]}, which comes after it")

    def summary(self) -> dict[str, Any]:
        """The fields of :class:`PlanSummary` (the adapted manifest keeps them as a mapping)."""
        weights = Counter(a.op for a in self.actions if a.role == "weight")
        tensors = Counter(a.op for a in self.actions)
        return {
            "variables": sum(weights.values()),
            "tensors": len(self.actions),
            "variables_by_action": {op: weights[op] for op in OPS if weights[op]},
            "tensors_by_action": {op: tensors[op] for op in OPS if tensors[op]},
        }

    def output_layout(self) -> Layout:
        """The adapted checkpoint's layout: its symbol table, no speakers left."""
        return Layout(symbol_embedding=self.layout.symbol_embedding)

    def record(self) -> PlanRecord:
        speaker = self.speaker
        return PlanRecord(
            source=self.checkpoint.prefix,
            dialect=self.checkpoint.dialect,
            speaker=None if speaker is None else FoldedSpeaker(speaker.id, speaker.name, speaker.source,
                                                               int(speaker.vector.shape[0])),
            options={"new_rows": self.options.new_rows, "optimizer": self.options.optimizer},
            symbols=None if self.row_sources is None else tuple(
                PlannedSymbol(s.symbol, s.new_id, s.kind, s.old_id, s.alias, s.describe()) for s in self.row_sources),
            summary=PlanSummary(**self.summary()),
            notes=tuple(self.notes),
            actions=tuple(self.actions),
        )

def _check_layout(checkpoint: Checkpoint, layout: Layout) -> int | None:
    """Every layout entry must name a real, well-shaped tensor; returns the speaker dimension."""
    names = checkpoint.grouping.variables
    for label, name in (("symbol_embedding", layout.symbol_embedding), ("speaker_embedding", layout.speaker_embedding)):
        if name and name not in names:
            raise UserError(f"layout {label} {name!r} is not a variable of the checkpoint")
    dims = set()
    if layout.speaker_dim:
        dims.add(layout.speaker_dim)
    if layout.speaker_embedding:
        table = names[layout.speaker_embedding].weight
        if len(table.shape) != 2:
            raise UserError(f"speaker_embedding {layout.speaker_embedding} has shape {list(table.shape)}, expected [speakers, dim]")
        dims.add(table.shape[1])
    by_kernel: dict[str, list[SpeakerSite]] = {}
    for site in layout.sites:
        if site.kernel not in names:
            raise UserError(f"layout site kernel {site.kernel!r} is not a variable of the checkpoint")
        kernel = names[site.kernel].weight
        if len(kernel.shape) != 2:
            raise UserError(f"site kernel {site.kernel} has shape {list(kernel.shape)}; a site kernel must be 2-D")
        start, stop = site.speaker_rows
        if stop > kernel.shape[0]:
            raise UserError(f"site {site.kernel}: speaker_rows [{start}, {stop}] out of bounds for a kernel of {kernel.shape[0]} rows")
        dims.add(stop - start)
        if site.kernel in (layout.symbol_embedding, layout.speaker_embedding):
            raise UserError(f"site kernel {site.kernel} is also an embedding table in the layout")
        if site.fold_into:
            if site.fold_into not in names:
                raise UserError(f"site {site.kernel}: fold_into {site.fold_into!r} is not a variable of the checkpoint")
            bias = names[site.fold_into].weight
            if bias.shape != (kernel.shape[1],):
                raise UserError(f"site {site.kernel}: fold_into {site.fold_into} has shape {list(bias.shape)}, "
                                f"but the kernel has {kernel.shape[1]} columns")
            if site.fold_into in by_kernel or any(s.kernel == site.fold_into for s in layout.sites):
                raise UserError(f"site {site.kernel}: fold_into {site.fold_into} is itself a site kernel")
        for other in by_kernel.get(site.kernel, []):
            o_start, o_stop = other.speaker_rows
            if start < o_stop and o_start < stop:
                raise UserError(f"sites on {site.kernel} overlap: rows {list(other.speaker_rows)} and {[start, stop]}")
        by_kernel.setdefault(site.kernel, []).append(site)
    if len(dims) > 1:
        raise UserError(f"the layout disagrees on the speaker dimension: {sorted(dims)} "
                        "(speaker_dim, speaker table columns and site row spans must match)")
    return dims.pop() if dims else None


def speaker_dim_of(checkpoint: Checkpoint, layout: Layout) -> int | None:
    return _check_layout(checkpoint, layout)


def _slot_role(slot: str) -> str:
    return f"slot {slot}"


def make_plan(
    checkpoint: Checkpoint,
    layout: Layout,
    old_symbols: SymbolTable | None,
    new_symbols: SymbolTable | None,
    speaker: SpeakerChoice | None,
    options: AdaptOptions,
    aliases: dict[str, str] | None = None,
) -> Plan:
    speaker_dim = _check_layout(checkpoint, layout)
    variables = checkpoint.grouping.variables
    notes: list[str] = list(checkpoint.notes)

    row_sources: list[RowSource] | None = None
    if new_symbols is not None:
        if old_symbols is None:
            raise UserError("the source has no symbol table in its manifest; pass --source-symbols OLD")
        if not layout.symbol_embedding:
            if old_symbols.symbols != new_symbols.symbols:
                raise UserError("the symbol tables differ but the layout names no symbol_embedding to remap")
        else:
            rows = variables[layout.symbol_embedding].weight.shape[0]
            if rows != len(old_symbols):
                raise UserError(f"the source symbol table has {len(old_symbols)} symbols but "
                                f"{layout.symbol_embedding} has {rows} rows")
            row_sources = map_symbols(old_symbols, new_symbols, options.new_rows, aliases)

    if speaker is not None:
        if not layout.sites and not layout.additive:
            raise UserError("a speaker to fold was given, but the layout has no speaker sites")
        if speaker_dim is not None and speaker.vector.shape[0] != speaker_dim:
            raise UserError(f"speaker vector has {speaker.vector.shape[0]} values, the layout's speaker dimension is {speaker_dim}")
        missing = [s.kernel for s in layout.sites if not s.fold_into]
        if missing:
            raise UserError(f"cannot fold speaker: site {missing[0]} has no fold_into bias in the layout "
                            "(add one, or use --fold-speaker none)")
    elif layout.sites:
        notes.append("speaker rows are dropped without folding: the model starts from no particular voice "
                     "(use --fold-speaker to keep one)")
    additive = plan_folds(checkpoint, layout, speaker)
    notes += additive.notes

    segments: dict[str, list[tuple[int, int]]] = {}
    folds: dict[str, list[FoldSource]] = {}
    for site in layout.sites:
        segments.setdefault(site.kernel, []).append(site.speaker_rows)
        if speaker is not None and site.fold_into:
            folds.setdefault(site.fold_into, []).append(FoldSource(variables[site.kernel].weight.key,
                                                                   site.speaker_rows))

    reset = options.optimizer == "reset"
    kernels: list[Action] = []
    rest: list[Action] = []
    deleted_any = False

    def add(action: Action, first: bool = False) -> None:
        (kernels if first else rest).append(action)

    for name, group in variables.items():
        weight_action, slot_op = _variable_action(name, group, layout, row_sources, segments, folds, speaker)
        weight_action, slot_op = additive.adjust(name, weight_action, slot_op)
        add(weight_action, first=weight_action.op == "drop_rows")
        deleted_any |= weight_action.op == "delete"
        for slot, entry in group.slots.items():
            if reset:
                add(Action(entry.key, name, _slot_role(slot), "delete", entry.shape, None, entry.dtype,
                           "--optimizer reset"))
                deleted_any = True
                continue
            op, shape, reason = slot_op
            if op == "delete":
                deleted_any = True
            add(Action(entry.key, name, _slot_role(slot), op, entry.shape, None if op == "delete" else shape,
                       entry.dtype, reason, segments=weight_action.segments))

    for key, (role, entry) in checkpoint.grouping.others.items():
        if key == OBJECT_GRAPH_KEY:
            continue
        if reset and role in ("optimizer", "counter"):
            add(Action(key, key, role, "delete", entry.shape, None, entry.dtype, "--optimizer reset"))
            deleted_any = True
        else:
            why = {"optimizer": "optimizer state kept", "counter": "step counter kept", "meta": "bookkeeping"}[role]
            add(Action(key, key, role, "copy", entry.shape, entry.shape, entry.dtype, why))
    if OBJECT_GRAPH_KEY in checkpoint.entries:
        entry = checkpoint.entries[OBJECT_GRAPH_KEY]
        op: Op = "rewrite" if deleted_any else "copy"
        add(Action(OBJECT_GRAPH_KEY, OBJECT_GRAPH_KEY, "meta", op, entry.shape, entry.shape, entry.dtype,
                   "object graph without the deleted objects" if deleted_any else "object graph unchanged"))
    return Plan(checkpoint, layout, kernels + rest, options, speaker, old_symbols, new_symbols, row_sources, notes,
                additive.constants)


def _relative(name: str, anchor: str) -> str:
    """``name`` without the scope it shares with ``anchor``: short enough for a table cell."""
    a, b = name.split("/"), anchor.split("/")
    common = 0
    while common < min(len(a), len(b)) - 1 and a[common] == b[common]:
        common += 1
    rest = "/".join(a[common:])
    return f"its {rest}" if common == len(a) - 1 == len(b) - 1 else rest


def _variable_action(
    name: str,
    group: VariableGroup,
    layout: Layout,
    row_sources: list[RowSource] | None,
    segments: dict[str, list[tuple[int, int]]],
    folds: dict[str, list[FoldSource]],
    speaker: SpeakerChoice | None,
) -> tuple[Action, tuple[Op, tuple[int, ...] | None, str]]:
    """The weight's action and the (op, shape, reason) its slots follow."""
    w: TensorEntry = group.weight
    if name == layout.speaker_embedding:
        return (Action(w.key, name, "weight", "delete", w.shape, None, w.dtype, "speaker table of a single-speaker model"),
                ("delete", None, "follows its variable (deleted)"))
    if name == layout.symbol_embedding and row_sources is not None:
        shape = (len(row_sources),) + w.shape[1:]
        moved = sum(1 for s in row_sources if s.kind == "copy" and s.old_id != s.new_id)
        added = sum(1 for s in row_sources if s.kind != "copy")
        removed = w.shape[0] - sum(1 for s in row_sources if s.kind == "copy")
        reason = f"rows follow symbols: {moved} moved, {added} added, {removed} removed"
        return (Action(w.key, name, "weight", "remap_rows", w.shape, shape, w.dtype, reason),
                ("remap_rows", shape, "rows follow symbols; added rows start at zero"))
    if name in segments:
        segs = tuple(sorted(segments[name]))
        dropped = sum(b - a for a, b in segs)
        shape = (w.shape[0] - dropped,) + w.shape[1:]
        where = ", ".join(f"[{a}:{b})" for a, b in segs)
        reason = f"speaker rows {where} dropped" + (" (folded into the bias)" if speaker is not None else "")
        return (Action(w.key, name, "weight", "drop_rows", w.shape, shape, w.dtype, reason, segments=segs),
                ("drop_rows", shape, f"speaker rows {where} dropped"))
    if name in folds:
        kernels = ", ".join(_relative(k, name) for k, _ in folds[name])
        reason = f"+ speaker part of {kernels}"
        return (Action(w.key, name, "weight", "fold", w.shape, w.shape, w.dtype, reason, fold_from=tuple(folds[name])),
                ("copy", w.shape, "unchanged (moments of a folded bias stay valid)"))
    return (Action(w.key, name, "weight", "copy", w.shape, w.shape, w.dtype, "unchanged"),
            ("copy", w.shape, "unchanged"))
