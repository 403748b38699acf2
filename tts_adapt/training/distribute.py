"""Where a training run executes: one device, every local device, or several machines.

All three are TensorFlow's own ``tf.distribute`` strategies, chosen with ``--strategy``:

* ``default``: one device (TensorFlow's default strategy: no copies, no all-reduce);
* ``mirrored``: ``MirroredStrategy`` over every local GPU (or every logical CPU device);
* ``multi-worker``: ``MultiWorkerMirroredStrategy``; each process reads ``TF_CONFIG``
  (the cluster's addresses and its own task) as TensorFlow documents.

``--batch-size`` is always the *global* batch: each step splits it over the replicas, and
losses and batch statistics are normalised over the global batch (see
:mod:`tts_adapt.training.losses`), so the learning rate is not rescaled.

Every worker runs the same code; only the chief writes to ``--output``. The others write
the same files to a scratch folder of their own, removed when they finish, so no branch
of the training loop depends on the worker. ``--output`` must be readable by every worker
(a shared filesystem): a rerun resumes all of them from the chief's newest checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_adapt.errors import UserError
from tts_adapt.structured import parse_json

STRATEGIES = ("default", "mirrored", "multi-worker")
_JOBS = ("chief", "worker")  # the jobs of a multi-worker cluster (no parameter servers, no evaluator)
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass
class Placement:
    """The strategy of this process and its part in the cluster."""

    strategy: Any  # tf.distribute.Strategy
    name: str  # one of STRATEGIES
    chief: bool = True
    worker: int = 0
    workers: int = 1
    scratch: Path | None = field(default=None, repr=False)

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def output(self, output: Path) -> Path:
        """Where this process writes: ``output`` on the chief, its own scratch folder on the others."""
        if self.chief:
            return Path(output)
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix=f"tts-adapt-worker{self.worker}-"))
        return self.scratch

    def agree(self, value: bool) -> bool:
        """The chief's ``value`` on every worker. Also a barrier: nobody returns before every worker has asked,
        so what each worker reads from ``--output`` before it is the same for all."""
        if self.workers == 1:
            return value
        import tensorflow as tf

        mine = tf.constant(1.0 if (value and self.chief) else 0.0)

        @tf.function
        def chief_value():
            replica = lambda: tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, mine)  # noqa: E731
            return self.strategy.run(replica)

        return float(self.strategy.experimental_local_results(chief_value())[0]) > 0

    def distribute(self, dataset) -> tuple[Any, Any]:
        """``(batches, their spec)`` for a step on this placement: on one device the dataset as it is
        (spec None), else each global batch split over the replicas. Every worker reads the same
        seeded stream and keeps its part of each batch (the data is in memory, not in files to split)."""
        if self.replicas == 1 and self.workers == 1:
            return dataset, None
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        distributed = self.strategy.experimental_distribute_dataset(dataset.with_options(options))
        return distributed, distributed.element_spec

    def describe(self, global_batch: int) -> str:
        """One line for the log: where the steps run and what the batch and learning rate mean there."""
        if self.replicas == 1 and self.workers == 1:
            return f"strategy {self.name}: one device, batch {global_batch}"
        share = f"{global_batch / self.replicas:g}"
        where = f"{self.replicas} replicas" + (f" on {self.workers} workers (this is worker {self.worker}"
                                               f"{', the chief' if self.chief else ''})" if self.workers > 1 else "")
        return (f"strategy {self.name}: {where}; global batch {global_batch} (about {share} per replica), "
                "losses over the global batch, learning rate not rescaled")

    def close(self) -> None:
        """Remove a non-chief worker's scratch output."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def place(name: str = "default") -> Placement:
    """Build the strategy ``name``; must run before TensorFlow executes its first op (multi-worker)."""
    import tensorflow as tf

    if name == "default":
        return Placement(tf.distribute.get_strategy(), name)
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return Placement(tf.distribute.MirroredStrategy([d.name for d in devices]), name)
    if name == "multi-worker":
        cluster, task = _tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        members = [(job, i) for job in ("chief", "worker") for i in range(len(cluster.get(job, [])))]
        chief = task == (("chief", 0) if "chief" in cluster else ("worker", 0))
        return Placement(strategy, name, chief=chief, worker=members.index(task), workers=len(members))
    raise UserError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def _tf_config() -> tuple[dict[str, list[str]], tuple[str, int]]:
    """``(cluster, (task type, index))`` from ``TF_CONFIG``, checked so a typo is one clear line."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise UserError("--strategy multi-worker needs TF_CONFIG: the cluster's worker addresses and this "
                        "process's task (see docs/distributed.md)")
    config = parse_json(raw, "TF_CONFIG")
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    # every shape is checked here: TensorFlow's own complaints about it are tracebacks
    if not (isinstance(cluster, dict) and cluster and set(cluster) <= set(_JOBS)
            and all(isinstance(hosts, list) and all(isinstance(h, str) and h for h in hosts)
                    for hosts in cluster.values())
            and len(cluster.get("chief", [])) <= 1):
        raise UserError("TF_CONFIG: 'cluster' must map 'worker' (and at most one 'chief') to lists of "
                        f"'host:port' addresses, got {_shown(cluster)}")
    index = task.get("index") if isinstance(task, dict) else None
    if not (isinstance(task, dict) and task.get("type") in _JOBS and isinstance(index, int)
            and not isinstance(index, bool) and index >= 0):
        raise UserError(f"TF_CONFIG: 'task' must be {{'type': 'worker' or 'chief', 'index': N}}, got {_shown(task)}")
    key = (task["type"], index)
    if key[1] >= len(cluster.get(key[0], [])):
        raise UserError(f"TF_CONFIG: task {key[0]} {key[1]} is not in the cluster {_shown(cluster)}")
    return cluster, key


def _shown(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def set_precision(name: str) -> None:
    """Keras's global dtype policy for the layers built from now on (variables stay float32).

    ``mixed_float16`` also makes :func:`~tts_adapt.training.loop.make_optimizer` scale the loss.
    """
    import keras

    if name not in PRECISIONS:
        raise UserError(f"unknown precision {name!r}; choose one of {', '.join(PRECISIONS)}")
    keras.mixed_precision.set_global_policy(name)
