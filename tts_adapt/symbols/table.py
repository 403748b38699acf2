"""Symbol tables: ids are list positions, so everything downstream keys rows by the symbol string.

File format: UTF-8, one symbol per line, the symbol is the line without its newline
(nothing stripped: a line holding one space is the space symbol), or a ``.json`` list.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from tts_adapt.errors import UserError
from tts_adapt.structured import parse_json


@dataclass(frozen=True)
class SymbolTable:
    """An ordered, duplicate-free, NFC-normalised list of symbols."""

    symbols: tuple[str, ...]
    source: str = "<memory>"

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for i, sym in enumerate(self.symbols):
            if sym == "":
                raise UserError(f"{self.source}: symbol {i} is empty")
            if sym in seen:
                raise UserError(
                    f"{self.source}: duplicate symbol {escape_symbol(sym)} at ids {seen[sym]} and {i}"
                )
            seen[sym] = i
        object.__setattr__(self, "_index", seen)

    @classmethod
    def from_list(cls, symbols: Iterable[str], source: str = "<memory>") -> "SymbolTable":
        return cls(tuple(unicodedata.normalize("NFC", s) for s in symbols), source)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._index  # type: ignore[attr-defined]

    def __iter__(self):
        return iter(self.symbols)

    def id(self, symbol: str) -> int:
        return self._index[symbol]  # type: ignore[attr-defined]

    def get(self, symbol: str) -> int | None:
        return self._index.get(symbol)  # type: ignore[attr-defined]

    def to_list(self) -> list[str]:
        return list(self.symbols)


def escape_symbol(symbol: str) -> str:
    """A printable, unambiguous rendering: space, tab and invisible characters escaped."""
    out = []
    for ch in symbol:
        if ch == " ":
            out.append("␠")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Co", "Cn", "Cs"}:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def parse_table_text(data: bytes, source: str) -> SymbolTable:
    """Parse a one-symbol-per-line file, reporting the offending line number on error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{source}:{line}: not valid UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it is not an empty symbol
    symbols: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        if raw.endswith("\r"):
            raw = raw[:-1]
        if raw == "":
            raise UserError(f"{source}:{number}: empty line (a symbol cannot be empty)")
        sym = unicodedata.normalize("NFC", raw)
        if sym in seen:
            raise UserError(
                f"{source}:{number}: duplicate symbol {escape_symbol(sym)} (first on line {seen[sym]})"
            )
        seen[sym] = number
        symbols.append(sym)
    return SymbolTable(tuple(symbols), source)


def parse_table_json(data: bytes, source: str) -> SymbolTable:
    items = parse_json(data, source)
    if isinstance(items, dict) and isinstance(items.get("symbols"), list):
        items = items["symbols"]
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise UserError(f"{source}: a JSON symbol table must be a list of strings")
    for number, sym in enumerate(items):
        try:
            sym.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate such as "\ud800": no text file could hold it
            raise UserError(f"{source}: symbol {number} ({escape_symbol(sym)}) is not valid Unicode text") from None
    return SymbolTable.from_list(items, source)


def load_table_file(path: str | os.PathLike) -> SymbolTable:
    """A table from a text file (one symbol per line) or a JSON list; a checkpoint's table is read through its manifest."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such symbol table file")
    data = path.read_bytes()
    table = parse_table_json(data, str(path)) if path.suffix.lower() == ".json" else parse_table_text(data, str(path))
    if not len(table):  # a model with no symbols can say nothing; adapt would still have written one
        raise UserError(f"{path}: holds no symbols (one symbol a line, or a JSON list)")
    return table


def format_table_text(symbols: Sequence[str]) -> str:
    """The file form of a table (inverse of :func:`parse_table_text`)."""
    for sym in symbols:
        if "\n" in sym or "\r" in sym:
            raise UserError(f"symbol {escape_symbol(sym)} holds a line break; save the table as .json")
    # A leading BOM is dropped on reading (editors add one); keep a symbol that starts with one intact.
    bom = "\ufeff" if symbols and symbols[0].startswith("\ufeff") else ""
    return bom + "".join(f"{s}\n" for s in symbols)
