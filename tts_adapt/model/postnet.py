"""Postnet: five convolutions predict a residual that sharpens the decoder's mel frames.

With ``postnet_projection`` (the TF1 Tacotron-2 codebases) every convolution keeps
``postnet_channels`` and a dense layer maps the last one's output to the mels.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.config import ModelConfig
from tts_adapt.model.normalization import GlobalBatchNormalization
from tts_adapt.model.ops import dropout


class Postnet(keras.layers.Layer):
    def __init__(self, config: ModelConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config
        last = config.postnet_layers - 1
        to_mels = not config.postnet_projection
        self.convs = [
            keras.layers.Conv1D(config.n_mels if i == last and to_mels else config.postnet_channels,
                                config.postnet_kernel, padding="same", name=f"conv_{i}")
            for i in range(config.postnet_layers)
        ]
        self.norms = [GlobalBatchNormalization(epsilon=config.batch_norm_epsilon, name=f"batch_norm_{i}")
                      for i in range(config.postnet_layers)]
        self.projection = None if to_mels else keras.layers.Dense(config.n_mels, name="projection")

    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, channels))
            channels = conv.filters
            norm.build((None, None, channels))
        if self.projection is not None:
            self.projection.build((None, None, channels))

    def call(self, mel: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The residual [batch, frames, n_mels] to add to ``mel``."""
        x = mel
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            activation = tf.identity if i == last else tf.tanh
            if self.config.activation_before_norm:
                x = norm(activation(conv(x)), training=training)
            else:
                x = activation(norm(conv(x), training=training))
            x = dropout(x, self.config.dropout, training)
        return x if self.projection is None else self.projection(x)  # [batch, frames, n_mels]
