"""What a stage run beside fine-tuning costs it: the training's time alone, and with the scoring beside it.

A voice recipe scores the adapted model (stage 8: ``synthesize`` and ``evaluate``) beside fine-tuning
(stage 6), at the lowest CPU priority (recipes/common/stages.sh, ``run_stage_beside``): the training step
keeps about 1.7 of 2 cores busy, and the scoring is meant to run on the rest. Whether it does, or slows
the training it shares the machine with (caches, memory bandwidth, the moments both want a core), is
measured here, side by side in one run: ``tts-adapt finetune --steps N`` from the same adapted model, alone
and with ``nice -n 19 tts-adapt evaluate`` started beside it (the stage's heavier half), in alternating
rounds. Each scoring starts with an empty hearing cache, so it has the whole of its work to do.

    .venv/bin/python benchmarks/beside.py --exp exp/allison [--steps 200] [--rounds 2] [--json FILE]

Reads ``EXP/adapted``, ``EXP/prepared`` and ``EXP/prepared_heldout`` (a voice recipe's stages 1-5).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOL = [sys.executable, "-m", "tts_adapt"]


def fine_tune(exp: Path, steps: int, work: Path, beside: bool) -> dict:
    """One fine-tuning run's wall and CPU seconds; with ``beside``, the scoring's as it stood when training ended."""
    output = work / "finetune"
    shutil.rmtree(output, ignore_errors=True)
    scoring = None
    if beside:
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        scoring = subprocess.Popen(
            ["nice", "-n", "19", *TOOL, "evaluate", str(exp / "adapted"), "--data", str(exp / "prepared_heldout"),
             "--split", "all", "--cache", str(cache), "--format", "json"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began, cpu_before = time.monotonic(), _children_cpu()
    subprocess.run([*TOOL, "finetune", str(exp / "adapted"), "--data", str(exp / "prepared"), "--output", str(output),
                    "--steps", str(steps)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took, cpu = time.monotonic() - began, _children_cpu() - cpu_before
    row = {"beside": beside, "seconds": took, "cpu_seconds": cpu}
    if scoring is not None:
        heard = sum(1 for _ in (work / "cache" / "heard").glob("*.json")) if (work / "cache" / "heard").is_dir() else 0
        row["heard_beside"] = heard  # audio the scoring had heard by the time training ended
        finished = scoring.poll() is not None
        row["scoring_finished"] = finished
        if not finished:
            scoring.terminate()
        scoring.wait()
    return row


def markdown(result: dict) -> str:
    """The runs as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    lines = [f"{result['cpu_count']} CPUs, `tts-adapt finetune --steps {result['steps']}` from one adapted model, "
             "alone and with `nice -n 19 tts-adapt evaluate` (40 held-out recordings, an empty hearing cache) "
             "started beside it, in alternating rounds.", "",
             "| round | scoring beside | fine-tuning wall | its CPU | audio heard beside it by the end |",
             "|---|---|---|---|---|"]
    for row in result["runs"]:
        heard = f"{row['heard_beside']}" + ("" if row.get("scoring_finished") else " (still scoring)") \
            if row["beside"] else "-"
        lines.append(f"| {row['round'] + 1} | {'yes' if row['beside'] else 'no'} | {row['seconds']:.0f} s | "
                     f"{row['cpu_seconds']:.0f} s | {heard} |")
    alone = [r["seconds"] for r in result["runs"] if not r["beside"]]
    beside = [r["seconds"] for r in result["runs"] if r["beside"]]
    lines += ["", f"Median: alone {result['alone_s']:.0f} s [{min(alone):.0f}-{max(alone):.0f}], beside the scoring "
                  f"{result['beside_s']:.0f} s [{min(beside):.0f}-{max(beside):.0f}]: **{result['ratio']:.2f}x**."]
    return "\n".join(lines)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", type=Path, required=True, help="a voice recipe's exp folder, stages 1-5 done")
    parser.add_argument("--steps", type=int, default=200, help="fine-tuning steps per run")
    parser.add_argument("--rounds", type=int, default=2, help="alone-then-beside pairs, alternating which goes first")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="beside_") as folder:
        for round_ in range(args.rounds):
            for beside in ((False, True) if round_ % 2 == 0 else (True, False)):
                row = fine_tune(args.exp, args.steps, Path(folder), beside) | {"round": round_}
                rows.append(row)
                print(json.dumps(row), flush=True)
    alone = statistics.median(r["seconds"] for r in rows if not r["beside"])
    with_scoring = statistics.median(r["seconds"] for r in rows if r["beside"])
    result = {"cpu_count": os.cpu_count(), "steps": args.steps, "runs": rows, "alone_s": alone,
              "beside_s": with_scoring, "ratio": with_scoring / alone}
    print(f"fine-tuning {args.steps} steps: alone {alone:.1f} s, with the scoring beside it {with_scoring:.1f} s: "
          f"{with_scoring / alone:.3f}x (median of {args.rounds} each); audio heard beside it: "
          f"{[r['heard_beside'] for r in rows if r['beside']]}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
