"""``tts-adapt inspect``: what a checkpoint holds, variables grouped with their optimizer slots."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import add_format_argument, console, print_json, shape

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
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", metavar="CKPT", help="checkpoint directory, prefix or .index file")
    p.add_argument("--diff", metavar="OTHER", help="compare shapes with OTHER and propose a layout file")
    p.add_argument("--propose-layout", action="store_true",
                   help="print the layout of a recognised model (TensorFlowTTS Tacotron-2) and nothing else")
    add_format_argument(p)
    p.set_defaults(func=run)


def describe(ckpt) -> dict:
    manifest = ckpt.manifest
    return {
        "checkpoint": ckpt.prefix,
        "dialect": ckpt.dialect,
        "bytes": ckpt.total_bytes,
        "variables": [
            {"name": g.name, "key": g.weight.key, "shape": list(g.weight.shape), "dtype": g.weight.dtype,
             "slots": {s: {"key": e.key, "shape": list(e.shape), "dtype": e.dtype} for s, e in g.slots.items()}}
            for g in ckpt.grouping.variables.values()
        ],
        "others": [
            {"key": key, "role": role, "shape": list(e.shape), "dtype": e.dtype}
            for key, (role, e) in ckpt.grouping.others.items()
        ],
        "manifest": None if manifest is None else {
            "symbols": None if manifest.symbols is None else list(manifest.symbols),
            "speakers": list(manifest.speakers),
            "layout": manifest.layout,
            "step": manifest.step,
            "adaptation": None if not manifest.adaptation else {
                k: manifest.adaptation.get(k) for k in ("created", "source", "folded_speaker", "summary")},
        },
    }


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
    info = describe(ckpt)
    info["recognised"] = None if recognised is None else {
        "model": recognised.describe(), "proposed_layout": proposed_layout_yaml(recognised)}
    if args.format == "json":
        print_json(info)
        return 0
    _render(info)
    return 0


def _render(info: dict) -> None:
    from rich.table import Table

    from tts_adapt.symbols.table import escape_symbol

    out = console()
    params = 0
    for v in info["variables"]:
        n = 1
        for d in v["shape"]:
            n *= d
        params += n
    out.print(f"{info['checkpoint']}  dialect {info['dialect']}, {len(info['variables'])} variables, "
              f"{params:,} parameters, {info['bytes'] / 1e6:.1f} MB on disk")
    table = Table()
    for col in ("variable", "shape", "dtype", "slots"):
        table.add_column(col, overflow="fold")
    for v in info["variables"]:
        table.add_row(v["name"], shape(v["shape"]), v["dtype"], ", ".join(v["slots"]) or "-")
    out.print(table)
    if info["others"]:
        out.print("other tensors: " + ", ".join(f"{o['key']} ({o['role']})" for o in info["others"]), markup=False)
    if info["recognised"]:
        out.print(f"recognised: {info['recognised']['model']}; --propose-layout prints its layout", markup=False)
    manifest = info["manifest"]
    if not manifest:
        out.print("no manifest: adapting it needs --source-symbols and --layout")
        return
    symbols = manifest.get("symbols") or []
    out.print(f"symbols ({len(symbols)}): " + " ".join(escape_symbol(s) for s in symbols), markup=False)
    speakers = manifest.get("speakers") or []
    out.print(f"speakers ({len(speakers)}): " + (", ".join(f"{i}={s}" for i, s in enumerate(speakers)) or "single speaker"),
              markup=False)
    layout = manifest.get("layout") or {}
    for site in layout.get("sites") or []:
        out.print(f"speaker site {site['kernel']} rows {site['speaker_rows']} -> fold into {site.get('fold_into', '-')}",
                  markup=False)
    if manifest.get("adaptation"):
        a = manifest["adaptation"]
        folded = a.get("folded_speaker") or {}
        out.print(f"adapted {a.get('created')} from {a['source']['path']}; folded speaker: "
                  f"{folded.get('name') or folded.get('id') or folded.get('vector_source') or 'none'}", markup=False)


def _run_diff(args, source, target) -> int:
    from tts_adapt.surgery.diff import propose_layout, shape_differences

    diffs = shape_differences(source, target)
    proposal = propose_layout(source, target)
    if args.format == "json":
        print_json({
            "differences": [{"name": d.name, "source": d.source and list(d.source),
                             "target": d.target and list(d.target)} for d in diffs],
            "proposed_layout": proposal,
        })
        return 0
    err = console(stderr=True)
    err.print(f"{len(diffs)} variable(s) differ between {source.prefix} and {target.prefix}:", markup=False)
    for d in diffs:
        err.print(f"  {d.name}: {shape(d.source)} -> {shape(d.target)}", markup=False)
    print(proposal, end="")
    return 0
