"""Which pretrained speaker is nearest to a new voice? The one whose teacher-forced loss is lowest.

The multi-speaker model predicts the new voice's recordings once per speaker
(the same text and previous frames, only the speaker id changes); the speaker
whose predictions are closest is the best starting point to fold
(``tts-adapt adapt --fold-speaker auto``). The loss is the mean of the masked L1
before and after the post-net, over real frames, averaged over utterances.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from tts_adapt.corpus.skipped import SkippedItem
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.model.teacher_forcing import teacher_forced_graph, teacher_forced_losses

BATCH_SIZE = 16


@dataclass(frozen=True)
class RankedSpeaker:
    rank: int  # 1 = nearest
    id: int  # the speaker's row
    name: str | None
    loss: float

    @property
    def label(self) -> str:
        """How commands name it (``--fold-speaker``): the name, else the row."""
        return self.name or str(self.id)


@dataclass(frozen=True)
class SpeakerRanking(Document):
    """What ``tts-adapt suggest-speaker --format json`` prints: every speaker, nearest first."""

    KIND = "tts-adapt-speaker-ranking"
    DERIVED = ("best", "items_scored")

    checkpoint: str
    data: str
    items: tuple[str, ...]  # the ids scored
    items_skipped: tuple[SkippedItem, ...]
    ranking: tuple[RankedSpeaker, ...] = field(metadata={"check": ("at least one speaker", bool)})  # best: the first

    @property
    def best(self) -> str:
        return self.ranking[0].label

    @property
    def items_scored(self) -> int:
        return len(self.items)


def rank_speakers(checkpoint: str | os.PathLike, prepared_dir: str | os.PathLike, max_items: int = 64,
                  seed: int = 0, progress: Callable[[int, int], None] | None = None) -> SpeakerRanking:
    """Every speaker of the checkpoint, lowest loss (best) first.

    Scores a seeded sample of up to ``max_items`` utterances (both splits);
    utterances the model's table cannot encode are skipped. ``progress(done, total)``
    is called after each batch.
    """
    from tts_adapt.corpus.items import batches, pad_batch
    from tts_adapt.model.loading import load_model
    from tts_adapt.scoring.inputs import model_items

    if max_items < 1:
        raise UserError(f"--max-items must be at least 1, got {max_items}")
    loaded = load_model(checkpoint)
    model, names = loaded.model, loaded.speakers
    if not model.n_speakers:
        raise UserError(f"{checkpoint} is a single-speaker model: there are no speakers to rank")
    items, skipped = model_items(loaded, prepared_dir, None, max_items, seed)
    groups = batches(items, BATCH_SIZE)
    forward = teacher_forced_graph(model)
    total, done = len(groups) * model.n_speakers, 0
    losses_by_speaker = []
    for speaker in range(model.n_speakers):
        losses = []
        for group in groups:
            losses.append(teacher_forced_losses(model, pad_batch(group, model.config.reduction, speaker), forward))
            done += 1
            if progress:
                progress(done, total)
        losses_by_speaker.append((float(np.concatenate(losses).mean()), speaker))
    ranking = tuple(RankedSpeaker(rank, speaker, names[speaker] if speaker < len(names) else None, loss)
                    for rank, (loss, speaker) in enumerate(sorted(losses_by_speaker), 1))
    return SpeakerRanking(str(checkpoint), str(prepared_dir), tuple(item.id for item in items), skipped, ranking)
