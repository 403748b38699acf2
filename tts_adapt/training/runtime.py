"""Process-wide TensorFlow settings for training and synthesis."""

from __future__ import annotations

import os

SMALL_MACHINE_CORES = 2


def configure_threads() -> None:
    """On small CPUs use 1 intra-op / 2 inter-op threads: faster steps there (docs/benchmarks.md).

    Must run before TensorFlow executes its first op; later calls are ignored.
    """
    import tensorflow as tf

    if (os.cpu_count() or 1) > SMALL_MACHINE_CORES or tf.config.list_physical_devices("GPU"):
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:  # the runtime is already initialised (e.g. inside a test session)
        pass


def set_seed(seed: int) -> None:
    """Python, NumPy and TensorFlow/Keras seeds: same seed, same initial weights and data order."""
    import keras

    keras.utils.set_random_seed(seed)
