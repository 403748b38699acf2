"""The decoder of the TF1 Tacotron-2 codebases (Rayhane-mamah/Tacotron-2, Real-Time-Voice-Cloning's TF1 synthesizer).

Their checkpoints import as this network (``tts-adapt import``), so it computes what theirs
computed. Per decoder step t (``r`` = reduction frames each)::

    p_t       = prenet(previous frame)                              # [batch, prenet_units]
    o_t       = zoneout LSTM stack([p_t; context_{t-1}])            # [batch, decoder_lstm_units]
    a_t, c_t  = attention(o_t, memory, cumulative alignment)        # [batch, time], [batch, memory_dim]
    frames    = frame_projection([o_t; c_t])                        # [batch, r * n_mels]
    stop      = stop_projection([o_t; c_t])                         # [batch, r] logits

Unlike :class:`~tts_adapt.model.decoder.Decoder`, the attention is queried by the LSTM stack's
output, each layer's output is its new h while the state it carries is zoned out, and the first
context is zero. A zero first context means the context's constant part (a speaker vector folded
by ``adapt``) reaches the first LSTM only from the second step on; it cannot live in that LSTM's
bias, so it lives in ``context_bias``, added with the context from the second step on. An
imported checkpoint has none: it starts at zero.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.attention import LocationSensitiveAttention
from tts_adapt.model.cells import LSTMCell
from tts_adapt.model.config import ModelConfig
from tts_adapt.model.decoder import DecoderLoops


class Tf1Decoder(DecoderLoops):
    def __init__(self, config: ModelConfig, multi_speaker: bool, **kwargs) -> None:
        super().__init__(config, multi_speaker, **kwargs)
        self.lstms = [LSTMCell(config.decoder_lstm_units, name=f"lstm_{i}") for i in range(config.decoder_lstm_layers)]
        self.attention = LocationSensitiveAttention(config, location_bias=True, name="attention")
        self._add_projections()

    def build(self, input_shape=None) -> None:
        c = self.config
        self.prenet.build((None, c.n_mels))
        width = c.prenet_units + self.memory_dim
        for lstm in self.lstms:
            lstm.build(width)
            width = c.decoder_lstm_units
        self.context_bias = self.add_weight(shape=(4 * c.decoder_lstm_units,), initializer="zeros",
                                            name="context_bias")
        self.attention.build(self.memory_dim, c.decoder_lstm_units)
        self._build_projections()

    def _recurrent_sites(self) -> list[tuple[keras.Variable, int, keras.Variable]]:
        return [(self.lstms[0].kernel, self.config.prenet_units, self.context_bias)]

    def _split_attention_kernel(self):
        p = self.config.prenet_units
        return self.lstms[0].kernel[:p], self.lstms[0].kernel[p:]

    def _initial_state(self, memory: tf.Tensor, mask: tf.Tensor):
        """Zero LSTM states and a zero context; ``has_context`` [batch, 1] says whether the context
        came from attention (it gates ``context_bias``)."""
        batch, time = tf.shape(memory)[0], tf.shape(memory)[1]
        states = tuple(lstm.zero_state(batch) for lstm in self.lstms)
        has_context = tf.zeros([batch, 1])
        return (states, has_context), tf.zeros([batch, self.memory_dim]), tf.zeros([batch, time])

    def _step(self, projected_prenet, lstm_states, context, cumulative, attention, memory, mask, context_kernel,
              training):
        """One decoder step from the prenet's share of the first LSTM's input; see the module docstring."""
        states, has_context = lstm_states
        rate = self.config.zoneout
        x = projected_prenet + tf.matmul(context, context_kernel) + has_context * self.context_bias
        new_states = []
        for i, (lstm, state) in enumerate(zip(self.lstms, states)):
            if i:
                x = tf.matmul(x, lstm.kernel)
            x, state = lstm.zoneout_step(x, state, rate, training)  # x: [batch, decoder_lstm_units]
            new_states.append(state)
        alignment, context = self.attention.step(x, *attention, memory, mask, cumulative)
        out = tf.concat([x, context], -1)  # [batch, decoder_lstm_units + memory_dim]
        return (tuple(new_states), tf.ones_like(has_context)), context, cumulative + alignment, alignment, out
