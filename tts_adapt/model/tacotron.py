"""Tacotron 2-style acoustic model, multi-speaker (a learned speaker table, or an external speaker
vector with ``speaker_input: vector``) or single-speaker.

    text ids -> symbol_embedding -> Encoder -> [encoder outputs; speaker vector] = memory
    memory -> Decoder (location-sensitive attention, r frames per step) -> mel
    mel + Postnet(mel) -> mel_post

``Tacotron(config, n_symbols, n_speakers=0)`` builds the single-speaker model
with exactly the same variable paths as the multi-speaker one, minus the speaker
table and minus the speaker rows of every context-fed kernel; :meth:`Tacotron.layout`
declares those rows so that ``tts-adapt adapt`` can fold a speaker without a
layout file. Every layer is named, so paths (``tacotron/encoder/conv_0/kernel``)
do not depend on how many models a process built before. ``decoder_topology`` picks the
decoder: the toolkit's own, or the TF1 Tacotron-2 codebases' (``model/tf1_decoder.py``).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tts_adapt.model.config import ModelConfig
from tts_adapt.model.decoder import Decoder
from tts_adapt.model.encoder import Encoder
from tts_adapt.model.ops import float32_layers
from tts_adapt.model.postnet import Postnet
from tts_adapt.model.tf1_decoder import Tf1Decoder
from tts_adapt.checkpoint.layout import Layout, SpeakerSite

MODEL_NAME = "tacotron"


class Tacotron(keras.Model):
    def __init__(self, config: ModelConfig, n_symbols: int, n_speakers: int = 0) -> None:
        super().__init__(name=MODEL_NAME, dtype="float32")  # inputs and outputs float32 under any policy
        if n_symbols < 1:
            raise ValueError("a model needs at least one symbol")
        if n_speakers and config.reads_speaker_vector:
            raise ValueError("a model reads its speaker from a table or as a vector, not both")
        self.config = config
        self.n_symbols = n_symbols
        self.n_speakers = n_speakers
        self.symbol_embedding = keras.layers.Embedding(n_symbols, config.embed_dim, name="symbol_embedding")
        with float32_layers():  # the recurrent parts (and the speaker vector they read) stay float32
            self.encoder = Encoder(config, name="encoder")
            self.speaker_embedding = (
                keras.layers.Embedding(n_speakers, config.speaker_dim, name="speaker_embedding") if n_speakers else None
            )
            decoder = Tf1Decoder if config.decoder_topology == "tacotron2_tf1" else Decoder
            self.decoder = decoder(config, multi_speaker=bool(n_speakers) or config.reads_speaker_vector,
                                   name="decoder")
        self.postnet = Postnet(config, name="postnet")
        self.build()
        # One graph for every call, traced for any shape: a graph traced for the first call's exact shapes
        # rounds differently from the general one later calls get, so a sentence would sound a little
        # different depending on whether something was spoken before it in the same process.
        self._free_running = tf.function(self._free_running_eager, input_signature=(
            tf.TensorSpec([None, None], tf.int32),  # text
            tf.TensorSpec([None], tf.int32),  # text_len
            tf.TensorSpec([None], tf.int32),  # speaker
            tf.TensorSpec([None, config.speaker_dim], tf.float32),  # speaker_vector
            tf.TensorSpec([], tf.int32),  # max_steps
            tf.TensorSpec([], tf.int32),  # seed
        ))

    def build(self, input_shape=None) -> None:
        """Create every variable now (inside the model's name scope), so paths are fixed at construction."""
        c = self.config
        self.symbol_embedding.build((None, None))
        if self.speaker_embedding is not None:
            self.speaker_embedding.build((None,))
        self.encoder.build((None, None, c.embed_dim))
        self.decoder.build()
        self.postnet.build((None, None, c.n_mels))

    def encode(self, text: tf.Tensor, text_len: tf.Tensor, speaker: tf.Tensor | None = None,
               training: bool = False, speaker_vector: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        """(memory [batch, time, memory_dim], mask [batch, time] bool)."""
        mask = tf.sequence_mask(text_len, tf.shape(text)[1])
        encoded = self.encoder(self.symbol_embedding(text), text_len, training=training)  # [batch, time, enc]
        if self.config.reads_speaker_vector:
            if speaker_vector is None:
                raise ValueError("this model reads a speaker vector (speaker_vector [batch, speaker_dim])")
            vector = tf.convert_to_tensor(speaker_vector, tf.float32)  # [batch, speaker_dim]
        elif self.speaker_embedding is None:
            return encoded, mask
        elif speaker is None:
            raise ValueError("a multi-speaker model needs speaker ids")
        else:
            vector = self.speaker_embedding(speaker)  # [batch, speaker_dim]
        vector = tf.tile(vector[:, None, :], [1, tf.shape(encoded)[1], 1])  # [batch, time, speaker_dim]
        return tf.concat([encoded, vector], -1), mask  # [batch, time, enc + speaker_dim]

    def call(self, batch: dict, training: bool = False) -> dict[str, tf.Tensor]:
        """Teacher-forced pass. ``batch``: text [B, T], text_len [B], mel [B, F, n_mels] (F a multiple of r),
        speaker [B] (ignored by a single-speaker model), speaker_vector [B, speaker_dim] (for a model that
        reads one).

        With ``training=False`` nothing is random, so two models that compute the same
        function give the same outputs (what ``verify`` checks).
        """
        memory, mask = self.encode(batch["text"], batch["text_len"], batch.get("speaker"), training,
                                   batch.get("speaker_vector"))
        mel, stop_logits, alignment = self.decoder.teacher_forced(memory, mask, batch["mel"], training)
        mel = self._clipped(mel)
        mel_post = self._clipped(mel + tf.cast(self.postnet(mel, training=training), mel.dtype))
        return {"mel": mel, "mel_post": mel_post, "stop_logits": stop_logits, "alignment": alignment}

    def _free_running_eager(self, text, text_len, speaker, speaker_vector, max_steps, seed):
        memory, mask = self.encode(text, text_len, speaker, training=False, speaker_vector=speaker_vector)
        mel, stop_logits, alignment, lengths = self.decoder.free_running(memory, mask, max_steps, seed)
        mel = self._clipped(mel)
        mel_post = self._clipped(mel + tf.cast(self.postnet(mel, training=False), mel.dtype))
        return {"mel": mel, "mel_post": mel_post, "stop_logits": stop_logits, "alignment": alignment,
                "mel_len": lengths}

    def infer(self, text, text_len, speaker=None, max_steps: int | None = None, seed: int = 0,
              speaker_vector=None) -> dict[str, tf.Tensor]:
        """Free-running synthesis: mel, mel_post [B, F, n_mels], stop_logits [B, F], alignment [B, F/r, T],
        mel_len [B] (frames until the stop token fired). Deterministic for a given ``seed``.
        ``speaker_vector`` [B, speaker_dim] is for a model that reads one."""
        text = tf.convert_to_tensor(text, tf.int32)
        if speaker is None:
            speaker = tf.zeros([tf.shape(text)[0]], tf.int32)
        speaker = tf.convert_to_tensor(speaker, tf.int32)
        if speaker_vector is None:  # a model without a vector input never reads it
            speaker_vector = tf.zeros([tf.shape(text)[0], self.config.speaker_dim])
        steps = self.config.max_decoder_steps if max_steps is None else max_steps
        return self._free_running(text, tf.convert_to_tensor(text_len, tf.int32), speaker,
                                  tf.convert_to_tensor(speaker_vector, tf.float32),
                                  tf.constant(steps, tf.int32), tf.constant(seed, tf.int32))

    def _clipped(self, mel: tf.Tensor) -> tf.Tensor:
        """Mels inside ``output_clip`` (Rayhane-mamah's clip_outputs: the decoder's frames, then the sum
        with the postnet's residual; the frames fed back while decoding are not clipped)."""
        if not self.config.output_clip:
            return mel
        low, high = self.config.output_clip
        return tf.clip_by_value(mel, low, high)

    def layout(self) -> Layout:
        """Where the symbol rows and the speaker rows of this model's variables are."""
        symbols = self.symbol_embedding.embeddings.path
        if self.speaker_embedding is None and not self.config.reads_speaker_vector:
            return Layout(symbol_embedding=symbols)
        enc, dim = self.config.encoder_dim, self.config.speaker_dim
        sites = tuple(
            SpeakerSite(kernel.path, (context_row + enc, context_row + enc + dim), bias.path)
            for kernel, context_row, bias in self.decoder.speaker_sites()
        )
        table = None if self.speaker_embedding is None else self.speaker_embedding.embeddings.path
        return Layout(symbols, table, dim, sites)

    def parameter_count(self) -> int:
        """Trainable parameters (Keras's ``count_params`` also counts batch-norm statistics)."""
        return int(sum(v.numpy().size for v in self.trainable_variables))
