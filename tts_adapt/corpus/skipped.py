"""An item of a prepared cache that scoring left out, and why.

Its own module, with nothing heavy to import: the run documents that list skipped items
(speaker ranking, evaluation) name this one type, and the report reads them without numpy.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SkippedItem:
    id: str
    reason: str
