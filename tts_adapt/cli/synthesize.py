"""``tts-adapt synthesize``: text -> mel -> waveform (a trained vocoder or Griffin-Lim), with an optional alignment plot."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from tts_adapt.cli._output import SEED, add_format_argument, add_vocoder_argument, finite_float
from tts_adapt.documents import Document

DESCRIPTION = """\
Speak a text with a toolkit checkpoint (trained, adapted or fine-tuned).

The text is cleaned with the cleaners the model was trained with and encoded with
its symbol table (characters the table lacks are an error, listed). Decoding runs
free until the stop token fires or the length guard (--max-seconds, default: the
model's max_decoder_steps) ends it; the mel becomes audio through --vocoder: the voice's
own vocoder (a recipe trains one beside the model), else the bundled one, else Griffin-Lim.
Deterministic: the same --seed gives the same mel and the same audio.

Many sentences: --texts FILE (one a line, or id|text; blank lines and '#' lines skipped)
speaks each into --output-dir DIR, named DIR/<id>.wav (or <n>.wav, the sentence's number),
with one TensorFlow start and one model load for all; --all-speakers speaks every sentence
in every voice of a multi-speaker model, into DIR/<speaker>/. Every sentence is checked
before any is spoken, DIR must be new or empty, and it appears only when all are written.

examples:
  tts-adapt synthesize exp/allison --text "Please leave a message after the tone." --output hello.wav
  tts-adapt synthesize data/pretrained/multispeaker --speaker slt --text "Good morning." \\
      --output slt.wav --alignment-output slt.png --mel-output slt.npy
  tts-adapt synthesize exp/allison --texts prompts.txt --output-dir prompts --mels --alignments
"""


@dataclass(frozen=True)
class Attention:
    """How the alignment went (:func:`tts_adapt.model.alignment_metrics.alignment_metrics`), rounded."""

    focus: float
    monotonicity: float
    coverage: float
    reached_end: bool


@dataclass(frozen=True)
class Spoken:
    """One spoken sentence's files and what was measured of it: the same in both modes."""

    output: str
    seconds: float
    frames: int
    stop_fired: bool  # False: the length guard cut it
    speaker: str | None
    symbols: int
    mel_output: str | None
    alignment_output: str | None
    attention: Attention


@dataclass(frozen=True)
class SynthesisReport(Spoken, Document):
    """``synthesize --text --format json``; a script reads it back with ``from_json``."""

    KIND = "tts-adapt-synthesis"

    seed: int
    vocoder: str


@dataclass(frozen=True)
class SpokenSentence(Spoken):
    id: str  # its file's stem
    text: str


@dataclass(frozen=True)
class SynthesisListing(Document):
    """``synthesize --texts --format json``: every file written, in the order spoken."""

    KIND = "tts-adapt-synthesis-listing"

    checkpoint: str
    texts: str
    output_dir: str
    seed: int
    vocoder: str
    items: tuple[SpokenSentence, ...]


def register(subparsers) -> None:
    parser = subparsers.add_parser("synthesize", help="text -> waveform with a checkpoint and a vocoder",
                                   description=DESCRIPTION)
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint directory or prefix with a tts-adapt manifest")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="what to say")
    what.add_argument("--texts", metavar="FILE", help="many sentences, one a line (or id|text), into --output-dir")
    parser.add_argument("--output", "-o", metavar="WAV", help="with --text: the waveform to write (.wav)")
    parser.add_argument("--speaker", metavar="ID|NAME", help="voice of a multi-speaker model (default: its first)")
    parser.add_argument("--speaker-vector", metavar="NPY",
                        help="the voice of a model that reads a speaker vector (an imported RTVC synthesizer): "
                             "its speaker encoder's embedding, saved with numpy.save")
    parser.add_argument("--seed", type=SEED, default=0, metavar="N", help="seed of the prenet dropout (default: 0)")
    parser.add_argument("--max-seconds", type=finite_float, metavar="S", help="length guard in seconds of audio")
    parser.add_argument("--mel-output", metavar="NPY", help="also write the mel [frames, n_mels] as .npy")
    parser.add_argument("--alignment-output", metavar="PNG", help="also write the attention alignment as a heatmap")
    parser.add_argument("--output-dir", metavar="DIR", help="with --texts: the new folder for DIR/<id>.wav")
    parser.add_argument("--mels", action="store_true", help="with --texts: also write DIR/<id>.npy, each mel")
    parser.add_argument("--alignments", action="store_true",
                        help="with --texts: also write DIR/<id>.png, each attention alignment")
    parser.add_argument("--all-speakers", action="store_true",
                        help="with --texts: every sentence in every voice of the model, into DIR/<speaker>/")
    add_vocoder_argument(parser)
    add_format_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tts_adapt.errors import UserError

    one = {"--output": args.output, "--mel-output": args.mel_output, "--alignment-output": args.alignment_output}
    many = {"--output-dir": args.output_dir, "--mels": args.mels, "--alignments": args.alignments,
            "--all-speakers": args.all_speakers}
    mode, needed, other = ("--text", "--output", many) if args.text is not None else ("--texts", "--output-dir", one)
    wrong = [option for option, value in other.items() if value]
    if wrong:
        raise UserError(f"{wrong[0]} does not apply to {mode}")
    if not (one if mode == "--text" else many)[needed]:
        raise UserError(f"{mode} needs {needed}")
    return _speak_one(args) if mode == "--text" else _speak_many(args)


def _speak_one(args: argparse.Namespace) -> int:
    import contextlib

    from tts_adapt.cli._output import print_document
    from tts_adapt.errors import UserError
    from tts_adapt.fsutil import atomic_file, check_output_file, check_outputs_apart
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import synthesize, write_synthesis

    if not args.output.lower().endswith(".wav"):
        raise UserError(f"--output {args.output}: expected a .wav path")
    outputs = {"--output": args.output, "--mel-output": args.mel_output, "--alignment-output": args.alignment_output}
    for option, path in outputs.items():
        if path:
            check_output_file(path, option)
    check_outputs_apart(outputs, _inputs(args))
    _configure()
    loaded = load_model(args.checkpoint)
    render = _renderer(args, loaded)
    result = synthesize(loaded, args.text, args.speaker, args.seed, args.max_seconds, render, _vector(args, loaded))
    with contextlib.ExitStack() as published:  # every output is written first, then all are renamed into place
        write_synthesis(result, args.text, published.enter_context(atomic_file(args.output)),
               args.mel_output and published.enter_context(atomic_file(args.mel_output)),
               args.alignment_output and published.enter_context(atomic_file(args.alignment_output)))
    report = _spoken(SynthesisReport, result, args.output, args.mel_output, args.alignment_output, seed=args.seed,
                     vocoder=render.name)
    if args.format == "json":
        print_document(report)
        return 0
    _say(report)
    _warn(render.note, [report])
    return 0


def _speak_many(args: argparse.Namespace) -> int:
    """Every sentence of --texts (in every voice with --all-speakers) into one folder, published whole."""
    from pathlib import Path

    from tts_adapt.cli._output import print_document
    from tts_adapt.errors import UserError
    from tts_adapt.evaluation.texts import check_speakable, file_stems, read_texts
    from tts_adapt.fsutil import atomic_output_dir, check_fresh_output_dir, check_outputs_apart
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import speaker_of, synthesize_each, write_synthesis
    from tts_adapt.speakers import file_stem

    if args.all_speakers and args.speaker:
        raise UserError("--all-speakers speaks in every voice; drop --speaker")
    check_fresh_output_dir(args.output_dir, "--output-dir")
    check_outputs_apart({"--output-dir": args.output_dir}, [*_inputs(args), args.texts])
    sentences = read_texts(args.texts)
    stems = file_stems(sentences)
    _configure()
    loaded = load_model(args.checkpoint)
    if args.all_speakers and not loaded.speakers:
        raise UserError("this is a single-speaker model; --all-speakers does not apply")
    check_speakable(sentences, loaded)
    voices = list(loaded.speakers) if args.all_speakers else [speaker_of(loaded.speakers, args.speaker)[1]]
    vector = _vector(args, loaded)
    render = _renderer(args, loaded)
    final = Path(args.output_dir)
    items = []
    with atomic_output_dir(final, "--output-dir") as folder:  # none of it appears unless every sentence is spoken
        for voice in voices:
            place = Path(file_stem(voice)) if args.all_speakers else Path()
            spoken = synthesize_each(loaded, [s.text for s in sentences], voice, args.seed, args.max_seconds, render,
                                     vector)
            for sentence, stem, result in zip(sentences, stems, spoken):
                names = [place / f"{stem}.{suffix}" if wanted else None
                         for suffix, wanted in (("wav", True), ("npy", args.mels), ("png", args.alignments))]
                (folder / place).mkdir(exist_ok=True)
                write_synthesis(result, sentence.text, *(name and folder / name for name in names))
                items.append(_spoken(SpokenSentence, result, *(name and str(final / name) for name in names),
                                     id=stem, text=sentence.text))
    listing = SynthesisListing(checkpoint=str(args.checkpoint), texts=args.texts, output_dir=str(final),
                               seed=args.seed, vocoder=render.name, items=tuple(items))
    if args.format == "json":
        print_document(listing)
        return 0
    for item in items:
        _say(item)
    _warn(render.note, items)
    return 0


def _inputs(args: argparse.Namespace) -> list:
    """What the outputs must stay apart from: the checkpoint's files, a vocoder folder, a speaker vector."""
    import os

    from tts_adapt.checkpoint.paths import checkpoint_files

    vocoder = [args.vocoder] if args.vocoder and os.path.isdir(args.vocoder) else []
    return checkpoint_files(args.checkpoint) + vocoder + ([args.speaker_vector] if args.speaker_vector else [])


def _vector(args: argparse.Namespace, loaded):
    """--speaker-vector, read and checked against the model's speaker width (None when not given)."""
    from tts_adapt.errors import UserError
    from tts_adapt.speakers import load_speaker_vector

    if args.speaker_vector is None:
        return None
    if args.speaker:
        raise UserError("give either --speaker or --speaker-vector, not both")
    return load_speaker_vector(args.speaker_vector, loaded.model.config.speaker_dim)


def _configure() -> None:
    from tts_adapt.training.runtime import configure_threads

    configure_threads()


def _renderer(args: argparse.Namespace, loaded):
    from tts_adapt.vocoder.render import load_renderer

    return load_renderer(args.vocoder, loaded.audio, args.checkpoint, loaded.directory, args.checkpoint)


def _spoken(kind: type, result, output: str, mel_output: str | None, alignment_output: str | None, **more):
    """What --format json says of one sentence, as ``kind`` (alone, or one of many) with what that adds."""
    from tts_adapt.model.alignment_metrics import alignment_metrics

    metrics = alignment_metrics(result.alignment)
    return kind(output=output, seconds=round(result.seconds, 3), frames=int(result.mel.shape[0]),
                stop_fired=result.stop_fired, speaker=result.speaker, symbols=len(result.symbols),
                mel_output=mel_output, alignment_output=alignment_output,
                attention=Attention(**{k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items()}),
                **more)


def _say(spoken: Spoken) -> None:
    from tts_adapt.cli._output import console

    voice = f" as {spoken.speaker}" if spoken.speaker else ""
    console().print(f"wrote {spoken.output}: {spoken.seconds} s{voice}, {spoken.frames} frames, attention focus "
                    f"{spoken.attention.focus:.2f}, coverage {spoken.attention.coverage:.2f}", markup=False)


def _warn(note: str, reports: list[Spoken]) -> None:
    from tts_adapt.cli._output import console

    if note:
        console(stderr=True).print(f"note: {note}", markup=False)
    cut = [report.output for report in reports if not report.stop_fired]
    if cut:
        where = f" in {', '.join(cut)}" if len(reports) > 1 else ""
        console(stderr=True).print(f"warning: the stop token never fired{where}; the length guard cut the audio "
                                   "(an undertrained model, or raise --max-seconds)", markup=False)
