"""The model's shape: one typed config, saved in every checkpoint manifest, with named presets.

``tiny`` exists for tests (dims 8-16, builds and steps in milliseconds); ``small``
(~1.2 M parameters) is what the bundled multi-speaker model uses — small enough to align
in a feasibility trial on 2 CPU cores; ``base``
(~4.6 M) is the larger trial model. Parameter counts are for 80 mels, 60 symbols
and 9 speakers.

Cost per parameter differs by part: a postnet weight is used once per mel frame, an
encoder weight once per symbol, a decoder LSTM weight once per decoder step (r frames).
So ``base`` grows the LSTMs and keeps the postnet narrow (128 channels; the step times
that chose it are in docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from tts_adapt.configfields import config_values
from tts_adapt.errors import UserError


DECODER_TOPOLOGIES = ("attention_lstm", "tacotron2_tf1")
SPEAKER_INPUTS = ("table", "vector")


@dataclass(frozen=True)
class ModelConfig:
    embed_dim: int = 96
    encoder_conv_layers: int = 3
    encoder_conv_channels: int = 96
    encoder_conv_kernel: int = 5
    encoder_lstm_units: int = 64  # per direction: encoder outputs are 2x this wide
    speaker_dim: int = 32  # width of the learned speaker vector (multi-speaker models only)
    attention_dim: int = 64
    attention_filters: int = 16
    attention_kernel: int = 15
    prenet_layers: int = 2
    prenet_units: int = 128
    prenet_dropout: float = 0.5  # always on in training; seeded at inference
    attention_lstm_units: int = 160
    decoder_lstm_units: int = 160
    postnet_layers: int = 5
    postnet_channels: int = 96
    postnet_kernel: int = 5
    dropout: float = 0.5  # encoder convolutions and postnet, training only
    n_mels: int = 80
    reduction: int = 3  # frames per decoder step
    max_decoder_steps: int = 400  # inference length guard (decoder steps: reduction frames each)
    stop_threshold: float = 0.5  # stop-token probability that ends free-running decoding
    # The decoder of the TF1 Tacotron-2 codebases (Rayhane-mamah, Real-Time-Voice-Cloning), so their
    # checkpoints import as the same network (docs/import-tf1.md); the defaults are the toolkit's own model.
    decoder_topology: str = "attention_lstm"  # or "tacotron2_tf1": see model/tf1_decoder.py
    decoder_lstm_layers: int = 2  # tacotron2_tf1 only: stacked LSTMs of decoder_lstm_units each
    zoneout: float = 0.0  # every LSTM: the share of the previous state kept (a fixed mix at inference)
    speaker_input: str = "table"  # "table": a learned row per speaker (if any); "vector": an external one
    postnet_projection: bool = False  # every postnet convolution has postnet_channels, then a dense to n_mels
    activation_before_norm: bool = False  # conv -> activation -> batch norm (Rayhane's default) instead of
    batch_norm_epsilon: float = 1e-3  # conv -> batch norm -> activation
    output_clip: tuple[float, ...] = ()  # (low, high): mels clipped to this range (Rayhane-mamah); () for none

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int) and value < 1:
                raise UserError(f"model config: {f.name} must be >= 1, got {value}")
        for name in ("prenet_dropout", "dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise UserError(f"model config: {name} must be in [0, 1)")
        if not 0.0 < self.stop_threshold < 1.0:
            raise UserError("model config: stop_threshold must be in (0, 1)")
        if not 0.0 <= self.zoneout < 1.0:
            raise UserError("model config: zoneout must be in [0, 1)")
        if self.output_clip and (len(self.output_clip) != 2 or not self.output_clip[0] < self.output_clip[1]):
            raise UserError(f"model config: output_clip must be [low, high] with low < high, "
                            f"got {list(self.output_clip)}")
        if not self.batch_norm_epsilon > 0.0:
            raise UserError("model config: batch_norm_epsilon must be > 0")
        for name, allowed in (("decoder_topology", DECODER_TOPOLOGIES), ("speaker_input", SPEAKER_INPUTS)):
            if getattr(self, name) not in allowed:
                raise UserError(f"model config: {name} must be one of {', '.join(allowed)}, "
                                f"got {getattr(self, name)!r}")
        for name in ("encoder_conv_kernel", "postnet_kernel", "attention_kernel"):
            if getattr(self, name) % 2 == 0:
                raise UserError(f"model config: {name} must be odd (centred 'same' convolutions)")

    @property
    def encoder_dim(self) -> int:
        return 2 * self.encoder_lstm_units

    @property
    def reads_speaker_vector(self) -> bool:
        """The speaker comes in as a vector (from a speaker encoder), not as a row of the model's own table."""
        return self.speaker_input == "vector"

    def memory_dim(self, multi_speaker: bool) -> int:
        """Width of the attention memory: encoder outputs, plus the speaker vector if any."""
        return self.encoder_dim + (self.speaker_dim if multi_speaker else 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "model config") -> "ModelConfig":
        """Build from a mapping; a ``preset`` key starts from that preset; unknown keys are errors."""
        data = dict(data)
        base = preset(data.pop("preset")) if "preset" in data else cls()
        values = config_values(cls, data, source)
        return dataclasses.replace(base, **values)


PRESETS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(
        embed_dim=8, encoder_conv_layers=2, encoder_conv_channels=8, encoder_conv_kernel=3,
        encoder_lstm_units=8, speaker_dim=4, attention_dim=8, attention_filters=4, attention_kernel=3,
        prenet_units=8, attention_lstm_units=16, decoder_lstm_units=16, postnet_layers=2,
        postnet_channels=8, postnet_kernel=3, n_mels=8, max_decoder_steps=30,
    ),
    "small": ModelConfig(),
    "base": ModelConfig(
        embed_dim=256, encoder_conv_channels=256, encoder_lstm_units=128, speaker_dim=64,
        attention_dim=128, attention_filters=32, attention_kernel=31, prenet_units=256,
        attention_lstm_units=288, decoder_lstm_units=384, postnet_channels=128,
    ),
}


def preset(name: str) -> ModelConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"unknown model preset {name!r} (choose from {', '.join(PRESETS)})") from None
