"""Benchmark: training throughput on one device vs ``MirroredStrategy`` vs two local workers.

The step is the training loop's own (``tts_adapt.training.loop.make_steps``) on the same
global batch, fed through ``strategy.experimental_distribute_dataset`` as ``train`` does:

* ``one``: the default strategy, one device;
* ``mirrored``: ``MirroredStrategy`` over every GPU, or on a CPU-only machine over two
  logical CPU devices that share its cores;
* ``two_workers``: ``MultiWorkerMirroredStrategy``, two processes on 127.0.0.1 (``TF_CONFIG``
  as in docs/distributed.md), each with one device; both time the same steps.

Each setting runs in fresh processes, side by side in one run; the first steps (tracing)
are not timed. ``--precision`` picks the Keras policy (``mixed_bfloat16`` / ``mixed_float16``
are for accelerators; on a CPU they mostly add casts). Prints steps/s, samples/s and the ratio
to one device.

    .venv/bin/python benchmarks/train_throughput.py [--preset small] [--batch-size 32] [--steps 20]
        [--modes one,mirrored,two_workers] [--precision float32] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("one", "mirrored", "two_workers")
WARMUP = 3


def measure(args) -> dict:
    """Time ``args.steps`` steps in this process under the strategy its environment sets up."""
    import tensorflow as tf

    if args.child == "mirrored" and not tf.config.list_physical_devices("GPU"):
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from train_step import N_SPEAKERS, N_SYMBOLS, synthetic_batch

    from tts_adapt.model.config import preset
    from tts_adapt.model.tacotron import Tacotron
    from tts_adapt.training.config import TrainingConfig
    from tts_adapt.training.distribute import place, set_precision
    from tts_adapt.training.loop import make_optimizer, make_steps
    from tts_adapt.training.runtime import configure_threads, set_seed

    if args.child == "one":
        configure_threads()
    placement = place({"one": "default", "mirrored": "mirrored", "two_workers": "multi-worker"}[args.child])
    set_precision(args.precision)
    config = preset(args.preset)
    batch = synthetic_batch(config, args.batch_size)
    training = TrainingConfig(batch_size=args.batch_size)
    with placement.strategy.scope():
        set_seed(0)
        model = Tacotron(config, N_SYMBOLS, N_SPEAKERS)
        optimizer = make_optimizer(training)
        optimizer.build(model.trainable_variables)
    dataset, spec = placement.distribute(tf.data.Dataset.from_tensors(batch).repeat())
    with placement.strategy.scope():
        step, _ = make_steps(model, optimizer, training, model.trainable_variables, placement.strategy, spec)
    batches = iter(dataset)
    rate, weight = tf.constant(training.learning_rate), tf.constant(1.0)
    for _ in range(WARMUP):
        float(step(next(batches), rate, weight)["loss"])
    started = time.perf_counter()
    for _ in range(args.steps):
        loss = float(step(next(batches), rate, weight)["loss"])  # forces each step to finish
    seconds = time.perf_counter() - started
    return {"mode": args.child, "replicas": placement.replicas, "workers": placement.workers,
            "steps_per_s": args.steps / seconds, "samples_per_s": args.steps * args.batch_size / seconds,
            "loss": loss, "devices": [d.name for d in tf.config.list_logical_devices()
                                      if d.device_type in ("CPU", "GPU")]}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run_mode(mode: str, args) -> dict:
    """One setting in fresh processes; a failure is a result too."""
    command = [sys.executable, __file__, "--child", mode, "--preset", args.preset, "--batch-size",
               str(args.batch_size), "--steps", str(args.steps), "--precision", args.precision]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    envs = [env]
    if mode == "two_workers":
        cluster = {"worker": [f"127.0.0.1:{p}" for p in free_ports(2)]}
        envs = [{**env, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})}
                for i in range(2)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
                 for e in envs]
    try:
        outputs = [p.communicate(timeout=args.timeout) for p in processes]
    except subprocess.TimeoutExpired:
        outputs = None
    finally:
        for p in processes:  # always reaped
            if p.poll() is None:
                p.kill()
                p.communicate()
    if outputs is None:
        return {"mode": mode, "error": f"timed out after {args.timeout} s"}
    results = []
    for process, (out, err) in zip(processes, outputs):
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            return {"mode": mode, "error": f"exit {process.returncode}: {(err.strip().splitlines() or ['?'])[-1]}"}
        results.append(json.loads(lines[-1]))
    slowest = min(results, key=lambda r: r["steps_per_s"])  # a step is done when every worker is done
    return {**slowest, "processes": len(results)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--batch-size", type=int, default=32, help="the global batch")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per setting")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)), flush=True)
        return 0
    results = [run_mode(mode, args) for mode in args.modes.split(",")]
    base = next((r for r in results if r["mode"] == "one" and "error" not in r), None)
    print(f"{'setting':<12} {'replicas':>8} {'steps/s':>8} {'samples/s':>10} {'vs one':>7}")
    for r in results:
        if "error" in r:
            print(f"{r['mode']:<12} {r['error']}")
            continue
        ratio = f"{r['samples_per_s'] / base['samples_per_s']:.2f}" if base else "-"
        print(f"{r['mode']:<12} {r['replicas']:>8} {r['steps_per_s']:>8.3f} {r['samples_per_s']:>10.1f} {ratio:>7}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"preset": args.preset, "batch_size": args.batch_size,
                                         "precision": args.precision, "steps": args.steps,
                                         "cpu_count": os.cpu_count(), "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
