"""The generator (after Vocos, arXiv 2306.00814): the mel's frame rate is kept all the way.

No upsampling: ConvNeXt-1D blocks map each mel frame to one STFT frame (log-magnitude and
phase), and the inverse STFT at the features' own hop makes the samples. That is why it runs
at a small fraction of real time on two CPU cores.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import keras
import tensorflow as tf

from tts_adapt.configfields import config_values
from tts_adapt.errors import UserError

MAX_BLOCK_WEIGHTS = 2**28  # 1 GiB of float32: over 100 times the default network
MAX_LOG_MAGNITUDE = 6.0  # exp(6) ~ 400: above any bin of speech normalised to -23 dBFS


@dataclass(frozen=True)
class NetworkConfig:
    """Size of the generator; the STFT it predicts is the audio config's (n_fft, hop, window)."""

    channels: int = 256
    blocks: int = 6
    kernel_size: int = 7
    expansion: int = 3  # ConvNeXt's inverted bottleneck: channels -> expansion * channels -> channels

    def __post_init__(self) -> None:
        if min(self.channels, self.blocks, self.kernel_size, self.expansion) < 1:
            raise UserError("vocoder network: channels, blocks, kernel_size and expansion must be >= 1")
        if self.block_weights > MAX_BLOCK_WEIGHTS:  # TensorFlow would fail to allocate it, in a traceback
            raise UserError(f"vocoder network: channels {self.channels}, blocks {self.blocks}, kernel_size "
                            f"{self.kernel_size} and expansion {self.expansion} make {self.block_weights:.3g} "
                            f"weights; at most {MAX_BLOCK_WEIGHTS:.3g} (1 GiB of float32)")

    @property
    def block_weights(self) -> int:
        """The weights of the ConvNeXt blocks (depthwise kernel, inverted bottleneck): nearly all of them."""
        return self.blocks * (self.kernel_size * self.channels + 2 * self.expansion * self.channels**2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NetworkConfig":
        return cls(**config_values(cls, data, "vocoder network"))


def build_generator(network: NetworkConfig, audio) -> "Generator":
    """A generator for ``audio`` (an :class:`~tts_adapt.audio.config.AudioConfig`), weights built."""
    generator = Generator(network, audio)
    generator(tf.zeros([1, 4, audio.n_mels]))
    return generator


class ConvNeXtBlock(keras.layers.Layer):
    """x + scale * W2 gelu(W1 norm(depthwise_conv(x))): a residual block at frame rate."""

    def __init__(self, channels: int, kernel_size: int, expansion: int, layer_scale: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.depthwise = keras.layers.DepthwiseConv1D(kernel_size, padding="same", name="depthwise")
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")
        self.expand = keras.layers.Dense(expansion * channels, name="expand")
        self.project = keras.layers.Dense(channels, name="project")
        self.layer_scale = layer_scale
        self.channels = channels

    def build(self, input_shape) -> None:
        self.scale = self.add_weight(shape=(self.channels,), name="scale",
                                     initializer=keras.initializers.Constant(self.layer_scale))

    def call(self, x):  # [batch, frames, channels]
        y = self.norm(self.depthwise(x))
        y = self.project(keras.activations.gelu(self.expand(y)))  # [batch, frames, channels]
        return x + self.scale * y


class Generator(keras.Model):
    """mel [batch, frames, n_mels] -> waveform [batch, frames * hop_length]."""

    def __init__(self, network: NetworkConfig, audio, **kwargs) -> None:
        super().__init__(**kwargs)
        self.network = network
        self.audio = audio
        self.embed = keras.layers.Conv1D(network.channels, network.kernel_size, padding="same", name="embed")
        self.embed_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="embed_norm")
        self.blocks = [ConvNeXtBlock(network.channels, network.kernel_size, network.expansion,
                                     1.0 / network.blocks, name=f"block{i}") for i in range(network.blocks)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")
        self.bins = audio.n_fft // 2 + 1
        self.head = keras.layers.Dense(2 * self.bins, name="head")

    def spectrum(self, mel):
        """The complex STFT [batch, frames, n_fft/2 + 1] the generator predicts for ``mel``."""
        x = self.embed_norm(self.embed(mel))  # [batch, frames, channels]
        for block in self.blocks:
            x = block(x)
        x = self.head(self.final_norm(x))  # [batch, frames, 2 * bins]
        log_magnitude, phase = x[..., : self.bins], x[..., self.bins :]
        magnitude = tf.exp(tf.minimum(log_magnitude, MAX_LOG_MAGNITUDE))
        # phase as an angle: cos/sin of an unbounded output cannot wrap badly (Vocos)
        return tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))

    def call(self, mel):
        audio = self.audio
        spectrum = self.spectrum(mel)  # [batch, frames, bins]
        wav = tf.signal.inverse_stft(
            spectrum, frame_length=audio.win_length, frame_step=audio.hop_length, fft_length=audio.n_fft,
            window_fn=tf.signal.inverse_stft_window_fn(audio.hop_length),
        )  # [batch, (frames - 1) * hop + win]: frame t starts at t * hop
        # The features' frames are centred (frame t covers t * hop -/+ win / 2): drop half a window.
        start = audio.win_length // 2
        return wav[:, start : start + tf.shape(mel)[1] * audio.hop_length]  # [batch, frames * hop]


def parameter_count(generator: Generator) -> int:
    return int(sum(math.prod(w.shape) for w in generator.weights))
