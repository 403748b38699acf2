"""Runs in a fresh process for test_distribute.py: logical CPU devices exist only if configured
before TensorFlow starts, which the test process has long done.

    python distributed_worker.py PREPARED ROOT CONFIG.yaml

Trains the same tiny model (dropout off, so every run computes the same function) four ways
on the same data, each into ROOT/<name>: one device for 5 steps; mirrored over two devices
for 3 steps then resumed on one device to 5; one device for 3 then resumed mirrored to 5.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from tts_adapt.training.distribute import place  # noqa: E402
from tts_adapt.training.loop import train  # noqa: E402
from tts_adapt.training.session import new_training  # noqa: E402

OVERRIDES = {"batch_size": 4, "log_every": 1, "val_every": 1000, "checkpoint_every": 1000}


def run(strategy: str, prepared: Path, output: Path, config: str, steps: int) -> None:
    placement = place(strategy)
    with placement.strategy.scope():
        training = new_training(prepared, output, config, overrides={**OVERRIDES, "steps": steps},
                                placement=placement)
    summary = train(training)
    print(f"{output.name}: {strategy} with {placement.replicas} replicas to step {summary.step}", flush=True)


def main() -> None:
    prepared, root, config = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    run("default", prepared, root / "one_device", config, 5)
    run("mirrored", prepared, root / "mirrored_then_one", config, 3)
    run("default", prepared, root / "mirrored_then_one", config, 5)
    run("default", prepared, root / "one_then_mirrored", config, 3)
    run("mirrored", prepared, root / "one_then_mirrored", config, 5)


if __name__ == "__main__":
    main()
