"""Location-sensitive attention (Chorowski et al. 2015, as in Tacotron 2) with a masked softmax.

    energy[t] = v^T tanh(W_q q + W_m memory[t] + W_loc conv(cumulative_alignment)[t] + attention_bias)

``memory_layer`` (W_m), ``query_layer`` and the location layers have no bias; the
one bias is ``attention_bias``. That matters for speaker folding: the speaker
part of the memory adds the same ``e W_m,spk`` at every text position, which is
exactly a change of ``attention_bias``.

The TF1 Tacotron-2 codebases give the location convolution a bias (``location_bias``);
through the linear location layer it adds the same ``b_conv W_loc`` at every position.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.config import ModelConfig

MASKED_ENERGY = -1e9


class LocationSensitiveAttention(keras.layers.Layer):
    def __init__(self, config: ModelConfig, location_bias: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        dim = config.attention_dim
        self.memory_layer = keras.layers.Dense(dim, use_bias=False, name="memory_layer")
        self.query_layer = keras.layers.Dense(dim, use_bias=False, name="query_layer")
        self.location_conv = keras.layers.Conv1D(config.attention_filters, config.attention_kernel, padding="same",
                                                 use_bias=location_bias, name="location_conv")
        self.location_layer = keras.layers.Dense(dim, use_bias=False, name="location_layer")

    def build(self, memory_dim: int, query_dim: int) -> None:  # type: ignore[override]
        dim = self.memory_layer.units
        self.memory_layer.build((None, None, memory_dim))
        self.query_layer.build((None, query_dim))
        self.location_conv.build((None, None, 1))
        self.location_layer.build((None, None, self.location_conv.filters))
        self.v = self.add_weight(shape=(dim,), initializer="glorot_uniform", name="attention_v")
        self.attention_bias = self.add_weight(shape=(dim,), initializer="zeros", name="attention_bias")

    def prepare(self, memory: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Per-utterance constants: keys W_m memory [batch, time, attention_dim], and the location
        convolution merged with the location layer into one kernel [kernel, 1, attention_dim]
        (both are linear, so one convolution per step does the work of two; a convolution bias
        becomes a constant of the keys)."""
        with tf.name_scope("attention"):  # a profile of the step counts what runs under this name as attention
            location_kernel = tf.einsum("kif,fa->kia", self.location_conv.kernel, self.location_layer.kernel)
            keys = self.memory_layer(memory)  # [batch, time, attention_dim]
            if self.location_conv.use_bias:
                keys = keys + tf.linalg.matvec(self.location_layer.kernel, self.location_conv.bias, transpose_a=True)
            return keys, location_kernel

    def step(self, query: tf.Tensor, keys: tf.Tensor, location_kernel: tf.Tensor, memory: tf.Tensor,
             mask: tf.Tensor, cumulative: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """One decoder step: (alignment [batch, time], context [batch, memory_dim])."""
        with tf.name_scope("attention"):
            processed_query = self.query_layer(query)[:, None, :]  # [batch, 1, attention_dim]
            location = tf.nn.conv1d(cumulative[:, :, None], location_kernel, stride=1, padding="SAME")  # [b, t, att]
            energy = tf.reduce_sum(self.v * tf.tanh(keys + processed_query + location + self.attention_bias), -1)
            energy = tf.where(mask, energy, MASKED_ENERGY)  # [batch, time]
            alignment = tf.nn.softmax(energy, axis=-1)
            context = tf.matmul(alignment[:, None, :], memory)[:, 0, :]  # [batch, memory_dim]
            return alignment, context
