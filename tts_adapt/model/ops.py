"""Small tensor helpers shared by the model's layers.

Dropout is done with ``tf.nn`` ops rather than ``keras.layers.Dropout``: a Keras
Dropout layer owns a seed-generator *variable*, which would appear in every
checkpoint and in the surgery's plan without being a weight of the model.
"""

from __future__ import annotations

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
