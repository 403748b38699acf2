"""Benchmark: ``adapt`` against TensorFlow's own floor on a ~1 GB checkpoint.

Builds a name-based checkpoint of ~200 variables of mixed sizes with Adam slots
(TF1 naming), then, in fresh processes measured side by side in one run:

* floor: TensorFlow reads every tensor and writes it unchanged to a new checkpoint
  (``CheckpointReader.get_tensor`` for all keys, one ``SaveV2``);
* adapt: the full surgery (plan, remap the symbol embedding, drop speaker rows of
  every site, fold a speaker, sha256 of the source, manifest) through the CLI code.

Goals: adapt time <= 1.3x the floor; adapt peak RSS <= baseline + 3x the largest tensor.

    .venv/bin/python benchmarks/surgery.py [--gb 1.0] [--repeats 2] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

SCOPE = "Tacotron_model/inference"
SPEAKER_DIM = 64
N_SPEAKERS = 12
N_SYMBOLS = 150


def build(workdir: Path, gb: float) -> dict:
    """Write the source checkpoint, its symbol tables and its layout; returns facts about it."""
    from tts_adapt.checkpoint.writer import StreamingCheckpointWriter, write_checkpoint_state

    rng = np.random.default_rng(0)
    src = workdir / "src"
    src.mkdir(parents=True)
    # ~200 variables: a few big kernels, many medium ones, and small biases
    shapes: dict[str, tuple[int, ...]] = {
        f"{SCOPE}/inputs_embedding": (N_SYMBOLS, 512),
        f"{SCOPE}/speaker_embedding": (N_SPEAKERS, SPEAKER_DIM),
    }
    sites = []
    budget = gb * 1e9 / 3 / 4  # floats per weight (slots double it twice)
    big, medium = 4, 0
    i = 0
    while sum(np.prod(s) for s in shapes.values()) < budget and len(shapes) < 210:
        scope = f"{SCOPE}/block_{i:03d}"
        if i < big:
            rows, cols = 4096 + SPEAKER_DIM, 2048  # the largest tensors (~34 MB)
        elif i % 3 == 0:
            rows, cols = 1024 + SPEAKER_DIM, 1024
        else:
            rows, cols = 512, 512 + 256 * (i % 4)
            medium += 1
        shapes[f"{scope}/kernel"] = (rows, cols)
        shapes[f"{scope}/bias"] = (cols,)
        if i < big or i % 3 == 0:
            start = rows - SPEAKER_DIM - (cols // 4 if i % 2 else 0)
            sites.append({"kernel": f"{scope}/kernel", "speaker_rows": [start, start + SPEAKER_DIM],
                          "fold_into": f"{scope}/bias"})
        i += 1
    writer = StreamingCheckpointWriter(src / "model.ckpt-1000", 256 << 20)
    largest = 0
    for name, shape in shapes.items():
        value = rng.standard_normal(shape, dtype=np.float32)
        largest = max(largest, value.nbytes)
        writer.add(name, value)
        writer.add(f"{name}/Adam", value * 0.1)
        writer.add(f"{name}/Adam_1", value * value)
    for key, value in (("beta1_power", 0.9), ("beta2_power", 0.999)):
        writer.add(key, np.float32(value))
    writer.add("global_step", np.int64(1000))
    writer.finish()
    write_checkpoint_state(src, "model.ckpt-1000")
    symbols = [chr(0x21 + k) for k in range(N_SYMBOLS)]
    (workdir / "old.txt").write_text("".join(s + "\n" for s in symbols), encoding="utf-8")
    new = symbols[5:] + ["é", "ß", "ñ"]
    (workdir / "new.txt").write_text("".join(s + "\n" for s in reversed(new)), encoding="utf-8")
    layout = {"symbol_embedding": f"{SCOPE}/inputs_embedding", "speaker_embedding": f"{SCOPE}/speaker_embedding",
              "speaker_dim": SPEAKER_DIM, "sites": sites}
    (workdir / "layout.yaml").write_text(yaml.safe_dump(layout), encoding="utf-8")
    size = sum(f.stat().st_size for f in src.iterdir())
    return {"variables": len(shapes), "tensors": 3 * len(shapes) + 3, "bytes": size, "largest_tensor": largest,
            "sites": len(sites)}


FLOOR = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
def hwm():
    # VmHWM: this process's peak RSS (ru_maxrss would inherit the parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
src, out = sys.argv[1], sys.argv[2]
reader = tf.train.load_checkpoint(src)
base = hwm()
start = time.perf_counter()
keys = sorted(reader.get_variable_to_shape_map())
tensors = [reader.get_tensor(k) for k in keys]
tf.raw_ops.SaveV2(prefix=out + "/model.ckpt-1000", tensor_names=keys, shape_and_slices=[""] * len(keys),
                  tensors=tensors)
seconds = time.perf_counter() - start
print(seconds, base, hwm())
"""

ADAPT = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
def hwm():
    # VmHWM: this process's peak RSS (ru_maxrss would inherit the parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
from tts_adapt.checkpoint.reader import open_checkpoint
src, out, work = sys.argv[1], sys.argv[2], sys.argv[3]
open_checkpoint(src)  # warm the same imports and index parse the floor pays before its clock
base = hwm()
start = time.perf_counter()
from tts_adapt.surgery.adapt import adapt
adapt(src, out, work + "/new.txt", source_symbols_path=work + "/old.txt", layout_path=work + "/layout.yaml",
      fold_speaker="3")
seconds = time.perf_counter() - start
print(seconds, base, hwm())
"""


def measure(script: str, *args: str) -> tuple[float, int, int]:
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    seconds, base, peak = result.stdout.split()
    return float(seconds), int(base), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tts-adapt-bench-"))
    try:
        facts = build(work, args.gb)
        print(f"checkpoint: {facts['variables']} variables, {facts['tensors']} tensors, "
              f"{facts['bytes'] / 1e9:.2f} GB, largest tensor {facts['largest_tensor'] / 1e6:.1f} MB, "
              f"{facts['sites']} speaker sites")
        runs: dict[str, list] = {"floor": [], "adapt": []}
        for _ in range(args.repeats):
            for name, script in (("floor", FLOOR), ("adapt", ADAPT)):
                out = work / f"out-{name}"
                shutil.rmtree(out, ignore_errors=True)
                if name == "floor":
                    out.mkdir()
                runs[name].append(measure(script, str(work / "src"), str(out), str(work)))
                shutil.rmtree(out, ignore_errors=True)
        best = {name: min(r, key=lambda m: m[0]) for name, r in runs.items()}
        for name, (seconds, base, peak) in best.items():
            print(f"{name:6} {seconds:6.2f} s  peak RSS {peak / 1e6:7.0f} MB (baseline {base / 1e6:.0f} MB, "
                  f"+{(peak - base) / 1e6:.0f} MB)")
        ratio = best["adapt"][0] / best["floor"][0]
        extra = best["adapt"][2] - best["adapt"][1]
        allowed = 3 * facts["largest_tensor"]
        print(f"time ratio adapt/floor: {ratio:.2f} (goal <= 1.30) {'OK' if ratio <= 1.3 else 'MISSED'}")
        print(f"adapt RSS growth: {extra / 1e6:.0f} MB = {extra / facts['largest_tensor']:.2f}x the largest tensor "
              f"(goal <= 3x) {'OK' if extra <= allowed else 'MISSED'}")
        print(json.dumps({"facts": facts, "runs": runs, "time_ratio": ratio,
                          "rss_growth_over_largest": extra / facts["largest_tensor"]}))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
