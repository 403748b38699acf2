"""The tf.data pipeline: prepared cache -> padded, length-bucketed training batches.

Text is encoded here, with the caller's symbol table and the cleaners recorded by
``prepare``, so one cache serves models with different tables (rows follow the symbol).
All features are held in memory (~90 MB per hour of audio at 80 mels) and sliced inside the
graph, so no Python runs per example once the pipeline is built.

Batch (dict): ``text`` int32 [B, T_text] (padded with 0: mask with ``text_len``),
``text_len`` int32 [B], ``mel`` float32 [B, T_mel, n_mels] (padded with the silence value
-4; ``T_mel`` a multiple of ``reduction``), ``mel_len`` int32 [B], ``stop`` float32 [B, T_mel]
(1.0 from the last real frame on), ``speaker`` int32 [B].
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tts_adapt.audio.features import MEL_MIN
from tts_adapt.corpus import prepared
from tts_adapt.errors import UserError
from tts_adapt.symbols.table import SymbolTable

MAX_BUCKETS = 10  # more buckets, less padding, with diminishing returns (docs/benchmarks.md)
BATCHES_PER_BUCKET = 4  # fewer: batches repeat their members each epoch, and 2 fine-tuned differently (docs/benchmarks.md)
MAX_LISTED = 5


@dataclass(frozen=True)
class EncodedCorpus:
    """One split, flattened: values concatenated, with per-item offsets and lengths."""

    ids: list[str]
    text_values: np.ndarray  # int32 [sum(text_len)]
    text_lens: np.ndarray  # int32 [items]
    mel_values: np.ndarray  # float32 [sum(mel_len), n_mels]
    mel_lens: np.ndarray  # int32 [items]
    speakers: np.ndarray  # int32 [items]

    @staticmethod
    def starts(lengths: np.ndarray) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def load_split(
    prepared_dir: str | os.PathLike,
    table: SymbolTable,
    speakers: Sequence[str] | None,
    split: str = "train",
    cleaners: Sequence[str] | None = None,
) -> EncodedCorpus:
    """Encode every item of ``split``; errors name the items that do not fit ``table``/``speakers``."""
    from tts_adapt.symbols.frontend import UnencodableTextError, text_to_ids

    info = prepared.read_info(prepared_dir)
    items = prepared.read_items(prepared_dir, split)
    if len(items) == 0:
        raise UserError(f"{prepared_dir}: the {split!r} split is empty")
    cleaners = tuple(info.text_cleaners if cleaners is None else cleaners)
    speaker_ids = {name: i for i, name in enumerate(speakers or [])}
    unknown = sorted(set(items["speaker"]) - set(speaker_ids)) if speaker_ids else []
    if unknown:
        raise UserError(
            f"{prepared_dir}: speaker(s) {', '.join(unknown)} not among the model's speakers "
            f"({', '.join(speaker_ids)})"
        )

    texts: list[list[int]] = []
    failures: list[str] = []
    for item_id, text in zip(items["id"], items["text"]):
        try:
            texts.append(text_to_ids(text, table, cleaners))
        except UnencodableTextError as exc:
            failures.append(f"{item_id} ({' '.join(exc.chars)})")
    if failures:
        shown = ", ".join(failures[:MAX_LISTED]) + (f" and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else "")
        raise UserError(
            f"{len(failures)} item(s) in {prepared_dir} cannot be encoded with {table.source}: {shown}; "
            "re-run prepare with --symbols to skip them"
        )

    mels = [prepared.load_mel(prepared_dir, item_id, info.audio.n_mels) for item_id in items["id"]]
    return EncodedCorpus(
        ids=list(items["id"]),
        text_values=np.concatenate([np.asarray(t, dtype=np.int32) for t in texts]),
        text_lens=np.array([len(t) for t in texts], dtype=np.int32),
        mel_values=np.concatenate(mels).astype(np.float32),
        mel_lens=np.array([m.shape[0] for m in mels], dtype=np.int32),
        speakers=np.array([speaker_ids.get(s, 0) for s in items["speaker"]], dtype=np.int32),
    )


def bucket_boundaries(lengths: np.ndarray, batch_size: int) -> list[int]:
    """Quantile edges of the mel lengths: batches of similar length waste little on padding.

    Each bucket keeps at least ``BATCHES_PER_BUCKET`` batches' worth of items, so small
    corpora get fewer buckets (down to one) and batches still mix.
    """
    buckets = max(1, min(MAX_BUCKETS, len(lengths) // (BATCHES_PER_BUCKET * batch_size)))
    edges = np.quantile(lengths, np.linspace(0, 1, buckets + 1)[1:-1]).astype(int) + 1
    return sorted(set(int(e) for e in edges))


def make_dataset(
    prepared_dir: str | os.PathLike,
    table: SymbolTable,
    speakers: list[str] | None,
    batch_size: int,
    reduction: int,
    split: str = "train",
    shuffle: bool = True,
    seed: int = 0,
    cleaners: Sequence[str] | None = None,
    repeat: bool = True,
):
    """Batches of one split (see the module docstring); ``speakers`` None/empty gives speaker 0.

    With ``repeat=False`` every item appears exactly once (the last batch of a bucket may be
    smaller); shuffling is seeded and differs per epoch.
    """
    import tensorflow as tf

    if batch_size < 1 or reduction < 1:
        raise UserError("batch size and reduction factor must be at least 1")
    corpus = load_split(prepared_dir, table, speakers, split, cleaners)
    n_mels = corpus.mel_values.shape[1]
    text_values = tf.constant(corpus.text_values)
    text_starts = tf.constant(EncodedCorpus.starts(corpus.text_lens))
    text_lens = tf.constant(corpus.text_lens)
    mel_values = tf.constant(corpus.mel_values)
    mel_starts = tf.constant(EncodedCorpus.starts(corpus.mel_lens))
    mel_lens = tf.constant(corpus.mel_lens)
    speaker_ids = tf.constant(corpus.speakers)

    def example(index):
        t0, tn = text_starts[index], tf.cast(text_lens[index], tf.int64)
        m0, mn = mel_starts[index], tf.cast(mel_lens[index], tf.int64)
        return {
            "text": text_values[t0 : t0 + tn],  # [T_text]
            "text_len": text_lens[index],
            "mel": mel_values[m0 : m0 + mn],  # [T_mel, n_mels]
            "mel_len": mel_lens[index],
            "speaker": speaker_ids[index],
        }

    count = len(corpus.ids)
    dataset = tf.data.Dataset.range(count)
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    boundaries = bucket_boundaries(corpus.mel_lens, batch_size)
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda e: e["mel_len"],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padded_shapes={"text": [None], "text_len": [], "mel": [None, n_mels], "mel_len": [], "speaker": []},
        padding_values={
            "text": np.int32(0),
            "text_len": np.int32(0),
            "mel": np.float32(MEL_MIN),
            "mel_len": np.int32(0),
            "speaker": np.int32(0),
        },
    )
    dataset = dataset.map(lambda batch: _finish_batch(batch, reduction), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _finish_batch(batch: dict, reduction: int) -> dict:
    """Pad the mel to a multiple of the reduction factor and add stop targets."""
    import tensorflow as tf

    frames = tf.shape(batch["mel"])[1]
    padded = (frames + reduction - 1) // reduction * reduction
    mel = tf.pad(batch["mel"], [[0, 0], [0, padded - frames], [0, 0]], constant_values=MEL_MIN)
    positions = tf.range(padded)[tf.newaxis, :]  # [1, T_mel]
    stop = tf.cast(positions >= batch["mel_len"][:, tf.newaxis] - 1, tf.float32)  # [B, T_mel]
    return {**batch, "mel": mel, "stop": stop}
