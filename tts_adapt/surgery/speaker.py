"""Which speaker's vector gets folded: a row of the speaker table (by id or name), the mean of its rows,
or an external vector.

The mean row is the pretrained model's "average voice", a start that favours no single speaker;
how it compares with the nearest single speaker is measured by benchmarks/transfer.py
(docs/benchmarks.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_adapt.checkpoint.reader import Checkpoint
from tts_adapt.errors import UserError
from tts_adapt.speakers import MEAN, resolve_speaker
from tts_adapt.checkpoint.layout import Layout




@dataclass(frozen=True)
class SpeakerChoice:
    vector: np.ndarray  # [speaker_dim]
    source: str  # human words: where the vector came from
    id: int | None = None
    name: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "vector_source": self.source, "dim": int(self.vector.shape[0])}


def speaker_names(checkpoint: Checkpoint) -> list[str]:
    return list(checkpoint.manifest.speakers) if checkpoint.manifest else []


def _load_vector(path: str | os.PathLike, dim: int | None) -> np.ndarray:
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
        raise UserError(f"{path}: speaker vector has {vector.shape[0]} values, the layout's speaker_dim is {dim}")
    if not np.all(np.isfinite(vector)):
        raise UserError(f"{path}: speaker vector holds NaN or infinite values")
    return vector


def choose_speaker(
    checkpoint: Checkpoint,
    layout: Layout,
    speaker_dim: int | None,
    fold_speaker: str | None,
    speaker_vector: str | os.PathLike | None,
) -> SpeakerChoice | None:
    """Resolve ``--fold-speaker`` / ``--speaker-vector``; None means drop speaker rows without folding."""
    wanted = None if fold_speaker in (None, "none") else fold_speaker
    if speaker_vector is not None:
        if wanted is not None:
            raise UserError("give either --fold-speaker or --speaker-vector, not both")
        return SpeakerChoice(_load_vector(speaker_vector, speaker_dim), f"file {speaker_vector}")
    if wanted is None:
        return None
    if wanted == "auto":
        raise UserError("--fold-speaker auto needs --data PREPARED (the new voice's prepared features)")
    if not layout.speaker_embedding:
        raise UserError("the layout names no speaker_embedding table; fold an external vector with --speaker-vector")
    table = checkpoint.variable(layout.speaker_embedding).weight
    names = speaker_names(checkpoint)
    if wanted == MEAN and MEAN not in names:
        rows = checkpoint.read(table.key)  # [speakers, speaker_dim]
        return SpeakerChoice(rows.mean(axis=0), f"mean of the {rows.shape[0]} rows of {layout.speaker_embedding}",
                             name=MEAN)
    speaker_id = resolve_speaker(wanted, names, table.shape[0])
    name = names[speaker_id] if speaker_id < len(names) else None
    vector = checkpoint.read(table.key)[speaker_id]
    label = f"row {speaker_id}" + (f" ({name})" if name else "")
    return SpeakerChoice(vector, f"speaker table {layout.speaker_embedding} {label}", speaker_id, name)
