"""``tts-adapt symbols``: compare two symbol tables (the report), or suggest a table from transcripts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tts_adapt.errors import UserError
from tts_adapt.symbols.mapping import NEW_ROW_STRATEGIES
from tts_adapt.symbols.render import RENDERERS

DESCRIPTION = """\
Symbol tables: ids are list positions, so rows of the symbol embedding must follow
the symbol, never the index. A table is a UTF-8 file with one symbol per line (the
line without its newline: a line holding one space is the space symbol), a .json
list of strings, or a checkpoint (directory, prefix or .index) whose manifest.json
holds "symbols"."""

COMPARE_DESCRIPTION = """\
Report what the surgery will do to every symbol-embedding row when a model trained
with table OLD is adapted to table NEW, before anything is written:

  kept     same symbol, same id: the row is copied
  moved    same symbol, new id (old -> new): the row follows the symbol
  added    only in NEW: copied from an alias (case twin, accent-free base letter,
           compatibility form, or --aliases) or initialised by --new-rows
  removed  only in OLD: its row is dropped

The init column comes from the same function 'adapt' uses, so they cannot disagree.
With --transcripts (pipe-separated, no header: id|text, LJSpeech
id|text|normalized_text - the last column is used - or audio|speaker|text, chosen
when every line has an audio path first and a speaker name without spaces second),
each transcript is cleaned with --cleaners and encoded with NEW as the model would;
the report adds occurrences per symbol, the characters NEW cannot encode (with
example utterance ids), the NEW symbols no transcript uses (rows fine-tuning will
never train), and the share of utterances that are fully encodable.

