"""Text encoder: symbol embeddings -> convolutions (batch norm, relu) -> bidirectional LSTM."""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.config import ModelConfig
from tts_adapt.model.cells import LSTMCell
from tts_adapt.model.normalization import GlobalBatchNormalization
from tts_adapt.model.ops import dropout, steps_of


def run_lstms(cells: tuple[LSTMCell, LSTMCell], inputs: tuple[tf.Tensor, tf.Tensor], zoneout: float = 0.0,
              training: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """Outputs [batch, time, units] of two cells, each over its own input [batch, time, channels].

    One loop steps both (the forward and the backward direction): half the loop
    overhead of two loops. Input projections are one matmul each for all steps.
    """
    projected = [steps_of(tf.matmul(x, cell.kernel)) for cell, x in zip(cells, inputs)]  # steps of [batch, 4 * units]
    steps = tf.shape(inputs[0])[1]
    batch = tf.shape(inputs[0])[0]
    arrays = tuple(tf.TensorArray(inputs[0].dtype, size=steps) for _ in cells)

    def body(t, states, arrays):
        steps = [cell.zoneout_step(p.read(t), state, zoneout, training)
                 for cell, p, state in zip(cells, projected, states)]
        return t + 1, tuple(state for _, state in steps), tuple(a.write(t, out) for a, (out, _) in zip(arrays, steps))

    _, _, arrays = tf.while_loop(lambda t, *_: t < steps, body,
                                 (tf.constant(0), tuple(cell.zero_state(batch) for cell in cells), arrays),
                                 maximum_iterations=steps)  # a bound XLA (jit_compile) can size its arrays by
    return tuple(tf.transpose(a.stack(), [1, 0, 2]) for a in arrays)


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
        self.norms = [GlobalBatchNormalization(epsilon=config.batch_norm_epsilon, name=f"batch_norm_{i}")
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
            if self.config.activation_before_norm:
                x = norm(tf.nn.relu(x), training=training, mask=text_mask)
            else:
                x = tf.nn.relu(norm(x, training=training, mask=text_mask))
            x = dropout(x, self.config.dropout, training) * keep
        reverse = lambda t: tf.reverse_sequence(t, lengths, seq_axis=1, batch_axis=0)  # noqa: E731
        forward, backward = run_lstms((self.forward_lstm, self.backward_lstm), (x, reverse(x)),
                                      self.config.zoneout, training)
        backward = reverse(backward)  # [batch, time, units], like forward
        return tf.concat([forward, backward], -1) * keep  # [batch, time, 2 * units]
