"""Which speaker's vector gets folded: a row of the speaker table (by id or name), the mean of its rows,
or an external vector.

The mean row is the pretrained model's "average voice", a start that favours no single speaker;
how it compares with the nearest single speaker is measured by benchmarks/transfer.py
(docs/benchmarks.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from tts_adapt.checkpoint.reader import Checkpoint
from tts_adapt.errors import UserError
from tts_adapt.speakers import MEAN, load_speaker_vector, resolve_speaker
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
        return SpeakerChoice(load_speaker_vector(speaker_vector, speaker_dim), f"file {speaker_vector}")
    if wanted is None:
        return None
    if wanted == "auto":
        raise UserError("--fold-speaker auto needs --data PREPARED (the new voice's prepared features)")
    # additive sites index their own tables by the same speaker row: the first one stands for them all
    table_name = layout.speaker_embedding or (layout.additive[0].table if layout.additive else None)
    if not table_name:
        raise UserError("the layout names no speaker_embedding table; fold an external vector with --speaker-vector")
    table = checkpoint.variable(table_name).weight
    names = speaker_names(checkpoint)
    if wanted == MEAN and MEAN not in names:
        rows = checkpoint.read(table.key)  # [speakers, speaker_dim]
        return SpeakerChoice(rows.mean(axis=0), f"mean of the {rows.shape[0]} rows of {table_name}", name=MEAN)
    speaker_id = resolve_speaker(wanted, names, table.shape[0])
    name = names[speaker_id] if speaker_id < len(names) else None
    vector = checkpoint.read(table.key)[speaker_id]
    label = f"row {speaker_id}" + (f" ({name})" if name else "")
    return SpeakerChoice(vector, f"speaker table {table_name} {label}", speaker_id, name)
