"""``tts-adapt adapt``: plan and apply the surgery that makes a single-speaker starting checkpoint."""

from __future__ import annotations

from pathlib import Path

from tts_adapt.cli._output import SEED, add_format_argument, console, print_document, shape
from tts_adapt.symbols.mapping import NEW_ROW_STRATEGIES

DESCRIPTION = """\
Turn a multi-speaker checkpoint into a single-speaker starting point for a new voice.

Every tensor of SRC gets one action, shown before anything is written (--dry-run):
  remap_rows  symbol embedding rows follow their symbol into the new table
  drop_rows   speaker rows of a concat-fed kernel are removed
  fold        the folded speaker's contribution (e @ W_speaker) is added to a bias,
              so the new model computes exactly what SRC computed for that speaker;
              a speaker term *added* to activations (layout kind: add, TensorFlowTTS)
              goes into the symbol rows or its consumers' biases, each fold saying
              whether it is exact
  delete      the speaker table (and, with --optimizer reset, optimizer state)
  copy        everything else, unchanged
Optimizer slots follow their variable (new rows start at zero). The output keeps
SRC's dialect (TF1 name-based, TF2 object-based, tts-adapt's own, or Keras .h5
weights with the trainer checkpoint beside them) and carries
a manifest.json with the symbols, the folded speaker and the action of every key."""

EPILOG = """\
examples:
  tts-adapt adapt data/pretrained/multispeaker --symbols my_voice/symbols.txt \\
      --fold-speaker slt --output exp/my_voice/adapted --dry-run
  tts-adapt adapt tf1_model/model.ckpt-200000 --source-symbols old_symbols.txt \\
      --layout layout.yaml --symbols new_symbols.txt --fold-speaker 3 --output adapted
  tts-adapt adapt rtvc_synth/ --layout layout.yaml --speaker-vector embed.npy --output adapted
  tts-adapt adapt train.tacotron2/checkpoints/model-100000.h5 --layout layout.yaml \\
      --source-symbols old_symbols.txt --symbols new_symbols.txt --fold-speaker 0 --output adapted"""


