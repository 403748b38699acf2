"""TensorFlowTTS Tacotron-2 checkpoints made by Keras 2 itself (``tf_keras``), at scaled-down dimensions.

The proof of the h5 surgery must not lean on the toolkit, so this module knows nothing of it.
Layer and weight names are those TensorSpeech/TensorFlowTTS ``tensorflow_tts/models/tacotron2.py``
gives (read for the facts, at 1368771): the model ``tacotron2`` holds ``encoder``, ``decoder_cell``,
``post_net`` and ``residual_projection``; the encoder's ``embeddings`` build
``character_embeddings/weight`` and, with more than one speaker, hold ``speaker_embeddings`` and
``speaker_fc`` whose softplus is *added* to every character embedding before the ``LayerNorm``;
the encoder adds ``softplus(encoder_speaker_fc(encoder_speaker_embeddings))`` to the BiLSTM's
outputs (TensorFlowTTS since 47f3146, 2020-08-10; ``encoder_speaker=False`` is the model before);
the decoder cell runs ``prenet`` -> ``attention_lstm_cell`` on [prenet, previous context] ->
location-sensitive attention (``memory_layer``, ``query_layer``, ``location_conv``,
``location_layer`` without bias, ``scores_attention`` with one) -> ``decoder_lstms`` on
[attention output, context] -> ``frame_projection`` on [decoder output, context] and
``stop_projection`` on [decoder output, frame]. The first context is zeros. The attention's memory
layer is called from the model, not inside the cell (``setup_memory``), so its weight is named
outside ``decoder_cell`` although it belongs to it.

Weights are saved the way TensorFlowTTS's trainer does: ``model.save_weights("model-<steps>.h5")``
(Keras 2's legacy HDF5) beside a ``tf.train.Checkpoint(steps, epochs, optimizer)`` managed by a
``CheckpointManager`` (``ckpt-<steps>``), with a Keras 2 ``OptimizerV2`` Adam as TensorFlow 2.7 had.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras as keras

SYMBOLS = list("_abcdefghij ")
NEW_SYMBOLS = ["_", "b", "a", "c", "x", " ", "j", "d", "e", "y"]  # moved, kept, added, removed
SPEAKERS = 3
STEPS = 200


@dataclass(frozen=True)
class Config:
    vocab: int = len(SYMBOLS)
    n_speakers: int = SPEAKERS
    encoder_speaker: bool = True
    hidden: int = 16  # embedding_hidden_size
    n_conv: int = 2
    conv_filters: int = 16
    conv_kernel: int = 3
    lstm_units: int = 8  # encoder_lstm_units: outputs are 2 * 8 wide
    prenet: tuple[int, ...] = (8, 8)
    decoder_units: int = 12
    attention_dim: int = 8
    attention_filters: int = 4
    attention_kernel: int = 5
    n_mels: int = 6
    reduction: int = 2
    postnet_filters: int = 8
    postnet_layers: int = 2

    @property
    def memory(self) -> int:
        return 2 * self.lstm_units


class TFTacotronEmbeddings(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        if config.n_speakers > 1:
            self.speaker_embeddings = keras.layers.Embedding(config.n_speakers, config.hidden,
                                                             name="speaker_embeddings")
            self.speaker_fc = keras.layers.Dense(config.hidden, name="speaker_fc")
        self.LayerNorm = keras.layers.LayerNormalization(epsilon=1e-6, name="LayerNorm")

    def build(self, input_shape):
        with tf.name_scope("character_embeddings"):
            self.character_embeddings = self.add_weight(name="weight", shape=[self.config.vocab, self.config.hidden])
        super().build(input_shape)

    def call(self, inputs):
        ids, speakers = inputs
        embedded = tf.gather(self.character_embeddings, ids)
        if self.config.n_speakers > 1:
            embedded += tf.math.softplus(self.speaker_fc(self.speaker_embeddings(speakers)))[:, tf.newaxis, :]
        return self.LayerNorm(embedded)


class TFTacotronConvBatchNorm(keras.layers.Layer):
    def __init__(self, filters: int, kernel: int, activation: str, index: int, **kwargs):
        super().__init__(**kwargs)
        self.conv1d = keras.layers.Conv1D(filters, kernel, padding="same", name=f"conv_._{index}")
        self.norm = keras.layers.BatchNormalization(axis=-1, name=f"batch_norm_._{index}")
        self.act = keras.layers.Activation(activation)

    def call(self, inputs):
        return self.act(self.norm(self.conv1d(inputs), training=False))


class TFTacotronEncoderConvs(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.conv_batch_norm = [TFTacotronConvBatchNorm(config.conv_filters, config.conv_kernel, "relu", i)
                                for i in range(config.n_conv)]

    def call(self, inputs):
        for conv in self.conv_batch_norm:
            inputs = conv(inputs)
        return inputs


class TFTacotronEncoder(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = TFTacotronEmbeddings(config, name="embeddings")
        self.convbn = TFTacotronEncoderConvs(config, name="conv_batch_norm")
        self.bilstm = keras.layers.Bidirectional(keras.layers.LSTM(config.lstm_units, return_sequences=True),
                                                 name="bilstm")
        if config.n_speakers > 1 and config.encoder_speaker:
            self.encoder_speaker_embeddings = keras.layers.Embedding(config.n_speakers, config.hidden,
                                                                     name="encoder_speaker_embeddings")
            self.encoder_speaker_fc = keras.layers.Dense(config.memory, name="encoder_speaker_fc")

    def call(self, inputs):
        ids, speakers, mask = inputs
        outputs = self.bilstm(self.convbn(self.embeddings([ids, speakers])), mask=mask)
        if self.config.n_speakers > 1 and self.config.encoder_speaker:
            speaker = tf.math.softplus(self.encoder_speaker_fc(self.encoder_speaker_embeddings(speakers)))
            outputs += speaker[:, tf.newaxis, :]
        return outputs


class LocationSensitiveAttention(keras.layers.Layer):
    """Bahdanau scores with location features: ``v(tanh(keys + query + location))``, no bias inside the tanh."""

    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.query_layer = keras.layers.Dense(config.attention_dim, use_bias=False, name="query_layer")
        self.memory_layer = keras.layers.Dense(config.attention_dim, use_bias=False, name="memory_layer")
        self.location_convolution = keras.layers.Conv1D(config.attention_filters, config.attention_kernel,
                                                        padding="same", use_bias=False, name="location_conv")
        self.location_layer = keras.layers.Dense(config.attention_dim, use_bias=False, name="location_layer")
        self.v = keras.layers.Dense(1, use_bias=True, name="scores_attention")

    def setup_memory(self, memory, mask):
        self.values = memory * tf.cast(mask, memory.dtype)[:, :, tf.newaxis]
        self.keys = self.memory_layer(self.values)
        self.mask = mask

    def attend(self, query, cumulative):
        location = self.location_layer(self.location_convolution(cumulative[:, :, tf.newaxis]))
        energy = tf.squeeze(self.v(tf.tanh(self.keys + self.query_layer(query)[:, tf.newaxis, :] + location)), -1)
        alignment = tf.nn.softmax(tf.where(self.mask, energy, -np.inf), axis=-1)
        context = tf.reduce_sum(alignment[:, :, tf.newaxis] * self.values, axis=1)
        return context, alignment


class TFTacotronPrenet(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.prenet_dense = [keras.layers.Dense(units, activation="relu", name=f"dense_._{i}")
                             for i, units in enumerate(config.prenet)]

    def call(self, inputs):
        for layer in self.prenet_dense:
            inputs = layer(inputs)  # dropout off: the forward pass is deterministic
        return inputs


class TFTacotronDecoderCell(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.prenet = TFTacotronPrenet(config, name="prenet")
        self.attention_lstm = keras.layers.LSTMCell(config.decoder_units, name="attention_lstm_cell")
        self.decoder_lstms = keras.layers.StackedRNNCells(
            [keras.layers.LSTMCell(config.decoder_units, name="lstm_cell_._0")], name="decoder_lstms")
        self.attention_layer = LocationSensitiveAttention(config, name="LocationSensitiveAttention")
        self.frame_projection = keras.layers.Dense(config.n_mels * config.reduction, name="frame_projection")
        self.stop_projection = keras.layers.Dense(config.reduction, name="stop_projection")

    def call(self, frame, state):
        attention_state, decoder_state, context, cumulative = state
        query, attention_state = self.attention_lstm(tf.concat([self.prenet(frame), context], -1), attention_state)
        context, alignment = self.attention_layer.attend(query, cumulative)
        output, decoder_state = self.decoder_lstms(tf.concat([query, context], -1), decoder_state)
        frames = self.frame_projection(tf.concat([output, context], -1))
        stop = self.stop_projection(tf.concat([output, frames], -1))
        return frames, stop, alignment, (attention_state, decoder_state, context, cumulative + alignment)


class TFTacotronPostnet(keras.layers.Layer):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        last = config.postnet_layers - 1
        self.conv_batch_norm = [TFTacotronConvBatchNorm(config.postnet_filters, 5, "linear" if i == last else "tanh", i)
                                for i in range(config.postnet_layers)]

    def call(self, inputs):
        for conv in self.conv_batch_norm:
            inputs = conv(inputs)
        return inputs


class TFTacotron2(keras.Model):
    def __init__(self, config: Config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.encoder = TFTacotronEncoder(config, name="encoder")
        self.decoder_cell = TFTacotronDecoderCell(config, name="decoder_cell")
        self.postnet = TFTacotronPostnet(config, name="post_net")
        self.post_projection = keras.layers.Dense(config.n_mels, name="residual_projection")

    def encode(self, ids, lengths, speakers):
        mask = tf.sequence_mask(lengths, maxlen=tf.shape(ids)[1])
        return self.encoder([ids, speakers, mask]), mask

    def call(self, inputs):
        """Teacher-forced: (ids, lengths, speakers, mel) -> mel, mel after the post-net, stop logits, alignments."""
        ids, lengths, speakers, mel = inputs
        config, cell = self.config, self.decoder_cell
        memory, mask = self.encode(ids, lengths, speakers)
        cell.attention_layer.setup_memory(memory, mask)
        batch = tf.shape(ids)[0]

        def zeros(width):
            return tf.zeros([batch, width])

        state = ([zeros(config.decoder_units)] * 2, [[zeros(config.decoder_units)] * 2], zeros(config.memory),
                 tf.zeros(tf.shape(ids), tf.float32))
        frame = zeros(config.n_mels)
        frames, stops, alignments = [], [], []
        for step in range(mel.shape[1] // config.reduction):
            out, stop, alignment, state = cell(frame, state)
            frames.append(out)
            stops.append(stop)
            alignments.append(alignment)
            frame = mel[:, (step + 1) * config.reduction - 1]  # the group's last true frame feeds the next step
        decoded = tf.reshape(tf.stack(frames, 1), [batch, -1, config.n_mels])
        return {"mel": decoded, "mel_post": decoded + self.post_projection(self.postnet(decoded)),
                "stop": tf.reshape(tf.stack(stops, 1), [batch, -1]), "alignment": tf.stack(alignments, 1)}


def probe(config: Config, seed: int = 0, time: int = 7, frames: int = 8):
    """One unpadded text, a speaker and teacher-forcing frames."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, config.vocab, size=(1, time)).astype(np.int32)
    mel = rng.uniform(-2, 2, size=(1, frames, config.n_mels)).astype(np.float32)
    return ids, np.array([time], np.int32), mel


