"""A prepared cache as a loaded model reads it: the one setup every scoring pass shares.

Speaker ranking, evaluation and the vocoder's teacher-forced pairs all need the same check
(features made with the model's audio settings) and the same encoding (the model's table and
cleaners); doing it here keeps them from drifting apart.
"""

from __future__ import annotations

import os

from tts_adapt.corpus.items import Item, load_items
from tts_adapt.corpus.skipped import SkippedItem
from tts_adapt.corpus.prepared import check_same_features
from tts_adapt.model.loading import LoadedModel


def model_items(loaded: LoadedModel, prepared_dir: str | os.PathLike, split: str | None = None,
                max_items: int | None = None, seed: int = 0) -> tuple[list[Item], tuple[SkippedItem, ...]]:
    """(items, skipped): up to ``max_items`` items of ``split`` (None: all) the model's table can encode."""
    check_same_features(loaded.audio, prepared_dir, str(loaded.directory))
    return load_items(prepared_dir, loaded.table, loaded.model.config.n_mels, split, max_items, seed,
                      loaded.cleaners)
