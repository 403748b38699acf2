"""Postnet: five convolutions predict a residual that sharpens the decoder's mel frames."""

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
        self.convs = [
            keras.layers.Conv1D(config.n_mels if i == last else config.postnet_channels, config.postnet_kernel,
                                padding="same", name=f"conv_{i}")
            for i in range(config.postnet_layers)
        ]
        self.norms = [GlobalBatchNormalization(name=f"batch_norm_{i}") for i in range(config.postnet_layers)]

    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, channels))
            channels = conv.filters
            norm.build((None, None, channels))

    def call(self, mel: tf.Tensor, training: bool = False) -> tf.Tensor:
        """The residual [batch, frames, n_mels] to add to ``mel``."""
        x = mel
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = norm(conv(x), training=training)
            if i != last:
                x = tf.tanh(x)
            x = dropout(x, self.config.dropout, training)
        return x
