"""An imported RTVC synthesizer folds an external speaker vector like a toolkit model folds a table row."""

from __future__ import annotations


import numpy as np
import pytest

from tts_adapt.manifest import read_manifest
from tts_adapt.scoring.equivalence import ComparedSpeaker, EquivalenceResult
from tts_adapt.testing import tf1_tacotron2 as tf1
from tests.cli_testing import printed_document, run_cli

DIMS = tf1.Dims()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A TF1 RTVC checkpoint, its import, two speaker vectors and the adaptation folding the first."""
    root = tmp_path_factory.mktemp("fold_imported")
    source = tf1.make_checkpoint(root / "tf1", DIMS, seed=3)
    from tts_adapt.cli.main import main

    assert main(["import", source, "--architecture", "rtvc", "--output", str(root / "imported")]) == 0
    rng = np.random.default_rng(4)
    vectors = []
    for i in range(2):
        vectors.append(root / f"speaker{i}.npy")
        np.save(vectors[-1], rng.normal(0, 1, DIMS.speaker).astype(np.float32))
    assert main(["adapt", str(root / "imported"), "--speaker-vector", str(vectors[0]),
                 "--output", str(root / "adapted")]) == 0
    return {"tf1": source, "imported": root / "imported", "adapted": root / "adapted", "vectors": vectors}


def verify(capsys, world, vector):
    code, out, err = run_cli(["verify", world["imported"], world["adapted"], "--speaker-vector", vector,
                              "--format", "json"], capsys)
    if not out:
        return code, None, err
    return code, printed_document(EquivalenceResult, out, "verify --format json"), err


def test_the_folded_model_computes_what_the_imported_one_computed_for_that_vector(world, capsys):
    code, result, _ = verify(capsys, world, world["vectors"][0])
    assert code == 0 and result.ok and result.max_rel_diff <= 1e-5, result
    assert result.speaker == ComparedSpeaker(id=None, name=None, vector=str(world["vectors"][0]))
    assert all(d.max_abs_output > 0.05 for d in result.outputs.values())
    code, result, _ = verify(capsys, world, world["vectors"][1])
    assert code == 1 and result.max_rel_diff > 1e-3  # another voice is another output


def test_the_folded_model_is_single_speaker_and_equals_the_tf1_network_with_that_vector(world):
    from tts_adapt.model.loading import load_model

    manifest = read_manifest(world["adapted"])
    assert manifest.model["speaker_input"] == "table" and manifest.layout["sites"] == []
    assert manifest.folded_speaker["vector_source"] == f"file {world['vectors'][0]}"
    data = tf1.make_inputs(DIMS, seed=8)
    data.speaker = np.tile(np.load(world["vectors"][0]), (data.text.shape[0], 1))
    reference = tf1.reference_outputs(world["tf1"], DIMS, data)
    got = load_model(world["adapted"]).model({"text": data.text, "text_len": data.text_len, "mel": data.mel},
                                             training=False)
    for name, expected in reference.items():
        difference = np.abs(got[name].numpy() - expected).max() / np.abs(expected).max()
        assert difference <= 1e-4, (name, difference)


@pytest.mark.parametrize("args, message", [
    ([], "pass --speaker-vector"),
    (["--speaker-vector", "{wrong_width}"], "speaker_dim is"),
])
def test_a_vector_source_needs_its_vector(world, capsys, tmp_path, args, message):
    wrong_width = tmp_path / "short.npy"
    np.save(wrong_width, np.ones(DIMS.speaker + 1, np.float32))
    args = [str(wrong_width) if a == "{wrong_width}" else a for a in args]
    code, out, err = run_cli(["verify", world["imported"], world["adapted"], *args], capsys)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
