"""The floor hearing sets under a voice recipe's scoring (stages 8-9), beside its fine-tuning.

Issue 24 asks for samples and scoring in <= 15 % of the fine-tuning stage's time. Most of their
work is hearing: the recogniser and the pitch tracker, run in one worker process per CPU while
TensorFlow decodes and renders. This runs the recipe's two scorings as its stages do (the adapted
model through the bundled vocoder, then the fine-tuned one through the voice's vocoder, the same
held-out prompts, samples written, one cache shared by the two as ``$exp/cache`` is, but empty at
the start), each in a fresh process, and splits each one's cost: wall time, the process's own CPU
(TensorFlow and the model loading, decoding, rendering, the sample files) and its workers' CPU
(hearing). The floor is the workers' CPU over the CPUs: what hearing alone costs on this machine
however well everything else hides beside it. Both are set beside the recipe's fine-tuning stage
as ``$exp/stages.tsv`` timed it on this machine.

    bash recipes/allison/run.sh          # once: the recipe's models, vocoders and stages.tsv
    .venv/bin/python benchmarks/scoring_floor.py --exp exp/allison --json benchmarks/results/scoring_floor.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_SHARE = 0.15


def measure(result_file: str, argv: list[str]) -> None:
    """In the child: run ``tts-adapt ARGV`` here and write what it cost (the workers are reaped when it ends)."""
    from tts_adapt.cli.main import main

    began, cpu = time.perf_counter(), time.process_time()
    code = main(argv)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(result_file).write_text(json.dumps({
        "code": code, "wall_s": time.perf_counter() - began, "own_cpu_s": time.process_time() - cpu,
        "workers_cpu_s": workers.ru_utime + workers.ru_stime}), encoding="utf-8")


def scorings(exp: Path) -> dict[str, list[str]]:
    """The recipe's stage 8 and 9 evaluations (recipes/common/voice_stages.sh), but for cache and samples."""
    bundled = REPO / "data" / "pretrained" / "vocoder"
    return {"before (stage 8)": [str(exp / "adapted"), "--vocoder", str(bundled)],
            "after (stage 9)": [str(exp / "finetune"), "--vocoder", str(exp / "vocoder")]}


def finetune_seconds(exp: Path) -> float:
    from main_job import stage_times  # the benchmarks are scripts beside each other

    for row in stage_times(exp):
        if row["stage"] == 6:
            return float(row["seconds"])
    raise SystemExit(f"{exp}/stages.tsv has no stage 6: run the recipe first")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        return measure(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", type=Path, default=Path("exp/allison"), help="a voice recipe's finished exp folder")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        cache = Path(work) / "cache"
        for name, model in scorings(args.exp).items():
            before = len(list((cache / "heard").glob("*.json"))) if cache.is_dir() else 0
            samples = Path(work) / f"samples{len(rows)}"
            result = Path(work) / "result.json"
            command = ["evaluate", *model, "--data", str(args.exp / "prepared_heldout"), "--split", "all",
                       "--cache", str(cache), "--samples", str(args.exp / "samples" / "texts.csv"),
                       "--samples-dir", str(samples), "--format", "json"]
            subprocess.run([sys.executable, __file__, "--measure", str(result), *command], check=True,
                           stdout=subprocess.DEVNULL)
            rows[name] = json.loads(result.read_text(encoding="utf-8"))
            rows[name]["heard"] = len(list((cache / "heard").glob("*.json"))) - before
            print(name, rows[name], file=sys.stderr)
    from tts_adapt.workers import available_cpus

    cpus = available_cpus()
    run = {"cpu_count": cpus, "load_average": os.getloadavg()[0], "exp": str(args.exp),
           "finetune_s": finetune_seconds(args.exp), "goal_share": GOAL_SHARE, "scorings": rows}
    print(markdown(run))
    if args.json:
        args.json.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")


def markdown(run: dict) -> str:
    """The run as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    cpus, finetune = run["cpu_count"], run["finetune_s"]
    lines = ["| scoring | wall | own CPU (TensorFlow, files) | hearing CPU (workers) | audio heard | hearing CPU an audio "
             f"| floor: hearing CPU / {cpus} CPUs |", "|---|---|---|---|---|---|---|"]
    for name, row in run["scorings"].items():
        lines.append(f"| {name} | {row['wall_s']:.1f} s | {row['own_cpu_s']:.1f} s | {row['workers_cpu_s']:.1f} s "
                     f"| {row['heard']} | {row['workers_cpu_s'] / max(row['heard'], 1):.2f} s "
                     f"| {row['workers_cpu_s'] / cpus:.1f} s |")
    wall = sum(row["wall_s"] for row in run["scorings"].values())
    floor = sum(row["workers_cpu_s"] for row in run["scorings"].values()) / cpus
    lines += ["", f"{cpus} CPUs, load average {run['load_average']:.1f} at the end; `{run['exp']}`'s fine-tuning stage "
              f"took {finetune:.0f} s on this machine. The two scorings: {wall:.0f} s, **{wall / finetune:.0%}** of it; "
              f"hearing alone, at best: {floor:.0f} s, **{floor / finetune:.0%}** (goal: "
              f"<= {run['goal_share']:.0%} for everything)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
