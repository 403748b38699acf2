"""Benchmark: ``tts-adapt prepare`` throughput with 1 and 2 worker processes.

Writes a synthetic multi-speaker corpus (harmonic 'voices' of 2-4 s at 8, 16, 22.05, 44.1
and 48 kHz, so resampling is exercised as in the pretraining corpus), then runs the real
command in fresh processes, alternating ``--jobs`` values so that load from other work on a
shared machine hits both alike. Reports per run: wall time of the command (start-up
included), time inside prepare, utterances/s and times real time.

    .venv/bin/python benchmarks/prepare_throughput.py [--items 600] [--repeats 3] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tts_adapt.corpus.prepare import PrepareSummary

RATES = (8000, 16000, 22050, 44100, 48000)


def write_corpus(root: Path, items: int) -> float:
    """``items`` utterances, 5 speakers; returns the total seconds of audio written."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    (root / "wavs").mkdir(parents=True)
    lines, total = [], 0.0
    for i in range(items):
        sr, speaker = RATES[i % len(RATES)], f"s{i % len(RATES)}"
        seconds = rng.uniform(2, 4)
        t = np.arange(int(sr * seconds)) / sr
        phase = 2 * np.pi * np.cumsum(120 + 40 * np.sin(2 * np.pi * 0.5 * t)) / sr
        tone = sum(np.sin(k * phase) / k for k in range(1, 20)) * 0.05 * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
        pad = np.zeros(sr // 5)
        sf.write(root / "wavs" / f"{i:05d}.wav", np.concatenate([pad, tone, pad]).astype(np.float32), sr)
        lines.append(f"{i:05d}.wav|{speaker}|utterance number {i}.")
        total += seconds + 0.4
    (root / "metadata.csv").write_text("\n".join(lines) + "\n")
    return total


def run_once(workdir: Path, jobs: int) -> dict:
    output = workdir / f"out_{jobs}"
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "tts_adapt.cli.main", "prepare", "--metadata", str(workdir / "metadata.csv"),
               "--output", str(output), "--jobs", str(jobs), "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    summary = PrepareSummary.from_json(json.loads(done.stdout), "prepare --format json")
    return {"jobs": jobs, "wall_s": wall, "prepare_s": summary.seconds_elapsed, "kept": summary.kept}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="prepare-bench-"))
    audio_seconds = write_corpus(workdir, args.items)
    print(f"corpus: {args.items} utterances, {audio_seconds / 60:.1f} min of audio in {workdir}")
    runs = [run_once(workdir, jobs) for _ in range(args.repeats) for jobs in args.jobs]
    for jobs in args.jobs:
        mine = [r for r in runs if r["jobs"] == jobs]
        wall = statistics.median(r["wall_s"] for r in mine)
        work = statistics.median(r["prepare_s"] for r in mine)
        each = ", ".join(f"{r['wall_s']:.2f}" for r in mine)
        print(
            f"--jobs {jobs}: wall {wall:.2f} s (runs {each}), "
            f"prepare {work:.2f} s = {args.items / work:.0f} utt/s, {audio_seconds / work:.0f}x real time"
        )
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
