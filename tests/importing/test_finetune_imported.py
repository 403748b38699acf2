"""Fine-tuning an imported TF1 checkpoint: the existing training code runs on it, resumes, and learns."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tts_adapt.manifest import read_manifest
from tts_adapt.testing import tf1_tacotron2 as tf1
from tts_adapt.training.loop import TrainingSummary
from tests.cli_testing import run_cli
from tests.tiny_model import write_prepared_cache

TEXTS = ["a cab", "bad bead", "dead fad", "ace", "a bee", "fed a cab", "cede", "bead a dab"]


def prepared_like(directory, checkpoint, n_mels: int, seed: int = 0):
    """A feature cache made with the checkpoint's own audio config (finetune checks it), mels that follow the text."""
    audio = read_manifest(checkpoint).audio
    rng = np.random.default_rng(seed)
    items = []
    for i, text in enumerate(TEXTS):
        frames = np.repeat([[(ord(c) % 7) / 3 - 1] * n_mels for c in text], 2, axis=0)
        items.append({"id": f"utt{i:02d}", "speaker": "voice", "text": text, "split": "val" if i < 2 else "train",
                      "mel": frames + rng.normal(0, 0.05, frames.shape)})
    return write_prepared_cache(directory, items, {"audio": audio.to_dict(), "cleaners": ["english"],
                                                   "symbols": None, "speakers": ["voice"]})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tts_adapt.cli.main import main

    root = tmp_path_factory.mktemp("finetune_imported")
    dims = tf1.Dims(zoneout=0.1)
    source = tf1.make_checkpoint(root / "tf1", dims, seed=6)
    assert main(["import", source, "--architecture", "rtvc", "--output", str(root / "imported")]) == 0
    vector = root / "voice.npy"
    np.save(vector, np.random.default_rng(1).normal(0, 1, dims.speaker).astype(np.float32))
    assert main(["adapt", str(root / "imported"), "--speaker-vector", str(vector), "--output",
                 str(root / "adapted")]) == 0
    return {"root": root, "imported": root / "imported", "adapted": root / "adapted",
            "data": prepared_like(root / "data", root / "adapted", dims.n_mels)}


def finetune(capsys, world, exp, *flags):
    code, out, err = run_cli(["finetune", world["adapted"], "--data", world["data"], "--output", exp,
                              "--batch-size", "3", "--format", "json", *flags], capsys)
    assert code == 0, err
    return TrainingSummary.from_json(json.loads(out), "finetune --format json")


def test_finetuning_runs_resumes_and_lowers_the_validation_loss(world, capsys, tmp_path):
    exp = tmp_path / "exp"
    first = finetune(capsys, world, exp, "--steps", "2", "--val-every", "1")
    assert (first.steps_run, first.step) == (2, 4)  # Adam's step count continues from the TF1 global_step 2
    again = finetune(capsys, world, exp, "--steps", "3")
    assert (again.steps_run, again.step) == (1, 5)  # resumed from ckpt-4, not started over
    longer = finetune(capsys, world, tmp_path / "longer", "--steps", "40", "--val-every", "2", "--learning-rate",
                      "3e-3")
    import pandas as pd

    metrics = pd.read_csv(tmp_path / "longer" / "metrics.csv")
    val = metrics.dropna(subset=["val_loss"])["val_loss"].to_numpy()
    assert longer.steps_run == 40 and val[-1] < val[0], val


def test_the_unfolded_vector_model_is_refused_in_one_line(world, capsys, tmp_path):
    code, out, err = run_cli(["finetune", world["imported"], "--data", world["data"], "--output", tmp_path / "exp",
                              "--steps", "1"], capsys)
    assert code == 2 and "--speaker-vector" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "exp").exists() or not any((tmp_path / "exp").iterdir())
