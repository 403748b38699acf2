"""``tts-adapt suggest-speaker``: rank a multi-speaker model's speakers by loss on a new voice."""

from __future__ import annotations

from tts_adapt.cli._output import COUNT, SEED, add_format_argument, console, print_document

DESCRIPTION = """\
Rank the pretrained speakers of CKPT by how well the model, speaking as each of
them, predicts the new voice's recordings (teacher-forced mel L1 before and after
the post-net, averaged over a seeded sample of utterances). The best-ranked speaker
is the nearest starting point to fold: 'tts-adapt adapt --fold-speaker auto --data
PREPARED' folds it. Utterances the model's symbol table cannot encode are skipped
and counted."""

EPILOG = """\
examples:
  tts-adapt suggest-speaker data/pretrained/multispeaker --data exp/my_voice/prepared
  tts-adapt suggest-speaker data/pretrained/multispeaker --data exp/my_voice/prepared --max-items 200 --format json"""


def register(subparsers) -> None:
    p = subparsers.add_parser("suggest-speaker", help="rank pretrained speakers by loss on the new voice",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("checkpoint", metavar="CKPT", help="a multi-speaker tts-adapt checkpoint (directory or prefix)")
    p.add_argument("--data", required=True, metavar="PREPARED", help="the new voice's prepared features")
    p.add_argument("--max-items", type=COUNT, default=64, metavar="N",
                   help="utterances scored, a seeded sample of both splits (default 64)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the sample (default 0)")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tts_adapt.scoring.speaker_ranking import rank_speakers

    columns = (TextColumn("scoring speakers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), disable=args.format == "json", transient=True) as bar:
        task = bar.add_task("score", total=None)
        ranking = rank_speakers(args.checkpoint, args.data, max_items=args.max_items, seed=args.seed,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    if args.format == "json":
        print_document(ranking)
    else:
        render(ranking)
    return 0


def render(ranking) -> None:
    from rich.table import Table

    out = console()
    out.print(f"speakers ranked by teacher-forced loss on {ranking.items_scored} utterances of the new voice")
    table = Table()
    for column in ("rank", "id", "speaker", "loss", "vs best"):
        table.add_column(column, justify="left" if column == "speaker" else "right")
    best = ranking.ranking[0].loss
    for entry in ranking.ranking:
        table.add_row(str(entry.rank), str(entry.id), entry.name or "-", f"{entry.loss:.4f}",
                      f"+{entry.loss - best:.4f}" if entry.rank > 1 else "")
    out.print(table)
    skipped = ranking.items_skipped
    if skipped:
        shown = ", ".join(f"{s.id} ({s.reason})" for s in skipped[:3])
        out.print(f"skipped {len(skipped)} utterance(s) the model cannot encode: {shown}"
                  + (" ..." if len(skipped) > 3 else ""), markup=False)
    out.print(f"nearest: {ranking.best}  (fold it with --fold-speaker {ranking.best})")
