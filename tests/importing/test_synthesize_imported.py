"""synthesize --speaker-vector: an imported RTVC synthesizer speaks with the voice of a speaker vector."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.cli_testing import run_cli
from tts_adapt.cli.synthesize import SynthesisReport
from tts_adapt.testing import tf1_tacotron2 as tf1

DIMS = tf1.Dims()
TEXT = "a bad cab~"  # the codebases end every input with "~"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tts_adapt.cli.main import main

    root = tmp_path_factory.mktemp("synthesize_imported")
    source = tf1.make_checkpoint(root / "tf1", DIMS, seed=9)
    assert main(["import", source, "--architecture", "rtvc", "--output", str(root / "imported")]) == 0
    vector = root / "voice.npy"
    np.save(vector, np.random.default_rng(2).normal(0, 1, DIMS.speaker).astype(np.float32))
    assert main(["adapt", str(root / "imported"), "--speaker-vector", str(vector), "--output",
                 str(root / "adapted")]) == 0
    return {"imported": root / "imported", "adapted": root / "adapted", "vector": vector}


def speak(capsys, checkpoint, out, *extra):
    return run_cli(["synthesize", checkpoint, "--text", TEXT, "--output", out / "x.wav", "--mel-output",
                    out / "x.npy", "--vocoder", "griffin-lim", "--max-seconds", "0.2", "--format", "json", *extra],
                   capsys)


def test_the_vector_voices_the_imported_model_as_the_fold_does(world, capsys, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    code, out, err = speak(capsys, world["imported"], tmp_path / "a", "--speaker-vector", world["vector"])
    assert code == 0, err
    assert SynthesisReport.from_json(json.loads(out), "synthesize --format json").frames > 0 and (tmp_path / "a" / "x.wav").stat().st_size > 44
    code, _, err = speak(capsys, world["adapted"], tmp_path / "b")
    assert code == 0, err
    with_vector, folded = np.load(tmp_path / "a" / "x.npy"), np.load(tmp_path / "b" / "x.npy")
    assert with_vector.shape == folded.shape
    np.testing.assert_allclose(folded, with_vector, atol=1e-4 * np.abs(with_vector).max())


@pytest.mark.parametrize("which, extra, message", [
    ("imported", [], "pass --speaker-vector"),
    ("adapted", ["--speaker-vector", "{vector}"], "drop --speaker-vector"),
    ("imported", ["--speaker-vector", "{vector}", "--speaker", "0"], "not both"),
])
def test_a_vector_only_where_the_model_reads_one(world, capsys, tmp_path, which, extra, message):
    extra = [str(world["vector"]) if a == "{vector}" else a for a in extra]
    code, out, err = speak(capsys, world[which], tmp_path, *extra)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.wav").exists()
