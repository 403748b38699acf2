"""``manifest.json``: what a checkpoint directory holds beyond the tensors, as one typed record.

Written by the toolkit beside every checkpoint it makes (trained, adapted, fine-tuned), read back
only through :func:`read_manifest`, so every command sees the same fallbacks (the cleaners, the
kind of run) and a malformed file fails once, with its path, before any work. It is a run document
(:mod:`tts_adapt.documents`) that keeps the shape it had before those existed: ``format`` and
``format_version`` head it, nulls mean absent, keys this version does not know are kept verbatim.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from tts_adapt import __version__
from tts_adapt.audio.config import AudioConfig
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.fsutil import write_text_atomic
from tts_adapt.structured import parse_json, read_text
from tts_adapt.symbols.table import SymbolTable

MANIFEST_NAME = "manifest.json"
FORMAT = "tts-adapt"
FORMAT_VERSION = 1
Dialect = Literal["own", "tf1", "tf2", "h5"]  # how the tensors are named (h5: Keras weights)
DEFAULT_CLEANERS = ("english",)


@dataclass(frozen=True)
class Manifest(Document):
    """One checkpoint directory's description.

    ``layout``, ``model``, ``training`` and ``adaptation`` stay mappings here: their types live in
    the layers that use them (``checkpoint.layout``, ``model.config``, ``training``, ``surgery``),
    which sit above this module.
    """

    KIND = FORMAT
    KIND_KEY = "format"
    KIND_REQUIRED = True
    VERSION = FORMAT_VERSION
    VERSION_KEY = "format_version"
    NULL_IS_ABSENT = True
    EXTRA = "extra"

    tool_version: str = field(default=__version__, metadata={"absent": "unknown"})  # first: written after the header
    dialect: Dialect | None = None
    symbols: tuple[str, ...] | None = None  # the symbol table, id = position
    speakers: tuple[str, ...] = ()  # speaker names, id = position; () for a single-speaker model
    cleaners: tuple[str, ...] | None = None
    audio: AudioConfig | None = None
    layout: Mapping[str, Any] | None = None  # where speaker rows live
    model: Mapping[str, Any] | None = None  # a toolkit model's ModelConfig
    training: Mapping[str, Any] | None = None  # the run that made it: kind, config, start_step, data, base
    adaptation: Mapping[str, Any] | None = None  # provenance of an adapted checkpoint
    step: int | None = field(default=None, metadata={"check": ("a whole number from 0", lambda step: step >= 0)})
    checkpoint: str | None = field(  # the newest checkpoint's name inside the directory
        default=None, metadata={"check": ("a checkpoint name (no /)", lambda name: "/" not in name)})
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
    write_text_atomic(path, manifest.to_text())
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
