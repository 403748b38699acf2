"""``tts-adapt new-voice``: scaffold a recipe for a user's own voice from ``recipes/TEMPLATE``."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import string
from dataclasses import dataclass
from pathlib import Path

from tts_adapt.cli._output import add_format_argument, console, print_document
from tts_adapt.documents import Document
from tts_adapt.errors import UserError

DESCRIPTION = """\
Create a recipe for a new voice: a copy of recipes/TEMPLATE whose run.sh takes the voice
through the same stages as recipes/allison (symbol table, prepare, symbol report, speaker
suggestion, adapt, verify, fine-tune, vocoder, samples, scores, HTML report). The voice's
name and data go to the recipe's conf/voice.sh, made from the template's conf/voice.sh.in;
run.sh is copied as it is.

The data must be in LJSpeech layout: METADATA holds id|text|normalized_text (or id|text),
pipe-separated, no header, and the audio of each line is WAVS/<id>.wav (any sample rate:
prepare normalises it). The recipe goes to recipes/NAME (or OUTPUT/NAME); it refers to
the data by absolute path, so nothing is copied and the data is never written to.

examples:
  tts-adapt new-voice myvoice --metadata ~/data/myvoice/metadata.csv --wavs ~/data/myvoice/wavs
  recipes/myvoice/run.sh
  tts-adapt new-voice myvoice --metadata m.csv --wavs wavs --output ~/voices --format json
"""

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
VOICE_TEMPLATE = "conf/voice.sh.in"  # in recipes/TEMPLATE; a new recipe gets it filled in as conf/voice.sh


@dataclass(frozen=True)
class Scaffold(Document):
    """What new-voice made: ``--format json`` prints it, a script reads it back with ``from_json``."""

    KIND = "tts-adapt-new-voice"
    DERIVED = ("run",)

    recipe: str
    items: int
    with_audio: int
    missing_audio: tuple[str, ...]  # the first 20 utterances without a recording

    @property
    def run(self) -> str:
        return str(Path(self.recipe) / "run.sh")


def toolkit_recipes_dir() -> Path:
    """The ``recipes/`` folder of the tts-adapt checkout this package runs from."""
    import tts_adapt

    recipes = Path(tts_adapt.__file__).resolve().parents[1] / "recipes"
    if not (recipes / "TEMPLATE" / VOICE_TEMPLATE).is_file() or not (recipes / "common" / "stages.sh").is_file():
        raise UserError(f"no recipe template at {recipes}/TEMPLATE: new-voice needs a tts-adapt source "
                        "checkout (pip install -e .)")
    return recipes


def voice_settings(template: Path, name: str, metadata: Path, wavs: Path, common: str) -> str:
    """conf/voice.sh: ``template``'s ``${name}``, ``${metadata}``, ``${wavs}``, ``${about}`` and ``${common}``
    filled in, each value shell-quoted.

    Why a settings file and not edits of run.sh: run.sh stays the template's, byte for byte, and
    one substitution pass never searches a filled-in value again (a path holding ``$wavs`` stays
    as it is)."""
    values = {"name": name, "metadata": str(metadata), "wavs": str(wavs), "common": common,
              "about": f"Voice: {name} (describe the recordings and their licence here)."}
    try:
        return string.Template(template.read_text(encoding="utf-8")).substitute(
            {key: shlex.quote(value) for key, value in values.items()})
    except (KeyError, ValueError) as exc:
        raise UserError(f"{template}: a placeholder new-voice cannot fill in ({exc})") from None


def scaffold_recipe(name: str, metadata: Path, wavs: Path, output: Path | None = None) -> Scaffold:
    """Copy the template to OUTPUT/NAME (default: the toolkit's recipes/NAME), filled in for this voice."""
    from tts_adapt.corpus.metadata import AudioOutsideFolder, read_metadata
    from tts_adapt.fsutil import atomic_output_dir, check_fresh_output_dir

    if not NAME_PATTERN.fullmatch(name):
        raise UserError(f"voice name {name!r}: use lowercase letters, digits, '-' and '_' (it names exp/{name}/)")
    recipes = toolkit_recipes_dir()
    metadata, wavs = metadata.expanduser().resolve(), wavs.expanduser().resolve()
    try:
        items = read_metadata(metadata, wavs, speaker=name)
    except AudioOutsideFolder as exc:  # the recipe's prepare stage reads audio from --wavs only
        raise UserError(f"{exc.metadata}: audio {exc.audio!r} lies outside {wavs} (absolute, or '..'); "
                        "a voice recipe reads its audio from --wavs only: put the files there") from None
    if not items:
        raise UserError(f"{metadata}: no utterances")
    missing = [item.id for item in items if not item.audio.is_file()]
    if len(missing) == len(items):
        raise UserError(f"none of the {len(items)} utterances has its audio in {wavs} "
                        f"(looked for e.g. {items[0].audio.name})")
    parent = (output.expanduser() if output else recipes).resolve()
    target = parent / name
    check_fresh_output_dir(target)
    common = "" if parent == recipes else str(recipes / "common")
    template = recipes / "TEMPLATE"
    with atomic_output_dir(target) as tmp:
        shutil.copytree(template, tmp, dirs_exist_ok=True, ignore=lambda folder, names: [
            n for n in names if Path(folder, n) == template / VOICE_TEMPLATE])
        settings = voice_settings(template / VOICE_TEMPLATE, name, metadata, wavs, common)
        (tmp / VOICE_TEMPLATE).with_suffix("").write_text(settings, encoding="utf-8")
        (tmp / "run.sh").chmod(0o755)
    return Scaffold(str(target), len(items), len(items) - len(missing), tuple(missing[:20]))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "new-voice",
        help="scaffold a recipe for your own voice (LJSpeech-layout data)",
        description=DESCRIPTION,
    )
    parser.add_argument("name", metavar="NAME", help="the voice's name: recipes/NAME, exp/NAME, its speaker name")
    parser.add_argument("--metadata", required=True, type=Path, metavar="CSV",
                        help="LJSpeech-form metadata: id|text|normalized_text")
    parser.add_argument("--wavs", required=True, type=Path, metavar="DIR", help="folder holding <id>.wav")
    parser.add_argument("--output", type=Path, metavar="DIR",
                        help="folder to create the recipe in (default: the toolkit's recipes/)")
    add_format_argument(parser)
    parser.set_defaults(func=run, needs_tensorflow=False)  # files and a CSV: no TensorFlow import (seconds)


def run(args: argparse.Namespace) -> int:
    scaffold = scaffold_recipe(args.name, args.metadata, args.wavs, args.output)
    if args.format == "json":
        print_document(scaffold)
        return 0
    out, recipe = console(), Path(scaffold.recipe)
    out.print(f"created {recipe} for {scaffold.items} utterances "
              f"({scaffold.with_audio} with audio)")
    if scaffold.missing_audio:
        out.print(f"{scaffold.items - scaffold.with_audio} utterances have no audio file "
                  f"(prepare will skip them), e.g. {', '.join(scaffold.missing_audio[:5])}", style="yellow")
    out.print("next:\n"
              f"  edit {recipe / 'conf' / 'sentences.txt'} (test sentences) and about= in "
              f"{recipe / 'conf' / 'voice.sh'} (credits)\n"
              f"  {scaffold.run}      # stage 0 writes conf/symbols.txt: review it")
    return 0
