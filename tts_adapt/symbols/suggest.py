"""Propose a symbol table for a new voice from its transcripts.

The base table's order is kept (so its rows stay where they are and the surgery
copies them in place); characters the base cannot encode are appended, most
frequent first; base symbols no transcript uses are reported, not removed -
dropping them is the user's call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from tts_adapt.documents import Document
from tts_adapt.symbols.frontend import clean_text, split_symbols
from tts_adapt.symbols.table import SymbolTable, escape_symbol
from tts_adapt.symbols.transcripts import Transcripts


@dataclass(frozen=True)
class AppendedSymbol:
    DERIVED = ("display",)

    symbol: str
    count: int  # occurrences in the transcripts

    @property
    def display(self) -> str:
        return escape_symbol(self.symbol)


@dataclass(frozen=True)
class Suggestion(Document):
    """A table for a new voice: ``symbols suggest --format json`` prints it, a script reads it with ``from_json``."""

    KIND = "tts-adapt-symbol-suggestion"

    symbols: tuple[str, ...]
    appended: tuple[AppendedSymbol, ...]  # in the order appended
    unused: tuple[str, ...]  # base symbols no transcript uses


def suggest_table(transcripts: Transcripts, base: SymbolTable | None = None,
                  cleaners: Sequence[str] = ("english",)) -> Suggestion:
    """Base order kept, uncovered characters appended by frequency (ties: first seen first)."""
    base = base or SymbolTable(())
    used: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    for utterance in transcripts.utterances:
        for found, piece in split_symbols(clean_text(utterance.text, cleaners), base):
            (used if found is not None else missing)[piece] += 1
    appended = tuple(missing.most_common())  # most_common keeps first-seen order among equal counts
    unused = tuple(s for s in base.symbols if not used[s])
    return Suggestion(base.symbols + tuple(s for s, _ in appended), tuple(AppendedSymbol(*a) for a in appended), unused)
