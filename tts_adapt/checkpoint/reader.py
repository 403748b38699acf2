"""Open any supported checkpoint and read it one tensor at a time (memory bounded by one tensor)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tts_adapt.checkpoint import dialects, object_graph
from tts_adapt.checkpoint.dialects import Dialect, Grouping, TensorEntry
from tts_adapt.checkpoint.paths import data_files, resolve_checkpoint
from tts_adapt.errors import UserError
from tts_adapt.manifest import Manifest, read_manifest


@dataclass
class Checkpoint:
    """A source checkpoint: its files, dialect, grouped variables and manifest (if any)."""

    prefix: str
    directory: Path
    dialect: Dialect
    entries: dict[str, TensorEntry]
    grouping: Grouping
    manifest: Manifest | None
    _reader: Any
    notes: list[str] = field(default_factory=list)  # what reading it found that a plan must say

    def read(self, key: str) -> np.ndarray:
        value = self._reader.get_tensor(key)
        return value if isinstance(value, np.ndarray) else np.asarray(value)

    def read_tensor(self, key: str):
        """The tensor as TensorFlow holds it: a copy action passes it to the writer without a numpy copy."""
        import tensorflow as tf

        dtype = tf.as_dtype(self.entries[key].dtype)
        try:
            return tf.raw_ops.RestoreV2(prefix=self.prefix, tensor_names=[key], shape_and_slices=[""],
                                        dtypes=[dtype])[0]
        except (tf.errors.OpError, IndexError) as exc:
            raise unreadable(self.prefix, key, exc) from None

    @property
    def files(self) -> list[Path]:
        return data_files(self.prefix)

    @property
    def total_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def object_graph(self) -> object_graph.ObjectGraph | None:
        if dialects.OBJECT_GRAPH_KEY not in self.entries:
            return None
        return object_graph.parse_object_graph(self.read(dialects.OBJECT_GRAPH_KEY).item())

    def variable(self, name: str) -> dialects.VariableGroup:
        group = self.grouping.variables.get(name)
        if group is None:
            raise UserError(f"variable {name!r} is not in {self.prefix} (see 'tts-adapt inspect')")
        return group


def unreadable(prefix: str, key: str, exc: BaseException) -> UserError:
    """The one line for data that the index promises but the files do not hold (truncated, corrupt)."""
    import re

    files = ", ".join(p.name for p in data_files(prefix)[1:]) or "no data files"
    said = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", str(exc).splitlines()[0] if str(exc) else "").strip()
    return UserError(f"{prefix}: cannot read {key!r} ({said or type(exc).__name__}); "
                     f"the data file is truncated or corrupt ({files})")


class _SafeReader:
    """TensorFlow's CheckpointReader whose read errors (IndexError, OpError) become one UserError line."""

    def __init__(self, prefix: str, reader) -> None:
        self.prefix, self._reader = prefix, reader

    def __getattr__(self, name: str):
        return getattr(self._reader, name)

    def get_tensor(self, key: str):
        import tensorflow as tf

        try:
            return self._reader.get_tensor(key)
        except (tf.errors.OpError, IndexError, ValueError) as exc:
            raise unreadable(self.prefix, key, exc) from None


def load_reader(prefix: str) -> _SafeReader:
    """A reader of ``prefix`` whose index was parsed; corrupt index files are a UserError here."""
    import tensorflow as tf

    try:
        return _SafeReader(prefix, tf.train.load_checkpoint(prefix))
    except (tf.errors.OpError, ValueError) as exc:
        raise UserError(f"{prefix}: cannot read checkpoint ({str(exc).splitlines()[0]}); "
                        f"{prefix}.index is truncated or corrupt") from None


def open_checkpoint(path: str | os.PathLike) -> Checkpoint:
    from tts_adapt.checkpoint import h5

    if h5.looks_like_h5(path):
        from tts_adapt.checkpoint.h5_checkpoint import open_h5_checkpoint

        return open_h5_checkpoint(path)
    prefix, directory = resolve_checkpoint(path)
    reader = load_reader(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    entries = {
        key: TensorEntry(key, tuple(int(d) for d in shapes[key]), dtypes[key].name) for key in sorted(shapes)
    }
    manifest = read_manifest(directory)
    dialect = dialects.detect_dialect(entries, manifest.dialect if manifest else None)
    checkpoint = Checkpoint(prefix, directory, dialect, entries, dialects.Grouping({}, {}), manifest, reader)
    if dialect == "tf2":
        graph = checkpoint.object_graph()
        checkpoint.grouping = dialects.group_tf2(entries, object_graph.optimizer_paths(graph))
    elif dialect == "own":
        checkpoint.grouping = dialects.group_own(entries)
    else:
        checkpoint.grouping = dialects.group_tf1(entries)
    return checkpoint
