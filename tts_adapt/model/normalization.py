"""Batch normalisation over the real frames of the whole global batch.

Keras's ``BatchNormalization(synchronized=True)`` shares statistics between replicas
only without a mask, and the encoder's statistics must skip padding. This layer adds
up masked sums and counts over the replicas (:func:`~tts_adapt.model.ops.global_sum`),
so a step on N devices normalises exactly as one device would on the same global
batch. Its variables are Keras's (gamma, beta, moving_mean, moving_variance): checkpoints
do not change.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.ops import global_sum


class GlobalBatchNormalization(keras.layers.BatchNormalization):
    def _moments(self, inputs: tf.Tensor, mask: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor]:
        """Mean and variance [channels] over the (unmasked) positions of every replica's batch."""
        x = tf.cast(inputs, tf.float32)  # statistics in float32 also under mixed precision
        weights = tf.ones_like(x[..., :1]) if mask is None else tf.cast(mask, tf.float32)[..., None]
        axes = list(self._reduction_axes)
        count = global_sum(tf.reduce_sum(tf.broadcast_to(weights, tf.shape(x)), axes))  # [channels]
        count = count + keras.backend.epsilon()
        mean = global_sum(tf.reduce_sum(x * weights, axes)) / count  # [channels]
        variance = global_sum(tf.reduce_sum(tf.square(x - mean) * weights, axes)) / count  # [channels]
        return mean, variance
