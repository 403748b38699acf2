"""SIGKILL in the middle of adapt: the output never appears, the source is untouched."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import yaml

from tts_adapt.checkpoint.writer import StreamingCheckpointWriter, write_checkpoint_state

SCOPE = "model"
SPEAKER_DIM = 16


def build(folder):
    """A TF1-style checkpoint big enough (~100 MB with Adam slots) that adapt takes a moment."""
    rng = np.random.default_rng(0)
    writer = StreamingCheckpointWriter(folder / "src" / "model.ckpt-7", 64 << 20)
    sites = []
    shapes = {f"{SCOPE}/embedding": (40, 64), f"{SCOPE}/speakers": (4, SPEAKER_DIM)}
    for i in range(4):
        shapes[f"{SCOPE}/layer_{i}/kernel"] = (2048 + SPEAKER_DIM, 1024)
        shapes[f"{SCOPE}/layer_{i}/bias"] = (1024,)
        sites.append({"kernel": f"{SCOPE}/layer_{i}/kernel", "speaker_rows": [2048, 2048 + SPEAKER_DIM],
                      "fold_into": f"{SCOPE}/layer_{i}/bias"})
    for name, shape in shapes.items():
        value = rng.standard_normal(shape, dtype=np.float32)
        writer.add(name, value)
        writer.add(f"{name}/Adam", value * 0.1)
        writer.add(f"{name}/Adam_1", value * value)
    writer.add("global_step", np.int64(7))
    writer.finish()
    write_checkpoint_state(folder / "src", "model.ckpt-7")
    (folder / "symbols.txt").write_text("".join(chr(0x61 + k) + "\n" for k in range(26))
                                        + "".join(chr(0x30 + k) + "\n" for k in range(10))
                                        + "".join(f"{c}\n" for c in ".,?!"), encoding="utf-8")
    layout = {"symbol_embedding": f"{SCOPE}/embedding", "speaker_embedding": f"{SCOPE}/speakers",
              "speaker_dim": SPEAKER_DIM, "sites": sites}
    (folder / "layout.yaml").write_text(yaml.safe_dump(layout), encoding="utf-8")
    return folder / "src"


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_sigkill_during_adapt_leaves_no_output_and_a_rerun_removes_its_partial(tmp_path):
    source = build(tmp_path)
    before = digest(source)
    out = tmp_path / "adapted"
    command = [sys.executable, "-m", "tts_adapt", "adapt", str(source), "--output", str(out),
               "--source-symbols", str(tmp_path / "symbols.txt"), "--layout", str(tmp_path / "layout.yaml"),
               "--fold-speaker", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.startswith(".adapted.partial-") and any(p.iterdir()) for p in tmp_path.iterdir()):
            assert process.poll() is None and time.monotonic() < deadline, "adapt ended before it could be killed"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)  # while it writes the new checkpoint
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()  # nothing half-written where the user looks
    assert digest(source) == before
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".adapted.partial-")]  # the killed one's, stale
    rerun = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapted", "layout.yaml", "src", "symbols.txt"]
