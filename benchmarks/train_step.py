"""Benchmark: one training step at the pretrained config, eager vs ``tf.function`` vs ``jit_compile=True``.

The step is the training loop's own (``tts_adapt.training.loop.make_steps``: forward,
L1+L2 mel / stop / guided-attention losses, gradients, clipping, Adam):

* eager: its Python body run op by op;
* tf.function: exactly what ``train``/``finetune`` run (one trace for every batch shape);
* xla: the same step with its forward and backward pass under ``jit_compile=True``
  (``train --xla``; compiled per batch shape).

Each mode runs in a fresh process (same thread settings as training), side by side in
one run, on one fixed batch: by default synthetic with the pretraining corpus's
typical lengths (text 36-52 symbols, ~4.5 frames per symbol: median 182 frames),
or the first batch of ``--data PREPARED``. The first step (trace / compile) is timed
apart from the steady state (the median of the timed steps); with ``--repeats`` the
modes are interleaved and each mode's fastest process counts. Target (issue 4): <= 1 s/step at batch 32 on 2 CPU cores.

    .venv/bin/python benchmarks/train_step.py [--preset small] [--batch-size 32] [--steps 10]
        [--eager-steps 2] [--modes eager,function,xla] [--repeats R] [--data PREPARED] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

import numpy as np

MODES = ("eager", "function", "xla")
N_SYMBOLS = 40  # the pretraining table (letters, digits-free punctuation, space)
N_SPEAKERS = 9


def synthetic_batch(config, batch_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    r = config.reduction
    text_len = rng.integers(36, 53, size=batch_size).astype(np.int32)
    mel_len = np.round(text_len * rng.uniform(4.0, 5.0, size=batch_size)).astype(np.int32)
    frames = int(-(-mel_len.max() // r) * r)
    text = rng.integers(1, N_SYMBOLS, size=(batch_size, int(text_len.max()))).astype(np.int32)
    text[np.arange(text.shape[1])[None, :] >= text_len[:, None]] = 0
    mel = np.full((batch_size, frames, config.n_mels), -4.0, np.float32)
    for i, n in enumerate(mel_len):
        mel[i, :n] = rng.uniform(-4, 2, size=(n, config.n_mels))
    stop = (np.arange(frames)[None, :] >= mel_len[:, None] - 1).astype(np.float32)
    return {"text": text, "text_len": text_len, "mel": mel, "mel_len": mel_len, "stop": stop,
            "speaker": rng.integers(0, N_SPEAKERS, size=batch_size).astype(np.int32)}


def data_batch(prepared: str, config, batch_size: int) -> tuple[dict[str, np.ndarray], int, int]:
    """The first batch of the real pipeline, and the table/speaker counts it implies."""
    from tts_adapt.corpus.dataset import make_dataset
    from tts_adapt.corpus.prepared import read_info
    from tts_adapt.symbols.table import SymbolTable

    info = read_info(prepared)
    table = SymbolTable.from_list(list(info.symbols), prepared)
    dataset = make_dataset(prepared, table, list(info.speakers), batch_size, config.reduction, seed=0)
    batch = next(iter(dataset))
    return {k: v.numpy() for k, v in batch.items()}, len(table), len(info.speakers)


def run_mode(mode: str, args) -> dict:
    """Time one mode in this process; returns the measurements."""
    from tts_adapt.training.runtime import configure_threads, set_seed

    configure_threads()
    import tensorflow as tf

    from tts_adapt.model.config import preset
    from tts_adapt.model.tacotron import Tacotron
    from tts_adapt.training.config import TrainingConfig
    from tts_adapt.training.loop import make_optimizer, make_steps

    set_seed(0)
    config = preset(args.preset)
    n_symbols, n_speakers = N_SYMBOLS, N_SPEAKERS
    if args.data:
        batch, n_symbols, n_speakers = data_batch(args.data, config, args.batch_size)
    else:
        batch = synthetic_batch(config, args.batch_size)
    model = Tacotron(config, n_symbols, n_speakers)
    training = TrainingConfig(batch_size=args.batch_size)
    optimizer = make_optimizer(training)
    if mode == "eager":
        tf.config.run_functions_eagerly(True)  # the step's Python body, op by op
    step, _ = make_steps(model, optimizer, training, model.trainable_variables, xla=mode == "xla")
    inputs = ({k: tf.constant(v) for k, v in batch.items()}, tf.constant(training.learning_rate), tf.constant(1.0))

    def timed() -> float:
        started = time.perf_counter()
        float(step(*inputs)["loss"])  # forces the step to finish
        return time.perf_counter() - started

    first = timed()
    steps = args.eager_steps if mode == "eager" else args.steps
    times = [timed() for _ in range(steps)]
    return {
        "mode": mode,
        "first_step_s": first,
        "s_per_step": float(np.median(times)),
        "steps_per_s": 1.0 / float(np.median(times)),
        "timed_steps": steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "params": model.count_params(),
        "batch": {"size": args.batch_size, "text": list(batch["text"].shape), "frames": int(batch["mel"].shape[1])},
    }


def child(mode: str, args) -> dict:
    """Run one mode in a fresh process; a failure (XLA cannot compile, out of memory) is a result too."""
    command = [sys.executable, __file__, "--child", mode, "--preset", args.preset, "--batch-size",
               str(args.batch_size), "--steps", str(args.steps), "--eager-steps", str(args.eager_steps)]
    if args.data:
        command += ["--data", args.data]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        errors = [line for line in done.stderr.splitlines() if re.match(r"^[\w.]+(Error|Exception): ", line)]
        reason = (errors or done.stderr.strip().splitlines() or ["no output"])[-1]
        reason = re.sub(r"^[\w.]*\.(?=\w+(Error|Exception): )", "", reason)  # keep the class name, not its module
        return {"mode": mode, "error": f"exit {done.returncode}: {reason}"}
    return json.loads(lines[-1])


def best_run(runs: list[dict]) -> dict:
    """The fastest successful run (the least disturbed by other load), or the first failure."""
    ok = [r for r in runs if "error" not in r]
    return min(ok, key=lambda r: r["s_per_step"]) if ok else runs[0]


def print_table(results: list[dict], args) -> None:
    ok = {r["mode"]: r for r in results if "error" not in r}
    base = ok.get("function")
    first = next(iter(ok.values()), None)
    if first:
        b = first["batch"]
        print(f"preset {args.preset} ({first['params']:,} parameters), batch {b['size']}: text {b['text']}, "
              f"{b['frames']} mel frames; {os.cpu_count()} CPU cores")
    print(f"{'mode':<10} {'first step s':>12} {'s/step':>8} {'steps/s':>8} {'vs tf.function':>15} {'peak RSS MB':>12}")
    for r in results:
        if "error" in r:
            print(f"{r['mode']:<10} failed: {r['error']}")
            continue
        ratio = f"{base['s_per_step'] / r['s_per_step']:.2f}x speed" if base else "-"
        print(f"{r['mode']:<10} {r['first_step_s']:>12.2f} {r['s_per_step']:>8.3f} {r['steps_per_s']:>8.2f} "
              f"{ratio:>15} {r['peak_rss_mb']:>12.0f}")
    if base:
        verdict = "meets" if base["s_per_step"] <= 1.0 else "misses"
        print(f"tf.function: {base['s_per_step']:.3f} s/step {verdict} the <= 1 s/step target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="small", help="model preset (default: small, the pretrained model's)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed steps after the first (graph modes)")
    parser.add_argument("--eager-steps", type=int, default=2, help="timed steps after the first (eager is slow)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {','.join(MODES)}")
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per mode; the fastest counts")
    parser.add_argument("--data", metavar="PREPARED", help="take the batch from a prepared cache")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_mode(args.child, args)))
        return
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown modes {', '.join(unknown)}")
    load = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for repeat in range(args.repeats):  # modes interleaved, so a busy spell on a shared machine hits all of them
        for mode in modes:
            print(f"running {mode} ({repeat + 1}/{args.repeats}) ...", file=sys.stderr, flush=True)
            runs[mode].append(child(mode, args))
    results = [best_run(runs[mode]) for mode in modes]
    print_table(results, args)
    print(f"load average before the run: {load:.2f} (other work on the machine slows every mode)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"preset": args.preset, "cpu_count": os.cpu_count(), "load_average": load,
                       "repeats": args.repeats, "results": results, "runs": runs}, handle, indent=2)


if __name__ == "__main__":
    main()
