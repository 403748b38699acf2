"""The model's teacher-forced pass and its per-utterance error.

Teacher forcing feeds the recording's own previous frames, so the error says how well the
model predicts the next frames of a given voice: the measure ``suggest-speaker`` ranks
speakers by and ``evaluate`` reports as ``mel_l1``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def masked_l1(prediction: np.ndarray, target: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mean |prediction - target| per item over its first ``lengths`` frames. Inputs [batch, frames, n_mels]."""
    frames = np.arange(prediction.shape[1])[None, :] < np.asarray(lengths)[:, None]  # [batch, frames]
    error = np.abs(prediction - target).mean(-1) * frames  # [batch, frames]
    return error.sum(-1) / np.maximum(frames.sum(-1), 1)


def teacher_forced_losses(model, batch: dict[str, np.ndarray], forward: Callable | None = None) -> np.ndarray:
    """Per-item loss [batch] of one padded batch (see the module docstring)."""
    outputs = (forward or teacher_forced_graph(model))(batch)
    losses = [masked_l1(outputs[key].numpy(), batch["mel"], batch["mel_len"]) for key in ("mel", "mel_post")]
    return (losses[0] + losses[1]) / 2


def teacher_forced_graph(model) -> Callable:
    """The model's teacher-forced pass as one graph, traced once for every batch shape.

    Why not ``reduce_retracing``: it traces the first batch's exact shape, then a general graph, and
    the two round differently, so an utterance's error would depend on which batch came first."""
    import tensorflow as tf

    graph = None

    def forward(batch: dict[str, np.ndarray]):
        nonlocal graph
        if graph is None:  # the signature of the first batch, every dimension left open
            spec = {key: tf.TensorSpec([None] * np.ndim(value), tf.as_dtype(np.asarray(value).dtype))
                    for key, value in batch.items()}
            graph = tf.function(lambda b: model(b, training=False), input_signature=[spec])
        return graph(batch)

    return forward
