"""Additive speaker sites (layout ``kind: add``): a speaker term *added* to activations, not concatenated.

TensorFlowTTS's Tacotron-2 adds ``softplus(speaker_fc(speaker_embeddings[s]))`` to every character
embedding before the LayerNorm, and ``softplus(encoder_speaker_fc(...))`` to the encoder's outputs.
A site names the speaker table, the transform (kernel, bias, activation) and where the term is added:

* ``added_to: symbol_embedding``: to every row of the symbol table before anything else reads it;
  folding adds the term to every row, exactly.
* ``added_to: outputs``: to the outputs of a layer that ``consumers`` read through row ranges of
  their kernels. A consumer that reads a weighted mean of the outputs whose weights sum to 1 (an
  attention context) or the outputs themselves (the attention keys) sees ``W[rows]`` times the
  term in addition, a constant its ``fold_into`` bias absorbs exactly; with no bias there is
  nowhere to put it (``fold_into`` left out: the plan says the fold is not exact). A consumer
  marked ``zero_at_first_step`` reads a state that starts as zeros (the previous context), to
  which the source adds no term at the first step: exact from the second step on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tts_adapt.errors import UserError

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softplus": lambda x: np.logaddexp(0.0, x),
    "linear": lambda x: x,
}
ADDED_TO = ("symbol_embedding", "outputs")
_SITE_KEYS = {"kind", "table", "kernel", "bias", "activation", "added_to", "consumers"}
_CONSUMER_KEYS = {"kernel", "rows", "fold_into", "zero_at_first_step"}


@dataclass(frozen=True)
class Consumer:
    kernel: str
    rows: tuple[int, int]  # half-open range of the kernel's input rows that read the outputs
    fold_into: str | None = None
    zero_at_first_step: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kernel": self.kernel, "rows": list(self.rows)}
        if self.fold_into:
            out["fold_into"] = self.fold_into
        if self.zero_at_first_step:
            out["zero_at_first_step"] = True
        return out


@dataclass(frozen=True)
class AdditiveSite:
    table: str  # [n_speakers, d]
    kernel: str  # [d, width]
    bias: str | None
    activation: str
    added_to: str
    consumers: tuple[Consumer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "add", "table": self.table, "kernel": self.kernel}
        if self.bias:
            out["bias"] = self.bias
        out.update(activation=self.activation, added_to=self.added_to)
        if self.consumers:
            out["consumers"] = [c.to_dict() for c in self.consumers]
        return out

    def speaker_term(self, read: Callable[[str], np.ndarray], speaker: int | None) -> np.ndarray:
        """``activation(e W + b)`` in float64 for row ``speaker`` of the table, or the mean row (None)."""
        table = np.asarray(read(self.table), np.float64)
        vector = table.mean(axis=0) if speaker is None else table[speaker]
        pre = vector @ np.asarray(read(self.kernel), np.float64)
        if self.bias:
            pre = pre + np.asarray(read(self.bias), np.float64)
        return ACTIVATIONS[self.activation](pre)


def _name(raw: dict, key: str, where: str, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise UserError(f"{where}: {key} must be a variable name")
    return value


def _rows(value: Any, where: str) -> tuple[int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value) or not 0 <= value[0] < value[1]):
        raise UserError(f"{where}: rows must be [start, stop], two integers with 0 <= start < stop")
    return int(value[0]), int(value[1])


def _consumer(raw: Any, where: str) -> Consumer:
    if not isinstance(raw, dict):
        raise UserError(f"{where} must be a mapping with kernel and rows")
    unknown = set(raw) - _CONSUMER_KEYS
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    first = raw.get("zero_at_first_step", False)
    if not isinstance(first, bool):
        raise UserError(f"{where}: zero_at_first_step must be true or false")
    return Consumer(_name(raw, "kernel", where), _rows(raw.get("rows"), where),
                    _name(raw, "fold_into", where, required=False), first)


def additive_site_from_dict(raw: dict, where: str) -> AdditiveSite:
    """Validate one ``kind: add`` entry of a layout's ``sites``; unknown keys are errors."""
    unknown = set(raw) - _SITE_KEYS
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} for kind: add")
    activation = raw.get("activation", "linear")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise UserError(f"{where}: activation must be one of {', '.join(ACTIVATIONS)}")
    added_to = raw.get("added_to")
    if added_to not in ADDED_TO:
        raise UserError(f"{where}: added_to must be one of {', '.join(ADDED_TO)}")
    consumers = raw.get("consumers") or []
    if not isinstance(consumers, list):
        raise UserError(f"{where}: consumers must be a list")
    if added_to == "symbol_embedding" and consumers:
        raise UserError(f"{where}: a term added to the symbol embedding has no consumers to list")
    if added_to == "outputs" and not consumers:
        raise UserError(f"{where}: added_to outputs needs the consumers that read those outputs")
    return AdditiveSite(_name(raw, "table", where), _name(raw, "kernel", where),
                        _name(raw, "bias", where, required=False), activation, added_to,
                        tuple(_consumer(c, f"{where}.consumers[{i}]") for i, c in enumerate(consumers)))
