"""``tts-adapt import``: a TF1 Tacotron-2 checkpoint (Rayhane-mamah, Real-Time-Voice-Cloning) as a toolkit model."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import add_format_argument, console, print_document, shape

DESCRIPTION = """\
Turn a TF1 Tacotron-2 checkpoint into the toolkit's own model, computing what the
TF1 network computed: then adapt, verify, finetune, synthesize and evaluate take it.

Every tensor of SRC gets one action, shown before anything is written (--dry-run):
  copy               same values under the toolkit's name
  split LSTM kernel  TF1's kernel over [input; h] becomes kernel + recurrent_kernel,
                     gate columns i,j,f,o reordered to Keras's i,f,c,o
  LSTM bias          reordered the same way, TF1's run-time forget bias 1.0 stored in it
  Adam slot          Adam's moments follow their weight (--optimizer carry)
  step count         global_step and the beta powers become the optimizer's step count
  dropped            optimizer state, with --optimizer reset; the linear-spectrogram
                     postnet, with --drop-linear-postnet
A variable with no place in the network, a missing or misshapen one, or a symbol
table of the wrong length is refused in one line (exit 2) and nothing is written.
Dimensions come from the shapes; batch-norm order, output clipping, zoneout, audio
settings and the default symbol table come from the codebase (docs/import-tf1.md)."""

EPILOG = """\
examples:
  tts-adapt import rtvc/taco_pretrained --architecture rtvc --output exp/rtvc_imported --dry-run
  tts-adapt import rtvc/taco_pretrained --architecture rtvc --output exp/rtvc_imported
  tts-adapt adapt exp/rtvc_imported --speaker-vector embed.npy --output exp/rtvc_voice
  tts-adapt verify exp/rtvc_imported exp/rtvc_voice --speaker-vector embed.npy"""


def register(subparsers) -> None:
    p = subparsers.add_parser("import", help="import a TF1 Tacotron-2 checkpoint (RTVC, Rayhane-mamah) as a toolkit "
                                             "model", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("source", metavar="SRC", help="the TF1 checkpoint: directory, prefix or .index file")
    p.add_argument("--architecture", required=True, choices=("rtvc", "rayhane"),
                   help="rtvc: Real-Time-Voice-Cloning's TF1 synthesizer (a speaker vector input); "
                        "rayhane: Rayhane-mamah/Tacotron-2 (single speaker)")
    p.add_argument("--output", "-o", required=True, metavar="OUT", help="new directory for the imported checkpoint")
    p.add_argument("--source-symbols", metavar="TABLE",
                   help="the symbol table the checkpoint was trained with (default: the codebase's own)")
    p.add_argument("--cleaners", metavar="NAMES", help="comma-separated cleaners for its text (default: english)")
    p.add_argument("--optimizer", choices=("carry", "reset"), default="carry",
                   help="carry: Adam's moments and step count come along (default); reset: weights only")
    p.add_argument("--batch-norm", choices=("before", "after"),
                   help="batch norm before or after the activation (hparams batch_norm_position; default: rtvc "
                        "before, rayhane after, as at their last TF1 commits)")
    p.add_argument("--clip-outputs", metavar="LOW,HIGH|none", type=clip_range,
                   help="mels clipped to this range, written --clip-outputs=LOW,HIGH (hparams clip_outputs; default: "
                        "rayhane -4.1,4 as at its last commit, rtvc none)")
    p.add_argument("--drop-linear-postnet", action="store_true",
                   help="leave out Rayhane-mamah's linear-spectrogram postnet (predict_linear), which the mel "
                        "network never reads; without it such a checkpoint is refused")
    p.add_argument("--dry-run", action="store_true", help="print the plan and write nothing")
    add_format_argument(p)
    p.set_defaults(func=run)


def clip_range(text: str) -> tuple[float, ...]:
    """An argparse type: ``none``, or ``LOW,HIGH``."""
    if text.strip().lower() == "none":
        return ()
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH or none, got {text!r}") from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH, got {text!r}")
    return (low, high)


def run(args) -> int:
    from tts_adapt.fsutil import check_fresh_output_dir
    from tts_adapt.importing.convert import ImportReport, write_import
    from tts_adapt.importing.plan import plan_import

    cleaners = tuple(c.strip() for c in args.cleaners.split(",") if c.strip()) if args.cleaners else None
    plan = plan_import(args.source, args.architecture, symbols=args.source_symbols, cleaners=cleaners,
                       optimizer=args.optimizer, batch_norm=args.batch_norm, output_clip=args.clip_outputs,
                       drop_linear_postnet=args.drop_linear_postnet)
    check_fresh_output_dir(args.output, "--output")
    if args.format == "text":
        render_plan(plan)
    if args.dry_run:
        if args.format == "json":
            print_document(ImportReport(dry_run=True, output=args.output, plan=plan.document()))
        else:
            console().print("dry run: nothing written")
        return 0
    result = write_import(plan, args.output)
    if args.format == "json":
        print_document(result)
    else:
        console().print(f"wrote {result.checkpoint} and manifest.json in {result.seconds:.1f} s", markup=False)
    return 0


def render_plan(plan) -> None:
    from rich.table import Table

    from tts_adapt.importing.names import SCOPE

    out = console()
    c = plan.config
    speaker = f"a {c.speaker_dim}-d speaker vector input" if c.reads_speaker_vector else "single speaker"
    clip = f", mels clipped to [{c.output_clip[0]:g}, {c.output_clip[1]:g}]" if c.output_clip else ""
    norm = "after" if c.activation_before_norm else "before"
    out.print(f"source   {plan.checkpoint.prefix}  ({plan.architecture.description})", markup=False)
    out.print(f"model    {len(plan.table)} symbols, encoder {c.encoder_conv_layers} x conv {c.encoder_conv_channels} "
              f"+ BiLSTM 2 x {c.encoder_lstm_units}, decoder {c.decoder_lstm_layers} x LSTM {c.decoder_lstm_units} "
              f"(zoneout {c.zoneout:g}), attention {c.attention_dim}, postnet {c.postnet_layers} x "
              f"{c.postnet_channels}, {c.n_mels} mels, r = {c.reduction}, {speaker}; batch norm {norm} the "
              f"activation{clip}", markup=False)
    out.print(f"optimizer {plan.optimizer}" + (f" (step {plan.step})" if plan.optimizer == "carry" else ""))
    table = Table()
    for column in ("TF1 variable", "shape", "action", "slots", "toolkit variable"):
        table.add_column(column, overflow="fold")
    rows = {t.key: t for t in plan.tensors}

    def add(key: str, slot_keys: list[str]) -> None:
        row = rows[key]
        slot_text = ""
        if slot_keys:
            slot_text = "Adam m, v" if rows[slot_keys[0]].action == "Adam slot" else f"{len(slot_keys)} dropped"
        targets = ", ".join(t.removeprefix("tacotron/") for t in row.targets) or "-"
        table.add_row(key.removeprefix(SCOPE), shape(row.shape), row.action, slot_text, targets)

    for name, group in plan.checkpoint.grouping.variables.items():
        add(name, [entry.key for entry in group.slots.values()])
    for key in plan.checkpoint.grouping.others:
        add(key, [])
    out.print(table)
    for move in plan.moves:
        if move.source is None:
            out.print(f"new: {move.target} (zeros): no TF1 counterpart, a folded speaker's share of the context",
                      markup=False)
    summary = plan.summary()
    counts = ", ".join(f"{n} {action}" for action, n in summary.by_action.items())
    out.print(f"plan: {summary.source_tensors} tensors: {counts}")
