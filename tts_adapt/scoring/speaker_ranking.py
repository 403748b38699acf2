"""Which pretrained speaker is nearest to a new voice? The one whose teacher-forced loss is lowest.

The multi-speaker model predicts the new voice's recordings once per speaker
(the same text and previous frames, only the speaker id changes); the speaker
whose predictions are closest is the best starting point to fold
(``tts-adapt adapt --fold-speaker auto``). The loss is the mean of the masked L1
before and after the post-net, over real frames, averaged over utterances.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from tts_adapt.errors import UserError
from tts_adapt.model.teacher_forcing import teacher_forced_graph, teacher_forced_losses

BATCH_SIZE = 16


def rank_speakers(checkpoint: str | os.PathLike, prepared_dir: str | os.PathLike, max_items: int = 64,
                  seed: int = 0, progress: Callable[[int, int], None] | None = None,
                  details: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``[{"id", "name", "loss"}]`` for every speaker of the checkpoint, lowest loss (best) first.

    Scores a seeded sample of up to ``max_items`` utterances (both splits);
    utterances the model's table cannot encode are skipped. ``progress(done, total)``
    is called after each batch; ``details``, when given, receives the items scored
    and skipped.
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
    ranking = []
    for speaker in range(model.n_speakers):
        losses = []
        for group in groups:
            losses.append(teacher_forced_losses(model, pad_batch(group, model.config.reduction, speaker), forward))
            done += 1
            if progress:
                progress(done, total)
        name = names[speaker] if speaker < len(names) else None
        ranking.append({"id": speaker, "name": name, "loss": float(np.concatenate(losses).mean())})
    if details is not None:
        details.update(items=[item.id for item in items], skipped=skipped)
    return sorted(ranking, key=lambda entry: (entry["loss"], entry["id"]))
