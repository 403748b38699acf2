"""Benchmark: one training step, side by side across source trees and runtime settings (a lever's ratio).

Each variant is a source tree (``git worktree add /tmp/base <commit>`` for the code of a
commit; ``.`` for the working tree) and optional settings: ``intra``/``inter`` op threads
(default: training's ``configure_threads``), ``onednn=0|1`` (``TF_ENABLE_ONEDNN_OPTS``),
``feed=pipeline`` (the steps read the pipeline's iterator instead of batches already in
memory), ``data=PREPARED`` (another cache: a single-speaker one feeds speaker 0). Every variant runs in a fresh process that imports its tree's ``tts_adapt``
(checked by path) and times the training loop's own step (``make_steps``) at the bundled
model's config and weights on the same batches: the pipeline's first ``--batches`` of
``exp/pretrain/prepared`` (seed 0). Variants are interleaved round by round, so a busy
spell on a shared machine hits all of them; a variant's time is the median of its rounds,
and its ratio is the median over rounds of (first variant's s/step / its own) in that round.

    .venv/bin/python benchmarks/step_speedup.py --variant today=/tmp/base --variant new=. \\
        [--rounds 3] [--record NAME --json benchmarks/results/step_speedup.json --note "what changed"]

``--record`` keeps the run in the results file under NAME (replacing an older run of that name).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "data" / "pretrained" / "multispeaker"
DATA = REPO / "exp" / "pretrain" / "prepared"
SETTINGS = ("intra", "inter", "onednn", "feed", "data")


def parse_variant(text: str) -> dict:
    """LABEL=PATH[:key=value,...]"""
    label, _, rest = text.partition("=")
    path, _, options = rest.partition(":")
    settings = dict(option.split("=", 1) for option in options.split(",") if option)
    unknown = set(settings) - set(SETTINGS)
    if not label or not path or unknown:
        raise SystemExit(f"--variant {text!r}: expected LABEL=PATH[:key=value,...] with keys {', '.join(SETTINGS)}")
    return {"label": label, "path": str(Path(path).resolve()), "settings": settings}


def child(variant: dict, args) -> dict:
    """Time one variant in a fresh process that imports only its own tree's tts_adapt."""
    settings = variant["settings"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": variant["path"]}
    if "onednn" in settings:
        env["TF_ENABLE_ONEDNN_OPTS"] = settings["onednn"]
    command = [sys.executable, __file__, "--child", json.dumps(variant), "--batches", str(args.batches),
               "--passes", str(args.passes)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"variant {variant['label']} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def run_child(variant: dict, batches: int, passes: int) -> dict:
    import tts_adapt

    if not Path(tts_adapt.__file__).resolve().is_relative_to(Path(variant["path"])):
        raise SystemExit(f"imported {tts_adapt.__file__}, not the tree {variant['path']}")
    settings = variant["settings"]
    if "intra" in settings or "inter" in settings:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(settings.get("intra", 0)))
        tf.config.threading.set_inter_op_parallelism_threads(int(settings.get("inter", 0)))
    else:
        from tts_adapt.training.runtime import configure_threads

        configure_threads()
    import tensorflow as tf

    from tts_adapt.corpus.dataset import make_dataset
    from tts_adapt.model.loading import load_model
    from tts_adapt.training.config import TrainingConfig
    from tts_adapt.training.loop import make_optimizer, make_steps
    from tts_adapt.training.runtime import set_seed

    set_seed(0)
    loaded = load_model(MODEL)
    training = TrainingConfig(batch_size=32)
    step, _ = make_steps(loaded.model, make_optimizer(training), training, loaded.model.trainable_variables)
    data = Path(settings.get("data", DATA))
    # raw, not corpus.prepared.read_info: this runs inside each variant's tree, and trees from before the
    # typed record (the code issue 24 started from) have no reader to call
    cached = json.loads((data / "prepared.json").read_text(encoding="utf-8"))["speakers"]
    speakers = list(loaded.speakers) if set(cached) <= set(loaded.speakers) else None
    dataset = make_dataset(data, loaded.table, speakers, 32, loaded.model.config.reduction, seed=0,
                           cleaners=loaded.cleaners).take(batches)
    fixed = list(dataset)
    scalars = (tf.constant(training.learning_rate), tf.constant(1.0))
    for batch in fixed:  # trace, and warm every batch shape
        float(step(batch, *scalars)["loss"])
    times = []
    started_all = time.perf_counter()
    for _ in range(passes):
        source = iter(dataset) if settings.get("feed") == "pipeline" else fixed
        started = time.perf_counter()
        for batch in source:
            float(step(batch, *scalars)["loss"])
        times.append((time.perf_counter() - started) / batches)
    return {"label": variant["label"], "s_per_step": float(np.median(times)), "passes": times,
            "wall_s": time.perf_counter() - started_all, "tts_adapt": tts_adapt.__file__,
            "batches": [[int(b["text"].shape[1]), int(b["mel"].shape[1])] for b in fixed]}


def summarise(variants: list[dict], rounds: list[list[dict]]) -> list[dict]:
    base = [r[0]["s_per_step"] for r in rounds]
    summary = []
    for i, variant in enumerate(variants):
        times = [r[i]["s_per_step"] for r in rounds]
        summary.append({**variant, "s_per_step": float(np.median(times)), "rounds": times,
                        "ratio": float(np.median([b / t for b, t in zip(base, times)])),
                        "ratio_range": [float(min(b / t for b, t in zip(base, times))),
                                        float(max(b / t for b, t in zip(base, times)))]})
    return summary


def paired_ratio(before: list[float], after: list[float]) -> float:
    """Median over rounds of before / after, each round's pair measured back to back."""
    return float(np.median([b / a for b, a in zip(before, after)]))


def markdown(results: dict) -> str:
    """Every recorded run (docs/benchmarks.md renders the committed JSON with this)."""
    lines = ["| run | variant | s/step (median of rounds) | speed vs the run's first | range over rounds | "
             "the lever alone (vs the row above) |", "|---|---|---|---|---|---|"]
    for name, run in results["runs"].items():
        for i, v in enumerate(run["variants"]):
            settings = ", ".join(f"{k}={x}" for k, x in v["settings"].items())
            label = v["label"] + (f" ({settings})" if settings else "")
            ladder = i and run.get("ladder")  # each variant adds one lever to the one above
            above = f"{paired_ratio(run['variants'][i - 1]['rounds'], v['rounds']):.2f}x" if ladder else "-"
            ratio = f"**{v['ratio']:.2f}x**" if i else "1.00x"
            lines.append(f"| {name if i == 0 else ''} | {label} | {v['s_per_step']:.3f} | {ratio} | "
                         f"{v['ratio_range'][0]:.2f}-{v['ratio_range'][1]:.2f} | {above} |")
    lines.append("")
    lines += [f"* **{name}** ({run['verdict'] + '; ' if run['verdict'] else ''}{run['rounds']} rounds, load average "
              f"{run['load_average']:.1f}){': ' + run['note'] if run['note'] else ''}"
              for name, run in results["runs"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", default=[], help="LABEL=PATH[:key=value,...]; first = 1.00x")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the batches per process")
    parser.add_argument("--record", help="keep this run in --json under this name")
    parser.add_argument("--verdict", default="", help="with --record: what was kept of it")
    parser.add_argument("--note", default="", help="with --record: what the variants differ by")
    parser.add_argument("--ladder", action="store_true", help="with --record: each variant adds one lever to the "
                        "one before it (the table then gives each lever's own ratio)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "step_speedup.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(json.loads(args.child), args.batches, args.passes)))
        return
    variants = [parse_variant(v) for v in args.variant]
    if len(variants) < 2 or len({v["label"] for v in variants}) < len(variants):
        parser.error("give at least two --variant, each with its own label")
    load = os.getloadavg()[0]
    rounds = []
    for number in range(args.rounds):
        order = variants if number % 2 == 0 else variants[::-1]  # neither always runs first
        done = {}
        for variant in order:
            print(f"round {number + 1}/{args.rounds}: {variant['label']} ...", file=sys.stderr, flush=True)
            done[variant["label"]] = child(variant, args)
        rounds.append([done[v["label"]] for v in variants])
    summary = summarise(variants, rounds)
    print(f"batches (symbols, frames): {rounds[0][0]['batches']}; load average before: {load:.1f}")
    for v in summary:
        print(f"{v['label']:<24} {v['s_per_step']:.3f} s/step  {v['ratio']:.2f}x "
              f"({v['ratio_range'][0]:.2f}-{v['ratio_range'][1]:.2f})  rounds {[round(t, 3) for t in v['rounds']]}")
    if args.record:
        path = Path(args.json)
        results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": {}}
        results["runs"][args.record] = {
            "verdict": args.verdict, "note": args.note, "ladder": args.ladder, "rounds": args.rounds,
            "load_average": load,
            "cpu_count": os.cpu_count(), "batches": rounds[0][0]["batches"],
            "variants": [{k: v[k] for k in ("label", "settings", "s_per_step", "rounds", "ratio", "ratio_range")}
                         for v in summary]}
        path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
