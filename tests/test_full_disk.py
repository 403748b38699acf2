"""A full disk (a real, small tmpfs) under adapt, train, finetune and prepare: exit 2, one line naming
the path and the cause, and nothing of the command's left on the disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.cli_testing import run_cli
from tests.tiny_model import make_prepared

from tests.audio.audio_testdata import write_voice

TRAIN_FLAGS = ["--preset", "tiny", "--batch-size", "4", "--checkpoint-every", "2", "--val-every", "2"]
FREE_BYTES = (0, 8 << 10, 96 << 10)  # nothing, a few files' worth, part of a checkpoint


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A 2 MB tmpfs (mounting needs root: skipped where it is not permitted)."""
    mount = tmp_path_factory.mktemp("small_disk")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    yield mount
    if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mount)], check=True)  # a file still open would block it


@pytest.fixture(params=FREE_BYTES, ids=lambda n: f"{n >> 10}KiB-free")
def full_disk(small_disk, request):
    """``small_disk`` filled by one file until only ``request.param`` bytes are free; emptied afterwards."""
    filler = small_disk / "filler"
    stat = os.statvfs(small_disk)
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(stat.f_bavail * stat.f_frsize - request.param, 0))
    yield small_disk
    for entry in small_disk.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A prepared cache, a trained tiny run (also adapt's and finetune's source) and a small corpus."""
    from tts_adapt.cli.main import main

    root = tmp_path_factory.mktemp("full_disk_inputs")
    data = make_prepared(root / "data")
    assert main(["train", "--data", str(data), "--output", str(root / "run"), *TRAIN_FLAGS, "--steps", "2",
                 "--format", "json"]) == 0
    lines = []
    for i in range(4):
        write_voice(root / "wavs" / f"u{i}.wav", 22050, seconds=1.0, seed=i)
        lines.append(f"u{i}|Sentence number {i} is spoken here.")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"data": data, "run": root / "run", "metadata": root / "metadata.csv", "wavs": root / "wavs"}


def commands(inputs: dict[str, Path], output: Path) -> dict[str, list]:
    return {
        "adapt": ["adapt", inputs["run"], "--output", output, "--fold-speaker", "ann", "--format", "json"],
        "train": ["train", "--data", inputs["data"], "--output", output, *TRAIN_FLAGS, "--steps", "4",
                  "--format", "json"],
        "finetune": ["finetune", inputs["run"], "--data", inputs["data"], "--output", output, "--steps", "2",
                     "--batch-size", "4", "--format", "json"],
        "prepare": ["prepare", "--metadata", inputs["metadata"], "--wavs", inputs["wavs"], "--output", output,
                    "--format", "json"],
    }


@pytest.mark.parametrize("command", ["adapt", "train", "finetune", "prepare"])
def test_a_full_disk_is_one_line_naming_the_path_and_leaves_nothing(inputs, full_disk, command, capsys):
    output = full_disk / "out"
    code, _, err = run_cli(commands(inputs, output)[command], capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "no space left on device" in err and str(output) in err, err
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]  # no output, no partial, no temporary


def test_a_resumed_train_on_a_full_disk_keeps_its_last_checkpoint(inputs, small_disk, capsys):
    import tensorflow as tf

    output = small_disk / "run"
    shutil.copytree(inputs["run"], output)
    before = sorted(p.name for p in output.iterdir())
    stat = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - (32 << 10)))
    try:
        code, _, err = run_cli(commands(inputs, output)["train"], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "no space left on device" in err, err
        assert tf.train.latest_checkpoint(str(output)).endswith("ckpt-2")
        after = sorted(p.name for p in output.iterdir())
        assert [name for name in after if name not in before] == []  # no temporary, no half-written checkpoint
    finally:
        for entry in small_disk.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
