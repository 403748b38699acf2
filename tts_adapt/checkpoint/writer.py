"""Write a name-based TensorFlow checkpoint tensor by tensor, never holding the whole model.

TensorFlow's own ``SaveV2`` takes every tensor at once. We buffer tensors up to
a byte budget, flush each buffer as a small shard with ``SaveV2``, and at the end
let ``MergeV2Checkpoints`` join the shards' indexes into one checkpoint (the
data files are renamed, not copied) — exactly how TensorFlow saves sharded
checkpoints, so any TensorFlow reader opens the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class StreamingCheckpointWriter:
    def __init__(self, prefix: str | Path, budget_bytes: int) -> None:
        self.prefix = str(prefix)
        self.budget_bytes = max(int(budget_bytes), 1)
        self._shard_dir = Path(self.prefix).parent / f".{Path(self.prefix).name}.shards"
        self._shard_dir.mkdir(parents=True, exist_ok=False)
        self._shards: list[str] = []
        self._names: list[str] = []
        self._tensors: list[np.ndarray] = []
        self._buffered = 0
        self._seen: set[str] = set()

    def add(self, key: str, value) -> None:
        """Buffer one tensor (numpy array or TensorFlow tensor); flushes when the budget is reached."""
        if key in self._seen:
            raise ValueError(f"tensor {key!r} written twice")
        self._seen.add(key)
        size = _nbytes(value)
        if self._names and self._buffered + size > self.budget_bytes:
            self._flush()  # a big tensor goes out on its own, not on top of a full buffer
        self._names.append(key)
        self._tensors.append(value)
        self._buffered += size
        if self._buffered >= self.budget_bytes:
            self._flush()  # now, before the caller reads the next tensor

    def reserve(self, nbytes: int) -> None:
        """Call before reading a tensor of ``nbytes``: flush first if it would not fit beside the buffer."""
        if self._names and self._buffered + nbytes > self.budget_bytes:
            self._flush()

    def _flush(self) -> None:
        import tensorflow as tf

        shard = str(self._shard_dir / f"part-{len(self._shards):05d}")
        tf.raw_ops.SaveV2(
            prefix=shard,
            tensor_names=self._names,
            shape_and_slices=[""] * len(self._names),
            tensors=self._tensors,
        )
        self._shards.append(shard)
        self._names, self._tensors, self._buffered = [], [], 0

    def finish(self) -> str:
        """Flush what is buffered and merge all shards into ``prefix``."""
        import tensorflow as tf

        if self._names or not self._shards:
            self._flush()
        tf.raw_ops.MergeV2Checkpoints(
            checkpoint_prefixes=self._shards, destination_prefix=self.prefix, delete_old_dirs=True
        )
        if self._shard_dir.exists():  # MergeV2Checkpoints removes it when empty; be sure
            self._shard_dir.rmdir()
        return self.prefix


def _nbytes(value) -> int:
    if isinstance(value, (np.ndarray, np.generic)):
        return int(value.nbytes)
    size = value.dtype.size if value.dtype.size else 8  # strings: an estimate is enough for batching
    return int(np.prod(value.shape, dtype=np.int64)) * size


def write_checkpoint_state(directory: str | Path, *prefix_names: str) -> None:
    """The ``checkpoint`` file that lets ``tf.train.latest_checkpoint(directory)`` find the last of
    ``prefix_names`` (all of them listed, oldest first, as TensorFlow writes it)."""
    from tts_adapt.fsutil import write_text_atomic

    def quoted(name: str) -> str:
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"model_checkpoint_path: {quoted(prefix_names[-1])}"]
    lines += [f"all_model_checkpoint_paths: {quoted(name)}" for name in prefix_names]
    write_text_atomic(Path(directory) / "checkpoint", "\n".join(lines) + "\n")
