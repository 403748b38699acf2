"""Autoregressive decoder: prenet -> attention LSTM -> attention -> decoder LSTM -> frames + stop.

Per decoder step t (``r`` = reduction frames each)::

    p_t       = prenet(previous frame)                            # [batch, prenet_units]
    h_att     = attention_lstm([p_t; context_{t-1}])              # [batch, attention_lstm_units]
    a_t, c_t  = attention(h_att, memory, cumulative alignment)    # [batch, time], [batch, memory_dim]
    h_dec     = decoder_lstm([h_att; c_t])                        # [batch, decoder_lstm_units]
    frames    = frame_projection([h_dec; c_t])                    # [batch, r * n_mels]
    stop      = stop_projection([h_dec; c_t])                     # [batch, r] logits

Every kernel fed by the context (which ends with the speaker vector in a
multi-speaker model) holds the speaker rows; :meth:`Decoder.speaker_sites` says
where. The loops are ``tf.while_loop`` over ``TensorArray``s so that one traced
graph serves every utterance length.

Teacher-forced, whatever does not feed the recurrence runs once for the whole sequence
(what that saves is in docs/benchmarks.md): the prenet on the recording's previous frames
with its share of the attention LSTM's input, the attention keys, and after the loop the
frame and stop projections. Per-step inputs are read from a ``TensorArray``: indexing a
tensor from outside the loop would make every step's gradient a copy of the whole sequence.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.attention import LocationSensitiveAttention
from tts_adapt.model.cells import LSTMCell
from tts_adapt.model.config import ModelConfig
from tts_adapt.model.ops import dropout, seeded_dropout, steps_of

END_SYMBOLS = 3  # free-running decoding may stop once attention is on one of the last this many symbols


class Prenet(keras.layers.Layer):
    """Dense + relu + dropout layers: a bottleneck on the previous frame that attention relies on."""

    def __init__(self, config: ModelConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate = config.prenet_dropout
        self.layers_ = [keras.layers.Dense(config.prenet_units, activation="relu", name=f"dense_{i}")
                        for i in range(config.prenet_layers)]

    def build(self, input_shape) -> None:
        width = input_shape[-1]
        for layer in self.layers_:
            layer.build((None, width))
            width = layer.units

    def call(self, x: tf.Tensor, training: bool = False, seed: tf.Tensor | None = None) -> tf.Tensor:
        """Dropout: random in training, a function of ``seed`` (int32 [2]) when given, else off."""
        for i, layer in enumerate(self.layers_):
            x = layer(x)
            if seed is not None:
                x = seeded_dropout(x, self.rate, seed + tf.constant([0, 7919 * (i + 1)], tf.int32))
            else:
                x = dropout(x, self.rate, training)
        return x


class DecoderLoops(keras.layers.Layer):
    """Runs a decoder step over whole utterances, teacher-forced or free-running.

    The step is the subclass's (:class:`Decoder` here, the TF1 codebases' in
    ``model/tf1_decoder.py``): ``_split_attention_kernel``, ``_initial_state`` and ``_step``.
    Both feed ``[prenet output; previous context]`` to their first LSTM.
    """

    config: ModelConfig
    prenet: Prenet
    frame_projection: keras.layers.Dense  # projection input -> r frames
    stop_projection: keras.layers.Dense  # projection input -> r stop logits

    def __init__(self, config: ModelConfig, multi_speaker: bool, **kwargs) -> None:
        """What every topology has first: its config, the memory width it attends over, the prenet."""
        super().__init__(**kwargs)
        self.config = config
        self.memory_dim = config.memory_dim(multi_speaker)
        self.prenet = Prenet(config, name="prenet")

    def _add_projections(self) -> None:
        """The frame and stop projections, the last layers every topology makes (their order is the weights')."""
        r, mels = self.config.reduction, self.config.n_mels
        self.frame_projection = keras.layers.Dense(r * mels, name="frame_projection")
        self.stop_projection = keras.layers.Dense(r, name="stop_projection")

    def _build_projections(self) -> None:
        """Build the projections, last: they read ``[last LSTM output; context]`` in every topology."""
        width = self.config.decoder_lstm_units + self.memory_dim
        self.frame_projection.build((None, width))
        self.stop_projection.build((None, width))

    def speaker_sites(self) -> list[tuple[keras.Variable, int, keras.Variable]]:
        """(kernel, first row fed by the context, bias that absorbs a constant) for each context-fed kernel.

        The context is ``[encoder part; speaker part]``, so the speaker rows start at
        ``first row + encoder_dim``. Every topology's attention keys and projections read it;
        which LSTMs do is the topology's (:meth:`_recurrent_sites`).
        """
        units = self.config.decoder_lstm_units
        return [
            (self.attention.memory_layer.kernel, 0, self.attention.attention_bias),
            *self._recurrent_sites(),
            (self.frame_projection.kernel, units, self.frame_projection.bias),
            (self.stop_projection.kernel, units, self.stop_projection.bias),
        ]

    def _recurrent_sites(self) -> list[tuple[keras.Variable, int, keras.Variable]]:
        """The :meth:`speaker_sites` of the LSTMs that read the context, in the order of the step."""
        raise NotImplementedError

    def _split_attention_kernel(self) -> tuple[tf.Tensor, tf.Tensor]:
        """The first LSTM's input kernel as (prenet rows, context rows)."""
        raise NotImplementedError

    def _initial_state(self, memory: tf.Tensor, mask: tf.Tensor):
        """(LSTM states, context [batch, memory_dim], cumulative alignment [batch, time]) before the first step."""
        raise NotImplementedError

    def _step(self, projected_prenet, lstm_states, context, cumulative, attention, memory, mask, context_kernel,
              training):
        """One step: (LSTM states, context, cumulative, alignment, projection input [batch, units + memory_dim])."""
        raise NotImplementedError

    def _project(self, out: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Frames [..., r * n_mels] and stop logits [..., r] from projection inputs [..., units + memory_dim]."""
        return self.frame_projection(out), self.stop_projection(out)

    def teacher_forced(self, memory: tf.Tensor, mask: tf.Tensor, targets: tf.Tensor, training: bool = False):
        """Decode with the true previous frames. ``targets`` [batch, steps * r, n_mels].

        Returns frames [batch, steps * r, n_mels], stop logits [batch, steps * r],
        alignments [batch, steps, time].
        """
        r, mels = self.config.reduction, self.config.n_mels
        batch = tf.shape(targets)[0]
        steps = tf.shape(targets)[1] // r
        previous = targets[:, r - 1::r][:, :-1]  # the last frame of each step feeds the next: [batch, steps-1, mels]
        previous = tf.concat([tf.zeros([batch, 1, mels]), previous], 1)  # "go" frame first: [batch, steps, mels]
        prenet_kernel, context_kernel = self._split_attention_kernel()
        projected = steps_of(tf.matmul(self.prenet(previous, training=training), prenet_kernel))  # [batch, 4 * units]
        attention = self.attention.prepare(memory)
        lstm_states, context, cumulative = self._initial_state(memory, mask)
        arrays = [tf.TensorArray(tf.float32, size=steps) for _ in range(2)]

        def body(t, lstm_states, context, cumulative, out_ta, align_ta):
            lstm_states, context, cumulative, alignment, out = self._step(
                projected.read(t), lstm_states, context, cumulative, attention, memory, mask, context_kernel, training)
            return t + 1, lstm_states, context, cumulative, out_ta.write(t, out), align_ta.write(t, alignment)

        loop = tf.while_loop(lambda t, *_: t < steps, body,
                             (tf.constant(0), lstm_states, context, cumulative, *arrays),
                             maximum_iterations=steps)  # a bound XLA (jit_compile) can size its arrays by
        out_ta, align_ta = loop[4:]
        # the projections do not feed the recurrence here: one matmul each for every step at once
        frames, stop = self._project(tf.transpose(out_ta.stack(), [1, 0, 2]))  # [batch, steps, r * mels], [.., r]
        frames = tf.reshape(frames, [batch, steps * r, mels])
        stop = tf.reshape(stop, [batch, steps * r])
        alignments = tf.transpose(align_ta.stack(), [1, 0, 2])  # [batch, steps, time]
        return frames, stop, alignments

    def free_running(self, memory: tf.Tensor, mask: tf.Tensor, max_steps: tf.Tensor, seed: tf.Tensor):
        """Decode from the model's own frames until every item's stop token fires (with attention on
        one of the last ``END_SYMBOLS`` symbols) or ``max_steps``.

        The prenet's dropout mask at step t is a function of (``seed``, t), so a
        seed gives the same output every time. Returns frames [batch, steps * r,
        n_mels], stop logits [batch, steps * r], alignments [batch, steps, time],
        lengths [batch] (frames up to and including the first that says stop).
        """
        r, mels = self.config.reduction, self.config.n_mels
        threshold = self.config.stop_threshold
        batch = tf.shape(memory)[0]
        prenet_kernel, context_kernel = self._split_attention_kernel()
        attention = self.attention.prepare(memory)
        text_len = tf.reduce_sum(tf.cast(mask, tf.int32), -1)  # [batch]
        lstm_states, context, cumulative = self._initial_state(memory, mask)
        arrays = [tf.TensorArray(tf.float32, size=0, dynamic_size=True) for _ in range(3)]
        lengths = tf.fill([batch], max_steps * r)
        finished = tf.zeros([batch], tf.bool)
        previous = tf.zeros([batch, mels])

        def body(t, previous, lstm_states, context, cumulative, lengths, finished, frames_ta, stop_ta, align_ta):
            step_seed = tf.stack([seed, t])
            projected = tf.matmul(self.prenet(previous, seed=step_seed), prenet_kernel)
            lstm_states, context, cumulative, alignment, out = self._step(
                projected, lstm_states, context, cumulative, attention, memory, mask, context_kernel, False)
            frames, stop = self._project(out)  # the last frame feeds the next step
            # the stop token counts only once attention has reached the last symbols: an early, unsure
            # stop token must not cut a sentence short (its errors are not shown to it in training)
            at_end = tf.argmax(alignment, -1, output_type=tf.int32) >= text_len - END_SYMBOLS  # [batch]
            says_stop = tf.logical_and(tf.sigmoid(stop) > threshold, at_end[:, None])  # [batch, r]
            first = tf.argmax(tf.cast(says_stop, tf.int32), axis=-1, output_type=tf.int32)
            now = tf.logical_and(tf.reduce_any(says_stop, -1), tf.logical_not(finished))
            lengths = tf.where(now, t * r + first + 1, lengths)
            return (t + 1, frames[:, -mels:], lstm_states, context, cumulative, lengths,
                    tf.logical_or(finished, now), frames_ta.write(t, frames), stop_ta.write(t, stop),
                    align_ta.write(t, alignment))

        loop = tf.while_loop(
            lambda t, previous, s, c, cu, lengths, finished, *_: tf.logical_and(
                t < max_steps, tf.logical_not(tf.reduce_all(finished))),
            body,
            (tf.constant(0), previous, lstm_states, context, cumulative, lengths, finished, *arrays),
        )
        steps = loop[0]
        lengths = loop[5]
        frames_ta, stop_ta, align_ta = loop[7:]
        frames = tf.reshape(tf.transpose(frames_ta.stack(), [1, 0, 2]), [batch, steps * r, mels])
        stop = tf.reshape(tf.transpose(stop_ta.stack(), [1, 0, 2]), [batch, steps * r])
        alignments = tf.transpose(align_ta.stack(), [1, 0, 2])
        return frames, stop, alignments, lengths


class Decoder(DecoderLoops):
    def __init__(self, config: ModelConfig, multi_speaker: bool, **kwargs) -> None:
        super().__init__(config, multi_speaker, **kwargs)
        self.attention_lstm = LSTMCell(config.attention_lstm_units, name="attention_lstm")
        self.attention = LocationSensitiveAttention(config, name="attention")
        self.decoder_lstm = LSTMCell(config.decoder_lstm_units, name="decoder_lstm")
        self._add_projections()

    def build(self, input_shape=None) -> None:
        c = self.config
        self.prenet.build((None, c.n_mels))
        self.attention_lstm.build(c.prenet_units + self.memory_dim)
        self.attention.build(self.memory_dim, c.attention_lstm_units)
        self.decoder_lstm.build(c.attention_lstm_units + self.memory_dim)
        self._build_projections()

    def _recurrent_sites(self) -> list[tuple[keras.Variable, int, keras.Variable]]:
        c = self.config
        return [
            (self.attention_lstm.kernel, c.prenet_units, self.attention_lstm.bias),
            (self.decoder_lstm.kernel, c.attention_lstm_units, self.decoder_lstm.bias),
        ]

    def _initial_state(self, memory: tf.Tensor, mask: tf.Tensor):
        """LSTM states at zero; the first context is the mean of the memory (uniform attention).

        A zero context would not do: it lacks the speaker vector, so the first step
        of a multi-speaker model could not be folded into a single-speaker one.
        """
        batch, time = tf.shape(memory)[0], tf.shape(memory)[1]
        uniform = tf.cast(mask, memory.dtype)
        uniform = uniform / tf.reduce_sum(uniform, -1, keepdims=True)  # [batch, time]
        return (
            (self.attention_lstm.zero_state(batch), self.decoder_lstm.zero_state(batch)),
            tf.matmul(uniform[:, None, :], memory)[:, 0, :],  # context [batch, memory_dim]
            tf.zeros([batch, time]),  # cumulative alignment
        )

    def _step(self, projected_prenet, lstm_states, context, cumulative, attention, memory, mask, context_kernel,
              training):
        """One decoder step from the prenet's share of the attention-LSTM input; see the module docstring."""
        att_state, dec_state = lstm_states
        att_state = self.attention_lstm.step(projected_prenet + tf.matmul(context, context_kernel), att_state)
        alignment, context = self.attention.step(att_state[0], *attention, memory, mask, cumulative)
        dec_input = tf.concat([att_state[0], context], -1)  # [batch, attention_lstm_units + memory_dim]
        dec_state = self.decoder_lstm.step(tf.matmul(dec_input, self.decoder_lstm.kernel), dec_state)
        out = tf.concat([dec_state[0], context], -1)  # [batch, decoder_lstm_units + memory_dim]
        return (att_state, dec_state), context, cumulative + alignment, alignment, out

    def _split_attention_kernel(self):
        p = self.config.prenet_units
        return self.attention_lstm.kernel[:p], self.attention_lstm.kernel[p:]
