import numpy as np
import pytest

from tests.tiny_model import TINY, N_SPEAKERS, N_SYMBOLS, make_batch, randomise
from tts_adapt.model.config import ModelConfig, preset
from tts_adapt.model.tacotron import Tacotron
from tts_adapt.errors import UserError


def paths(model):
    return {v.path: tuple(v.shape) for v in model.variables}


def test_paths_are_stable_and_named():
    first = paths(Tacotron(TINY, N_SYMBOLS, N_SPEAKERS))
    second = paths(Tacotron(TINY, N_SYMBOLS, N_SPEAKERS))
    assert first == second
    assert all(p.startswith("tacotron/") for p in first)
    assert "tacotron/encoder/conv_0/kernel" in first
    assert "tacotron/decoder/attention/attention_bias" in first
    assert not any("seed_generator" in p for p in first)


def test_single_speaker_differs_exactly_by_the_layout():
    multi = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS)
    single = Tacotron(TINY, N_SYMBOLS, 0)
    layout = multi.layout()
    multi_shapes, single_shapes = paths(multi), paths(single)
    assert set(multi_shapes) - set(single_shapes) == {layout.speaker_embedding}
    assert set(single_shapes) <= set(multi_shapes)
    sites = {s.kernel: s for s in layout.sites}
    assert len(sites) == 5
    for path, shape in single_shapes.items():
        if path in sites:
            start, stop = sites[path].speaker_rows
            assert stop - start == layout.speaker_dim
            assert multi_shapes[path] == (shape[0] + layout.speaker_dim, *shape[1:])
            assert sites[path].fold_into in single_shapes
        else:
            assert multi_shapes[path] == shape
    assert single.layout().sites == () and single.layout().speaker_embedding is None
    assert single.layout().symbol_embedding == layout.symbol_embedding


@pytest.mark.parametrize("speaker", range(N_SPEAKERS))
def test_folding_a_speaker_gives_the_same_outputs(speaker):
    """What adapt + verify do on checkpoints: drop the speaker rows, add e_s @ kernel[rows] to fold_into."""
    multi = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS)
    randomise(multi, seed=speaker)
    single = Tacotron(TINY, N_SYMBOLS, 0)
    layout = multi.layout()
    weights = {v.path: v.numpy().astype(np.float64) for v in multi.variables}
    vector = weights[layout.speaker_embedding][speaker]
    for site in layout.sites:
        start, stop = site.speaker_rows
        kernel = weights[site.kernel]
        weights[site.fold_into] = weights[site.fold_into] + vector @ kernel[start:stop]
        weights[site.kernel] = np.concatenate([kernel[:start], kernel[stop:]])
    for v in single.variables:
        v.assign(weights[v.path].astype(np.float32))
    batch = make_batch()
    batch["speaker"] = np.full_like(batch["speaker"], speaker)
    a, b = multi(batch, training=False), single(batch, training=False)
    for key in ("mel", "mel_post", "stop_logits", "alignment"):
        np.testing.assert_allclose(b[key].numpy(), a[key].numpy(), atol=1e-5, rtol=1e-5, err_msg=key)
    assert np.abs(a["mel"].numpy()).max() > 0.1  # the comparison is not between zeros


def test_teacher_forced_shapes():
    model = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS)
    batch = make_batch(steps=5)
    out = model(batch, training=False)
    frames = 5 * TINY.reduction
    assert out["mel"].shape == (3, frames, TINY.n_mels) == out["mel_post"].shape
    assert out["stop_logits"].shape == (3, frames)
    assert out["alignment"].shape == (3, 5, batch["text"].shape[1])
    alignment = out["alignment"].numpy()
    np.testing.assert_allclose(alignment.sum(-1), 1.0, atol=1e-5)
    assert alignment[1, :, batch["text_len"][1]:].max() < 1e-6  # masked softmax: no weight on padding


def test_padding_does_not_change_an_item():
    model = Tacotron(TINY, N_SYMBOLS, 0)
    randomise(model)
    batch = make_batch(n_speakers=0)
    short = {k: v[2:3] for k, v in batch.items()}
    length = short["text_len"][0]
    trimmed = dict(short, text=short["text"][:, :length])
    full = model(short, training=False)["mel_post"].numpy()
    alone = model(trimmed, training=False)["mel_post"].numpy()
    np.testing.assert_allclose(full, alone, atol=1e-5)


def test_free_running_is_deterministic_per_seed():
    model = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS)
    randomise(model, scale=0.3)
    batch = make_batch()
    runs = [model.infer(batch["text"], batch["text_len"], batch["speaker"], max_steps=6, seed=s) for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0]["mel_post"].numpy(), runs[1]["mel_post"].numpy())
    assert not np.array_equal(runs[0]["mel_post"].numpy(), runs[2]["mel_post"].numpy())
    out = runs[0]
    steps = out["alignment"].shape[1]
    assert 1 <= steps <= 6
    assert out["mel"].shape == (3, steps * TINY.reduction, TINY.n_mels)
    assert np.all(out["mel_len"].numpy() >= 1) and np.all(out["mel_len"].numpy() <= steps * TINY.reduction)


def test_config_round_trip_and_errors():
    config = preset("small")
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert ModelConfig.from_dict({"preset": "tiny", "n_mels": 20}).n_mels == 20
    with pytest.raises(UserError, match="unknown keys"):
        ModelConfig.from_dict({"embed_dims": 3})
    with pytest.raises(UserError, match="unknown model preset"):
        ModelConfig.from_dict({"preset": "huge"})
    with pytest.raises(UserError, match="whole number"):
        ModelConfig.from_dict({"embed_dim": 2.5})
