"""Which speaker a user means: one rule for every command that takes ``--speaker`` or ``--fold-speaker``.

A name always wins; ``#N`` is row N of the speaker table; a bare number that is no speaker's
name is row N too. So a model whose speakers are called ``"3"`` and ``"7"`` reads ``7`` as the
speaker named 7 everywhere, and ``#1`` as the second row.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from tts_adapt.errors import UserError

MEAN = "mean"  # --fold-speaker mean: the mean of the speaker table's rows (a speaker named "mean" wins)
_UNSAFE_IN_FILE_NAMES = re.compile(r"[^\w-]+")
_ROW = re.compile(r"[0-9]{1,9}")


def resolve_speaker(value: str | int, names: Sequence[str], n_speakers: int) -> int:
    """The row of ``value`` among ``n_speakers`` (``names`` may be empty: then only ids work)."""
    if isinstance(value, str) and value in names:
        return list(names).index(value)
    text = str(value).strip()
    digits = text[1:] if text.startswith("#") else text
    if _ROW.fullmatch(digits):  # not str.isdigit: it takes '²' (int() refuses it) and '١' (a row, to int())
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
    kept = _UNSAFE_IN_FILE_NAMES.sub("_", name).strip("_").encode("utf-8")[:48].decode("utf-8", "ignore")
    return f"{kept or 'speaker'}+{digest}"


def load_speaker_vector(path: str | os.PathLike, dim: int | None) -> np.ndarray:
    """A speaker vector [dim] from a .npy file (1-D, or [1, dim]): what a speaker encoder gave for a voice.

    One reader for every command that takes ``--speaker-vector`` (adapt folds it, verify and
    synthesize feed it to a model that reads one), so all refuse the same bad files the same way.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such speaker vector file")
    try:
        vector = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:  # EOFError: an empty or truncated file
        raise UserError(f"{path}: not a .npy array ({exc or 'empty file'})") from None
    vector = np.asarray(vector)
    if vector.ndim == 2 and vector.shape[0] == 1:
        vector = vector[0]
    if vector.ndim != 1 or not np.issubdtype(vector.dtype, np.floating):
        raise UserError(f"{path}: a speaker vector must be a 1-D float array, got {vector.dtype} {vector.shape}")
    if dim is not None and vector.shape[0] != dim:
        raise UserError(f"{path}: speaker vector has {vector.shape[0]} values, but speaker_dim is {dim}")
    if not np.all(np.isfinite(vector)):
        raise UserError(f"{path}: speaker vector holds NaN or infinite values")
    return vector
