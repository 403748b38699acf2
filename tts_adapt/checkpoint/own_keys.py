"""Key rules of the toolkit's own checkpoints (dialect ``own``).

Keras 3 + ``tf.train.Checkpoint`` names model weights by position
(``optimizer/_trainable_variables/3``), which makes surgery by name impossible.
The toolkit therefore saves name-based checkpoints with readable, stable keys:

* a weight is saved under its Keras ``variable.path`` (``tacotron/encoder/conv_0/kernel``);
* its optimizer slot ``s`` (Adam: ``m``, ``v``) under ``slot_key(path, s)``
  = ``"<path>/.OPTIMIZER_SLOT/<s>"`` — the one rule that derives a slot key;
* optimizer scalars (``iterations``) under ``"optimizer/<name>"``.

The checkpoint directory also holds ``manifest.json`` with ``"dialect": "own"``.
"""

from __future__ import annotations

SLOT_MARK = "/.OPTIMIZER_SLOT/"
OPTIMIZER_PREFIX = "optimizer/"


def slot_key(variable_key: str, slot: str) -> str:
    return f"{variable_key}{SLOT_MARK}{slot}"


def optimizer_key(name: str) -> str:
    return f"{OPTIMIZER_PREFIX}{name}"


def split_slot_key(key: str) -> tuple[str, str] | None:
    """``(variable_key, slot)`` for a slot key, else None."""
    if SLOT_MARK not in key:
        return None
    variable, slot = key.rsplit(SLOT_MARK, 1)
    return variable, slot