def register(subparsers) -> None:
    p = subparsers.add_parser("adapt", help="plan and apply the checkpoint surgery (speakers out, symbols remapped)",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("source", metavar="SRC", help="source checkpoint: directory, prefix or .index file, or a Keras .h5 weights file")
    p.add_argument("--output", "-o", required=True, metavar="OUT", help="new directory for the adapted checkpoint")
    p.add_argument("--symbols", metavar="NEW", help="the new voice's symbol table (default: keep the source's)")
    p.add_argument("--source-symbols", metavar="OLD",
                   help="the source's symbol table, needed only when SRC has no manifest")
    p.add_argument("--layout", metavar="LAYOUT.yaml",
                   help="where speaker rows live, needed only when SRC has no manifest (see 'inspect --diff')")
    p.add_argument("--fold-speaker", metavar="ID|NAME|auto|mean|none", default="none",
                   help="speaker whose voice the adapted model keeps (default: none, rows only dropped); "
                        "auto picks the pretrained speaker nearest to --data; mean folds the mean of the "
                        "speaker rows (the pretrained model's average voice)")
    p.add_argument("--speaker-vector", metavar="FILE.npy",
                   help="fold this external speaker vector (models fed by a speaker encoder)")
    p.add_argument("--data", metavar="PREPARED", help="the new voice's prepared features (for --fold-speaker auto)")
    p.add_argument("--new-rows", choices=NEW_ROW_STRATEGIES, default="mean",
                   help="init of rows for symbols the source lacks and no alias covers (default: mean)")
    p.add_argument("--aliases", metavar="FILE", help="YAML/JSON map 'new symbol: old symbol' to copy rows from")
    p.add_argument("--optimizer", choices=("keep", "reset"), default="keep",
                   help="keep: transform slots, keep step counters and beta powers (default); "
                        "reset: write no optimizer state")
    p.add_argument("--seed", type=SEED, default=0, help="seed for --new-rows normal (default 0)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and write nothing")
    p.add_argument("--all", action="store_true", help="list unchanged variables in the plan table too")
    p.add_argument("--plan-output", metavar="JSON",
                   help="also write the document --format json prints (the plan, and what was written) to this "
                        "file, whatever --format says: one run keeps the plan for people and for tools")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from tts_adapt.surgery.adapt import nearest_speaker, plan_adaptation
    from tts_adapt.surgery.apply import check_output_path
    from tts_adapt.surgery.plan_document import AdaptReport

    if args.plan_output:
        _check_plan_output(args)
    fold = args.fold_speaker
    if fold == "auto":  # resolved here too, only to say which speaker and why
        best = nearest_speaker(args.source, args.data)
        console(stderr=True).print(f"--fold-speaker auto: nearest pretrained speaker is "
                                   f"{best.label} (loss {best.loss:.4f})")
        fold = f"#{best.id}"
    plan = plan_adaptation(
        args.source, args.symbols, source_symbols_path=args.source_symbols, layout_path=args.layout,
        fold_speaker=fold, speaker_vector=args.speaker_vector, new_rows=args.new_rows,
        aliases_path=args.aliases, optimizer=args.optimizer, seed=args.seed,
    )
    check_output_path(plan, args.output)
    if args.dry_run:
        _give(AdaptReport(True, args.output, plan.record()), args)
        if args.format == "text":
            render_plan(plan, show_all=args.all)
            console().print("dry run: nothing written")
        return 0
    if args.format == "text":
        render_plan(plan, show_all=args.all)
    result = _apply_with_progress(plan, args.output, show=args.format == "text")
    _give(AdaptReport(False, args.output, plan.record(), result["checkpoint"], result["seconds"]), args)
    if args.format == "text":
        console().print(f"wrote {result['checkpoint']} and manifest.json in {result['seconds']:.1f} s")
    return 0


def _check_plan_output(args) -> None:
    """Before any work: the plan file is a new file's path, apart from what adapt reads and the checkpoint it writes."""
    from tts_adapt.checkpoint.paths import checkpoint_files
    from tts_adapt.errors import UserError
    from tts_adapt.fsutil import check_output_file, check_outputs_apart

    inputs = [*checkpoint_files(args.source), *(p for p in (args.symbols, args.source_symbols, args.layout,
                                                             args.speaker_vector, args.aliases, args.data) if p)]
    check_outputs_apart({"--plan-output": args.plan_output}, inputs)
    check_output_file(args.plan_output, "--plan-output")
    output = Path(args.output).resolve()
    if Path(args.plan_output).resolve() == output or output in Path(args.plan_output).resolve().parents:
        raise UserError(f"--plan-output {args.plan_output} is inside --output {args.output}, which must be a new "
                        "folder holding only the checkpoint; write the plan beside it")


def _give(report, args) -> None:
    """The run's document: printed with --format json, written to --plan-output when given."""
    from tts_adapt.fsutil import write_text_atomic

    if args.format == "json":
        print_document(report)
    if args.plan_output:
        write_text_atomic(args.plan_output, report.to_text())


def _apply_with_progress(plan, output, show: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tts_adapt.surgery.apply import apply_plan

    if not show:
        return apply_plan(plan, output)
    with Progress(TextColumn("applying"), BarColumn(), TextColumn("{task.completed}/{task.total} tensors"),
                  TimeElapsedColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("apply", total=len(plan.actions))
        return apply_plan(plan, output, lambda done, total, _: bar.update(task, completed=done))


def render_plan(plan, show_all: bool = False) -> None:
    from rich.table import Table

    from tts_adapt.symbols.table import escape_symbol

    out = console()
    ckpt = plan.checkpoint
    out.print(f"source   {ckpt.prefix}  ({ckpt.dialect}, {len(ckpt.grouping.variables)} variables, "
              f"{len(ckpt.entries)} tensors)")
    if plan.speaker:
        out.print(f"speaker  fold {plan.speaker.source}")
    else:
        out.print("speaker  none folded")
    if plan.row_sources is not None:
        added = [s for s in plan.row_sources if s.kind != "copy"]
        kept = {s.old_id for s in plan.row_sources if s.kind == "copy"}
        removed = [s for i, s in enumerate(plan.old_symbols.symbols) if i not in kept]
        moved = sum(1 for s in plan.row_sources if s.kind == "copy" and s.old_id != s.new_id)
        out.print(f"symbols  {len(plan.old_symbols)} -> {len(plan.new_symbols)}: {moved} moved, "
                  f"{len(added)} added, {len(removed)} removed")
        for s in added:
            out.print(f"         + {escape_symbol(s.symbol)!s:6} id {s.new_id:<4} init: {s.describe()}", markup=False)
        if removed:
            out.print("         - " + " ".join(escape_symbol(s) for s in removed), markup=False)
    table = Table(title=None, show_lines=False)
    for col in ("variable", "shape", "action", "slots", "reason"):
        table.add_column(col, overflow="fold")
    by_variable: dict[str, list] = {}
    for action in plan.actions:
        by_variable.setdefault(action.variable, []).append(action)
    hidden = 0
    for name, actions in by_variable.items():
        main = next((a for a in actions if a.role in ("weight", "optimizer", "counter", "meta")), actions[0])
        slots = [a for a in actions if a.role.startswith("slot")]
        if main.op == "copy" and not show_all and all(a.op == "copy" for a in slots):
            hidden += 1
            continue
        before, after = shape(main.shape_before), shape(main.shape_after)
        shape_text = before if before == after else f"{before} -> {after}"
        slot_text = "" if not slots else f"{len(slots)} {slots[0].op}"
        table.add_row(name, shape_text, main.op, slot_text, main.reason)
    out.print(table)
    if hidden:
        out.print(f"{hidden} more unchanged (copy); --all lists them")
    for note in plan.notes:
        out.print(f"note: {note}")
    summary = plan.summary()
    counts = ", ".join(f"{n} {op}" for op, n in summary["tensors_by_action"].items())
    out.print(f"plan: {summary['tensors']} tensors: {counts}")
