"""The text front-end: cleaners, then text -> symbol ids by greedy longest match.

Shared by ``prepare``, the dataset, ``synthesize`` and the ``symbols compare``
report, so what the report calls "encodable" is exactly what the model is fed.
Nothing is dropped silently: a character the table cannot encode is an error
that names it.

Cleaners (applied in the order given):

* ``nfc`` - Unicode NFC (composed accents: "é" is one character, as in tables)
* ``lowercase``
* ``collapse_whitespace`` - runs of whitespace become one space, ends stripped
* ``expand_numbers`` - currency ($, £, €), percentages, ordinals, years,
  decimals and integers to English words (``num2words``); the words hold only
  letters and spaces, so number expansion never needs "-" or "," in a table
* ``expand_abbreviations`` - "Mr." -> "mister", "Dr." -> "doctor", ...
* ``phonemize`` - English text to IPA phonemes with espeak-ng (``symbols/phonemes.py``)
* ``basic`` = nfc + collapse_whitespace
* ``english`` = nfc + lowercase + expand_abbreviations + expand_numbers + collapse_whitespace
* ``phonemes`` = english + phonemize: what the bundled model reads (a model need not learn spelling)
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Callable, Sequence

from num2words import num2words

from tts_adapt.errors import UserError
from tts_adapt.symbols.table import SymbolTable, escape_symbol


class UnencodableTextError(UserError):
    """Text holds characters the symbol table cannot encode; ``chars`` lists them."""

    def __init__(self, text: str, chars: list[str]) -> None:
        self.text = text
        self.chars = chars
        shown = " ".join(escape_symbol(c) for c in chars)
        preview = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(f"cannot encode {len(chars)} character(s) [{shown}] in {preview!r}")


# --- numbers ---------------------------------------------------------------

MAX_SPOKEN_DIGITS = 15  # longer digit runs (ids, serial numbers) are read digit by digit


def _words(number: int | str, to: str = "cardinal") -> str:
    """num2words with punctuation removed: 'twenty-one' -> 'twenty one'."""
    digits = str(number)
    if len(digits) > MAX_SPOKEN_DIGITS:
        return " ".join([_words(d) for d in digits[:-1]] + [_words(digits[-1], to)])
    text = num2words(int(digits), lang="en", to=to)
    return re.sub(r"\s+", " ", text.replace("-", " ").replace(",", "")).strip()


def _decimal_words(number: str) -> str:
    whole, _, fraction = number.partition(".")
    digits = " ".join(_words(d) for d in fraction)
    return f"{_words(whole or '0')} point {digits}"


_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"),
               "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents")}


def _currency_words(match: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[match.group(1)]
    whole, _, fraction = match.group(2).replace(",", "").partition(".")
    units = whole.lstrip("0") or "0"
    cents = int((fraction + "00")[:2]) if fraction else 0
    parts = []
    if units != "0" or not cents:
        parts.append(f"{_words(units)} {one if units == '1' else many}")
    if cents:
        parts.append(f"{_words(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _number_words(match: re.Match[str]) -> str:
    number = match.group(0).replace(",", "")
    if "." in number:
        return _decimal_words(number)
    if len(number) == 4 and 1100 <= int(number) <= 2099 and "," not in match.group(0):
        return _words(number, to="year")
    return _words(number)


_CURRENCY_RE = re.compile(r"([$£€])\s?(\d[\d,]*(?:\.\d+)?)")
_PERCENT_RE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_ORDINAL_RE = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_NUMBER_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def expand_numbers(text: str) -> str:
    text = _CURRENCY_RE.sub(_currency_words, text)
    text = _PERCENT_RE.sub(lambda m: f"{m.group(1)} percent", text)
    text = _ORDINAL_RE.sub(lambda m: _words(m.group(1), to="ordinal"), text)
    return _NUMBER_RE.sub(_number_words, text)


# --- abbreviations ---------------------------------------------------------

_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor", "drs": "doctors",
    "st": "saint", "co": "company", "jr": "junior", "sr": "senior", "maj": "major",
    "gen": "general", "rev": "reverend", "lt": "lieutenant", "hon": "honorable",
    "sgt": "sergeant", "capt": "captain", "col": "colonel", "esq": "esquire",
    "ltd": "limited", "ft": "fort", "prof": "professor", "vs": "versus", "etc": "et cetera",
    "no": "number", "mt": "mount",
}
_ABBREVIATION_RE = re.compile(r"\b(" + "|".join(sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\.",
                              re.IGNORECASE)


def _abbreviation_words(match: re.Match[str]) -> str:
    found = match.group(1)
    if found.lower() == "no" and not re.match(r"\s*\d", match.string[match.end():]):
        return match.group(0)  # "no." only means "number" before a number
    words = _ABBREVIATIONS[found.lower()]
    return words.capitalize() if found[0].isupper() else words


def expand_abbreviations(text: str) -> str:
    return _ABBREVIATION_RE.sub(_abbreviation_words, text)


# --- the cleaner registry --------------------------------------------------

def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def collapse_whitespace(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _phonemize(text: str) -> str:
    from tts_adapt.symbols.phonemes import to_phonemes

    return to_phonemes(text)


_BASE_CLEANERS: dict[str, Callable[[str], str]] = {
    "nfc": _nfc,
    "lowercase": str.lower,
    "collapse_whitespace": collapse_whitespace,
    "expand_numbers": expand_numbers,
    "expand_abbreviations": expand_abbreviations,
    "phonemize": _phonemize,
}
_COMPOSITE_CLEANERS: dict[str, tuple[str, ...]] = {
    "basic": ("nfc", "collapse_whitespace"),
    "english": ("nfc", "lowercase", "expand_abbreviations", "expand_numbers", "collapse_whitespace"),
    "phonemes": ("nfc", "lowercase", "expand_abbreviations", "expand_numbers", "collapse_whitespace", "phonemize"),
}
CLEANER_NAMES: tuple[str, ...] = tuple(_BASE_CLEANERS) + tuple(_COMPOSITE_CLEANERS)


def _resolve(cleaners: Sequence[str]) -> list[Callable[[str], str]]:
    if isinstance(cleaners, str):
        cleaners = [cleaners]
    steps: list[Callable[[str], str]] = []
    for name in cleaners:
        if name in _COMPOSITE_CLEANERS:
            steps.extend(_BASE_CLEANERS[n] for n in _COMPOSITE_CLEANERS[name])
        elif name in _BASE_CLEANERS:
            steps.append(_BASE_CLEANERS[name])
        else:
            raise UserError(f"unknown cleaner {name!r}; choose from {', '.join(CLEANER_NAMES)}")
    return steps


def clean_text(text: str, cleaners: Sequence[str]) -> str:
    """Apply the named cleaners in order (composites expand in place)."""
    for step in _resolve(cleaners):
        text = step(text)
    return text


# --- encoding ----------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _matcher(symbols: tuple[str, ...]) -> tuple[dict[str, int], int]:
    return {s: i for i, s in enumerate(symbols)}, max((len(s) for s in symbols), default=0)


def split_symbols(text: str, table: SymbolTable) -> list[tuple[int | None, str]]:
    """Longest-match tokenisation: ``(id, symbol)`` pieces; ``(None, char)`` where no symbol covers a character."""
    index, longest = _matcher(table.symbols)
    pieces: list[tuple[int | None, str]] = []
    pos = 0
    while pos < len(text):
        for size in range(min(longest, len(text) - pos), 0, -1):
            piece = text[pos:pos + size]
            found = index.get(piece)
            if found is not None:
                pieces.append((found, piece))
                pos += size
                break
        else:
            pieces.append((None, text[pos]))
            pos += 1
    return pieces


def _missing(pieces: list[tuple[int | None, str]]) -> list[str]:
    return list(dict.fromkeys(piece for found, piece in pieces if found is None))


def unencodable_chars(text: str, table: SymbolTable) -> list[str]:
    """Characters of ``text`` (not cleaned) that no symbol covers: distinct, in order of appearance."""
    return _missing(split_symbols(text, table))


def text_to_ids(text: str, table: SymbolTable, cleaners: Sequence[str] = ("english",)) -> list[int]:
    """Clean ``text`` and encode it; raises :class:`UnencodableTextError` naming what does not fit."""
    cleaned = clean_text(text, cleaners)
    pieces = split_symbols(cleaned, table)
    missing = _missing(pieces)
    if missing:
        raise UnencodableTextError(cleaned, missing)
    return [found for found, _ in pieces]  # type: ignore[misc]
