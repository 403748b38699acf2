"""``tts-adapt report``: the page that tells how a voice's adaptation went, from the documents of its exp folder."""

from __future__ import annotations

from pathlib import Path

DESCRIPTION = """\
Write one HTML page about a voice adapted by a recipe (or by the same commands run
by hand): how well the voice is understood before and after fine-tuning beside the
ceilings, then the data, the symbol report, the speaker ranking, the surgery plan,
verify's result, the fine-tuning curves, the objective metrics and the held-out
sentences with audio players. It reads the documents the commands wrote into EXP:

  prepared/prepared.json, prepared_heldout/prepared.json   prepare
  symbols/compare.json          symbols compare --format json
  suggest/speakers.json         suggest-speaker --format json
  adapt_plan.json               adapt --plan-output (or --format json)
  verify.json                   verify --format json
  finetune/metrics.csv          finetune
  samples/texts.csv (id|text), samples/{reference,before,after}/<id>.wav (.npy, .png)
  samples/evaluate_{before,after}.json   evaluate --format json

A document that is missing (a stage that has not run) becomes a note in its section.
The page, its audio and the full symbol report are written into a new folder that can
be moved or zipped; where Chromium is installed, a picture of the page's first screen
is kept in it too (screenshots/index.png)."""

EPILOG = """\
examples:
  tts-adapt report exp/allison
  tts-adapt report exp/my_voice --output shared/my_voice_report --about "Voice: my recordings, CC0\""""


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="one HTML page about a voice's adaptation, from its exp folder",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("exp", metavar="EXP", help="the voice's exp folder (exp/<voice>)")
    p.add_argument("--output", "-o", metavar="DIR", help="new folder for the page (default: EXP/report)")
    p.add_argument("--title", metavar="NAME", help="the voice's name (default: EXP's folder name)")
    p.add_argument("--about", metavar="TEXT", default="",
                   help="one line on the voice: where it comes from, its licence")
    p.set_defaults(func=run, needs_tensorflow=False)  # JSON in, HTML out: no TensorFlow import (seconds)


def run(args) -> int:
    from tts_adapt.errors import UserError
    from tts_adapt.report.page import write_report
    from tts_adapt.report.screenshot import installed_browser

    exp = Path(args.exp)
    if not exp.is_dir():
        raise UserError(f"{exp}: no such folder (the voice's exp folder, e.g. exp/allison)")
    output = Path(args.output) if args.output else exp / "report"
    page, screenshot = write_report(exp, output, args.title or exp.resolve().name, args.about)
    print(f"report: {page}")
    if screenshot is not None:
        print(f"its first screen: {screenshot}")
    elif installed_browser() is None:
        print("no screenshot: no Chromium installed (sudo apt-get install chromium)")
    return 0
