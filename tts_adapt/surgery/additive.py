"""What the plan does for additive speaker sites: delete their tables and transforms, fold their term.

The folded speaker's term ``c = activation(e_s W + b)`` is a constant once the speaker is fixed.
Added to the symbol embedding it goes into every row of the table. Added to a layer's outputs it
reaches each consumer as ``W[rows]^T c`` (the rows stay: unlike a concatenated speaker vector,
the outputs still flow through them), which the consumer's ``fold_into`` bias absorbs. Each fold
says whether it is exact; where it is not, ``verify`` measures by how much.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from tts_adapt.checkpoint.additive import AdditiveSite, Consumer
from tts_adapt.checkpoint.layout import Layout
from tts_adapt.checkpoint.reader import Checkpoint
from tts_adapt.errors import UserError
from tts_adapt.speakers import MEAN
from tts_adapt.surgery.speaker import SpeakerChoice


@dataclass
class AdditiveFolds:
    deleted: dict[str, str] = field(default_factory=dict)  # variable -> why it goes
    receivers: dict[str, str] = field(default_factory=dict)  # variable -> what it gains
    constants: dict[str, np.ndarray] = field(default_factory=dict)  # tensor key -> float64 term added to it
    notes: list[str] = field(default_factory=list)

    def adjust(self, name: str, action, slot_op):
        """The weight action (and what its slots do) once the additive sites are accounted for."""
        if name in self.deleted:
            return (dataclasses.replace(action, op="delete", shape_after=None, reason=self.deleted[name]),
                    ("delete", None, "follows its variable (deleted)"))
        if name in self.receivers:
            reason = self.receivers[name] if action.op == "copy" else f"{action.reason}; {self.receivers[name]}"
            return dataclasses.replace(action, op="remap_rows" if action.op == "remap_rows" else "fold",
                                       reason=reason), slot_op
        return action, slot_op


def _short(name: str) -> str:
    """The layer a weight belongs to: ``.../speaker_fc/kernel`` -> ``speaker_fc``."""
    parts = name.split("/")
    return parts[-2] if len(parts) > 1 else name


def check_sites(checkpoint: Checkpoint, layout: Layout) -> None:
    """Every additive site names real tensors of consistent shapes; one line for the first that does not."""
    variables = checkpoint.grouping.variables

    def shape(name: str, what: str) -> tuple[int, ...]:
        if name not in variables:
            raise UserError(f"layout additive site {what} {name!r} is not a variable of the checkpoint")
        return variables[name].weight.shape

    claimed: dict[str, str] = {}
    for site in layout.additive:
        table, kernel = shape(site.table, "table"), shape(site.kernel, "kernel")
        if len(table) != 2:
            raise UserError(f"additive site table {site.table} has shape {list(table)}, expected [speakers, dim]")
        if len(kernel) != 2 or kernel[0] != table[1]:
            raise UserError(f"additive site kernel {site.kernel} has shape {list(kernel)}, expected "
                            f"[{table[1]}, width] to transform rows of {site.table}")
        if site.bias and shape(site.bias, "bias") != (kernel[1],):
            raise UserError(f"additive site bias {site.bias} has shape {list(shape(site.bias, 'bias'))}, "
                            f"expected [{kernel[1]}]")
        for part in filter(None, (site.table, site.kernel, site.bias)):
            if part in claimed or part == layout.symbol_embedding:
                raise UserError(f"{part} appears twice in the layout ({claimed.get(part, 'symbol_embedding')} "
                                "and an additive site)")
            claimed[part] = "an additive site"
        if site.added_to == "symbol_embedding":
            if not layout.symbol_embedding:
                raise UserError(f"additive site {site.table} is added to the symbol embedding, "
                                "but the layout names no symbol_embedding")
            symbols = variables[layout.symbol_embedding].weight.shape
            if symbols[1:] != (kernel[1],):
                raise UserError(f"additive site {site.kernel} gives {kernel[1]} values, but rows of "
                                f"{layout.symbol_embedding} have {list(symbols[1:])}")
        for consumer in site.consumers:
            _check_consumer(consumer, kernel[1], shape)
    for consumer in (c for site in layout.additive for c in site.consumers):
        for part in filter(None, (consumer.kernel, consumer.fold_into)):
            if part in claimed:
                raise UserError(f"consumer {consumer.kernel}: {part} is a speaker table or transform, which goes")


def _check_consumer(consumer: Consumer, width: int, shape) -> None:
    kernel = shape(consumer.kernel, "consumer kernel")
    start, stop = consumer.rows
    if len(kernel) != 2 or stop > kernel[0]:
        raise UserError(f"consumer {consumer.kernel} of shape {list(kernel)} has no rows [{start}, {stop}]")
    if stop - start != width:
        raise UserError(f"consumer {consumer.kernel}: rows [{start}, {stop}] span {stop - start}, "
                        f"but the speaker term has {width} values")
    if consumer.fold_into and shape(consumer.fold_into, "fold_into") != (kernel[1],):
        raise UserError(f"consumer {consumer.kernel}: fold_into {consumer.fold_into} has shape "
                        f"{list(shape(consumer.fold_into, 'fold_into'))}, expected [{kernel[1]}]")


def speaker_row(speaker: SpeakerChoice, layout: Layout, checkpoint: Checkpoint) -> int | None:
    """The table row the folded speaker is (None: the mean row of each table)."""
    if speaker.id is None and speaker.name != MEAN:
        raise UserError("additive speaker sites fold a row of their own speaker tables: use --fold-speaker "
                        "ID|NAME|mean, not --speaker-vector")
    for site in layout.additive:
        rows = checkpoint.grouping.variables[site.table].weight.shape[0]
        if speaker.id is not None and speaker.id >= rows:
            raise UserError(f"speaker {speaker.id} is not a row of {site.table} ({rows} speakers)")
    return speaker.id


def plan_folds(checkpoint: Checkpoint, layout: Layout, speaker: SpeakerChoice | None) -> AdditiveFolds:
    """Deletions, folded constants and what each fold's exactness is, for every additive site."""
    folds = AdditiveFolds()
    if not layout.additive:
        return folds
    check_sites(checkpoint, layout)
    variables = checkpoint.grouping.variables
    for site in layout.additive:
        folds.deleted[site.table] = "speaker table of an additive site"
        for part in filter(None, (site.kernel, site.bias)):
            folds.deleted[part] = f"speaker transform {_short(part)} (its term is folded or dropped)"
    if speaker is None:
        folds.notes.append("additive speaker terms are dropped without folding: the model starts from no "
                           "particular voice (use --fold-speaker to keep one)")
        return folds
    row = speaker_row(speaker, layout, checkpoint)

    def read(name: str) -> np.ndarray:
        return checkpoint.read(variables[name].weight.key)

    for site in layout.additive:
        term = site.speaker_term(read, row)
        label = f"{site.activation}({_short(site.kernel)}(e))"
        if site.added_to == "symbol_embedding":
            key = variables[layout.symbol_embedding].weight.key
            folds.constants[key] = folds.constants.get(key, 0.0) + term
            folds.receivers[layout.symbol_embedding] = f"+ {label} in every row (exact)"
            folds.notes.append(f"{_short(site.kernel)}: folded into every row of {layout.symbol_embedding}, exact "
                               "(the term is added to every symbol's embedding before anything reads it)")
            continue
        done = []
        for consumer in site.consumers:
            start, stop = consumer.rows
            if not consumer.fold_into:
                done.append(f"{consumer.kernel} has no bias: its inputs lose W[{start}:{stop}]^T c, NOT exact "
                            "(tts-adapt verify measures the difference)")
                continue
            kernel = np.asarray(read(consumer.kernel)[start:stop], np.float64)
            key = variables[consumer.fold_into].weight.key
            folds.constants[key] = folds.constants.get(key, 0.0) + term @ kernel
            exact = "exact from the second step: the state it reads starts as zeros, without the term" \
                if consumer.zero_at_first_step else "exact"
            folds.receivers[consumer.fold_into] = f"+ {label} through {_short(consumer.kernel)} rows " \
                                                  f"[{start}:{stop}), {exact}"
            done.append(f"{consumer.fold_into}: {exact}")
        folds.notes.append(f"{_short(site.kernel)}: " + "; ".join(done))
    return folds
