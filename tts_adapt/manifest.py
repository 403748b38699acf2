"""``manifest.json``: what a checkpoint directory holds, beyond the tensors.

Written by the toolkit beside every checkpoint it makes (trained or adapted). Keys:

* ``format`` = ``"tts-adapt"``, ``format_version``, ``tool_version``
* ``dialect``: ``"own"`` | ``"tf1"`` | ``"tf2"`` (how the tensors are named)
* ``symbols``: the symbol table (list of strings, id = position)
* ``speakers``: speaker names (id = position); ``[]`` for a single-speaker model
* ``layout``: where speaker rows live (see :mod:`tts_adapt.checkpoint.layout`)
* ``model`` / ``audio``: configs of a toolkit model (copied verbatim by the surgery)
* ``adaptation``: provenance of an adapted checkpoint (source, checksums, actions)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tts_adapt import __version__
from tts_adapt.errors import UserError
from tts_adapt.fsutil import write_text_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = "tts-adapt"
FORMAT_VERSION = 1


def manifest_path(checkpoint_dir: str | os.PathLike) -> Path:
    return Path(checkpoint_dir) / MANIFEST_NAME


def read_manifest(checkpoint_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a checkpoint directory, checked against :data:`SCHEMA`, or None when it has none."""
    path = manifest_path(checkpoint_dir)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a valid manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{path}: not a tts-adapt manifest (missing \"format\": \"{FORMAT}\")")
    check_manifest(data, str(path))
    return data


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


SCHEMA: dict[str, tuple[str, Any]] = {  # key: (what it must be, the check); keys not listed are free-form
    "symbols": ("a list of strings", _strings),
    "speakers": ("a list of strings", _strings),
    "cleaners": ("a list of cleaner names", _strings),
    "dialect": ("one of own, tf1, tf2", lambda v: v in ("own", "tf1", "tf2")),
    "layout": ("a mapping", lambda v: isinstance(v, dict)),
    "model": ("a mapping", lambda v: isinstance(v, dict)),
    "audio": ("a mapping", lambda v: isinstance(v, dict)),
    "training": ("a mapping", lambda v: isinstance(v, dict)),
    "adaptation": ("a mapping", lambda v: isinstance(v, dict)),
    "step": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
    "checkpoint": ("a checkpoint name", lambda v: isinstance(v, str) and "/" not in v),
}


def check_manifest(data: dict[str, Any], source: str) -> None:
    """Every known key has the type the toolkit reads it as (null counts as absent)."""
    for key, (expected, valid) in SCHEMA.items():
        value = data.get(key)
        if value is not None and not valid(value):
            shown = json.dumps(value, ensure_ascii=False)
            raise UserError(f"{source}: {key!r} must be {expected}, got "
                            f"{shown if len(shown) <= 40 else shown[:37] + '...'}")


def new_manifest(**fields: Any) -> dict[str, Any]:
    """A manifest dict with the format header filled in."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": __version__, **fields}


def write_manifest(checkpoint_dir: str | os.PathLike, manifest: dict[str, Any]) -> Path:
    path = manifest_path(checkpoint_dir)
    write_text_atomic(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return path
