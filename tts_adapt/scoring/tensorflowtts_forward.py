"""TensorFlowTTS Tacotron-2's encoder and attention as numpy functions of named weights (float64).

What ``verify`` runs on ``.h5`` checkpoints, where no toolkit model exists: the parts the additive
speaker terms reach. Written from the model's semantics (TensorSpeech/TensorFlowTTS
``tensorflow_tts/models/tacotron2.py`` with Keras 2's layers): character embeddings (plus the
speaker term) -> LayerNorm (epsilon 1e-6) -> convolutions ('same' padding) with batch norm on
moving statistics (epsilon 1e-3) and an activation -> a bidirectional LSTM (gates i, f, c, o,
sigmoid), outputs [forward, backward]; Bahdanau scores with location features
``v(tanh(keys + query_layer(q) + location_layer(location_conv(cumulative))))`` and a softmax.
One unpadded text at a time, so no mask is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tts_adapt.checkpoint.tensorflowtts import Recognised
from tts_adapt.errors import UserError

LAYER_NORM_EPSILON = 1e-6  # TensorFlowTTS's layer_norm_eps default
BATCH_NORM_EPSILON = 1e-3  # Keras's BatchNormalization default
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0),
    "mish": lambda x: x * np.tanh(np.logaddexp(0.0, x)),
}
_CONV = re.compile(r"encoder/conv_batch_norm/(?:[^/]+/)?conv_\._(\d+)/(kernel|bias)$")
_NORM = re.compile(r"encoder/conv_batch_norm/(?:[^/]+/)?batch_norm_\._(\d+)/(gamma|beta|moving_mean|moving_variance)$")
_LSTM = re.compile(r"encoder/bilstm/(forward|backward)_lstm/[^/]+/(kernel|recurrent_kernel|bias)$")


@dataclass(frozen=True)
class EncoderWeights:
    layer_norm: tuple[np.ndarray, np.ndarray]
    convs: list[dict[str, np.ndarray]]  # kernel, bias, gamma, beta, moving_mean, moving_variance
    lstm: dict[str, dict[str, np.ndarray]]  # forward/backward -> kernel, recurrent_kernel, bias


def encoder_weights(names: list[str], read: Callable[[str], np.ndarray], recognised: Recognised) -> EncoderWeights:
    """The encoder's weights by position, found by their names; a missing one is a UserError."""
    convs: dict[int, dict[str, np.ndarray]] = {}
    lstm: dict[str, dict[str, np.ndarray]] = {"forward": {}, "backward": {}}
    for name in names:
        for pattern in (_CONV, _NORM):
            if match := pattern.search(name):
                convs.setdefault(int(match.group(1)), {})[match.group(2)] = np.asarray(read(name), np.float64)
        if match := _LSTM.search(name):
            lstm[match.group(1)][match.group(2)] = np.asarray(read(name), np.float64)
    layers = [convs[i] for i in sorted(convs)]
    if not layers or any(len(layer) != 6 for layer in layers) or any(len(d) != 3 for d in lstm.values()):
        raise UserError("the encoder's convolutions, batch norms or BiLSTM are not all there under "
                        "TensorFlowTTS's names; verify cannot run its forward pass")
    roles = recognised.roles
    norm = (np.asarray(read(roles["layer_norm_gamma"]), np.float64), np.asarray(read(roles["layer_norm_beta"]), np.float64))
    return EncoderWeights(norm, layers, lstm)


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + LAYER_NORM_EPSILON) * gamma + beta


def conv_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Keras Conv1D with padding 'same' on [time, channels]; kernel [width, in, out]."""
    width = kernel.shape[0]
    left = (width - 1) // 2
    padded = np.pad(x, ((left, width - 1 - left), (0, 0)))
    out = sum(padded[j: j + len(x)] @ kernel[j] for j in range(width))
    return out if bias is None else out + bias


def _lstm(x: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    units = recurrent_kernel.shape[0]
    h, c = np.zeros(units), np.zeros(units)
    outputs = []
    for step in x:
        z = step @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = (z[k * units:(k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def encode(embedded: np.ndarray, weights: EncoderWeights, activation: str = "relu") -> tuple[np.ndarray, np.ndarray]:
    """(LayerNorm output, BiLSTM output) of one text's embeddings [time, dim]."""
    normed = layer_norm(embedded, *weights.layer_norm)
    x = normed
    for layer in weights.convs:
        x = conv_same(x, layer["kernel"], layer["bias"])
        x = (x - layer["moving_mean"]) / np.sqrt(layer["moving_variance"] + BATCH_NORM_EPSILON) * layer["gamma"] \
            + layer["beta"]
        x = ACTIVATIONS[activation](x)
    forward = _lstm(x, **weights.lstm["forward"])
    backward = _lstm(x[::-1], **weights.lstm["backward"])[::-1]
    return normed, np.concatenate([forward, backward], axis=-1)


@dataclass(frozen=True)
class AttentionWeights:
    memory_kernel: np.ndarray
    memory_bias: np.ndarray | None
    query_kernel: np.ndarray
    location_conv: np.ndarray
    location_kernel: np.ndarray
    scores_kernel: np.ndarray
    scores_bias: np.ndarray


def attention_weights(read: Callable[[str], np.ndarray], recognised: Recognised) -> AttentionWeights:
    roles = recognised.roles
    missing = [r for r in ("query_kernel", "location_conv", "location_kernel", "scores_kernel", "scores_bias")
               if r not in roles]
    if missing:
        raise UserError(f"the attention's {missing[0]} is not there under TensorFlowTTS's names")

    def get(role: str) -> np.ndarray | None:
        return np.asarray(read(roles[role]), np.float64) if role in roles else None

    return AttentionWeights(get("memory_kernel"), get("memory_bias"), get("query_kernel"), get("location_conv"),
                            get("location_kernel"), get("scores_kernel"), get("scores_bias"))


def attend(memory: np.ndarray, query: np.ndarray, cumulative: np.ndarray, weights: AttentionWeights) -> np.ndarray:
    """Alignment [time] over ``memory`` [time, width] for ``query`` given the ``cumulative`` alignment so far."""
    keys = memory @ weights.memory_kernel
    if weights.memory_bias is not None:
        keys = keys + weights.memory_bias
    location = conv_same(cumulative[:, None], weights.location_conv) @ weights.location_kernel
    energy = np.tanh(keys + query @ weights.query_kernel + location) @ weights.scores_kernel[:, 0] + weights.scores_bias[0]
    energy = energy - energy.max()
    return np.exp(energy) / np.exp(energy).sum()
