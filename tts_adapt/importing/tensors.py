"""The value a toolkit variable gets from its TF1 tensor (weights and Adam slots alike).

TF1's ``LSTMCell`` computes ``[x; h] @ kernel + bias`` split into gates i, j, f, o and adds
``forget_bias`` (1.0) to f at run time; the toolkit's cell computes ``x @ kernel + h @ recurrent_kernel
+ bias`` split into i, f, c, o (Keras's order, c being TF1's j) with the forget bias stored in
``bias``. So a kernel's rows split at the input width, every gate block moves, and the weight (not
its Adam moments, which are statistics of gradients) of the bias gains the 1.0.
"""

from __future__ import annotations

import numpy as np

from tts_adapt.importing.names import Op

TF1_FORGET_BIAS = 1.0


def keras_gate_order(value: np.ndarray) -> np.ndarray:
    """Columns in TF1's gate order (i, j, f, o) -> Keras's (i, f, c=j, o)."""
    i, j, f, o = np.split(value, 4, axis=-1)
    return np.concatenate([i, f, j, o], axis=-1)


def converted(op: Op, value: np.ndarray, input_rows: int, is_slot: bool) -> np.ndarray:
    """The toolkit value for ``op`` from the TF1 tensor ``value``; ``input_rows``: an LSTM's input width."""
    if op == "copy":
        return value
    if op == "lstm_input":
        return keras_gate_order(value[:input_rows])
    if op == "lstm_recurrent":
        return keras_gate_order(value[input_rows:])
    if op == "lstm_bias":
        bias = keras_gate_order(value)
        if not is_slot:
            units = bias.shape[-1] // 4
            bias = bias.copy()
            bias[units:2 * units] += np.asarray(TF1_FORGET_BIAS, bias.dtype)
        return bias
    raise ValueError(f"no TF1 tensor feeds a {op!r} variable")
