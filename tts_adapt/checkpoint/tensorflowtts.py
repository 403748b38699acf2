"""Recognise a TensorFlowTTS Tacotron-2 by its weight names and propose its layout.

Names are matched by their ending, so any model name (``tacotron2/``, ``tf_tacotron2/``) and
Keras's own numbering in between do not matter. What the layout says follows the model's code
(TensorSpeech/TensorFlowTTS ``tensorflow_tts/models/tacotron2.py``): the speaker term
``softplus(speaker_fc(speaker_embeddings[s]))`` is added to every character embedding; the
encoder-output term ``softplus(encoder_speaker_fc(encoder_speaker_embeddings[s]))`` reaches the
attention LSTM through the previous context (zeros at the first step), the decoder LSTM and the
frame projection through the current context (their inputs end with it), and the attention keys
through ``memory_layer``, which has no bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from tts_adapt.checkpoint.additive import AdditiveSite, Consumer
from tts_adapt.checkpoint.layout import Layout

NAMES = {  # role -> how the weight's name ends
    "symbols": "embeddings/character_embeddings/weight",
    "speaker_table": "embeddings/speaker_embeddings/embeddings",
    "speaker_kernel": "embeddings/speaker_fc/kernel",
    "speaker_bias": "embeddings/speaker_fc/bias",
    "layer_norm_gamma": "embeddings/LayerNorm/gamma",
    "layer_norm_beta": "embeddings/LayerNorm/beta",
    "encoder_speaker_table": "encoder_speaker_embeddings/embeddings",
    "encoder_speaker_kernel": "encoder_speaker_fc/kernel",
    "encoder_speaker_bias": "encoder_speaker_fc/bias",
    "attention_lstm_kernel": "attention_lstm_cell/kernel",
    "attention_lstm_recurrent": "attention_lstm_cell/recurrent_kernel",
    "attention_lstm_bias": "attention_lstm_cell/bias",
    "decoder_lstm_kernel": "decoder_lstms/lstm_cell_._0/kernel",
    "decoder_lstm_bias": "decoder_lstms/lstm_cell_._0/bias",
    "frame_kernel": "frame_projection/kernel",
    "frame_bias": "frame_projection/bias",
    "memory_kernel": "memory_layer/kernel",
    "memory_bias": "memory_layer/bias",
    "query_kernel": "query_layer/kernel",
    "location_conv": "location_conv/kernel",
    "location_kernel": "location_layer/kernel",
    "scores_kernel": "scores_attention/kernel",
    "scores_bias": "scores_attention/bias",
}
_REQUIRED = ("symbols", "layer_norm_gamma", "attention_lstm_kernel", "memory_kernel", "frame_kernel")


def find(names: Iterable[str], ending: str) -> str | None:
    """The one name that is ``ending`` or ends with ``/ending``; None when none or several do."""
    hits = [n for n in names if n == ending or n.endswith("/" + ending)]
    return hits[0] if len(hits) == 1 else None


@dataclass(frozen=True)
class Recognised:
    roles: dict[str, str]  # role -> variable name, for the roles the checkpoint has
    layout: Layout

    @property
    def speaker_sites(self) -> int:
        return len(self.layout.additive)

    def describe(self) -> str:
        if not self.speaker_sites:
            return "TensorFlowTTS Tacotron-2, single speaker"
        where = ["the character embeddings"] + (["the encoder outputs"] if self.speaker_sites > 1 else [])
        return f"TensorFlowTTS Tacotron-2, multi-speaker: a speaker term added to {' and '.join(where)}"


def recognise(shapes: dict[str, tuple[int, ...]]) -> Recognised | None:
    """``shapes``: variable name -> shape. None unless the names are a TensorFlowTTS Tacotron-2's."""
    roles = {role: name for role, ending in NAMES.items() if (name := find(shapes, ending)) is not None}
    if any(role not in roles for role in _REQUIRED):
        return None
    sites = []
    if "speaker_table" in roles and "speaker_kernel" in roles:
        sites.append(AdditiveSite(roles["speaker_table"], roles["speaker_kernel"], roles.get("speaker_bias"),
                                  "softplus", "symbol_embedding"))
    if "encoder_speaker_table" in roles and "encoder_speaker_kernel" in roles:
        width = shapes[roles["encoder_speaker_kernel"]][-1]

        def context_rows(role: str) -> tuple[int, int]:
            rows = shapes[roles[role]][0]
            return rows - width, rows  # [..., context]: the context comes last

        consumers = [
            Consumer(roles["attention_lstm_kernel"], context_rows("attention_lstm_kernel"),
                     roles.get("attention_lstm_bias"), zero_at_first_step=True),
            *[Consumer(roles[kernel], context_rows(kernel), roles.get(bias))
              for kernel, bias in (("decoder_lstm_kernel", "decoder_lstm_bias"), ("frame_kernel", "frame_bias"))
              if kernel in roles],
            Consumer(roles["memory_kernel"], (0, width), roles.get("memory_bias")),
        ]
        sites.append(AdditiveSite(roles["encoder_speaker_table"], roles["encoder_speaker_kernel"],
                                  roles.get("encoder_speaker_bias"), "softplus", "outputs", tuple(consumers)))
    return Recognised(roles, Layout(symbol_embedding=roles["symbols"], additive=tuple(sites)))


def proposed_layout_yaml(recognised: Recognised) -> str:
    """The layout, with what each site means, ready for ``adapt --layout``."""
    lines = [f"# {recognised.describe()} (recognised by its weight names; check before use)"]
    for site in recognised.layout.additive:
        lines.append(f"# {site.table}: softplus({site.kernel.rpartition('/')[0].rpartition('/')[2]}(e_s)) "
                     f"added to the {site.added_to.replace('_', ' ')}")
        for consumer in site.consumers:
            how = ("exact" if consumer.fold_into else "NOT exact: no bias to fold into")
            if consumer.fold_into and consumer.zero_at_first_step:
                how = "exact from the second decoder step (the first context is zeros)"
            lines.append(f"#   {consumer.kernel} rows {list(consumer.rows)}: {how}")
    return "\n".join(lines) + "\n" + recognised.layout.to_yaml()
