"""Benchmark: does a changed training step learn the same thing? Validation loss, before and after, over seeds.

A faster step must not learn differently. Each variant is a source tree (as in
``step_speedup.py``); each runs ``tts-adapt finetune`` of the same adapted checkpoint on the same
prepared data for ``--steps`` steps with each seed, validating every ``--val-every`` steps, in a
fresh process that imports that tree (checked by path). Runs alternate between the variants
seed by seed. Dropout and data order follow the seed but not bit for bit across trees (a
changed graph draws its random numbers differently), so the question is whether the variants'
validation losses lie within each other's run-to-run spread.

    .venv/bin/python benchmarks/step_learning.py --variant before=/tmp/base --variant after=. \\
        [--adapted exp/allison/adapted --data exp/allison/prepared --steps 200 --seeds 0,1,2] [--json FILE]
    .venv/bin/python benchmarks/step_learning.py --add-to RESULTS.json --variant another=/tmp/another --json FILE
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tts_adapt.training.loop import TrainingSummary

REPO = Path(__file__).resolve().parents[1]


def parse_variant(text: str) -> dict:
    label, _, path = text.partition("=")
    if not label or not path:
        raise SystemExit(f"--variant {text!r}: expected LABEL=PATH")
    return {"label": label, "path": str(Path(path).resolve())}


def validation_losses(metrics: Path) -> dict[int, float]:
    """val_loss by step from a run's metrics.csv."""
    with metrics.open(encoding="utf-8") as handle:
        return {int(row["step"]): float(row["val_loss"]) for row in csv.DictReader(handle) if row.get("val_loss")}


def finetune(variant: dict, seed: int, args, work: Path) -> dict:
    output = work / f"{variant['label']}_seed{seed}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": variant["path"]}
    # run outside the repository: python -c / -m put the working folder first on sys.path
    check = subprocess.run([sys.executable, "-c", "import tts_adapt; print(tts_adapt.__file__)"], env=env,
                           capture_output=True, text=True, check=True, cwd=work)
    if not Path(check.stdout.strip()).resolve().is_relative_to(Path(variant["path"])):
        raise SystemExit(f"variant {variant['label']} imports {check.stdout.strip()}, not its tree")
    command = [sys.executable, "-m", "tts_adapt", "finetune", str(args.adapted.resolve()), "--data",
               str(args.data.resolve()),
               "--output", str(output), "--steps", str(args.steps), "--seed", str(seed),
               "--val-every", str(args.val_every), "--checkpoint-every", str(args.steps), "--format", "json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    if done.returncode != 0:
        raise SystemExit(f"{variant['label']} seed {seed} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    printed = json.loads(done.stdout[done.stdout.index("{"):])
    summary = TrainingSummary.from_json(printed, f"{variant['label']} seed {seed}: finetune --format json")
    start = summary.step - summary.steps_run  # the adapted checkpoint's step: validations count from it
    losses = validation_losses(output / "metrics.csv")
    return {"seed": seed, "val_loss": {step - start: loss for step, loss in losses.items()},
            "steps_per_second": summary.steps_per_second}


def markdown(results: dict) -> str:
    """Validation loss per seed and variant (docs/benchmarks.md renders the committed JSON with this)."""
    steps = sorted({int(s) for v in results["variants"] for run in v["runs"] for s in run["val_loss"]})
    last = str(steps[-1])
    lines = [f"`finetune` of `{results['adapted']}` on `{results['data']}`, {results['steps']} steps, "
             f"seeds {', '.join(str(s) for s in results['seeds'])}; validation loss at step "
             f"{', '.join(str(s) for s in steps)} (mean over seeds, and the range at the last).", "",
             "| variant | " + " | ".join(f"step {s}" for s in steps) + " | last: range over seeds |",
             "|---|" + "---|" * len(steps) + "---|"]
    for v in results["variants"]:
        means = [np.mean([run["val_loss"][str(s)] for run in v["runs"]]) for s in steps]
        finals = [run["val_loss"][last] for run in v["runs"]]
        lines.append(f"| {v['label']} | " + " | ".join(f"{m:.4f}" for m in means)
                     + f" | {min(finals):.4f}-{max(finals):.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", default=[], help="LABEL=PATH (a source tree)")
    parser.add_argument("--adapted", type=Path, default=REPO / "exp" / "allison" / "adapted")
    parser.add_argument("--data", type=Path, default=REPO / "exp" / "allison" / "prepared")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--val-every", type=int, default=50)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--add-to", type=Path, metavar="JSON",
                        help="an earlier run's results: run only the new --variant(s), with its steps and seeds, "
                             "and write them beside its variants (the earlier runs are not repeated)")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    earlier = json.loads(args.add_to.read_text(encoding="utf-8")) if args.add_to else {"variants": []}
    if args.add_to:
        args.steps, args.seeds = earlier["steps"], ",".join(str(s) for s in earlier["seeds"])
    labels = [v["label"] for v in earlier["variants"]] + [v["label"] for v in variants]
    if len(labels) < 2 or len(set(labels)) < len(labels) or not variants:
        parser.error("give at least two variants in all (--variant, and those of --add-to), each with its own label")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[dict]] = {v["label"]: [] for v in variants}

    def results() -> dict:
        """What is measured so far, written after every run: an hour of runs survives a failure in the next."""
        done = {key: value for key, value in earlier.items() if key != "variants"}
        done |= {"adapted": earlier.get("adapted", shown(args.adapted)), "data": earlier.get("data", shown(args.data)),
                 "steps": args.steps, "seeds": seeds, "cpu_count": os.cpu_count(),
                 "variants": earlier["variants"] + [{"label": v["label"], "runs": runs[v["label"]]}
                                                    for v in variants]}
        done = json.loads(json.dumps(done))  # steps as the JSON file has them (strings)
        if args.json:
            Path(args.json).write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
        return done

    with tempfile.TemporaryDirectory() as work:
        for number, seed in enumerate(seeds):
            for variant in variants if number % 2 == 0 else variants[::-1]:
                print(f"seed {seed}: {variant['label']} ...", file=sys.stderr, flush=True)
                runs[variant["label"]].append(finetune(variant, seed, args, Path(work)))
                results()
    print(markdown(results()))


def shown(path: Path) -> str:
    """A path as the results file names it: relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


if __name__ == "__main__":
    main()
