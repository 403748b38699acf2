"""Utterances to score: a seeded sample of a prepared cache, encoded with a model's own table.

Unlike training, scoring must not fail on one item the table cannot encode (a new
voice's transcripts often hold characters the pretrained table lacks): such items
are skipped and reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tts_adapt.audio.features import MEL_MIN
from tts_adapt.corpus import prepared
from tts_adapt.corpus.skipped import SkippedItem
from tts_adapt.errors import UserError
from tts_adapt.symbols.table import SymbolTable


@dataclass(frozen=True)
class Item:
    id: str
    speaker: str
    text: str
    ids: np.ndarray  # int32 [text_len]
    mel: np.ndarray  # float32 [frames, n_mels]
    audio: str = ""  # the recording's path where the cache records it


def load_items(prepared_dir: str | os.PathLike, table: SymbolTable, n_mels: int, split: str | None = None,
               max_items: int | None = None, seed: int = 0,
               cleaners: Sequence[str] | None = None) -> tuple[list[Item], tuple[SkippedItem, ...]]:
    """(items, skipped) — up to ``max_items`` encodable items of ``split`` (None: all), in cache order.

    The sample is drawn before encoding, seeded, so the same arguments score the same
    utterances; ``skipped`` lists the items the table cannot encode.
    ``cleaners``: the model's front-end (a phoneme model reads a character-prepared cache
    through its own); None: those the cache was prepared with.
    """
    from tts_adapt.symbols.frontend import UnencodableTextError, text_to_ids

    info = prepared.read_info(prepared_dir)
    if info.audio.n_mels != n_mels:
        raise UserError(f"{prepared_dir}: features have {info.audio.n_mels} mel bands, the model "
                        f"{n_mels}; re-run prepare with the model's audio settings")
    rows = prepared.read_items(prepared_dir, split)
    if len(rows) == 0:
        raise UserError(f"{prepared_dir}: no items" + (f" in the {split!r} split" if split else ""))
    order = np.arange(len(rows))
    if max_items is not None and max_items < len(rows):
        order = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_items, replace=False))
    cleaners = cleaners or info.text_cleaners
    items, skipped = [], []
    for index in order:
        row = rows.iloc[int(index)]
        try:
            ids = text_to_ids(row["text"], table, cleaners)
        except UnencodableTextError as exc:
            skipped.append(SkippedItem(row["id"], f"cannot encode {' '.join(exc.chars)}"))
            continue
        items.append(Item(row["id"], row["speaker"], row["text"], np.asarray(ids, np.int32),
                          prepared.load_mel(prepared_dir, row["id"], n_mels), str(row.get(prepared.AUDIO_COLUMN, ""))))
    if not items:
        raise UserError(f"{prepared_dir}: none of {len(order)} items can be encoded with the model's symbol table "
                        f"(first: {skipped[0].id}: {skipped[0].reason})")
    return items, tuple(skipped)


def batches(items: list[Item], batch_size: int) -> list[list[Item]]:
    """Groups of similar mel length (little padding), every item exactly once."""
    ordered = sorted(items, key=lambda item: item.mel.shape[0])
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def pad_batch(items: list[Item], reduction: int, speaker: int | Sequence[int] = 0) -> dict[str, np.ndarray]:
    """A teacher-forcing batch shaped like the dataset's: text/mel padded, mel to a multiple of ``reduction``.

    ``speaker``: one id for every item, or one per item."""
    text_len = np.array([len(item.ids) for item in items], np.int32)
    mel_len = np.array([item.mel.shape[0] for item in items], np.int32)
    frames = int(-(-mel_len.max() // reduction) * reduction)
    n_mels = items[0].mel.shape[1]
    text = np.zeros((len(items), int(text_len.max())), np.int32)
    mel = np.full((len(items), frames, n_mels), MEL_MIN, np.float32)
    for row, item in enumerate(items):
        text[row, : text_len[row]] = item.ids
        mel[row, : mel_len[row]] = item.mel
    return {"text": text, "text_len": text_len, "mel": mel, "mel_len": mel_len,
            "speaker": np.broadcast_to(np.asarray(speaker, np.int32), [len(items)]).copy()}
