"""``tts-adapt verify``: prove numerically that a folded adaptation computes what its source computed."""

from __future__ import annotations

from tts_adapt.cli._output import SEED, add_format_argument, console, finite_float, print_document
from tts_adapt.checkpoint.h5 import looks_like_h5
from tts_adapt.errors import UserError

DESCRIPTION = """\
Run the source model (for one of its speakers) and the adapted model on the same
seeded random inputs and report how far their outputs differ.

The inputs are random text over the symbols both tables hold (each model encodes it
through its own table, so remapped embedding rows are checked) and random mel frames
fed teacher-forced, with dropout off. A speaker folded by 'tts-adapt adapt' must give
the same mel, post-net mel, stop logits and attention up to float32 rounding:
max_rel_diff (max |difference| / max |source output|) at most --tolerance.

For TensorFlowTTS .h5 weights (no toolkit model to run), the folded speaker terms are
measured where they act: embedding + LayerNorm and the encoder, each context consumer
on the same attention weights (exact), and the attention's alignment and the first
decoder step, which a fold cannot make exact there (measured, reported as residual).

exit status: 0 equivalent, 1 outputs differ beyond the tolerance, 2 bad input
(for example ADAPTED folded no speaker and no --speaker was given)."""

EPILOG = """\
examples:
  tts-adapt verify data/pretrained/multispeaker exp/my_voice/adapted
  tts-adapt verify data/pretrained/multispeaker exp/my_voice/adapted --speaker slt --format json
  tts-adapt verify exp/rtvc_imported exp/rtvc_voice --speaker-vector embed.npy
  tts-adapt verify tts_multi/checkpoints/model-200000.h5 adapted/model-200000.h5"""


def register(subparsers) -> None:
    p = subparsers.add_parser("verify", help="check that an adapted checkpoint computes what its source computed",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("source", metavar="SRC", help="the multi-speaker source checkpoint (directory or prefix)")
    p.add_argument("adapted", metavar="ADAPTED", help="the checkpoint 'tts-adapt adapt' wrote")
    p.add_argument("--speaker", metavar="ID|NAME|mean",
                   help="source speaker to compare with (default: the speaker ADAPTED folded; mean: the mean of "
                        "the source's speaker rows)")
    p.add_argument("--speaker-vector", metavar="FILE.npy",
                   help="for a source that reads its speaker as a vector (an imported RTVC synthesizer): the "
                        "vector ADAPTED folded")
    p.add_argument("--tolerance", type=finite_float, default=1e-5, metavar="REL",
                   help="largest max_rel_diff that counts as equivalent (default: 1e-5)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the random probe inputs (default 0)")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from tts_adapt.scoring.equivalence import verify_equivalence

    if not args.tolerance >= 0:
        raise UserError(f"--tolerance must be >= 0, got {args.tolerance}")
    if looks_like_h5(args.source):
        return _run_h5(args)
    result = verify_equivalence(args.source, args.adapted, speaker=args.speaker, tolerance=args.tolerance,
                                seed=args.seed, speaker_vector=args.speaker_vector)
    return _answer(args, result, render)


def _answer(args, result, shown) -> int:
    """Either kind of result, as --format asks; the exit status says whether it held within the tolerance."""
    if args.format == "json":
        print_document(result)
    else:
        shown(result)
    return 0 if result.ok else 1


def render(result) -> None:
    from rich.table import Table

    out = console()
    who = "single-speaker source" if result.speaker is None else result.speaker.describe()
    inputs = result.inputs
    out.print(f"source   {result.source}  ({who})", markup=False)
    out.print(f"adapted  {result.adapted}", markup=False)
    out.print(f"inputs   {inputs.batch} random texts over {result.shared_symbols} shared symbols "
              f"(up to {inputs.max_text_len}), {inputs.frames} teacher-forced frames, seed {inputs.seed}")
    table = Table()
    for column in ("output", "max |source|", "max abs diff", "max rel diff"):
        table.add_column(column, justify="left" if column == "output" else "right")
    for name, d in result.outputs.items():
        table.add_row(name, f"{d.max_abs_output:.4g}", f"{d.max_abs_diff:.3e}", f"{d.max_rel_diff:.3e}")
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}", markup=False)
    verdict = "OK: equivalent" if result.ok else "DIFFERENT"
    out.print(f"{verdict}  (max_rel_diff {result.max_rel_diff:.3e}, tolerance {result.tolerance:.0e})")


def _run_h5(args) -> int:
    from tts_adapt.scoring.tensorflowtts_equivalence import verify_tensorflowtts

    if args.speaker_vector is not None:
        raise UserError("--speaker-vector does not apply to .h5 weights (their speakers are table rows)")
    result = verify_tensorflowtts(args.source, args.adapted, speaker=args.speaker, tolerance=args.tolerance,
                                  seed=args.seed)
    return _answer(args, result, render_measurements)


def render_measurements(result) -> None:
    from rich.table import Table

    out = console()
    out.print(f"source   {result.source}  ({result.speaker})", markup=False)
    out.print(f"adapted  {result.adapted}", markup=False)
    out.print(f"inputs   {result.texts} random texts over {result.shared_symbols} shared symbols, seed {result.seed}")
    table = Table()
    for column in ("measured", "fold", "max |source|", "max abs diff", "max rel diff"):
        table.add_column(column, justify="left" if column in ("measured", "fold") else "right")
    for m in result.measurements.values():
        table.add_row(m.what, "exact" if m.exact else "not exact", f"{m.max_abs_output:.4g}", f"{m.max_abs_diff:.3e}",
                      f"{m.max_rel_diff:.3e}")
    out.print(table)
    for note in result.notes:
        out.print(f"note: {note}", markup=False)
    verdict = "OK: exact where folded exactly" if result.ok else "DIFFERENT where the fold is exact"
    residual = "" if result.residual is None else f"; residual where not exact {result.residual:.3e}"
    out.print(f"{verdict}  (max_rel_diff {result.max_rel_diff:.3e}, tolerance {result.tolerance:.0e}{residual})")
