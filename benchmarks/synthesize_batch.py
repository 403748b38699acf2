"""Benchmark: ``synthesize --texts`` on 20 sentences against ``synthesize --text`` on one.

Goal (issue 19): the 20 sentences take less than 3x one sentence's time, because TensorFlow
starts and the model loads once. Both commands run in fresh processes, alternated so that load
from other work on a shared machine hits both alike, with the outputs a recipe asks for (wav,
mel and alignment plot). Then, in this process, the same sentences are decoded one at a time
and as one padded batch, to record what batching would save and how far its mels move from
the ones decoded alone (why ``synthesize --texts`` decodes one at a time).

    .venv/bin/python benchmarks/synthesize_batch.py [--checkpoint data/pretrained/multispeaker] [--repeats 3] \\
        [--json benchmarks/results/synthesize_batch.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SENTENCES = REPO / "data" / "eval" / "plain_sentences.txt"


def read_sentences(count: int) -> list[str]:
    lines = [line.strip() for line in SENTENCES.read_text(encoding="utf-8").splitlines()]
    sentences = [line for line in lines if line and not line.startswith("#")]
    if len(sentences) < count:
        raise SystemExit(f"{SENTENCES} holds {len(sentences)} sentences, fewer than {count}")
    return sentences[:count]


def timed(command: list[str]) -> float:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def command_times(checkpoint: str, sentences: list[str], repeats: int, work: Path) -> dict:
    """Wall seconds of each command, start-up included, runs alternated."""
    cli = [sys.executable, "-m", "tts_adapt.cli.main", "synthesize", checkpoint]
    texts = work / "texts.txt"
    texts.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    one, many = [], []
    for run in range(repeats):
        one.append(timed([*cli, f"--text={sentences[0]}", "--output", str(work / f"one{run}.wav"),
                          "--mel-output", str(work / f"one{run}.npy"),
                          "--alignment-output", str(work / f"one{run}.png")]))
        many.append(timed([*cli, "--texts", str(texts), "--output-dir", str(work / f"many{run}"),
                           "--mels", "--alignments"]))
        print(f"run {run + 1}/{repeats}: one sentence {one[-1]:.1f} s, {len(sentences)} sentences {many[-1]:.1f} s",
              flush=True)
    return {"one_sentence_s": one, "texts_s": many}


def batch_against_alone(checkpoint: str, sentences: list[str]) -> dict:
    """Decode-only seconds one at a time and as one batch, and how far the batch's mels move."""
    from tts_adapt.model.loading import load_model
    from tts_adapt.symbols.frontend import text_to_ids
    from tts_adapt.training.runtime import configure_threads

    configure_threads()
    loaded = load_model(checkpoint)
    model = loaded.model
    ids = [text_to_ids(text, loaded.table, loaded.cleaners) for text in sentences]

    def alone() -> list[dict]:
        return [model.infer(np.array([x], np.int32), [len(x)], [0], seed=0) for x in ids]

    padded = np.zeros((len(ids), max(map(len, ids))), np.int32)
    for row, x in enumerate(ids):
        padded[row, : len(x)] = x

    def batched() -> dict:
        return model.infer(padded, [len(x) for x in ids], [0] * len(ids), seed=0)

    alone(), batched()  # traced once each before timing
    started = time.perf_counter()
    singles = alone()
    alone_s = time.perf_counter() - started
    started = time.perf_counter()
    batch = batched()
    batched_s = time.perf_counter() - started
    differences, mismatched = [], 0
    for row, single in enumerate(singles):
        frames, batch_frames = int(single["mel_len"][0]), int(batch["mel_len"][row])
        mismatched += frames != batch_frames
        shared = min(frames, batch_frames)
        differences.append(float(np.abs(single["mel_post"].numpy()[0, :shared]
                                         - batch["mel_post"].numpy()[row, :shared]).max()))
    return {"decode_alone_s": alone_s, "decode_batched_s": batched_s, "max_abs_mel_diff": max(differences),
            "rows_changed": sum(d > 0 for d in differences), "lengths_changed": mismatched}


def markdown(result: dict) -> str:
    """The results as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    one, many = statistics.median(result["one_sentence_s"]), statistics.median(result["texts_s"])
    n, batch = result["sentences"], result["batch"]
    return "\n".join([
        f"`{result['checkpoint']}`, {n} sentences of `data/eval/plain_sentences.txt`, wav + mel + alignment plot "
        f"each, {result['cpu_count']} CPUs (load average {result['load_average']:.1f}); median of "
        f"{len(result['texts_s'])} alternated runs in fresh processes.", "",
        "| command | wall time | vs one sentence |", "|---|---|---|",
        f"| `synthesize --text` (one sentence) | {one:.1f} s | 1.00x |",
        f"| `synthesize --texts` ({n} sentences) | {many:.1f} s | **{many / one:.2f}x** |",
        f"| {n} x `synthesize --text` (one process each, estimated) | {n * one:.0f} s | {n:.2f}x |", "",
        f"Decoding alone (model loaded, no audio): {n} sentences one at a time {batch['decode_alone_s']:.2f} s, "
        f"as one batch {batch['decode_batched_s']:.2f} s. The batch changed {batch['rows_changed']} of {n} "
        f"mels (largest difference {batch['max_abs_mel_diff']:.2f} log-mel units) and "
        f"{batch['lengths_changed']} lengths.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="data/pretrained/multispeaker")
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    sentences = read_sentences(args.sentences)
    with tempfile.TemporaryDirectory(prefix="synthesize-bench-") as work:
        times = command_times(args.checkpoint, sentences, args.repeats, Path(work))
    result = {"checkpoint": args.checkpoint, "sentences": len(sentences), "cpu_count": os.cpu_count(),
              "load_average": os.getloadavg()[0], **times,
              "ratio": statistics.median(times["texts_s"]) / statistics.median(times["one_sentence_s"]),
              "batch": batch_against_alone(args.checkpoint, sentences)}
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
