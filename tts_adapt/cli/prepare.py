"""``tts-adapt prepare``: metadata + audio -> normalised log-mel feature cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from tts_adapt.cli._output import add_format_argument, console, finite_float, print_document
from tts_adapt.errors import UserError

DESCRIPTION = """\
Turn recordings and their transcripts into the feature cache that train, finetune,
suggest-speaker and adapt --fold-speaker auto read.

Every file is normalised the same way, whatever its sample rate or level: mono,
resampled to the config's rate, low-passed at fmax, silence trimmed, loudness set to
target_dbfs; then log-mel features (80 bands in [-4, 4] by default) go to
OUTPUT/mels/<id>.npy, the item list to OUTPUT/items.csv (with a deterministic
train/val split) and the run's record to OUTPUT/prepared.json.

Metadata (pipe-separated, no header):
  LJSpeech      id|text|normalized_text    audio is WAVS/<id>.wav, one speaker (--speaker)
  multi-speaker audio|speaker|text         audio is relative to WAVS (or the CSV's folder)

Bad items (missing, unreadable or empty audio, silence, too short or long, text the
--symbols table cannot encode) are skipped and listed, never fatal. Running again into
the same OUTPUT reuses features whose audio file is unchanged (same path, same bytes;
modification times are not trusted); a changed audio config recomputes everything.
While one prepare writes OUTPUT, another into it is refused (exit 2, naming its process).

--like CKPT prepares a new voice for a model: its audio settings, cleaners and symbol table
(--symbols may give the voice's own, e.g. the model's with symbols appended) come from the
checkpoint's manifest, so the features and text are made exactly as the model's were.

examples:
  tts-adapt prepare --metadata LJSpeech-1.1/metadata.csv --wavs LJSpeech-1.1/wavs \\
      --output data/lj --speaker lj --symbols data/pretrained/multispeaker
  tts-adapt prepare --metadata corpus/metadata.csv --output data/pretrain --config audio.yaml --format json
  tts-adapt prepare --metadata myvoice/metadata.csv --output exp/myvoice/prepared \\
      --like data/pretrained/multispeaker --symbols recipes/myvoice/conf/symbols.txt
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="metadata + audio -> normalised log-mel feature cache",
        description=DESCRIPTION,
    )
    parser.add_argument("--metadata", required=True, metavar="CSV", help="pipe-separated metadata file")
    parser.add_argument("--wavs", metavar="DIR",
                        help="audio folder (default: CSV's folder/wavs if it exists, else the CSV's folder)")
    parser.add_argument("--output", required=True, metavar="PREPARED",
                        help="cache directory: new, empty, or an earlier prepare output to bring up to date")
    parser.add_argument("--symbols", metavar="TABLE_OR_CKPT",
                        help="symbol table (.txt/.json, or a checkpoint dir with a manifest): skip text it cannot encode")
    parser.add_argument("--cleaners", metavar="NAMES", help="comma-separated text cleaners (default: english)")
    parser.add_argument("--like", metavar="CKPT",
                        help="take the audio settings, cleaners and symbol table from this model's manifest")
    parser.add_argument("--speaker", metavar="NAME",
                        help="speaker of LJSpeech-form metadata (default: the output folder's name)")
    parser.add_argument("--config", metavar="YAML",
                        help="audio parameters: an 'audio:' section or flat keys (default: built-in AudioConfig)")
    parser.add_argument("--val-fraction", type=finite_float, default=0.05, metavar="F",
                        help="share of items held out for validation, by a hash of the id (default: 0.05)")
    parser.add_argument("--min-seconds", type=finite_float, default=0.5, metavar="S",
                        help="skip items shorter than this after trimming (default: 0.5)")
    parser.add_argument("--max-seconds", type=finite_float, default=12.0, metavar="S",
                        help="skip items longer than this after trimming (default: 12)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="worker processes (default: 1; on 2 cores one warm process was fastest)")
    parser.add_argument("--allow-outside-audio", action="store_true",
                        help="read audio the metadata names by absolute path or with '..' (refused by default)")
    add_format_argument(parser)
    parser.set_defaults(func=run, needs_tensorflow=False)  # numpy/librosa only: start fast


def run(args: argparse.Namespace) -> int:
    from tts_adapt.audio.config import load_audio_config
    from tts_adapt.corpus.metadata import read_metadata
    from tts_adapt.corpus.prepare import DEFAULT_JOBS, PrepareOptions
    from tts_adapt.symbols.frontend import clean_text
    from tts_adapt.manifest import load_symbol_table

    output = Path(args.output)
    like = _manifest_of(args) if args.like else None
    cleaners = like.text_cleaners if like else tuple(
        name.strip() for name in (args.cleaners or "english").split(",") if name.strip())
    clean_text("", cleaners)  # an unknown cleaner name fails here, before any work
    table = None
    if args.symbols:
        table = load_symbol_table(args.symbols)
    elif like:
        table = like.table(f"--like {args.like}")
    options = PrepareOptions(
        audio=like.audio if like else load_audio_config(args.config),
        cleaners=cleaners,
        table=table,
        val_fraction=args.val_fraction,
        min_seconds=args.min_seconds,
        max_seconds=args.max_seconds,
        jobs=DEFAULT_JOBS if args.jobs is None else args.jobs,
    )
    items = read_metadata(args.metadata, args.wavs, speaker=args.speaker, default_speaker=output.resolve().name,
                          allow_outside=args.allow_outside_audio)
    summary = _prepare_with_progress(items, output, options, quiet=args.format == "json")
    if args.format == "json":
        print_document(summary)
    else:
        _print_summary(summary)
    if summary.kept == 0:
        raise UserError(f"no item of {args.metadata} could be used (reasons in {output / 'prepared.json'})")
    return 0


def _manifest_of(args: argparse.Namespace):
    """The manifest of the checkpoint --like names (directory, prefix or .index file), with its audio settings."""
    from tts_adapt.manifest import read_manifest

    for option, given, what in (("--config", args.config, "audio settings"),
                                ("--cleaners", args.cleaners, "cleaners")):
        if given:
            raise UserError(f"--like takes the {what} from {args.like}; drop {option}")
    path = Path(args.like)
    if not (path.is_dir() or path.is_file() or Path(f"{path}.index").is_file()):
        raise UserError(f"--like {args.like}: no such checkpoint")
    manifest = read_manifest(path if path.is_dir() else path.parent)
    if manifest is None or manifest.audio is None:
        raise UserError(f"--like {args.like}: no manifest.json with audio settings; "
                        "give a checkpoint made by tts-adapt")
    return manifest


def _prepare_with_progress(items, output, options, quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tts_adapt.corpus.prepare import prepare

    columns = (TextColumn("extracting features"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console(stderr=True), disable=quiet, transient=True) as bar:
        task = bar.add_task("features", total=None)
        return prepare(items, output, options, progress=lambda done, total: bar.update(task, completed=done, total=total))


def _print_summary(summary) -> None:
    from rich.table import Table

    out = console()
    out.print(
        f"prepared {summary.output}: kept {summary.kept} items ({_duration(summary.hours)}; "
        f"train {summary.splits['train']}, val {summary.splits['val']}), skipped {summary.skipped}; "
        f"features computed {summary.computed}, reused {summary.reused} in {summary.seconds_elapsed:.1f} s"
    )
    speakers = Table("speaker", "items", "minutes", title="speakers", title_justify="left")
    for name, entry in summary.speakers.items():
        speakers.add_row(name, str(entry.items), f"{entry.minutes:.1f}")
    out.print(speakers)
    if summary.skipped_items:
        reasons = Table("reason", "items", "examples", title="skipped", title_justify="left")
        for reason, count in summary.skipped_by_reason().items():
            examples = [s for s in summary.skipped_items if s.reason == reason][:3]
            reasons.add_row(reason, str(count), "; ".join(f"{s.id}: {s.detail}" for s in examples))
        out.print(reasons)
        out.print(f"all skipped items are listed in {Path(summary.output) / 'prepared.json'} (\"skipped\")")


def _duration(hours: float) -> str:
    return f"{hours:.2f} h" if hours >= 1 else f"{hours * 60:.1f} min"