Space, tab and invisible symbols are shown escaped (space as ␠, tab as \\t).
Exit status: 0, or 1 with --strict when a transcript holds a character NEW cannot
encode (the report is still printed), 2 on bad input."""

COMPARE_EPILOG = """\
examples:
  tts-adapt symbols compare data/pretrained/multispeaker my_voice/symbols.txt
  tts-adapt symbols compare old.txt new.txt --transcripts my_voice/metadata.csv --strict
  tts-adapt symbols compare old.txt new.json --transcripts metadata.csv --format html --output report.html
  tts-adapt symbols compare old.txt new.txt --format json | jq '.summary'"""

SUGGEST_DESCRIPTION = """\
Propose a symbol table for a new voice from its transcripts (cleaned with --cleaners).
With --base, the base table's order is kept (its rows stay in place) and characters
the base cannot encode are appended, most frequent first; base symbols no transcript
uses are flagged (on stderr, or in the JSON), not removed. Without --base, every
character used is listed, most frequent first. The table is printed (or written with
--output) in the symbol-table file format."""

SUGGEST_EPILOG = """\
examples:
  tts-adapt symbols suggest --transcripts my_voice/metadata.csv --base data/pretrained/multispeaker \\
      --output my_voice/symbols.txt
  tts-adapt symbols suggest --transcripts metadata.csv --format json"""


def register(subparsers) -> None:
    p = subparsers.add_parser("symbols", help="compare symbol tables (the report) or suggest one from transcripts",
                              description=DESCRIPTION)
    p.set_defaults(func=lambda args: _usage(p), needs_tensorflow=False)  # pure Python: skip TensorFlow's slow import
    commands = p.add_subparsers(dest="symbols_command", metavar="{compare,suggest}")

    c = commands.add_parser("compare", help="per-symbol report: kept / moved / added / removed, transcript coverage",
                            description=COMPARE_DESCRIPTION, epilog=COMPARE_EPILOG)
    c.add_argument("old", metavar="OLD", help="table of the source model (file or checkpoint)")
    c.add_argument("new", metavar="NEW", help="table of the new voice (file or checkpoint)")
    c.add_argument("--transcripts", metavar="CSV", help="the new voice's transcripts (see above)")
    _add_cleaners(c)
    c.add_argument("--new-rows", choices=NEW_ROW_STRATEGIES, default="mean",
                   help="init of rows for added symbols no alias covers, as in 'adapt' (default: mean)")
    c.add_argument("--aliases", metavar="FILE", help="YAML/JSON map 'new symbol: old symbol', as in 'adapt'")
    c.add_argument("--format", choices=("text", *RENDERERS), default="text",
                   help="text (default, for the terminal), markdown, csv (symbol rows), json, html (one page)")
    c.add_argument("--output", "-o", metavar="FILE", help="write the report here (atomically) instead of stdout")
    c.add_argument("--strict", action="store_true",
                   help="exit 1 when a transcript holds a character NEW cannot encode")
    c.set_defaults(func=run_compare)

    s = commands.add_parser("suggest", help="propose a table for a new voice from its transcripts",
                            description=SUGGEST_DESCRIPTION, epilog=SUGGEST_EPILOG)
    s.add_argument("--transcripts", metavar="CSV", required=True, help="the new voice's transcripts")
    s.add_argument("--base", metavar="TABLE", help="table (file or checkpoint) whose order to keep")
    _add_cleaners(s)
    s.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default: the symbol-table file format) or json (with appended and unused symbols)")
    s.add_argument("--output", "-o", metavar="FILE", help="write the table here (atomically) instead of stdout")
    s.set_defaults(func=run_suggest)


def _add_cleaners(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cleaners", metavar="NAMES",
                        help="comma-separated text cleaners, as the model uses them (default: those of the "
                             "model given as table, e.g. phonemes for the bundled one; else english)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _cleaners(text: str | None, model: str | None) -> list[str]:
    """--cleaners; else the front-end recorded by the checkpoint given as a table; else english."""
    from tts_adapt.manifest import DEFAULT_CLEANERS, read_manifest
    from tts_adapt.symbols.frontend import clean_text

    if text is None:
        folder = Path(model) if model else None
        if folder is not None and not folder.is_dir():
            folder = folder.parent if folder.parent.joinpath("manifest.json").is_file() else None
        manifest = read_manifest(folder) if folder is not None else None
        return list(manifest.text_cleaners if manifest else DEFAULT_CLEANERS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    clean_text("", names)  # validates the names before any work
    return names


def _check_not_an_input(output: str, inputs: list[str | None]) -> None:
    """Never write into an input: not over an input file, not inside an input checkpoint directory."""
    target = Path(output).resolve()
    for given in filter(None, inputs):
        source = Path(given).resolve()
        if target == source or (source.is_dir() and source in target.parents):
            raise UserError(f"--output {output} would write into the input {given}; choose another path")


def _emit(text: str, output: str | None) -> None:
    from tts_adapt.fsutil import write_text_atomic

    if output:
        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def run_compare(args) -> int:
    from tts_adapt.symbols.compare import compare_tables
    from tts_adapt.symbols.mapping import load_aliases
    from tts_adapt.symbols.render import RENDERERS, render_text
    from tts_adapt.manifest import load_symbol_table
    from tts_adapt.symbols.table import escape_symbol
    from tts_adapt.symbols.transcripts import read_transcripts

    if args.output:
        _check_not_an_input(args.output, [args.old, args.new, args.transcripts, args.aliases])
    cleaners = _cleaners(args.cleaners, args.old)
    old = load_symbol_table(args.old)
    new = load_symbol_table(args.new)
    aliases = load_aliases(args.aliases) if args.aliases else None
    transcripts = read_transcripts(args.transcripts) if args.transcripts else None
    comparison = compare_tables(old, new, args.new_rows, aliases, transcripts, cleaners)

    if args.format == "text":
        terminal = not args.output and sys.stdout.isatty()
        width = os.get_terminal_size(sys.stdout.fileno()).columns if terminal else 120
        report = render_text(comparison, terminal=terminal, width=width)
    else:
        report = RENDERERS[args.format](comparison)
    _emit(report, args.output)
    if args.output:
        print(f"wrote {args.format} report to {args.output}: {comparison.summary_line()}", file=sys.stderr)

    stats = comparison.transcripts
    if args.strict and stats is not None and stats.oov:
        chars = " ".join(escape_symbol(o.char) for o in stats.oov)
        print(f"tts-adapt symbols compare: strict: {len(stats.oov)} transcript character(s) "
              f"{new.source} cannot encode: {chars}", file=sys.stderr)
        return 1
    return 0


def run_suggest(args) -> int:
    from tts_adapt.symbols.suggest import suggest_table
    from tts_adapt.manifest import load_symbol_table
    from tts_adapt.symbols.table import escape_symbol, format_table_text
    from tts_adapt.symbols.transcripts import read_transcripts

    if args.output:
        _check_not_an_input(args.output, [args.transcripts, args.base])
    cleaners = _cleaners(args.cleaners, args.base)
    base = load_symbol_table(args.base) if args.base else None
    suggestion = suggest_table(read_transcripts(args.transcripts), base, cleaners)
    if not suggestion.symbols:
        raise UserError(f"{args.transcripts}: the transcripts hold no characters to build a table from")

    if args.format == "json":
        _emit(suggestion.to_text(), args.output)
        return 0
    _emit(format_table_text(suggestion.symbols), args.output)
    notes = [f"# appended {a.display} (used {a.count} times)" for a in suggestion.appended if base is not None]
    notes += [f"# unused base symbol {escape_symbol(s)} (no transcript uses it; its row will not be trained)"
              for s in suggestion.unused]
    notes.append(f"# {len(suggestion.symbols)} symbols: {len(suggestion.symbols) - len(suggestion.appended)} "
                 f"from the base, {len(suggestion.appended)} appended, {len(suggestion.unused)} base symbols unused"
                 + (f"; written to {args.output}" if args.output else ""))
    print("\n".join(notes), file=sys.stderr)
    return 0
