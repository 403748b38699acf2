"""How well a (free-running) alignment reads the text: numbers a person can judge at a glance.

* ``focus``: mean over steps of the largest weight (1.0 = one symbol at a time).
* ``monotonicity``: share of steps whose most-attended symbol does not move back by more than one.
* ``coverage``: share of symbols that received at least half a step of attention in total.
* ``reached_end``: the last step attends to one of the last three symbols.
"""

from __future__ import annotations

import numpy as np


def alignment_metrics(alignment: np.ndarray) -> dict[str, float | bool]:
    """``alignment`` [steps, symbols] of one utterance, real region only."""
    alignment = np.asarray(alignment, dtype=np.float64)
    if alignment.ndim != 2 or alignment.size == 0:
        raise ValueError(f"expected a non-empty [steps, symbols] alignment, got shape {alignment.shape}")
    steps, symbols = alignment.shape
    peaks = alignment.argmax(axis=1)
    moves = np.diff(peaks)
    return {
        "focus": float(alignment.max(axis=1).mean()),
        "monotonicity": float(np.mean(moves >= -1)) if steps > 1 else 1.0,
        "coverage": float(np.mean(alignment.sum(axis=0) >= 0.5)),
        "reached_end": bool(peaks[-1] >= symbols - 3),
    }
