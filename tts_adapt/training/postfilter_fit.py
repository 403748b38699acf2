"""Measure a model's variance post-filter (:mod:`tts_adapt.vocoder.postfilter`) on its voice's training recordings.

Per utterance, each mel band's variance over time: of the recording, and of the model's teacher-forced
mel for it (the model fed the recording's own previous frames, so the two line up frame by frame). Their
means over utterances give the scale sqrt(recordings' / model's). Only training recordings are read:
nothing held out for scoring decides the scale.
"""

from __future__ import annotations

import os

import numpy as np

from tts_adapt.corpus.items import batches, pad_batch
from tts_adapt.errors import UserError
from tts_adapt.vocoder.postfilter import PostFilter, index_digest

BATCH_SIZE = 8
MAX_ITEMS = 96  # a seeded sample: the variances settle well before (96 utterances, about 10 s of CPU)


def measure_postfilter(checkpoint: str | os.PathLike, prepared_dir: str | os.PathLike,
                       max_items: int = MAX_ITEMS, seed: int = 0) -> PostFilter:
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.teacher_forcing import teacher_forced_graph
    from tts_adapt.scoring.inputs import model_items

    loaded = load_model(checkpoint)
    items, _ = model_items(loaded, prepared_dir, "train", max_items, seed)
    if not items:
        raise UserError(f"{prepared_dir}: no training recordings the model can read; the post-filter is measured on them")
    speakers = list(loaded.speakers)
    unknown = sorted({item.speaker for item in items} - set(speakers)) if speakers else []
    if unknown:
        raise UserError(f"{prepared_dir}: speaker(s) {', '.join(unknown)} are not the model's; a post-filter is "
                        "measured for a model's own voice")
    forward = teacher_forced_graph(loaded.model)
    recorded, predicted = [], []  # per utterance: [n_mels] variances over time
    for group in batches(items, BATCH_SIZE):
        rows = [speakers.index(item.speaker) if speakers else 0 for item in group]
        taught = forward(pad_batch(group, loaded.model.config.reduction, rows))["mel_post"].numpy()
        for row, item in enumerate(group):
            frames = item.mel.shape[0]
            recorded.append(item.mel.var(axis=0))
            predicted.append(taught[row, :frames].var(axis=0))
    scale = np.sqrt(np.mean(recorded, axis=0) / np.maximum(np.mean(predicted, axis=0), 1e-8))  # [n_mels]
    name, digest, _ = index_digest(checkpoint)
    return PostFilter(checkpoint=name, index_sha256=digest, data=str(prepared_dir), utterances=len(items),
                      scale=tuple(float(value) for value in scale))
