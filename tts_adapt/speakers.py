"""Which speaker a user means: one rule for every command that takes ``--speaker`` or ``--fold-speaker``.

A name always wins; ``#N`` is row N of the speaker table; a bare number that is no speaker's
name is row N too. So a model whose speakers are called ``"3"`` and ``"7"`` reads ``7`` as the
speaker named 7 everywhere, and ``#1`` as the second row.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from tts_adapt.errors import UserError

MEAN = "mean"  # --fold-speaker mean: the mean of the speaker table's rows (a speaker named "mean" wins)
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^\w-]+")


def resolve_speaker(value: str | int, names: Sequence[str], n_speakers: int) -> int:
    """The row of ``value`` among ``n_speakers`` (``names`` may be empty: then only ids work)."""
    if isinstance(value, str) and value in names:
        return list(names).index(value)
    text = str(value).strip()
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit():
        row = int(digits)
        if row >= n_speakers:
            raise UserError(f"speaker id {row} out of range: the model has {n_speakers} speakers "
                            f"(0..{n_speakers - 1})")
        return row
    shown = ", ".join(list(names)[:10]) + (" ..." if len(names) > 10 else "")
    known = f"its speakers: {shown}, or #0-#{n_speakers - 1}" if names else f"use an id, #0-#{n_speakers - 1}"
    raise UserError(f"unknown speaker {value!r}; {known}")


def file_stem(name: str) -> str:
    """``name`` as one safe path component (for ``<stem>_001.wav`` and the like).

    Why: speaker names come from a model's manifest, which anyone may have written; ``../../x``
    must not write outside the folder it is meant for. A name that is already safe stays as it
    is; any other gets its safe letters, a ``+`` (which no kept name holds) and a short digest of
    the whole name, so two speakers never share a file.
    """
    encoded = name.encode("utf-8", "surrogatepass")
    if _UNSAFE_IN_FILE_NAMES.search(name) is None and 0 < len(encoded) <= 64:
        return name
    digest = hashlib.blake2b(encoded, digest_size=4).hexdigest()
    return f"{_UNSAFE_IN_FILE_NAMES.sub('_', name).strip('_')[:48] or 'speaker'}+{digest}"
