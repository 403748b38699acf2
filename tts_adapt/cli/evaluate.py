"""``tts-adapt evaluate``: objective metrics of a checkpoint on prepared recordings, and an HTML report."""

from __future__ import annotations

from tts_adapt.cli._output import (COUNT, SEED, add_format_argument, add_vocoder_argument, console, print_document,
                                   whole_number)
from tts_adapt.corpus.prepared import SPLITS

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
  WER, CER      intelligibility: word and character error rates of an offline
                recogniser (PocketSphinx en-US) on the vocoded free-running speech, beside
                two ceilings on the same sentences: the recordings, and the recordings'
                own mels through the same vocoder (English models; --no-listen skips it)

Free-running decoding is seeded (--seed); each utterance is cut at twice the length
of its recording (length 2, stopped: no). --output writes a standalone HTML page with the tables and plots.

--samples FILE --samples-dir DIR also writes those sentences (one a line, or id|text, as
synthesize --texts reads them) as DIR/<id>.wav, .npy (mel) and .png (attention), in this one
process: a sentence that is a scored utterance (the same id and text) is the very audio the
recogniser heard; any other is spoken after the scoring. DIR appears only when all are written.

--texts FILE scores sentences that have no recordings (one a line): each is spoken by
every speaker of CKPT (or --speaker A,B) and only the synthesis is heard, so a pretrained
model can be checked on text it never saw."""

EPILOG = """\
examples:
  tts-adapt evaluate exp/my_voice/finetune --data exp/my_voice/prepared --output exp/my_voice/eval.html
  tts-adapt evaluate data/pretrained/multispeaker --data exp/pretrain/prepared --max-items 20 --format json
  tts-adapt evaluate exp/my_voice/finetune --data exp/my_voice/prepared --samples prompts.txt --samples-dir heard/
  tts-adapt evaluate data/pretrained/multispeaker --texts sentences.txt --speaker slt,awb --save-audio heard/"""


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="objective metrics (mel L1, MCD, attention, stop) and an HTML report",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("checkpoint", metavar="CKPT", help="a tts-adapt checkpoint (directory or prefix)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="PREPARED", help="prepared recordings to compare with")
    source.add_argument("--texts", metavar="FILE", help="sentences without recordings, one a line: "
                        "intelligibility of the synthesis only")
    p.add_argument("--split", choices=(*SPLITS, "all"), default="val",
                   help="which items of PREPARED (default: val, the held-out ones)")
    p.add_argument("--max-items", type=COUNT, metavar="N", help="score a seeded sample of N items (default: all)")
    p.add_argument("--speaker", metavar="ID|NAME",
                   help="speaker of a multi-speaker CKPT to speak as (default: each item's own speaker; "
                        "with --texts: every speaker, or a comma-separated list)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the sample and of free-running decoding (default 0)")
    p.add_argument("--plots", type=whole_number(0), default=6, metavar="K", help="utterances plotted in the report (default 6)")
    p.add_argument("--no-listen", dest="listen", action="store_false",
                   help="skip the recogniser (intelligibility); the other metrics are unchanged")
    p.add_argument("--save-audio", metavar="DIR",
                   help="with --texts: write each synthesised sentence as DIR/<speaker>_<n>.wav; DIR must be new or "
                        "empty (a folder holding files is refused, never written into), and appears only when "
                        "every sentence was spoken")
    p.add_argument("--samples", metavar="FILE",
                   help="with --data: also write these sentences (one a line, or id|text) into --samples-dir")
    p.add_argument("--samples-dir", metavar="DIR",
                   help="where --samples go, as DIR/<id>.wav, .npy and .png; DIR must be new or empty, and appears "
                        "only when every sample is written")
    p.add_argument("--cache", metavar="DIR",
                   help="with --data: remember in DIR what the recogniser heard, by content, so the ceilings (the "
                        "recordings, their mels through the same vocoder) are heard once for every model scored")
    p.add_argument("--jobs", type=whole_number(1, 256), metavar="N",
                   help="processes that hear (recognise, and with --data pitch-track) while the next utterances "
                        "are decoded (default: one per CPU this process may use; 1 hears in this process)")
    p.add_argument("--output", "-o", metavar="REPORT.html", help="write the HTML report here")
    add_vocoder_argument(p)
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tts_adapt.errors import UserError
    from tts_adapt.evaluation.report import render_html, render_texts_html
    from tts_adapt.checkpoint.paths import checkpoint_files
    from tts_adapt.fsutil import check_fresh_output_dir, check_output_file, check_outputs_apart, write_text_atomic

    inputs = checkpoint_files(args.checkpoint) + [p for p in (args.data, args.vocoder) if p and os.path.isdir(p)]
    check_outputs_apart({"--output": args.output, "--save-audio": args.save_audio, "--samples-dir": args.samples_dir},
                        inputs + [p for p in (args.samples,) if p])
    if args.output:
        check_output_file(args.output)  # before the scoring work, not after it
    if args.texts and not args.listen:
        raise UserError("--texts scores intelligibility only; drop --no-listen")
    if args.save_audio and not args.texts:
        raise UserError("--save-audio applies to --texts")
    if args.cache and args.texts:
        raise UserError("--cache applies to --data")
    if args.save_audio:
        check_fresh_output_dir(args.save_audio, "--save-audio")
    if (args.samples is None) != (args.samples_dir is None):
        raise UserError("--samples FILE and --samples-dir DIR go together")
    if args.samples and args.texts:
        raise UserError("--samples applies to --data (with --texts, --save-audio keeps what was spoken)")
    if args.samples:
        from tts_adapt.evaluation.texts import read_texts

        check_fresh_output_dir(args.samples_dir, "--samples-dir")
        sample_sentences = tuple(read_texts(args.samples, "--samples"))  # refused before any worker starts
    from tts_adapt.training.runtime import configure_threads

    configure_threads()  # as synthesize does: the same mel renders to the same audio bytes in both
    unit = "steps (each utterance decoded, then heard)"
    columns = (TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), disable=args.format == "json", transient=True) as bar:
        task = bar.add_task("evaluate", total=None)
        progress = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
        from tts_adapt.evaluation.heard_cache import HeardCache
        from tts_adapt.workers import available_cpus

        workers = (args.jobs or available_cpus()) if args.listen else 1  # they only hear: none for --no-listen
        if args.texts:
            from tts_adapt.evaluation.texts import read_texts

            sentences = read_texts(args.texts)  # a bad file is refused before any worker starts
            with HeardCache(workers=workers) as heard:
                result = _evaluate_texts(args, sentences, progress, heard)
        else:
            import contextlib

            from tts_adapt.evaluation.evaluate import evaluate
            from tts_adapt.evaluation.samples import SampleRequest
            from tts_adapt.fsutil import atomic_output_dir

            # the samples are published as one folder at the end: a run that fails halfway leaves none of them
            written = atomic_output_dir(args.samples_dir, "--samples-dir") if args.samples else contextlib.nullcontext()
            with HeardCache(args.cache, workers=workers) as heard, written as folder:
                result = evaluate(args.checkpoint, args.data, split=None if args.split == "all" else args.split,
                                  max_items=args.max_items, speaker=args.speaker, seed=args.seed,
                                  plots=max(args.plots, 0), listen=args.listen, progress=progress,
                                  vocoder=args.vocoder, heard=heard,
                                  samples=SampleRequest(sample_sentences, folder) if args.samples else None)
            if args.samples:
                console(stderr=True).print(f"wrote {len(sample_sentences)} samples to {args.samples_dir} "
                                           f"({result.samples_from_scoring} of them the audio scored)", markup=False)
            if args.cache:
                console(stderr=True).print(f"the recogniser heard {heard.heard} audio anew and recalled "
                                           f"{heard.recalled} from {args.cache}", markup=False)
    if args.output:
        page = render_texts_html(result.report) if args.texts else render_html(result.report, result.plots)
        write_text_atomic(args.output, page)
    if args.format == "json":
        from dataclasses import replace

        print_document(replace(result.report, html=args.output))
    else:
        (render_texts if args.texts else render)(result.report)
        if args.output:
            console().print(f"wrote {args.output}", markup=False)
    return 0


def _evaluate_texts(args, sentences, progress, heard):
    import contextlib

    from tts_adapt.evaluation.texts import evaluate_texts
    from tts_adapt.fsutil import atomic_output_dir

    speakers = [name.strip() for name in args.speaker.split(",") if name.strip()] if args.speaker else None
    # the audio is published as one folder at the end: a run that fails halfway leaves none of it
    audio = atomic_output_dir(args.save_audio, "--save-audio") if args.save_audio else contextlib.nullcontext()
    with audio as audio_dir:
        return evaluate_texts(args.checkpoint, sentences, speakers, seed=args.seed, audio_dir=audio_dir,
                              progress=progress, vocoder=args.vocoder, heard=heard)


def render(report) -> None:
    from rich.table import Table

    from tts_adapt.evaluation.report import COLUMNS, format_value

    out = console()
    out.print(f"{report.checkpoint} on {report.data} ({report.split}): {report.items} utterances"
              + (f", {len(report.skipped)} skipped (cannot encode)" if report.skipped else ""), markup=False)
    table = Table()
    for header in ("id", "frames", "predicted", "stopped", *(c[1] for c in COLUMNS)):
        table.add_column(header, justify="left" if header == "id" else "right")
    for r in report.utterances:
        table.add_row(r.id, str(r.frames), str(r.predicted_frames), "yes" if r.stopped else "no",
                      *(format_value(getattr(r, key), fmt) for key, _, fmt, _ in COLUMNS))
    summary = report.summary
    table.add_section()
    table.add_row("mean", "", "", f"{summary.stopped}/{summary.items}",
                  *(fmt.format(getattr(summary, key)) for key, _, fmt, _ in COLUMNS))
    out.print(table)
    _say_intelligibility(report.intelligibility)


def render_texts(report) -> None:
    from rich.table import Table

    out = console()
    out.print(f"{report.checkpoint}: {report.items} sentences without recordings", markup=False)
    table = Table()
    for header in ("id", "heard", "WER", "CER", "seconds", "stopped", "focus"):
        table.add_column(header, justify="left" if header in ("id", "heard") else "right")
    for r in report.utterances:
        table.add_row(r.id, r.heard or "(nothing)", f"{r.wer:.2f}", f"{r.cer:.2f}", f"{r.seconds:.2f}",
                      "yes" if r.stopped else "no", f"{r.focus:.2f}")
    out.print(table)
    _say_intelligibility(report.intelligibility)


def _say_intelligibility(listening) -> None:
    out = console()
    if not listening.scored:
        out.print(f"intelligibility not scored: {listening.reason}", markup=False)
        return
    out.print(listening.sentence, markup=False)
    if listening.vocoder:
        out.print(f"  audio rendered by {listening.vocoder}"
                  + (f" ({listening.vocoder_note})" if listening.vocoder_note else ""), markup=False)
    rows = {"this model": listening.rates, **listening.ceilings, **listening.by_speaker}
    for name, value in rows.items():
        interval = f" (95% interval {value.cer_low:.2f}-{value.cer_high:.2f})" if value.cer_low is not None else ""
        out.print(f"  {name}: WER {value.wer:.2f}, CER {value.cer:.2f}{interval}", markup=False)
