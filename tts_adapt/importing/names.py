"""Where each variable of a TF1 Tacotron-2 checkpoint goes in the toolkit's model, by its name.

Both codebases name their weights the same way (the TF1 layers they use name them; see
``tts_adapt/testing/tf1_tacotron2.py`` for how): every weight sits under ``Tacotron_model/inference/``.
Numbered layers (``conv_layer_<n>``, ``dense_<n>``, ``cell_<i>``) keep their order: the toolkit
numbers from 0 (RTVC's postnet names its last layer 5 whatever the count, so ranks, not numbers,
decide). A TF1 ``LSTMCell`` keeps one kernel over ``[input; h]``; the toolkit's cell splits it into
``kernel`` and ``recurrent_kernel`` (see :mod:`tts_adapt.importing.tensors`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal

SCOPE = "Tacotron_model/inference/"
MODEL = "tacotron/"
Op = Literal["copy", "lstm_input", "lstm_recurrent", "lstm_bias", "new"]

_ATTENTION = "decoder/Location_Sensitive_Attention/"
_FIXED = {  # TF1 name (after the scope) -> toolkit path (after "tacotron/")
    "inputs_embedding": "symbol_embedding/embeddings",
    "memory_layer/kernel": "decoder/attention/memory_layer/kernel",
    _ATTENTION + "query_layer/kernel": "decoder/attention/query_layer/kernel",
    _ATTENTION + "location_features_convolution/kernel": "decoder/attention/location_conv/kernel",
    _ATTENTION + "location_features_convolution/bias": "decoder/attention/location_conv/bias",
    _ATTENTION + "location_features_layer/kernel": "decoder/attention/location_layer/kernel",
    _ATTENTION + "attention_variable_projection": "decoder/attention/attention_v",
    _ATTENTION + "attention_bias": "decoder/attention/attention_bias",
}
for _scope, _target in (("decoder/linear_transform_projection", "decoder/frame_projection"),
                        ("decoder/stop_token_projection", "decoder/stop_projection"),
                        ("postnet_projection", "postnet/projection")):
    for _leaf in ("kernel", "bias"):  # a FrameProjection's dense is named after its scope
        _FIXED[f"{_scope}/projection_{_scope.rpartition('/')[2]}/{_leaf}"] = f"{_target}/{_leaf}"
_CONV_PART = r"(conv1d/(?:kernel|bias)|batch_normalization/(?:gamma|beta|moving_mean|moving_variance))"
_NUMBERED = {  # pattern -> (group of layers, how the toolkit names the part)
    re.compile(rf"encoder_convolutions/conv_layer_(\d+)_encoder_convolutions/{_CONV_PART}"): "encoder",
    re.compile(rf"postnet_convolutions/conv_layer_(\d+)_postnet_convolutions/{_CONV_PART}"): "postnet",
    re.compile(r"decoder/decoder_prenet/dense_(\d+)/(kernel|bias)"): "prenet",
    re.compile(r"decoder/decoder_LSTM/multi_rnn_cell/cell_(\d+)/decoder_LSTM_\d+/(kernel|bias)"): "lstm",
}
_ENCODER_LSTM = re.compile(r"encoder_LSTM/bidirectional_rnn/(fw|bw)/encoder_\1_LSTM/(kernel|bias)")
NEW = {"decoder/context_bias": "no TF1 counterpart (a folded speaker's share of the context); starts at zero"}
# Rayhane-mamah's predict_linear: a CBHG from the finished mels to a linear spectrogram. The mel network
# never reads it, and the toolkit's model predicts mels only.
LINEAR_POSTNET = ("CBHG_postnet/", "cbhg_linear_specs_projection/")


def is_linear_postnet(name: str) -> bool:
    return name.startswith(SCOPE) and name[len(SCOPE):].startswith(LINEAR_POSTNET)


@dataclass(frozen=True)
class Move:
    """One toolkit variable and where its value comes from."""

    target: str  # the toolkit variable path
    source: str | None  # the TF1 variable name; None for a variable the TF1 network lacks
    op: Op


def _numbered_target(group: str, rank: int, part: str) -> str:
    if group in ("encoder", "postnet"):
        layer, leaf = part.split("/")
        return f"{group}/{'conv' if layer == 'conv1d' else 'batch_norm'}_{rank}/{leaf}"
    if group == "prenet":
        return f"decoder/prenet/dense_{rank}/{part}"
    return f"decoder/lstm_{rank}/{part}"


def _lstm_moves(target_cell: str, source: str, leaf: str) -> list[Move]:
    if leaf == "bias":
        return [Move(f"{MODEL}{target_cell}/bias", source, "lstm_bias")]
    return [Move(f"{MODEL}{target_cell}/kernel", source, "lstm_input"),
            Move(f"{MODEL}{target_cell}/recurrent_kernel", source, "lstm_recurrent")]


def place(names: Iterable[str]) -> tuple[list[Move], list[str]]:
    """(moves for the TF1 weights ``names`` that have a place, names that have none)."""
    names = list(names)
    moves: list[Move] = []
    unplaced: list[str] = []
    numbered: dict[str, list[tuple[int, str, str]]] = {}  # group -> (number, part, name)
    for name in names:
        local = name[len(SCOPE):] if name.startswith(SCOPE) else None
        if local is None:
            unplaced.append(name)
        elif local in _FIXED:
            moves.append(Move(MODEL + _FIXED[local], name, "copy"))
        elif match := _ENCODER_LSTM.fullmatch(local):
            cell = "forward_lstm" if match.group(1) == "fw" else "backward_lstm"
            moves.extend(_lstm_moves(f"encoder/{cell}", name, match.group(2)))
        else:
            for pattern, group in _NUMBERED.items():
                if match := pattern.fullmatch(local):
                    numbered.setdefault(group, []).append((int(match.group(1)), match.group(2), name))
                    break
            else:
                unplaced.append(name)
    for group, entries in numbered.items():
        ranks = {number: rank for rank, number in enumerate(sorted({n for n, _, _ in entries}))}
        for number, part, name in entries:
            if group == "lstm":
                moves.extend(_lstm_moves(f"decoder/lstm_{ranks[number]}", name, part))
            else:
                moves.append(Move(MODEL + _numbered_target(group, ranks[number], part), name, "copy"))
    moves.extend(Move(MODEL + path, None, "new") for path in NEW)
    return moves, unplaced
