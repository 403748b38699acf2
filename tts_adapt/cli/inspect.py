"""``tts-adapt inspect``: what a checkpoint holds, variables grouped with their optimizer slots."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tts_adapt.cli._output import add_format_argument, console, print_document, shape
from tts_adapt.documents import Document

DESCRIPTION = """\
Show a checkpoint's dialect (TF1 name-based, TF2 object-based, tts-adapt's own,
Keras .h5 weights), its variables with their optimizer slots, shapes and dtypes, the optimizer state
and counters, and its manifest (symbols, speakers, layout) if it has one.

With --diff OTHER, list the variables whose shapes differ between the two
checkpoints and propose a layout file (kernels that lose exactly the speaker
dimension of rows) ready to edit and pass to 'adapt --layout'.

A TensorFlowTTS Tacotron-2 (model-<steps>.h5) is recognised by its weight names;
--propose-layout prints its layout: the additive speaker sites, and which folds are
exact."""

EPILOG = """\
examples:
  tts-adapt inspect data/pretrained/multispeaker
  tts-adapt inspect logs-Tacotron/model.ckpt-200000 --format json
  tts-adapt inspect multi/model.ckpt-1000 --diff single/model.ckpt-0 > layout.yaml
  tts-adapt inspect train.tacotron2/checkpoints/model-100000.h5 --propose-layout > layout.yaml"""


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="show a checkpoint's variables, slots, dialect and manifest",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("checkpoint", metavar="CKPT", help="checkpoint directory, prefix or .index file")
    p.add_argument("--diff", metavar="OTHER", help="compare shapes with OTHER and propose a layout file")
    p.add_argument("--propose-layout", action="store_true",
                   help="print the layout of a recognised model (TensorFlowTTS Tacotron-2) and nothing else")
    add_format_argument(p)
    p.set_defaults(func=run)


@dataclass(frozen=True)
class TensorInfo:
    key: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class VariableInfo(TensorInfo):
    name: str  # the variable, whichever dialect names its key
    slots: dict[str, TensorInfo]  # optimizer slot -> its tensor


@dataclass(frozen=True)
class OtherTensor(TensorInfo):
    role: str  # step counter, beta power, ...


@dataclass(frozen=True)
class AdaptationInfo:
    created: str | None = None
    source: dict[str, Any] | None = None
    folded_speaker: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class ManifestInfo:
    symbols: tuple[str, ...] | None
    speakers: tuple[str, ...]
    layout: dict[str, Any] | None
    step: int | None
    adaptation: AdaptationInfo | None


@dataclass(frozen=True)
class Recognition:
    model: str  # what the weight names say it is
    proposed_layout: str  # YAML for adapt --layout


@dataclass(frozen=True)
class CheckpointDescription(Document):
    """What ``inspect --format json`` prints: a script reads it back with ``from_json``."""

    KIND = "tts-adapt-inspect"

    checkpoint: str
    dialect: str
    bytes: int
    variables: tuple[VariableInfo, ...]
    others: tuple[OtherTensor, ...]
    manifest: ManifestInfo | None
    recognised: Recognition | None = None

    @property
    def parameters(self) -> int:
        return sum(math.prod(v.shape) for v in self.variables)


def describe(ckpt, recognised: Recognition | None = None) -> CheckpointDescription:
    manifest = ckpt.manifest
    adaptation = manifest.adaptation if manifest else None
    return CheckpointDescription(
        checkpoint=ckpt.prefix,
        dialect=ckpt.dialect,
        bytes=ckpt.total_bytes,
        variables=tuple(
            VariableInfo(g.weight.key, tuple(g.weight.shape), g.weight.dtype, g.name,
                         {s: TensorInfo(e.key, tuple(e.shape), e.dtype) for s, e in g.slots.items()})
            for g in ckpt.grouping.variables.values()),
        others=tuple(OtherTensor(key, tuple(e.shape), e.dtype, role)
                     for key, (role, e) in ckpt.grouping.others.items()),
        manifest=None if manifest is None else ManifestInfo(
            symbols=manifest.symbols,
            speakers=tuple(manifest.speakers),
            layout=None if manifest.layout is None else dict(manifest.layout),
            step=manifest.step,
            adaptation=None if not adaptation else AdaptationInfo(
                **{k: adaptation.get(k) for k in ("created", "source", "folded_speaker", "summary")}),
        ),
        recognised=recognised,
    )


def run(args) -> int:
    from tts_adapt.checkpoint.reader import open_checkpoint
    from tts_adapt.checkpoint.tensorflowtts import proposed_layout_yaml, recognise
    from tts_adapt.errors import UserError

    ckpt = open_checkpoint(args.checkpoint)
    if args.diff:
        return _run_diff(args, ckpt, open_checkpoint(args.diff))
    recognised = recognise({name: g.weight.shape for name, g in ckpt.grouping.variables.items()})
    if args.propose_layout:
        if recognised is None:
            raise UserError(f"{ckpt.prefix}: not a model inspect recognises by its names; "
                            "'inspect SRC --diff TARGET' proposes a layout from two checkpoints")
        print(proposed_layout_yaml(recognised), end="")
        return 0
    info = describe(ckpt, None if recognised is None else Recognition(recognised.describe(),
                                                                       proposed_layout_yaml(recognised)))
    if args.format == "json":
        print_document(info)
        return 0
    _render(info)
    return 0


def _render(info: CheckpointDescription) -> None:
    from rich.table import Table

    from tts_adapt.symbols.table import escape_symbol

    out = console()
    out.print(f"{info.checkpoint}  dialect {info.dialect}, {len(info.variables)} variables, "
              f"{info.parameters:,} parameters, {info.bytes / 1e6:.1f} MB on disk")
    table = Table()
    for col in ("variable", "shape", "dtype", "slots"):
        table.add_column(col, overflow="fold")
    for v in info.variables:
        table.add_row(v.name, shape(v.shape), v.dtype, ", ".join(v.slots) or "-")
    out.print(table)
    if info.others:
        out.print("other tensors: " + ", ".join(f"{o.key} ({o.role})" for o in info.others), markup=False)
    if info.recognised:
        out.print(f"recognised: {info.recognised.model}; --propose-layout prints its layout", markup=False)
    manifest = info.manifest
    if not manifest:
        out.print("no manifest: adapting it needs --source-symbols and --layout")
        return
    symbols = manifest.symbols or ()
    out.print(f"symbols ({len(symbols)}): " + " ".join(escape_symbol(s) for s in symbols), markup=False)
    speakers = manifest.speakers
    out.print(f"speakers ({len(speakers)}): " + (", ".join(f"{i}={s}" for i, s in enumerate(speakers)) or "single speaker"),
              markup=False)
    layout = manifest.layout or {}
    for site in layout.get("sites") or []:
        out.print(f"speaker site {site['kernel']} rows {site['speaker_rows']} -> fold into {site.get('fold_into', '-')}",
                  markup=False)
    if manifest.adaptation:
        a = manifest.adaptation
        folded = a.folded_speaker or {}
        out.print(f"adapted {a.created} from {(a.source or {}).get('path')}; folded speaker: "
                  f"{folded.get('name') or folded.get('id') or folded.get('vector_source') or 'none'}", markup=False)


def _run_diff(args, source, target) -> int:
    from tts_adapt.surgery.diff import diff_checkpoints

    found = diff_checkpoints(source, target)
    if args.format == "json":
        print_document(found)
        return 0
    err = console(stderr=True)
    err.print(f"{len(found.differences)} variable(s) differ between {source.prefix} and {target.prefix}:",
              markup=False)
    for d in found.differences:
        err.print(f"  {d.name}: {shape(d.source)} -> {shape(d.target)}", markup=False)
    print(found.proposed_layout, end="")
    return 0
