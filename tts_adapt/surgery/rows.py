"""Row operations on one tensor: remap by symbol, drop speaker segments, fold a speaker into a bias.

Each function takes the old tensor and returns the new one.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from tts_adapt.symbols.mapping import RowSource


def remap_rows(
    old: np.ndarray,
    sources: Sequence[RowSource],
    new_rows: str,
    is_slot: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Rows of the new table, each taken from its symbol's old row.

    Added symbols: parameters get an alias's row or the ``new_rows`` init; optimizer
    slots always start at zero (no history for a row that never trained).
    """
    out = np.zeros((len(sources),) + old.shape[1:], dtype=old.dtype)
    fresh = [s.new_id for s in sources if s.kind == "init"]
    for source in sources:
        if source.kind == "copy" or (source.kind == "alias" and not is_slot):
            out[source.new_id] = old[source.old_id]
    if fresh and not is_slot and new_rows != "zero":
        if new_rows == "mean":
            out[fresh] = old.mean(axis=0, dtype=np.float64).astype(old.dtype)
        else:  # normal: same scale as the trained rows, so a new symbol is neither loud nor silent
            mean = old.mean(axis=0, dtype=np.float64)
            std = old.std(axis=0, dtype=np.float64)
            out[fresh] = (mean + std * rng.standard_normal((len(fresh),) + old.shape[1:])).astype(old.dtype)
    return out


def kept_ranges(n_rows: int, segments: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The half-open row ranges that survive once the speaker ``segments`` are dropped."""
    kept, start = [], 0
    for seg_start, seg_stop in sorted(segments):
        if seg_start > start:
            kept.append((start, seg_start))
        start = max(start, seg_stop)
    if start < n_rows:
        kept.append((start, n_rows))
    return kept


def drop_segments(values, segments: Sequence[tuple[int, int]]):
    """The kernel without its speaker rows; works on numpy arrays and TensorFlow tensors alike.

    A TensorFlow tensor stays one: the writer saves it without a numpy copy.
    """
    pieces = [values[a:b] for a, b in kept_ranges(values.shape[0], segments)] or [values[:0]]
    if isinstance(values, np.ndarray):
        return np.concatenate(pieces, axis=0)
    import tensorflow as tf

    return tf.concat(pieces, axis=0)


def speaker_contribution(kernel, rows: tuple[int, int], vector: np.ndarray) -> np.ndarray:
    """``e @ W_e``: what the speaker rows added to every output, a constant once the speaker is fixed."""
    start, stop = rows
    segment = np.asarray(kernel[start:stop], dtype=np.float64)  # [speaker_dim, out]
    return vector.astype(np.float64) @ segment  # [out]
