"""The import plan: the toolkit model a TF1 Tacotron-2 checkpoint describes, and where every tensor goes.

Decided before anything is written, and refused in one line when anything does not fit: a
variable with no place, a variable the network needs and the checkpoint lacks, a shape that
disagrees with the others, optimizer slots that are not Adam's, a symbol table of the wrong length.
Dimensions come from the shapes (the embedding gives the symbols, the encoder LSTM's bias its
units, the memory layer's rows the speaker vector's width, ...); what no shape records comes
from the codebase's defaults (:mod:`tts_adapt.importing.architectures`).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tts_adapt.checkpoint.reader import Checkpoint, open_checkpoint
from tts_adapt.errors import UserError
from tts_adapt.importing.architectures import Architecture, architecture
from tts_adapt.importing.names import LINEAR_POSTNET, MODEL, NEW, SCOPE, Move, is_linear_postnet, place
from tts_adapt.manifest import load_symbol_table
from tts_adapt.model.config import ModelConfig
from tts_adapt.symbols.frontend import CLEANER_NAMES
from tts_adapt.symbols.table import SymbolTable

OPTIMIZER_MODES = ("carry", "reset")
ADAM_SLOTS = {"m": "Adam", "v": "Adam_1"}  # Keras's first and second moments <- TF1 AdamOptimizer's slots
_SHOWN = 3


@dataclass(frozen=True)
class SourceTensor:
    """One tensor of the source and what becomes of it (the plan's row)."""

    key: str
    shape: tuple[int, ...]
    action: str  # copy | split LSTM kernel | LSTM bias | Adam slot | step count | dropped
    targets: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class PlanSummary:
    source_tensors: int
    by_action: dict[str, int]  # how many source tensors each action takes
    model_variables: int
    new_variables: int  # variables with no TF1 counterpart (zeros)


@dataclass(frozen=True)
class NewVariable:
    variable: str
    reason: str


@dataclass(frozen=True)
class PlanDocument:
    """The plan as ``import --format json`` prints it (and the from_tf1 recipe keeps it)."""

    source: str
    architecture: str
    model: dict[str, Any]  # ModelConfig.to_dict()
    symbols: int
    cleaners: tuple[str, ...]
    optimizer: str
    step: int
    summary: PlanSummary
    new: tuple[NewVariable, ...]
    tensors: tuple[SourceTensor, ...]


@dataclass
class ImportPlan:
    checkpoint: Checkpoint
    architecture: Architecture
    config: ModelConfig
    table: SymbolTable
    cleaners: tuple[str, ...]
    moves: list[Move]
    optimizer: str  # carry | reset
    step: int  # the source's global step (carry) or 0
    tensors: list[SourceTensor] = field(default_factory=list)

    def summary(self) -> PlanSummary:
        return PlanSummary(len(self.tensors), dict(Counter(t.action for t in self.tensors)), len(self.moves),
                           sum(m.source is None for m in self.moves))

    def document(self) -> PlanDocument:
        return PlanDocument(
            source=self.checkpoint.prefix, architecture=self.architecture.name, model=self.config.to_dict(),
            symbols=len(self.table), cleaners=self.cleaners, optimizer=self.optimizer, step=self.step,
            summary=self.summary(),
            new=tuple(NewVariable(m.target, NEW[m.target[len(MODEL):]]) for m in self.moves if m.source is None),
            tensors=tuple(self.tensors))


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _count(targets: set[str], pattern: str) -> int:
    return sum(1 for t in targets if re.fullmatch(MODEL + pattern, t))


def infer_config(arch: Architecture, shapes: dict[str, tuple[int, ...]], batch_norm: str | None,
                 output_clip: tuple[float, ...] | None) -> ModelConfig:
    """The model config the source's shapes describe; ``shapes``: toolkit target -> its source tensor's shape.
    ``batch_norm`` and ``output_clip`` replace the codebase's defaults when given."""
    def shape(target: str) -> tuple[int, ...]:
        if MODEL + target not in shapes:
            raise UserError(f"the checkpoint lacks a variable the {arch.name} network needs (for {MODEL + target})")
        return shapes[MODEL + target]

    targets = set(shapes)
    n_symbols, embed = shape("symbol_embedding/embeddings")
    kernel, _, channels = shape("encoder/conv_0/kernel")
    units = shape("encoder/forward_lstm/bias")[0] // 4
    memory, attention = shape("decoder/attention/memory_layer/kernel")
    speaker = memory - 2 * units
    if arch.speaker_vector and speaker <= 0:
        raise UserError(f"memory_layer has {memory} rows, no more than the encoder's {2 * units} outputs: no speaker "
                        "vector, so not an rtvc checkpoint (a single-speaker one imports with --architecture rayhane)")
    if not arch.speaker_vector and speaker != 0:
        raise UserError(f"memory_layer has {memory} rows, the encoder gives {2 * units}: {speaker} more for a speaker "
                        "vector, so not a single-speaker rayhane checkpoint (try --architecture rtvc)")
    n_prenet = _count(targets, r"decoder/prenet/dense_\d+/kernel")
    n_mels, prenet = shape("decoder/prenet/dense_0/kernel")
    widths = {shape(f"decoder/prenet/dense_{i}/kernel")[1] for i in range(n_prenet)}
    if len(widths) > 1:
        raise UserError(f"the prenet's layers differ in width ({sorted(widths)}); the toolkit's prenet has one width")
    decoder_units = shape("decoder/lstm_0/bias")[0] // 4
    location_kernel, _, filters = shape("decoder/attention/location_conv/kernel")
    frame_columns = shape("decoder/frame_projection/kernel")[1]
    if frame_columns % n_mels:
        raise UserError(f"the frame projection's {frame_columns} outputs are not a multiple of {n_mels} mels")
    postnet_kernel, _, postnet_channels = shape("postnet/conv_0/kernel")
    return ModelConfig(
        embed_dim=embed, encoder_conv_layers=_count(targets, r"encoder/conv_\d+/kernel"),
        encoder_conv_channels=channels, encoder_conv_kernel=kernel, encoder_lstm_units=units,
        speaker_dim=speaker if arch.speaker_vector else ModelConfig.speaker_dim, attention_dim=attention,
        attention_filters=filters, attention_kernel=location_kernel, prenet_layers=n_prenet, prenet_units=prenet,
        prenet_dropout=arch.dropout, decoder_lstm_units=decoder_units,
        postnet_layers=_count(targets, r"postnet/conv_\d+/kernel"), postnet_channels=postnet_channels,
        postnet_kernel=postnet_kernel, dropout=arch.dropout, n_mels=n_mels, reduction=frame_columns // n_mels,
        max_decoder_steps=arch.max_decoder_steps, decoder_topology="tacotron2_tf1",
        decoder_lstm_layers=_count(targets, r"decoder/lstm_\d+/bias"), zoneout=arch.zoneout,
        speaker_input="vector" if arch.speaker_vector else "table", postnet_projection=True,
        activation_before_norm=arch.activation_before_norm if batch_norm is None else batch_norm == "after",
        output_clip=arch.output_clip if output_clip is None else output_clip,
    )


def _expected_source_shape(move: Move, model_shapes: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    if move.op == "copy":
        return model_shapes[move.target]
    cell = move.target.rpartition("/")[0]
    inputs, columns = model_shapes[f"{cell}/kernel"]
    if move.op == "lstm_bias":
        return (columns,)
    return (inputs + columns // 4, columns)  # TF1's one kernel over [input; h]


def _check_shapes(checkpoint: Checkpoint, moves: list[Move], config: ModelConfig, n_symbols: int) -> None:
    from tts_adapt.model.tacotron import Tacotron

    model_shapes = {v.path: tuple(v.shape) for v in Tacotron(config, n_symbols).variables}
    fed = {m.target for m in moves}
    missing = sorted(set(model_shapes) - fed)
    if missing:
        raise UserError(f"the checkpoint lacks {len(missing)} variable(s) the network needs (for {_listing(missing)})")
    wrong = []
    for move in moves:
        if move.source is None:
            continue
        have = checkpoint.entries[move.source].shape
        need = _expected_source_shape(move, model_shapes)
        if have != need:
            wrong.append(f"{move.source} is {list(have)} but the network its other variables describe needs "
                         f"{list(need)}")
    if wrong:
        raise UserError(f"{len(wrong)} variable(s) of the wrong shape: {_listing(sorted(set(wrong)))}")


def _slot_tensors(checkpoint: Checkpoint, moves: list[Move], optimizer: str) -> list[SourceTensor]:
    """Each weight's optimizer slots: Adam's follow their weight (carry), or are dropped (reset, or with it)."""
    targets: dict[str, tuple[str, ...]] = {}
    for move in moves:
        if move.source is not None:
            targets[move.source] = targets.get(move.source, ()) + (move.target,)
    out = []
    for name, group in checkpoint.grouping.variables.items():
        if name not in targets:  # a dropped weight: its slots go with it
            out.extend(SourceTensor(e.key, e.shape, "dropped", (), "follows its variable")
                       for e in group.slots.values())
            continue
        labels = set(group.slots)
        trainable = not name.endswith(("moving_mean", "moving_variance"))
        if optimizer == "carry" and labels != (set(ADAM_SLOTS.values()) if trainable else set()):
            odd = sorted(labels - set(ADAM_SLOTS.values()))
            why = (f"has optimizer slot(s) {', '.join(odd)}, not Adam's" if odd else
                   f"lacks Adam's slots ({', '.join(sorted(set(ADAM_SLOTS.values()) - labels))})")
            raise UserError(f"{name} {why}; import carries Adam's moments only (--optimizer reset starts the "
                            "optimizer afresh)")
        for label, entry in group.slots.items():
            if optimizer == "reset":
                out.append(SourceTensor(entry.key, entry.shape, "dropped", (), "--optimizer reset"))
            else:
                slot = "m" if label == "Adam" else "v"
                out.append(SourceTensor(entry.key, entry.shape, "Adam slot",
                                        tuple(f"{t} ({slot})" for t in targets[name]),
                                        f"Adam's {'first' if slot == 'm' else 'second'} moment, moved as its weight"))
    return out


def _weight_tensor(checkpoint: Checkpoint, name: str, moves: list[Move]) -> SourceTensor:
    mine = [m for m in moves if m.source == name]
    entry = checkpoint.entries[name]
    ops = {m.op for m in mine}
    if "lstm_input" in ops:
        return SourceTensor(name, entry.shape, "split LSTM kernel", tuple(m.target for m in mine),
                            "rows [input; h] split in two, gate columns i,j,f,o -> i,f,c,o")
    if "lstm_bias" in ops:
        return SourceTensor(name, entry.shape, "LSTM bias", tuple(m.target for m in mine),
                            "gate columns i,j,f,o -> i,f,c,o; TF1's run-time forget bias 1.0 stored in it")
    return SourceTensor(name, entry.shape, "copy", tuple(m.target for m in mine), "same values")


def _other_tensors(checkpoint: Checkpoint, optimizer: str) -> tuple[list[SourceTensor], int]:
    """Step counters and Adam's beta powers: (rows, the global step)."""
    rows, step = [], 0
    for key, (role, entry) in checkpoint.grouping.others.items():
        if optimizer == "reset":
            rows.append(SourceTensor(key, entry.shape, "dropped", (), "--optimizer reset"))
        elif role == "counter":
            step = int(checkpoint.read(key))
            rows.append(SourceTensor(key, entry.shape, "step count", ("optimizer/iterations",),
                                     f"step {step}: Adam's bias correction and the learning-rate schedule"))
        elif re.search(r"(^|/)beta[12]_power(_\d+)?$", key):
            rows.append(SourceTensor(key, entry.shape, "step count", ("optimizer/iterations",),
                                     "Adam's beta power: Keras's Adam derives it from the step count"))
        else:
            raise UserError(f"cannot place {key} {list(entry.shape)} ({role} state that is not Adam's)")
    return rows, step


def plan_import(source: str | os.PathLike, architecture_name: str, *, symbols: str | os.PathLike | None = None,
                cleaners: tuple[str, ...] | None = None, optimizer: str = "carry", batch_norm: str | None = None,
                output_clip: tuple[float, ...] | None = None, drop_linear_postnet: bool = False) -> ImportPlan:
    """The plan for importing ``source`` as ``architecture_name``; a UserError says what does not fit."""
    arch = architecture(architecture_name)
    if optimizer not in OPTIMIZER_MODES:
        raise UserError(f"--optimizer must be carry or reset, not {optimizer!r}")
    if batch_norm not in (None, "before", "after"):
        raise UserError(f"--batch-norm must be before or after, not {batch_norm!r}")
    unknown = [c for c in cleaners or () if c not in CLEANER_NAMES]
    if unknown:
        raise UserError(f"unknown cleaner {unknown[0]!r}; choose from {', '.join(CLEANER_NAMES)}")
    checkpoint = open_checkpoint(source)
    if checkpoint.dialect != "tf1":
        raise UserError(f"{checkpoint.prefix} is a {checkpoint.dialect} checkpoint; import reads the TF1 Saver "
                        "checkpoints of the Tacotron-2 codebases")
    names = list(checkpoint.grouping.variables)
    if not any(n.startswith(SCOPE) for n in names):
        raise UserError(f"{checkpoint.prefix} has no variable under {SCOPE}: not a TF1 Tacotron-2 checkpoint of "
                        f"the Rayhane-mamah or RTVC codebases (its first variable is {names[0] if names else None})")
    linear = [n for n in names if is_linear_postnet(n)]
    if linear and not drop_linear_postnet:
        raise UserError(f"{len(linear)} variables belong to the linear-spectrogram postnet (predict_linear: "
                        f"{', '.join(p.rstrip('/') for p in LINEAR_POSTNET)}), which the toolkit's mel model has no "
                        "place for; --drop-linear-postnet leaves them out (the mel network never reads them)")
    moves, unplaced = place([n for n in names if n not in linear])
    if unplaced:
        raise UserError(f"{len(unplaced)} variable(s) have no place in the {arch.name} network: {_listing(unplaced)}")
    shapes = {m.target: checkpoint.entries[m.source].shape for m in moves if m.source is not None}
    config = infer_config(arch, shapes, batch_norm, output_clip)
    n_symbols = shapes[MODEL + "symbol_embedding/embeddings"][0]
    _check_shapes(checkpoint, moves, config, n_symbols)
    table = load_symbol_table(symbols) if symbols is not None else SymbolTable.from_list(arch.symbols,
                                                                                         f"{arch.name} symbols")
    if len(table) != n_symbols:
        raise UserError(f"the symbol table {table.source} has {len(table)} symbols but inputs_embedding has "
                        f"{n_symbols} rows; give the table the checkpoint was trained with (--source-symbols)")
    slots = _slot_tensors(checkpoint, moves, optimizer)
    others, step = _other_tensors(checkpoint, optimizer)
    weights = [_weight_tensor(checkpoint, name, moves) if name not in linear else
               SourceTensor(name, checkpoint.entries[name].shape, "dropped", (),
                            "--drop-linear-postnet: the linear-spectrogram postnet") for name in names]
    tensors = weights + slots + others
    left = sorted(set(checkpoint.entries) - {t.key for t in tensors})
    if left:  # every tensor has a row: nothing is dropped without the plan saying so
        raise UserError(f"{len(left)} tensor(s) of {checkpoint.prefix} are not accounted for: {_listing(left)}")
    return ImportPlan(checkpoint, arch, config, table, tuple(cleaners or arch.cleaners), moves, optimizer, step,
                      tensors)
