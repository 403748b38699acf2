"""The report's inputs: each run document read through its typed class, or a note saying why it is missing.

Why a note and not an error: the page also documents a partial run (a stage that has not run
yet, a document from an older tool), section by section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.htmlpage import shown_path

D = TypeVar("D", bound=Document)


@dataclass(frozen=True)
class Reading(Generic[D]):
    document: D | None
    note: str  # why there is no document; "" when there is one


def read(kind: type[D], path: Path, stage: str) -> Reading[D]:
    """``path`` as a ``kind`` document; missing, it is a stage that has not run; malformed, the error says where."""
    if not path.is_file():
        return Reading(None, f"not yet: the {stage} stage has not run")
    try:
        return Reading(kind.read(path), "")
    except UserError as exc:
        said = str(exc).replace(str(path), shown_path(path))  # the page may be read on another machine
        return Reading(None, f"unreadable ({said}); run the {stage} stage again")
