"""The LSTM cell used by the encoder and the decoder."""

from __future__ import annotations

import keras
import tensorflow as tf


def _forget_bias_one(shape, dtype=None):
    """LSTM bias with the forget gate at 1 (Keras ``unit_forget_bias``); gates are i, f, c, o."""
    units = shape[0] // 4
    return tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])], 0)


class LSTMCell(keras.layers.Layer):
    """Keras ``LSTMCell`` weights and gate order (i, f, c, o), with the input projection split off.

    ``kernel`` rows are the cell input, ``recurrent_kernel`` rows the state; the
    input projection can then be computed for all steps ahead of the loop
    (the prenet part) or per step (the context part).
    """

    def __init__(self, units: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_dim: int) -> None:  # type: ignore[override]
        self.kernel = self.add_weight(shape=(input_dim, 4 * self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, 4 * self.units), initializer="orthogonal",
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * self.units,), initializer=_forget_bias_one, name="bias")

    def zero_state(self, batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        zeros = tf.zeros([batch, self.units])
        return zeros, zeros

    def step(self, projected_input: tf.Tensor, state: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        """(h, c) after one step, given ``input @ kernel`` [batch, 4 * units]."""
        h, c = state
        gates = projected_input + tf.matmul(h, self.recurrent_kernel) + self.bias
        i, f, g, o = tf.split(gates, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        return h, c

    def zoneout_step(self, projected_input: tf.Tensor, state: tuple[tf.Tensor, tf.Tensor], rate: float,
                     training: bool = False) -> tuple[tf.Tensor, tuple[tf.Tensor, tf.Tensor]]:
        """(output, state) of a zoneout LSTM (Krueger et al. 2016), as the TF1 Tacotron-2 codebases run it.

        The output is the new h; the state carried to the next step keeps each unit's previous
        value with probability ``rate`` in training, and is the fixed mix
        ``(1 - rate) * new + rate * previous`` at inference.
        """
        h, c = self.step(projected_input, state)
        if rate <= 0.0:
            return h, (h, c)

        def mix(new: tf.Tensor, old: tf.Tensor) -> tf.Tensor:
            if training:
                return old + tf.cast(tf.random.uniform(tf.shape(new)) >= rate, new.dtype) * (new - old)
            return (1.0 - rate) * new + rate * old

        return h, (mix(h, state[0]), mix(c, state[1]))
