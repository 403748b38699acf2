"""``tts-adapt evaluate``: objective metrics of a checkpoint on prepared recordings, and an HTML report."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import add_format_argument, console, print_json

DESCRIPTION = """\
Measure how well CKPT speaks the recordings of PREPARED (by default the held-out
'val' split), per utterance:

  mel L1        teacher-forced error of the post-net mel (what training lowers)
  MCD           mel cepstral distortion (dB, c1..c12) between the free-running mel and
                the recording's, after dynamic time warping
  focus         mean largest attention weight per decoder step (1 = sharp)
  monotonic     share of decoder steps whose attended symbol moves back by at most one
  coverage      share of input symbols that received attention
  end           whether attention reached one of the last three symbols
  length        free-running frames / recording frames (the stop token's timing)

Free-running decoding is seeded (--seed); each utterance is cut at twice the length
of its recording (length 2, stopped: no). --output writes a standalone HTML page with the tables and plots."""

EPILOG = """\
examples:
  tts-adapt evaluate exp/my_voice/finetune --data exp/my_voice/prepared --output exp/my_voice/eval.html
  tts-adapt evaluate data/pretrained/multispeaker --data exp/pretrain/prepared --max-items 20 --format json"""


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="objective metrics (mel L1, MCD, attention, stop) and an HTML report",
                              description=DESCRIPTION, epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", metavar="CKPT", help="a tts-adapt checkpoint (directory or prefix)")
    p.add_argument("--data", required=True, metavar="PREPARED", help="prepared recordings to compare with")
    p.add_argument("--split", choices=("val", "train", "all"), default="val",
                   help="which items of PREPARED (default: val, the held-out ones)")
    p.add_argument("--max-items", type=int, metavar="N", help="score a seeded sample of N items (default: all)")
    p.add_argument("--speaker", metavar="ID|NAME",
                   help="speaker of a multi-speaker CKPT to speak as (default: each item's own speaker)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and of free-running decoding (default 0)")
    p.add_argument("--plots", type=int, default=6, metavar="K", help="utterances plotted in the report (default 6)")
    p.add_argument("--output", "-o", metavar="REPORT.html", help="write the HTML report here")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tts_adapt.evaluation.evaluate import evaluate
    from tts_adapt.evaluation.report import render_html
    from tts_adapt.fsutil import write_text_atomic

    if args.output:
        _check_not_inside_inputs(args.output, args.checkpoint, args.data)
    columns = (TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TextColumn("batches"), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), disable=args.format == "json", transient=True) as bar:
        task = bar.add_task("evaluate", total=None)
        result = evaluate(args.checkpoint, args.data, split=None if args.split == "all" else args.split,
                          max_items=args.max_items, speaker=args.speaker, seed=args.seed, plots=max(args.plots, 0),
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    if args.output:
        write_text_atomic(args.output, render_html(result.report, result.plots))
    if args.format == "json":
        print_json({**result.report, "html": args.output})
    else:
        render(result.report)
        if args.output:
            console().print(f"wrote {args.output}", markup=False)
    return 0


def _check_not_inside_inputs(output: str, *inputs: str) -> None:
    """A report is never written into the checkpoint or the prepared data it describes."""
    from pathlib import Path

    from tts_adapt.errors import UserError

    target = Path(output).resolve()
    for given in inputs:
        folder = Path(given).resolve()
        folder = folder if folder.is_dir() else folder.parent
        if folder == target or folder in target.parents:
            raise UserError(f"--output {output} is inside the input {given}; write the report elsewhere")


def render(report: dict) -> None:
    from rich.table import Table

    from tts_adapt.evaluation.report import COLUMNS, format_value

    out = console()
    out.print(f"{report['checkpoint']} on {report['data']} ({report['split']}): {report['items']} utterances"
              + (f", {len(report['skipped'])} skipped (cannot encode)" if report["skipped"] else ""), markup=False)
    table = Table()
    for header in ("id", "frames", "predicted", "stopped", *(c[1] for c in COLUMNS)):
        table.add_column(header, justify="left" if header == "id" else "right")
    for r in report["utterances"]:
        table.add_row(r["id"], str(r["frames"]), str(r["predicted_frames"]), "yes" if r["stopped"] else "no",
                      *(format_value(r[key], fmt) for key, _, fmt, _ in COLUMNS))
    summary = report["summary"]
    table.add_section()
    table.add_row("mean", "", "", f"{summary['stopped']}/{summary['items']}",
                  *(fmt.format(summary[key]) for key, _, fmt, _ in COLUMNS))
    out.print(table)
