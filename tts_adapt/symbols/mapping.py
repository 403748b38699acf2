"""Where each row of a new symbol embedding comes from.

One function, :func:`map_symbols`, decides it; ``adapt`` applies the result and the
``symbols compare`` report prints it, so the two can never disagree.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from tts_adapt.errors import UserError
from tts_adapt.structured import parse_yaml, read_text
from tts_adapt.symbols.table import SymbolTable, escape_symbol

NEW_ROW_STRATEGIES: tuple[str, ...] = ("mean", "normal", "zero")


@dataclass(frozen=True)
class RowSource:
    """The origin of one row of the new table.

    ``kind`` is ``"copy"`` (same symbol in the old table), ``"alias"`` (row of a
    related old symbol: ``alias`` names it, ``reason`` says why) or ``"init"``
    (fresh row from the ``--new-rows`` strategy). ``old_id`` is the row copied.
    """

    symbol: str
    new_id: int
    kind: Literal["copy", "alias", "init"]
    old_id: int | None = None
    alias: str | None = None
    reason: str = ""
    init: str | None = None

    def describe(self) -> str:
        if self.kind == "copy":
            return "copy"
        if self.kind == "alias":
            return f"alias of {escape_symbol(self.alias or '')} ({self.reason})"
        return str(self.init)


def automatic_alias(symbol: str, old: SymbolTable) -> tuple[str, str] | None:
    """An old symbol whose row is a sane start for ``symbol``: its case twin or its base letter."""
    candidates: list[tuple[str, str]] = []
    for variant, why in ((symbol.lower(), "lower case"), (symbol.upper(), "upper case")):
        if variant != symbol:
            candidates.append((variant, why))
    base = "".join(c for c in unicodedata.normalize("NFD", symbol) if not unicodedata.combining(c))
    base = unicodedata.normalize("NFC", base)
    if base and base != symbol:
        candidates.append((base, "without accents"))
        candidates.append((base.lower(), "without accents, lower case"))
    compat = unicodedata.normalize("NFKC", symbol)
    if compat != symbol:
        candidates.append((compat, "compatibility form"))
    for candidate, why in candidates:
        if candidate in old:
            return candidate, why
    return None


def map_symbols(
    old: SymbolTable,
    new: SymbolTable,
    new_rows: str = "mean",
    aliases: Mapping[str, str] | None = None,
    auto_alias: bool = True,
) -> list[RowSource]:
    """One :class:`RowSource` per symbol of ``new``, in new-id order."""
    if new_rows not in NEW_ROW_STRATEGIES:
        raise UserError(f"--new-rows must be one of {', '.join(NEW_ROW_STRATEGIES)}, not {new_rows!r}")
    aliases = dict(aliases or {})
    for target, origin in aliases.items():
        if target not in new:
            raise UserError(f"alias for {escape_symbol(target)}: that symbol is not in the new table")
        if origin not in old:
            raise UserError(f"alias {escape_symbol(target)} -> {escape_symbol(origin)}: "
                            f"{escape_symbol(origin)} is not in the old table")
    sources: list[RowSource] = []
    for new_id, sym in enumerate(new.symbols):
        old_id = old.get(sym)
        if old_id is not None:
            sources.append(RowSource(sym, new_id, "copy", old_id=old_id))
            continue
        if sym in aliases:
            origin = aliases[sym]
            sources.append(RowSource(sym, new_id, "alias", old.id(origin), origin, "aliases file"))
            continue
        found = automatic_alias(sym, old) if auto_alias else None
        if found is not None:
            origin, why = found
            sources.append(RowSource(sym, new_id, "alias", old.id(origin), origin, why))
            continue
        sources.append(RowSource(sym, new_id, "init", init=new_rows))
    return sources


def load_aliases(path: str | os.PathLike) -> dict[str, str]:
    """Read an aliases file: a YAML/JSON mapping ``new symbol: old symbol``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such aliases file")
    data = parse_yaml(read_text(path, "aliases file"), str(path))
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise UserError(f"{path}: aliases must be a mapping of new symbol -> old symbol (strings)")
    return {unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v) for k, v in data.items()}
