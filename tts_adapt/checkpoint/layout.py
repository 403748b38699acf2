"""The layout: which variables hold symbol rows and which kernels hold speaker rows.

A model built by this toolkit writes its layout into its manifest; for other
checkpoints the user writes it as YAML (see docs/layout.md and ``inspect --diff``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tts_adapt.checkpoint.additive import AdditiveSite, additive_site_from_dict
from tts_adapt.errors import UserError
from tts_adapt.structured import parse_yaml, read_text


@dataclass(frozen=True)
class SpeakerSite:
    """A kernel fed by a concat that includes the speaker vector.

    ``speaker_rows`` is the half-open row range ``[start, stop)`` of the speaker
    part; ``fold_into`` names the bias that absorbs ``e @ kernel[start:stop]``.
    """

    kernel: str
    speaker_rows: tuple[int, int]
    fold_into: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kernel": self.kernel, "speaker_rows": list(self.speaker_rows)}
        if self.fold_into:
            out["fold_into"] = self.fold_into
        return out


@dataclass(frozen=True)
class Layout:
    symbol_embedding: str | None = None
    speaker_embedding: str | None = None
    speaker_dim: int | None = None
    sites: tuple[SpeakerSite, ...] = field(default_factory=tuple)
    additive: tuple[AdditiveSite, ...] = ()  # sites: entries of kind add (checkpoint/additive.py)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.symbol_embedding:
            out["symbol_embedding"] = self.symbol_embedding
        if self.speaker_embedding:
            out["speaker_embedding"] = self.speaker_embedding
        if self.speaker_dim is not None:
            out["speaker_dim"] = self.speaker_dim
        out["sites"] = [s.to_dict() for s in self.sites] + [s.to_dict() for s in self.additive]
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


_TOP_KEYS = {"symbol_embedding", "speaker_embedding", "speaker_dim", "sites"}
_SITE_KEYS = {"kernel", "speaker_rows", "fold_into"}


def _rows(value: Any, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise UserError(f"{where}: speaker_rows must be [start, stop] (two integers)")
    start, stop = value
    if not 0 <= start < stop:
        raise UserError(f"{where}: speaker_rows [{start}, {stop}] is not a non-empty range")
    return int(start), int(stop)


def layout_from_dict(data: Any, source: str = "layout") -> Layout:
    """Validate a layout mapping; unknown keys are errors, never ignored."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{source}: a layout must be a mapping")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise UserError(f"{source}: unknown layout key(s) {', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join(sorted(_TOP_KEYS))}")
    for key in ("symbol_embedding", "speaker_embedding"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise UserError(f"{source}: {key} must be a variable name")
    dim = data.get("speaker_dim")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0):
        raise UserError(f"{source}: speaker_dim must be a positive integer")
    raw_sites = data.get("sites") or []
    if not isinstance(raw_sites, list):
        raise UserError(f"{source}: sites must be a list")
    sites, additive = [], []
    for i, raw in enumerate(raw_sites):
        where = f"{source}: sites[{i}]"
        if not isinstance(raw, dict):
            raise UserError(f"{where} must be a mapping with kernel and speaker_rows")
        if raw.get("kind") == "add":
            additive.append(additive_site_from_dict(raw, where))
            continue
        if raw.get("kind", "concat") != "concat":
            raise UserError(f"{where}: kind must be concat (the default) or add")
        unknown = set(raw) - _SITE_KEYS - {"kind"}
        if unknown:
            raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if not isinstance(raw.get("kernel"), str):
            raise UserError(f"{where}: kernel (a variable name) is required")
        fold_into = raw.get("fold_into")
        if fold_into is not None and not isinstance(fold_into, str):
            raise UserError(f"{where}: fold_into must be a variable name")
        rows = _rows(raw.get("speaker_rows"), where)
        if dim is not None and rows[1] - rows[0] != dim:
            raise UserError(f"{where}: speaker_rows {list(rows)} span {rows[1] - rows[0]} rows, "
                            f"but speaker_dim is {dim}")
        sites.append(SpeakerSite(raw["kernel"], rows, fold_into))
    return Layout(data.get("symbol_embedding"), data.get("speaker_embedding"), dim, tuple(sites), tuple(additive))


def load_layout(path: str | os.PathLike) -> Layout:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such layout file")
    return layout_from_dict(parse_yaml(read_text(path, "layout file"), str(path)), str(path))
