"""YAML and JSON a user hands us: every way a parser can fail is one UserError naming the source.

Why: besides syntax errors, the parsers raise RecursionError on deeply nested input and ValueError
on integers longer than Python converts (4300 digits); each reader used to catch its own subset,
and the rest became tracebacks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tts_adapt.errors import UserError


def parse_yaml(text: str, source: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise UserError(f"{source}: not valid YAML ({_first_line(exc)})") from None


def parse_json(text: str | bytes, source: str) -> Any:
    """``text``; bytes are read as UTF-8 only (``json.loads`` would also guess UTF-16 and UTF-32)."""
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UserError(f"{source}: not valid JSON ({_first_line(exc)})") from None


def read_text(path: str | os.PathLike, what: str) -> str:
    """The UTF-8 text of ``path``; ``what`` names the file in the message when it is missing."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:120]
