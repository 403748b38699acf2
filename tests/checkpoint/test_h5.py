"""The h5 dialect: Keras 3 ``.weights.h5`` written back so Keras 3 loads it; bad files are one line, exit 2."""

from __future__ import annotations

import json

import h5py
import keras
import numpy as np
import pytest
import yaml

from tests import tensorflowtts_tacotron2 as tftts
from tests.cli_testing import run_cli
from tts_adapt.cli.inspect import CheckpointDescription

SYMBOLS = list("abcde")
NEW_SYMBOLS = list("cxab")


class Voice(keras.Model):
    """A Keras 3 model with a symbol table, an additive speaker term and an output layer."""

    def __init__(self, vocab: int, speakers: int, **kwargs):
        super().__init__(**kwargs)
        self.speakers = speakers
        self.symbols = keras.layers.Embedding(vocab, 4, name="symbols")
        if speakers:
            self.speaker_table = keras.layers.Embedding(speakers, 3, name="speaker_table")
            self.speaker_fc = keras.layers.Dense(4, name="speaker_fc")
        self.out = keras.layers.Dense(2, name="out")

    def call(self, ids, speaker):
        x = self.symbols(ids)
        if self.speakers:
            x = x + keras.ops.softplus(self.speaker_fc(self.speaker_table(speaker)))[:, None]
        return self.out(x)


def built(vocab: int, speakers: int, seed: int | None = None) -> Voice:
    model = Voice(vocab, speakers)
    model(np.zeros((1, 2), np.int32), np.zeros((1,), np.int32))
    if seed is not None:
        rng = np.random.default_rng(seed)
        for weight in model.weights:
            weight.assign(rng.normal(0, 1, weight.shape).astype(np.float32))
    return model


def test_keras3_weights_adapted_load_into_the_single_speaker_model_and_compute_the_same(tmp_path, capsys):
    source = built(len(SYMBOLS), 3, seed=0)
    (tmp_path / "src").mkdir()
    weights = tmp_path / "src" / "voice.weights.h5"
    source.save_weights(str(weights))
    code, out, _ = run_cli(["inspect", weights, "--format", "json"], capsys)
    assert code == 0
    names = {v.name: v.shape for v in CheckpointDescription.from_json(json.loads(out), "inspect").variables}
    by_shape = {shape: name for name, shape in names.items()}
    layout = {"symbol_embedding": by_shape[(5, 4)],
              "sites": [{"kind": "add", "table": by_shape[(3, 3)], "kernel": by_shape[(3, 4)], "bias": by_shape[(4,)],
                         "activation": "softplus", "added_to": "symbol_embedding"}]}
    (tmp_path / "layout.yaml").write_text(yaml.safe_dump(layout), encoding="utf-8")
    for name, symbols in (("old.txt", SYMBOLS), ("new.txt", NEW_SYMBOLS)):
        tftts.write_table(tmp_path / name, symbols)
    code, _, err = run_cli(["adapt", weights, "--layout", tmp_path / "layout.yaml",
                            "--source-symbols", tmp_path / "old.txt", "--symbols", tmp_path / "new.txt",
                            "--fold-speaker", "2", "--output", tmp_path / "out"], capsys)
    assert code == 0, err
    single = built(len(NEW_SYMBOLS), 0)
    single.load_weights(str(tmp_path / "out" / "voice.weights.h5"))  # Keras 3's own loader, strict
    text = ["a", "b", "c", "c"]
    expected = source(np.array([[SYMBOLS.index(s) for s in text]]), np.array([2])).numpy()
    got = single(np.array([[NEW_SYMBOLS.index(s) for s in text]]), np.zeros(1, np.int32)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def tensorflowtts(tmp_path_factory):
    root = tmp_path_factory.mktemp("h5_bad")
    weights = tftts.save_like_tensorflowtts(tftts.build(tftts.Config(encoder_speaker=False)), root / "ckpts")
    return weights


def broken(kind: str, good, tmp_path):
    """A copy of ``good`` damaged one way; the path to give adapt."""
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "model-200.h5"
    if kind == "not_hdf5":
        path.write_bytes(b"this is a text file, not weights\n")
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[:4096])
    else:
        path.write_bytes(good.read_bytes())
        with h5py.File(path, "r+") as handle:
            if kind == "no_layer_names":
                del handle.attrs["layer_names"]
            elif kind == "missing_weight":
                names = list(handle["encoder"].attrs["weight_names"])
                del handle["encoder"][names[2]]
            elif kind == "wrong_shape":  # speaker_fc's kernel no longer transforms a speaker row
                name = "encoder/tacotron2/encoder/embeddings/speaker_fc/kernel:0"
                value = handle[name][()]
                del handle[name]
                handle[name] = value[:-2]
    return path


@pytest.mark.parametrize("kind, says", [
    ("not_hdf5", "not an HDF5 file"),
    ("truncated", "truncated or corrupt"),
    ("no_layer_names", "HDF5 but not Keras weights"),
    ("missing_weight", "which the file does not hold"),
    ("wrong_shape", "speaker_fc/kernel has shape [14, 16], expected [16, width]"),
])
def test_corrupt_or_foreign_h5_is_one_line_exit_2_and_nothing_written(tensorflowtts, tmp_path, capsys, kind, says):
    source = broken(kind, tensorflowtts, tmp_path)
    layout = tmp_path / "layout.yaml"
    code, out, _ = run_cli(["inspect", tensorflowtts, "--propose-layout"], capsys)
    layout.write_text(out, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run_cli(["adapt", source, "--layout", layout, "--fold-speaker", "0",
                              "--output", tmp_path / "out"], capsys)
    assert code == 2 and out == "" and says in err, err
    assert err.startswith("tts-adapt adapt: error:") and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before
