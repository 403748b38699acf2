"""The TF1 Tacotron-2 variant of the model: a speaker vector input that folds exactly, zoneout, its config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.tiny_model import TINY, N_SYMBOLS, make_batch, randomise
from tts_adapt.errors import UserError
from tts_adapt.model.config import ModelConfig
from tts_adapt.model.tacotron import Tacotron

TF1 = dataclasses.replace(TINY, decoder_topology="tacotron2_tf1", zoneout=0.1, postnet_projection=True,
                          speaker_input="vector", reduction=2)
SINGLE = dataclasses.replace(TF1, speaker_input="table")


def vectors(batch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (batch, TF1.speaker_dim)).astype(np.float32)


def paths(model):
    return {v.path: tuple(v.shape) for v in model.variables}


def fold(model, vector: np.ndarray) -> dict[str, np.ndarray]:
    """What adapt does to the checkpoint: speaker rows out, ``e @ rows`` into the site's bias."""
    weights = {v.path: v.numpy().astype(np.float64) for v in model.variables}
    for site in model.layout().sites:
        start, stop = site.speaker_rows
        weights[site.fold_into] = weights[site.fold_into] + vector @ weights[site.kernel][start:stop]
        weights[site.kernel] = np.concatenate([weights[site.kernel][:start], weights[site.kernel][stop:]])
    return weights


def test_the_vector_model_differs_from_the_single_speaker_one_by_its_layout_only():
    vector_model, single = Tacotron(TF1, N_SYMBOLS), Tacotron(SINGLE, N_SYMBOLS)
    layout = vector_model.layout()
    assert layout.speaker_embedding is None and layout.speaker_dim == TF1.speaker_dim
    assert len(layout.sites) == 4 and single.layout().sites == ()
    sites = {s.kernel: s for s in layout.sites}
    assert set(paths(vector_model)) == set(paths(single))
    for path, shape in paths(single).items():
        grown = (shape[0] + TF1.speaker_dim, *shape[1:]) if path in sites else shape
        assert paths(vector_model)[path] == grown, path


@pytest.mark.parametrize("seed", range(2))
def test_folding_a_speaker_vector_gives_the_same_outputs(seed):
    """Also at the first decoder step, where the context is zero: there the folded part must not be added."""
    source = Tacotron(TF1, N_SYMBOLS)
    randomise(source, seed)
    batch = make_batch(TF1, n_speakers=0, seed=seed)
    vector = vectors(1, seed)[0]
    single = Tacotron(SINGLE, N_SYMBOLS)
    weights = fold(source, vector.astype(np.float64))
    for v in single.variables:
        v.assign(weights[v.path].astype(np.float32))
    expected = source(dict(batch, speaker_vector=np.tile(vector, (3, 1))), training=False)
    got = single(batch, training=False)
    for key in ("mel", "mel_post", "stop_logits", "alignment"):
        np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), atol=1e-5, rtol=1e-5, err_msg=key)
    other = source(dict(batch, speaker_vector=np.tile(vectors(1, seed + 7)[0], (3, 1))), training=False)
    assert np.abs(other["mel"].numpy() - expected["mel"].numpy()).max() > 1e-3  # the vector matters


def test_zoneout_mixes_states_at_inference_and_only_in_the_state():
    from tts_adapt.model.cells import LSTMCell

    cell = LSTMCell(3)
    cell.build(2)
    rng = np.random.default_rng(0)
    projected = rng.normal(size=(4, 12)).astype(np.float32)
    state = tuple(rng.normal(size=(4, 3)).astype(np.float32) for _ in range(2))
    plain_h, plain_c = (t.numpy() for t in cell.step(projected, state))
    output, (h, c) = cell.zoneout_step(projected, state, 0.25)
    np.testing.assert_allclose(output.numpy(), plain_h, rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), 0.75 * plain_h + 0.25 * state[0], rtol=1e-6)
    np.testing.assert_allclose(c.numpy(), 0.75 * plain_c + 0.25 * state[1], rtol=1e-6)
    _, (h, c) = cell.zoneout_step(projected, state, 0.25, training=True)
    kept_or_new = np.isclose(h.numpy(), state[0]) | np.isclose(h.numpy(), plain_h)
    assert kept_or_new.all() and not np.allclose(h.numpy(), plain_h)


def test_a_vector_model_needs_its_vector_and_free_runs_with_it():
    model = Tacotron(TF1, N_SYMBOLS)
    randomise(model, 3, scale=0.3)
    batch = make_batch(TF1, n_speakers=0)
    with pytest.raises(ValueError, match="speaker vector"):
        model(batch, training=False)
    runs = [model.infer(batch["text"], batch["text_len"], max_steps=4, seed=1, speaker_vector=vectors(3, s))
            for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0]["mel"].numpy(), runs[1]["mel"].numpy())
    assert not np.array_equal(runs[0]["mel"].numpy(), runs[2]["mel"].numpy())


def test_config_names_and_switches_are_checked():
    assert ModelConfig.from_dict(TF1.to_dict()) == TF1
    assert ModelConfig.from_dict({}).decoder_topology == "attention_lstm"  # manifests written before the field
    with pytest.raises(UserError, match="decoder_topology must be one of"):
        ModelConfig.from_dict({"decoder_topology": "wavenet"})
    with pytest.raises(UserError, match="postnet_projection must be true or false"):
        ModelConfig.from_dict({"postnet_projection": 1})
    with pytest.raises(UserError, match="speaker_input must be a name"):
        ModelConfig.from_dict({"speaker_input": 2})
    with pytest.raises(UserError, match="zoneout"):
        ModelConfig.from_dict({"zoneout": 1.0})
    with pytest.raises(ValueError, match="table or as a vector"):
        Tacotron(TF1, N_SYMBOLS, 3)
