"""Turn what a user types (a directory, a prefix, an ``.index`` file) into a checkpoint prefix."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tts_adapt.errors import UserError

_DATA_RE = re.compile(r"\.data-\d{5}-of-\d{5}$")


def data_files(prefix: str) -> list[Path]:
    """The ``.index`` file and every data shard of a checkpoint prefix."""
    prefix_path = Path(prefix)
    shards = sorted(p for p in prefix_path.parent.glob(prefix_path.name + ".data-*") if _DATA_RE.search(p.name))
    return [Path(prefix + ".index"), *shards]


def resolve_checkpoint(path: str | os.PathLike) -> tuple[str, Path]:
    """Return ``(prefix, directory)`` for a checkpoint given as directory, prefix or file."""
    text = os.fspath(path)
    p = Path(text)
    if p.is_dir():
        import tensorflow as tf

        try:
            prefix = tf.train.latest_checkpoint(text)
        except (ValueError, tf.errors.OpError):  # an empty or garbled state file
            raise UserError(f"{p / 'checkpoint'}: the checkpoint state file is empty or corrupt; remove it or "
                            "name the checkpoint prefix (e.g. DIR/ckpt-100)") from None
        if prefix is not None and not Path(prefix + ".index").is_file():
            raise UserError(f"{p / 'checkpoint'} names {Path(prefix).name}, whose .index file is missing")
        if prefix is None:
            indexes = sorted(p.glob("*.index"))
            if len(indexes) == 1:
                prefix = str(indexes[0])[: -len(".index")]
            elif not indexes:
                raise UserError(f"{p}: no checkpoint in this directory (no 'checkpoint' file, no *.index)")
            else:
                names = ", ".join(i.name[: -len(".index")] for i in indexes[:5])
                raise UserError(f"{p}: several checkpoints and no 'checkpoint' file; name one ({names})")
        return prefix, Path(prefix).parent
    if text.endswith(".index") and p.is_file():
        text = text[: -len(".index")]
    else:
        match = _DATA_RE.search(text)
        if match and p.is_file():
            text = text[: match.start()]
    if not Path(text + ".index").is_file():
        raise UserError(f"{path}: no such checkpoint (expected a directory, a prefix or an .index file)")
    return text, Path(text).parent


def checkpoint_files(path: str | os.PathLike) -> list[Path]:
    """What a command reading the checkpoint at ``path`` must never write over: its folder when given
    one, else the prefix's own files and the manifest and state file beside them."""
    given = Path(path)
    if given.is_dir():
        return [given]
    return sorted(given.parent.glob(given.name + "*")) + [given.parent / "manifest.json", given.parent / "checkpoint"]
