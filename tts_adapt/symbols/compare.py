"""The symbol-table report: what happens to every embedding row, and whether transcripts are covered.

The row origins come from :func:`tts_adapt.symbols.mapping.map_symbols`, the
function ``adapt`` uses, so the report and the surgery cannot disagree.
Occurrences are counted on the cleaned transcripts with the model's own
tokeniser (:func:`split_symbols`), so "encodable" here means "encodable by the model".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from tts_adapt.documents import Document
from tts_adapt.symbols.frontend import clean_text, split_symbols
from tts_adapt.symbols.mapping import RowSource, map_symbols
from tts_adapt.symbols.table import SymbolTable, escape_symbol
from tts_adapt.symbols.transcripts import Transcripts

STATUSES = ("kept", "moved", "added", "removed")
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class SymbolRow:
    """One symbol of either table. ``init``: "copy", "alias", a ``--new-rows`` strategy, or None (removed)."""

    symbol: str
    status: str
    old_id: int | None
    new_id: int | None
    init: str | None
    alias: str | None = None
    alias_reason: str | None = None
    count: int | None = None

    DERIVED = ("display",)

    @property
    def display(self) -> str:
        return escape_symbol(self.symbol)

    def describe_init(self) -> str:
        """The init column as people read it: "copy", "alias of é (without accents)", "mean", or "-"."""
        if self.init == "alias":
            return f"alias of {escape_symbol(self.alias or '')} ({self.alias_reason})"
        return self.init or "-"


@dataclass(frozen=True)
class OovChar:
    """A transcript character the new table cannot encode."""

    char: str
    count: int
    examples: tuple[str, ...]

    DERIVED = ("display",)

    @property
    def display(self) -> str:
        return escape_symbol(self.char)


@dataclass
class TranscriptStats:
    path: str
    form: str
    cleaners: tuple[str, ...]
    utterances: int
    encodable: int
    oov: list[OovChar]
    unused: list[str]

    DERIVED = ("encodable_share",)

    @property
    def encodable_share(self) -> float:
        return self.encodable / self.utterances if self.utterances else 1.0


@dataclass
class Comparison(Document):
    """The report's document (``symbols compare --format json``): every symbol, then the transcripts' coverage."""

    KIND = "tts-adapt-symbol-comparison"
    DERIVED = ("summary",)

    old_source: str = field(metadata={"json": "old"})
    new_source: str = field(metadata={"json": "new"})
    new_rows: str
    rows: list[SymbolRow] = field(metadata={"json": "symbols"})
    transcripts: TranscriptStats | None = None

    def summary(self) -> dict[str, Any]:
        added = [r for r in self.rows if r.status == "added"]
        out: dict[str, Any] = {
            "old_symbols": sum(r.old_id is not None for r in self.rows),
            "new_symbols": sum(r.new_id is not None for r in self.rows),
            **{status: sum(r.status == status for r in self.rows) for status in STATUSES},
            "aliased": sum(r.init == "alias" for r in added),
            "initialised": sum(r.init not in ("alias", "copy") for r in added),
            "new_rows": self.new_rows,
            "utterances": None,
            "encodable_utterances": None,
            "encodable_share": None,
            "oov_chars": None,
            "unused_symbols": None,
        }
        if self.transcripts is not None:
            t = self.transcripts
            out.update(utterances=t.utterances, encodable_utterances=t.encodable,
                       encodable_share=t.encodable_share, oov_chars=len(t.oov), unused_symbols=len(t.unused))
        return out

    def summary_line(self) -> str:
        s = self.summary()
        line = (f"{s['kept']} kept, {s['moved']} moved, {s['added']} added "
                f"({s['aliased']} from an alias, {s['initialised']} {self.new_rows}), {s['removed']} removed")
        if self.transcripts is not None:
            line += (f"; transcripts: {s['encodable_share']:.1%} of {s['utterances']} utterances encodable, "
                     f"{s['oov_chars']} character(s) not encodable, {s['unused_symbols']} symbol(s) unused")
        return line


def _row(source: RowSource) -> SymbolRow:
    if source.kind == "copy":
        status = "kept" if source.old_id == source.new_id else "moved"
        return SymbolRow(source.symbol, status, source.old_id, source.new_id, "copy")
    if source.kind == "alias":
        return SymbolRow(source.symbol, "added", None, source.new_id, "alias", source.alias, source.reason)
    return SymbolRow(source.symbol, "added", None, source.new_id, source.init)


def transcript_stats(transcripts: Transcripts, table: SymbolTable, removed: Sequence[str],
                     cleaners: Sequence[str]) -> tuple[TranscriptStats, Counter[str]]:
    """Occurrences per symbol (new table; removed symbols by substring count) and uncovered characters."""
    counts: Counter[str] = Counter()
    oov_counts: Counter[str] = Counter()
    oov_examples: dict[str, list[str]] = {}
    encodable = 0
    for utterance in transcripts.utterances:
        cleaned = clean_text(utterance.text, cleaners)
        fits = True
        for found, piece in split_symbols(cleaned, table):
            if found is not None:
                counts[piece] += 1
                continue
            fits = False
            oov_counts[piece] += 1
            examples = oov_examples.setdefault(piece, [])
            if len(examples) < MAX_EXAMPLES and utterance.id not in examples:
                examples.append(utterance.id)
        encodable += fits
        for symbol in removed:
            counts[symbol] += cleaned.count(symbol)
    oov = [OovChar(c, n, tuple(oov_examples[c])) for c, n in oov_counts.most_common()]
    unused = [s for s in table.symbols if counts[s] == 0]
    stats = TranscriptStats(transcripts.path, transcripts.form, tuple(cleaners), len(transcripts.utterances),
                            encodable, oov, unused)
    return stats, counts


def compare_tables(
    old: SymbolTable,
    new: SymbolTable,
    new_rows: str = "mean",
    aliases: Mapping[str, str] | None = None,
    transcripts: Transcripts | None = None,
    cleaners: Sequence[str] = ("english",),
) -> Comparison:
    """Rows in new-table order, then the removed symbols in old-table order."""
    rows = [_row(source) for source in map_symbols(old, new, new_rows, aliases)]
    removed = [s for s in old.symbols if s not in new]
    rows += [SymbolRow(s, "removed", old.id(s), None, None) for s in removed]
    comparison = Comparison(old.source, new.source, new_rows, rows)
    if transcripts is not None:
        stats, counts = transcript_stats(transcripts, new, removed, cleaners)
        comparison.transcripts = stats
        comparison.rows = [replace(r, count=counts[r.symbol]) for r in rows]
    return comparison
