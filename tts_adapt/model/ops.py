"""Small tensor helpers shared by the model's layers.

Dropout is done with ``tf.nn`` ops rather than ``keras.layers.Dropout``: a Keras
Dropout layer owns a seed-generator *variable*, which would appear in every
checkpoint and in the surgery's plan without being a weight of the model.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras
import tensorflow as tf


def dropout(x: tf.Tensor, rate: float, training: bool) -> tf.Tensor:
    """Inverted dropout in training (global TF seed), identity otherwise."""
    if not training or rate <= 0.0:
        return x
    return tf.nn.dropout(x, rate=rate)


def seeded_dropout(x: tf.Tensor, rate: float, seed: tf.Tensor) -> tf.Tensor:
    """Dropout whose mask is a pure function of ``seed`` (int32 [2]): the same seed, the same output."""
    if rate <= 0.0:
        return x
    return tf.nn.experimental.stateless_dropout(x, rate=rate, seed=seed)


def sequence_mask(lengths: tf.Tensor, maxlen: tf.Tensor | int, dtype=tf.float32) -> tf.Tensor:
    """[batch, maxlen] with 1 where the position is inside the sequence."""
    return tf.sequence_mask(lengths, maxlen, dtype=dtype)


def steps_of(x: tf.Tensor) -> tf.TensorArray:
    """``x`` [batch, steps, ...] as a TensorArray of its steps [batch, ...], for a ``tf.while_loop`` to ``read(t)``.

    Indexing a tensor from outside the loop (``x[:, t]``) costs a zero-filled gradient of all of
    ``x`` per step, added up over the steps (quadratic in the length); a read's gradient is one write.
    """
    return tf.TensorArray(x.dtype, size=tf.shape(x)[1]).unstack(tf.transpose(x, [1, 0, *range(2, x.shape.rank)]))


def global_sum(x: tf.Tensor) -> tf.Tensor:
    """``x`` summed over the replicas of a distributed training step (``x`` itself anywhere else).

    Sums and counts that are added up this way before dividing give every replica the
    statistics of the whole global batch, so N replicas compute what one device would.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x)


@contextlib.contextmanager
def float32_layers() -> Iterator[None]:
    """Layers built inside compute in float32 whatever the global (mixed precision) policy.

    For the recurrent decoder: its per-step matmuls are too small to gain from 16-bit
    arithmetic, and attention energies and LSTM states need float32's range.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
