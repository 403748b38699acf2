"""Every command that reads a checkpoint turns a truncated, corrupt or empty file into one line naming it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from tests.cli_testing import run_cli
from tests.tiny_checkpoints import NEW_VOICE_TEXTS, make_source, spoken_by, write_prepared


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("corrupt")
    model = make_source(root / "good", seed=3)
    write_prepared(root / "prepared", NEW_VOICE_TEXTS, spoken_by(model, 0, NEW_VOICE_TEXTS), speaker="ann",
                   splits=["train", "val"] * 3)
    (root / "texts.txt").write_text("bad cab\n", encoding="utf-8")
    return root


def damage(world, tmp_path, how: str):
    broken = tmp_path / "broken"
    shutil.copytree(world / "good", broken)
    data = next(broken.glob("*.data-*"))
    index = next(broken.glob("*.index"))
    if how == "truncated data":
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
    elif how == "empty data":
        data.write_bytes(b"")
    elif how == "truncated index":
        index.write_bytes(index.read_bytes()[:40])
    elif how == "empty state file":
        (broken / "checkpoint").write_text("")
    elif how == "garbled state file":
        (broken / "checkpoint").write_bytes(np.random.default_rng(0).bytes(64))
    return broken, {"truncated data": data.name, "empty data": data.name, "truncated index": index.name,
                    "empty state file": "checkpoint", "garbled state file": "checkpoint"}[how]


COMMANDS = {
    "adapt": lambda ckpt, w, t: ["adapt", ckpt, "--output", t / "out", "--fold-speaker", "ann"],
    "synthesize": lambda ckpt, w, t: ["synthesize", ckpt, "--text", "bad cab", "--output", t / "x.wav"],
    "verify": lambda ckpt, w, t: ["verify", w / "good", ckpt, "--speaker", "ann"],
    "evaluate": lambda ckpt, w, t: ["evaluate", ckpt, "--data", w / "prepared", "--no-listen"],
    "finetune": lambda ckpt, w, t: ["finetune", ckpt, "--data", w / "prepared", "--output", t / "ft", "--steps", "1"],
    "suggest-speaker": lambda ckpt, w, t: ["suggest-speaker", ckpt, "--data", w / "prepared"],
    "inspect": lambda ckpt, w, t: ["inspect", ckpt],
}
DAMAGE = ["truncated data", "empty data", "truncated index", "empty state file", "garbled state file"]


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_damaged_checkpoint_gives_one_line_naming_the_file(world, tmp_path, capsys, command, how):
    broken, culprit = damage(world, tmp_path, how)
    if command == "inspect" and how in ("truncated data", "empty data"):
        pytest.skip("inspect reads the index only; the data is not needed to describe the checkpoint")
    code, _, err = run_cli(COMMANDS[command](broken, world, tmp_path), capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert culprit in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("key, value, words", [
    ("symbols", [1, 2], "symbols[0] must be text, got 1"),
    ("speakers", "slt", "speakers must be a list"),
    ("training", ["x"], "training must be a mapping"),
    ("cleaners", "english", "cleaners must be a list"),
    ("dialect", "tf3", "dialect must be one of"),
    ("step", -1, "step must be a whole number"),
])
@pytest.mark.parametrize("command", ["synthesize", "adapt", "inspect", "finetune"])
def test_a_manifest_of_the_wrong_shape_is_one_line(world, tmp_path, capsys, command, key, value, words):
    import json

    broken = tmp_path / "broken"
    shutil.copytree(world / "good", broken)
    manifest = json.loads((broken / "manifest.json").read_text(encoding="utf-8"))
    (broken / "manifest.json").write_text(json.dumps({**manifest, key: value}), encoding="utf-8")
    code, _, err = run_cli(COMMANDS[command](broken, world, tmp_path), capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and words in lines[0] and "manifest.json" in lines[0], err
