"""Text encoder: symbol embeddings -> convolutions (batch norm, relu) -> bidirectional LSTM."""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.config import ModelConfig
from tts_adapt.model.cells import LSTMCell
from tts_adapt.model.ops import dropout


def run_lstm(cell: LSTMCell, inputs: tf.Tensor) -> tf.Tensor:
    """Outputs [batch, time, units] of ``cell`` over ``inputs`` [batch, time, channels], from a zero state.

    The input projection is one matmul for all steps; only the recurrence loops.
    """
    projected = tf.transpose(tf.matmul(inputs, cell.kernel), [1, 0, 2])  # [time, batch, 4 * units]
    steps = tf.shape(projected)[0]
    outputs = tf.TensorArray(inputs.dtype, size=steps)

    def body(t, state, outputs):
        state = cell.step(projected[t], state)
        return t + 1, state, outputs.write(t, state[0])

    _, _, outputs = tf.while_loop(lambda t, *_: t < steps, body,
                                  (tf.constant(0), cell.zero_state(tf.shape(inputs)[0]), outputs))
    return tf.transpose(outputs.stack(), [1, 0, 2])


class Encoder(keras.layers.Layer):
    """Maps embedded symbols [batch, time, embed_dim] to [batch, time, 2 * encoder_lstm_units].

    Padded positions are zeroed after every convolution so that they never leak into
    the last real symbols. Padding is on the right, so the forward LSTM reaches every
    real symbol before any padding; the backward LSTM runs on each sequence reversed
    within its own length (``tf.reverse_sequence``), so it too starts at the real end.
    Own LSTM cells instead of ``keras.layers.LSTM``: a Keras LSTM owns a seed-generator
    variable with an unstable name that would end up in every checkpoint.
    """

    def __init__(self, config: ModelConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.convs = [
            keras.layers.Conv1D(config.encoder_conv_channels, config.encoder_conv_kernel, padding="same",
                                name=f"conv_{i}")
            for i in range(config.encoder_conv_layers)
        ]
        self.norms = [keras.layers.BatchNormalization(name=f"batch_norm_{i}")
                      for i in range(config.encoder_conv_layers)]
        self.forward_lstm = LSTMCell(config.encoder_lstm_units, name="forward_lstm")
        self.backward_lstm = LSTMCell(config.encoder_lstm_units, name="backward_lstm")

    def build(self, input_shape) -> None:
        channels = input_shape[-1]
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, channels))
            channels = self.config.encoder_conv_channels
            norm.build((None, None, channels))
        self.forward_lstm.build(channels)
        self.backward_lstm.build(channels)

    def call(self, embedded: tf.Tensor, lengths: tf.Tensor, training: bool = False) -> tf.Tensor:
        text_mask = tf.sequence_mask(lengths, tf.shape(embedded)[1])  # [batch, time]
        keep = tf.cast(text_mask, embedded.dtype)[:, :, None]  # [batch, time, 1]
        x = embedded * keep
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x)  # [batch, time, channels]
            x = tf.nn.relu(norm(x, training=training, mask=text_mask))
            x = dropout(x, self.config.dropout, training) * keep
        forward = run_lstm(self.forward_lstm, x)  # [batch, time, units]
        reverse = lambda t: tf.reverse_sequence(t, lengths, seq_axis=1, batch_axis=0)  # noqa: E731
        backward = reverse(run_lstm(self.backward_lstm, reverse(x)))  # [batch, time, units]
        return tf.concat([forward, backward], -1) * keep  # [batch, time, 2 * units]