def build(config: Config, seed: int | None = 0) -> TFTacotron2:
    """The model with every weight built; ``seed`` None keeps Keras's own initial values."""
    keras.backend.clear_session()  # Keras 2 numbers unnamed layers per session: the same names every time
    model = TFTacotron2(config, name="tacotron2")
    ids, lengths, mel = probe(config)
    model((ids, lengths, np.zeros([1], np.int32), mel))
    if seed is not None:
        rng = np.random.default_rng(seed)
        for weight in model.weights:  # biases and batch-norm statistics too: a missed fold shows
            value = rng.normal(0.0, 0.5, weight.shape)
            if "moving_variance" in weight.name:
                value = 0.5 + np.abs(value)
            weight.assign(value.astype(np.float32))
    return model


def save_like_tensorflowtts(model: TFTacotron2, directory: Path, steps: int = STEPS) -> Path:
    """``model-<steps>.h5`` and the trainer's ``ckpt-<steps>`` (steps, epochs, Adam's scalars after one update)."""
    directory.mkdir(parents=True, exist_ok=True)
    optimizer = keras.optimizers.legacy.Adam(1e-3, beta_1=0.9, beta_2=0.98, epsilon=1e-6)
    ids, lengths, mel = probe(model.config, seed=1)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model((ids, lengths, np.zeros([1], np.int32), mel))["mel"] ** 2)
    variables = model.trainable_variables
    optimizer.apply_gradients([(g, v) for g, v in zip(tape.gradient(loss, variables), variables) if g is not None])
    trainer = tf.train.Checkpoint(steps=tf.Variable(steps), epochs=tf.Variable(3), optimizer=optimizer)
    tf.train.CheckpointManager(trainer, str(directory), max_to_keep=10).save(checkpoint_number=steps)
    path = directory / f"model-{steps}.h5"
    model.save_weights(str(path))
    return path


def write_table(path: Path, symbols) -> Path:
    path.write_text("".join(f"{s}\n" for s in symbols), encoding="utf-8")
    return path
