"""Row operations on one tensor: remap by symbol, drop speaker segments, fold a speaker into a bias.

Pure numpy, no TensorFlow: each function takes the old tensor and returns the new one.
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


def drop_segments(values: np.ndarray, segments: Sequence[tuple[int, int]]) -> np.ndarray:
    """The kernel without its speaker rows (half-open row ranges), compacted in place.

    Rows of a C-ordered array are contiguous, so the kept rows are moved up inside
    ``values``'s own buffer and a prefix view is returned: no second copy of the
    largest tensors. ``values`` must not be used afterwards.
    """
    out = values if values.flags.writeable and values.flags.c_contiguous else np.ascontiguousarray(values).copy()
    write = 0
    read = 0
    for start, stop in sorted(segments) + [(out.shape[0], out.shape[0])]:
        while read < start:  # move kept rows [read, start) up to `write`, in chunks that never overlap
            chunk = min(start - read, max(read - write, start - read if read == write else read - write))
            if read != write:
                out[write:write + chunk] = out[read:read + chunk]
            write += chunk
            read += chunk
        read = max(read, stop)
    return out[:write]


def speaker_contribution(kernel: np.ndarray, rows: tuple[int, int], vector: np.ndarray) -> np.ndarray:
    """``e @ W_e``: what the speaker rows added to every output, a constant once the speaker is fixed."""
    start, stop = rows
    return (vector.astype(np.float64) @ kernel[start:stop].astype(np.float64))  # [out]
