"""``manifest.json``: what a checkpoint directory holds beyond the tensors, as one typed record.

Written by the toolkit beside every checkpoint it makes (trained, adapted, fine-tuned), read back
only through :func:`read_manifest`, so every command sees the same fallbacks (the cleaners, the
kind of run) and a malformed file fails once, with its path, before any work.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from tts_adapt import __version__
from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError
from tts_adapt.fsutil import write_text_atomic
from tts_adapt.structured import parse_json, read_text
from tts_adapt.symbols.table import SymbolTable

MANIFEST_NAME = "manifest.json"
FORMAT = "tts-adapt"
FORMAT_VERSION = 1
DIALECTS = ("own", "tf1", "tf2", "h5")
DEFAULT_CLEANERS = ("english",)


@dataclass(frozen=True)
class Manifest:
    """One checkpoint directory's description.

    ``layout``, ``model``, ``training`` and ``adaptation`` stay mappings here: their types live in
    the layers that use them (``checkpoint.layout``, ``model.config``, ``training``, ``surgery``),
    which sit above this module.
    """

    dialect: str | None = None  # how the tensors are named: own | tf1 | tf2 | h5 (Keras weights)
    symbols: tuple[str, ...] | None = None  # the symbol table, id = position
    speakers: tuple[str, ...] = ()  # speaker names, id = position; () for a single-speaker model
    cleaners: tuple[str, ...] | None = None
    audio: AudioConfig | None = None
    layout: Mapping[str, Any] | None = None  # where speaker rows live
    model: Mapping[str, Any] | None = None  # a toolkit model's ModelConfig
    training: Mapping[str, Any] | None = None  # the run that made it: kind, config, start_step, data, base
    adaptation: Mapping[str, Any] | None = None  # provenance of an adapted checkpoint
    step: int | None = None
    checkpoint: str | None = None  # the newest checkpoint's name inside the directory
    format_version: int = FORMAT_VERSION
    tool_version: str = __version__
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know, kept verbatim

    def table(self, source: str = "the model") -> SymbolTable:
        if self.symbols is None:
            raise UserError(f"{source}: its manifest records no symbol table")
        return SymbolTable.from_list(list(self.symbols), f"{source} symbols")

    @property
    def text_cleaners(self) -> tuple[str, ...]:
        """The cleaners the model was trained with (older runs kept them in the training record)."""
        if self.cleaners:
            return self.cleaners
        recorded = (self.training or {}).get("cleaners")
        return tuple(recorded) if recorded else DEFAULT_CLEANERS

    @property
    def run_kind(self) -> str | None:
        """``train`` or ``finetune`` for a training run's own directory; None for any other checkpoint.

        An adapted checkpoint carries its source's ``train`` record: it is a starting point, not a
        run to continue.
        """
        section = self.training or {}
        is_run = "config" in section and (section.get("kind") == "finetune" or self.adaptation is None)
        return section.get("kind") if is_run else None

    @property
    def folded_speaker(self) -> Mapping[str, Any] | None:
        return (self.adaptation or {}).get("folded_speaker")

    @property
    def adaptation_source(self) -> str | None:
        """The checkpoint this one was adapted from, as recorded when it was made."""
        return ((self.adaptation or {}).get("source") or {}).get("path")

    def replace(self, **changes: Any) -> "Manifest":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "format_version": self.format_version,
                                "tool_version": self.tool_version}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("format_version", "tool_version", "extra") or value is None:
                continue
            if isinstance(value, AudioConfig):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return {**self.extra, **data}

    @classmethod
    def from_json(cls, data: Any, source: str) -> "Manifest":
        """Checked field by field; null counts as absent, unknown keys are kept."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{source}: not a tts-adapt manifest (missing \"format\": \"{FORMAT}\")")
        values: dict[str, Any] = {}
        for key, (expected, valid, convert) in _FIELDS.items():
            value = data.get(key)
            if value is None:
                continue
            if not valid(value):
                shown = json.dumps(value, ensure_ascii=False)
                raise UserError(f"{source}: {key!r} must be {expected}, got "
                                f"{shown if len(shown) <= 40 else shown[:37] + '...'}")
            try:
                values[key] = convert(value)
            except UserError as exc:
                raise UserError(f"{source}: {key}: {exc}") from None
        values["format_version"] = data["format_version"] if _whole(data.get("format_version")) else FORMAT_VERSION
        values["tool_version"] = str(data.get("tool_version") or "unknown")
        values["extra"] = {k: v for k, v in data.items() if k not in _FIELDS and k not in _HEADER}
        return cls(**values)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _mapping(value: Any) -> bool:
    return isinstance(value, dict)


_HEADER = ("format", "format_version", "tool_version")
_FIELDS: dict[str, tuple[str, Any, Any]] = {  # key: (what it must be, the check, the conversion)
    "dialect": ("one of own, tf1, tf2, h5", lambda v: v in DIALECTS, str),
    "symbols": ("a list of strings", _strings, tuple),
    "speakers": ("a list of strings", _strings, tuple),
    "cleaners": ("a list of cleaner names", _strings, tuple),
    "audio": ("a mapping", _mapping, AudioConfig.from_dict),
    "layout": ("a mapping", _mapping, dict),
    "model": ("a mapping", _mapping, dict),
    "training": ("a mapping", _mapping, dict),
    "adaptation": ("a mapping", _mapping, dict),
    "step": ("a whole number", _whole, int),
    "checkpoint": ("a checkpoint name", lambda v: isinstance(v, str) and "/" not in v, str),
}


def manifest_path(checkpoint_dir: str | os.PathLike) -> Path:
    return Path(checkpoint_dir) / MANIFEST_NAME


def read_manifest(checkpoint_dir: str | os.PathLike) -> Manifest | None:
    """The manifest of a checkpoint directory, or None when it has none; a malformed one is a UserError."""
    path = manifest_path(checkpoint_dir)
    if not path.is_file():
        return None
    data = parse_json(read_text(path, "manifest"), str(path))
    return Manifest.from_json(data, str(path))


def write_manifest(checkpoint_dir: str | os.PathLike, manifest: Manifest) -> Path:
    path = manifest_path(checkpoint_dir)
    write_text_atomic(path, json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n")
    return path


def load_symbol_table(path: str | os.PathLike) -> SymbolTable:
    """A table from a text file, a JSON list, or a checkpoint's manifest (directory, prefix or .index)."""
    from tts_adapt.symbols.table import load_table_file

    path = Path(path)
    if path.name.endswith(".index") and path.is_file() or not path.exists() and Path(f"{path}.index").is_file():
        path = path.parent  # a checkpoint prefix or .index file: its manifest sits beside it
    if path.is_dir():
        manifest = read_manifest(path)
        if manifest is None or manifest.symbols is None:
            raise UserError(f"{path}: a directory given as symbol table must hold a manifest.json with symbols")
        return SymbolTable.from_list(list(manifest.symbols), f"{path}/manifest.json")
    return load_table_file(path)
