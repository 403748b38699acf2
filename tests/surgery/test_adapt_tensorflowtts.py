"""TensorFlowTTS Tacotron-2 ``.h5`` checkpoints made by Keras 2 itself: recognised, remapped, folded, verified.

The source models are ``tensorflowtts_tacotron2.TFTacotron2`` with TensorFlowTTS's names, saved as
its trainer does; the adapted weights are loaded back with Keras 2's own ``load_weights``.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import tensorflow as tf
import yaml

from tests import tensorflowtts_tacotron2 as tftts
from tests.cli_testing import printed_document, run_cli
from tts_adapt.cli.inspect import CheckpointDescription
from tts_adapt.manifest import read_manifest
from tts_adapt.scoring.tensorflowtts_equivalence import FoldVerification
from tts_adapt.surgery.plan_document import AdaptReport

PREFIX = "tacotron2/encoder/"
SPEAKER = 1


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """``{"v2": encoder-output speaker site too, "v1": embedding site only, "single": one speaker}``."""
    root = tmp_path_factory.mktemp("tensorflowtts")
    made = {}
    for name, config in (("v2", tftts.Config()), ("v1", tftts.Config(encoder_speaker=False)),
                         ("single", tftts.Config(n_speakers=1))):
        model = tftts.build(config, seed=len(made))
        made[name] = {"weights": tftts.save_like_tensorflowtts(model, root / name / "checkpoints"),
                      "values": {w.name: w.numpy() for w in model.weights}, "config": config}
    made["old"] = tftts.write_table(root / "old.txt", tftts.SYMBOLS)
    made["new"] = tftts.write_table(root / "new.txt", tftts.NEW_SYMBOLS)
    return made


def propose(weights, capsys, tmp_path):
    code, out, err = run_cli(["inspect", weights, "--propose-layout"], capsys)
    assert code == 0, err
    path = tmp_path / f"layout-{weights.parent.parent.name}.yaml"
    path.write_text(out, encoding="utf-8")
    return path


def adapt(sources, version, capsys, tmp_path, *extra):
    out = tmp_path / f"adapted-{version}"
    code, _, err = run_cli(["adapt", sources[version]["weights"], "--layout", propose(sources[version]["weights"],
                            capsys, tmp_path), "--source-symbols", sources["old"], "--symbols", sources["new"],
                            "--output", out, *extra], capsys)
    assert code == 0, err
    return out / sources[version]["weights"].name


def single_speaker_model():
    return tftts.build(tftts.Config(vocab=len(tftts.NEW_SYMBOLS), n_speakers=1), seed=None)


def weights_of(model) -> dict[str, np.ndarray]:
    return {w.name: w.numpy() for w in model.weights}


def softplus_term(values, table, kernel, bias):
    return np.logaddexp(0.0, values[table][SPEAKER].astype(np.float64) @ values[kernel] + values[bias])


def test_inspect_recognises_both_versions_and_says_which_folds_are_exact(sources, capsys, tmp_path):
    code, out, _ = run_cli(["inspect", sources["v2"]["weights"], "--format", "json"], capsys)
    info = CheckpointDescription.from_json(json.loads(out), "inspect --format json")
    assert code == 0 and info.dialect == "h5"
    assert "encoder outputs" in info.recognised.model and info.recognised.proposed_layout.startswith("# ")
    v2 = propose(sources["v2"]["weights"], capsys, tmp_path).read_text(encoding="utf-8")
    sites = yaml.safe_load(v2)["sites"]
    assert [s["added_to"] for s in sites] == ["symbol_embedding", "outputs"]
    memory = next(c for c in sites[1]["consumers"] if c["kernel"].endswith("memory_layer/kernel"))
    assert "fold_into" not in memory and "memory_layer/kernel rows [0, 16]: NOT exact" in v2
    assert sum(1 for c in sites[1]["consumers"] if c.get("zero_at_first_step")) == 1
    v1 = yaml.safe_load(propose(sources["v1"]["weights"], capsys, tmp_path).read_text(encoding="utf-8"))
    assert [s["added_to"] for s in v1["sites"]] == ["symbol_embedding"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_output_loads_with_keras_load_weights_into_a_single_speaker_model(sources, capsys, tmp_path, caplog, version):
    adapted = adapt(sources, version, capsys, tmp_path, "--fold-speaker", str(SPEAKER))
    strict = single_speaker_model()
    strict.load_weights(str(adapted))  # by position: every layer and weight count must match
    by_name = single_speaker_model()
    with caplog.at_level(logging.WARNING):
        by_name.load_weights(str(adapted), by_name=True, skip_mismatch=True)
    assert "Skipping loading" not in caplog.text
    loaded, source = weights_of(strict), sources[version]["values"]
    assert all(np.array_equal(loaded[k], v) for k, v in weights_of(by_name).items())
    folded = loaded[PREFIX + "embeddings/character_embeddings/weight:0"]
    term = softplus_term(source, PREFIX + "embeddings/speaker_embeddings/embeddings:0",
                         PREFIX + "embeddings/speaker_fc/kernel:0", PREFIX + "embeddings/speaker_fc/bias:0")
    old_rows = source[PREFIX + "embeddings/character_embeddings/weight:0"]
    for new_id, symbol in enumerate(tftts.NEW_SYMBOLS):
        expected = old_rows[tftts.SYMBOLS.index(symbol)] if symbol in tftts.SYMBOLS else old_rows.mean(axis=0)
        np.testing.assert_allclose(folded[new_id], expected + term, rtol=1e-6, atol=1e-6)
    unchanged = [k for k in loaded if "character_embeddings" not in k and not k.endswith("/bias:0")]
    assert unchanged and all(np.array_equal(loaded[k], source[k]) for k in unchanged)


def keras_pretrained(weights, caplog) -> tuple[dict, dict]:
    """TensorFlowTTS's --pretrained path into a single-speaker model of the new vocabulary:
    (weights before, weights after) ``load_weights(by_name=True, skip_mismatch=True)``."""
    model = single_speaker_model()
    fresh = weights_of(model)
    with caplog.at_level(logging.WARNING):
        model.load_weights(str(weights), by_name=True, skip_mismatch=True)
    return fresh, weights_of(model)


def encoder_weights(values) -> list[str]:
    return [k for k in values if k.startswith(PREFIX) and "character_embeddings" not in k]


def check_rows_follow_symbols(rows, old) -> None:
    for new_id, symbol in enumerate(tftts.NEW_SYMBOLS):
        if symbol in tftts.SYMBOLS:
            assert np.array_equal(rows[new_id], old[tftts.SYMBOLS.index(symbol)]), symbol
        else:  # only the new rows are initialised
            np.testing.assert_allclose(rows[new_id], old.mean(axis=0), rtol=1e-6)


TABLE = PREFIX + "embeddings/character_embeddings/weight:0"


def test_a_new_voice_keeps_every_encoder_weight_where_skip_mismatch_drops_the_encoder(sources, capsys, tmp_path,
                                                                                       caplog):
    """Multi-speaker source, single-speaker target with a new vocabulary: Keras skips the whole encoder
    (its speaker layers live inside it, so the weight count differs); adapt keeps every weight."""
    source = sources["v2"]["values"]
    fresh, keras_way = keras_pretrained(sources["v2"]["weights"], caplog)
    assert "Skipping loading of weights for layer #0 (named encoder) due to mismatch in number of weights" \
        in caplog.text
    ours = single_speaker_model()
    ours.load_weights(str(adapt(sources, "v2", capsys, tmp_path)))
    ours = weights_of(ours)
    encoder = encoder_weights(ours)
    assert len(encoder) == 20
    assert all(np.array_equal(keras_way[k], fresh[k]) for k in [*encoder, TABLE])  # Keras: all at initialisation
    assert all(np.array_equal(ours[k], source[k]) for k in encoder)  # adapt: all kept
    check_rows_follow_symbols(ours[TABLE], source[TABLE])
    decoder = [k for k in ours if not k.startswith(PREFIX)]
    assert all(np.array_equal(keras_way[k], source[k]) and np.array_equal(ours[k], source[k]) for k in decoder)


def test_a_vocabulary_change_keeps_the_rows_of_kept_symbols_where_skip_mismatch_drops_the_table(
        sources, capsys, tmp_path, caplog):
    """One speaker, a new vocabulary (TensorFlowTTS issue 457): Keras skips the character table, every row of
    it, the symbols both vocabularies share included; adapt moves each row to its symbol."""
    source = sources["single"]["values"]
    fresh, keras_way = keras_pretrained(sources["single"]["weights"], caplog)
    assert "due to mismatch in shape for weight " + TABLE in caplog.text
    assert np.array_equal(keras_way[TABLE], fresh[TABLE])
    assert all(np.array_equal(keras_way[k], source[k]) for k in encoder_weights(source))
    ours = single_speaker_model()
    ours.load_weights(str(adapt(sources, "single", capsys, tmp_path)))
    ours = weights_of(ours)
    check_rows_follow_symbols(ours[TABLE], source[TABLE])
    assert all(np.array_equal(ours[k], source[k]) for k in encoder_weights(source))


def teacher_forced(model, ids, lengths, speaker, mel):
    return {k: v.numpy() for k, v in model((ids, lengths, np.array([speaker], np.int32), mel)).items()}


def encode(symbols, table):
    return np.array([[table.index(s) for s in symbols]], np.int32)


def test_the_embedding_site_folds_exactly_through_the_whole_model(sources, capsys, tmp_path):
    """Version 1 (speaker term on the character embeddings only): Keras computes the same for the folded speaker."""
    adapted = adapt(sources, "v1", capsys, tmp_path, "--fold-speaker", str(SPEAKER))
    single = single_speaker_model()
    single.load_weights(str(adapted))
    multi = tftts.build(sources["v1"]["config"], seed=None)
    multi.load_weights(str(sources["v1"]["weights"]))
    text = list("bad jade cab")
    _, _, mel = tftts.probe(single.config, seed=5, frames=10)
    lengths = np.array([len(text)], np.int32)
    expected = teacher_forced(multi, encode(text, tftts.SYMBOLS), lengths, SPEAKER, mel)
    got = teacher_forced(single, encode(text, tftts.NEW_SYMBOLS), lengths, 0, mel)
    for name in ("mel", "mel_post", "stop", "alignment"):
        scale = np.max(np.abs(expected[name]))
        assert scale > 0.05 and np.max(np.abs(got[name] - expected[name])) / scale <= 1e-5, name
    other = teacher_forced(multi, encode(text, tftts.SYMBOLS), lengths, 2, mel)
    assert np.max(np.abs(other["mel"] - expected["mel"])) / np.max(np.abs(expected["mel"])) > 1e-3


def verify(capsys, *args):
    code, out, err = run_cli(["verify", *args, "--format", "json"], capsys)
    if not out:
        return code, None, err
    return code, printed_document(FoldVerification, out, "verify --format json"), err


def test_verify_measures_the_folds_exact_where_claimed_and_reports_the_residual(sources, capsys, tmp_path):
    adapted = adapt(sources, "v2", capsys, tmp_path, "--fold-speaker", str(SPEAKER))
    code, result, err = verify(capsys, sources["v2"]["weights"], adapted)
    assert code == 0, err
    measured = result.measurements
    exact = {name for name, m in measured.items() if m.exact}
    assert exact == {"layer_norm", "encoder", "attention_lstm_cell", "lstm_cell_._0", "frame_projection"}
    assert all(measured[name].max_rel_diff <= 1e-5 for name in exact)
    assert set(measured) - exact == {"alignment", "attention_lstm_cell@first_step", "memory_layer"}
    assert result.residual > 1e-3 and result.ok and result.speaker == f"speaker {SPEAKER}"
    code, result, _ = verify(capsys, sources["v2"]["weights"], adapted, "--speaker", "2")
    assert code == 1 and not result.ok and measured["layer_norm"].max_rel_diff < result.max_rel_diff


def test_verify_of_the_embedding_site_only_has_no_residual(sources, capsys, tmp_path):
    adapted = adapt(sources, "v1", capsys, tmp_path, "--fold-speaker", "mean")
    code, result, err = verify(capsys, sources["v1"]["weights"], adapted)
    assert code == 0, err
    assert set(result.measurements) == {"layer_norm", "encoder"} and result.residual is None
    assert result.speaker == "the mean of its speaker rows" and result.max_rel_diff <= 1e-5


def test_verify_runs_the_network_keras_runs(sources):
    """The forward pass verify trusts is the Keras model's: encoder outputs and alignment, on the v2 source."""
    from tts_adapt.checkpoint.reader import open_checkpoint
    from tts_adapt.checkpoint.tensorflowtts import recognise
    from tts_adapt.scoring import tensorflowtts_forward as forward

    model = tftts.build(sources["v2"]["config"], seed=None)
    model.load_weights(str(sources["v2"]["weights"]))
    checkpoint = open_checkpoint(sources["v2"]["weights"])
    recognised = recognise({n: g.weight.shape for n, g in checkpoint.grouping.variables.items()})
    ids, lengths, _ = tftts.probe(model.config, seed=3)
    speaker = np.array([SPEAKER], np.int32)
    memory, mask = model.encode(ids, lengths, speaker)
    values = sources["v2"]["values"]
    embedded = values[PREFIX + "embeddings/character_embeddings/weight:0"][ids[0]] + softplus_term(
        values, PREFIX + "embeddings/speaker_embeddings/embeddings:0", PREFIX + "embeddings/speaker_fc/kernel:0",
        PREFIX + "embeddings/speaker_fc/bias:0")
    weights = forward.encoder_weights(list(checkpoint.grouping.variables), checkpoint.read, recognised)
    ours = forward.encode(embedded, weights)[1] + softplus_term(
        values, PREFIX + "encoder_speaker_embeddings/embeddings:0", PREFIX + "encoder_speaker_fc/kernel:0",
        PREFIX + "encoder_speaker_fc/bias:0")
    np.testing.assert_allclose(ours, memory.numpy()[0], rtol=1e-4, atol=1e-5)
    attention = model.decoder_cell.attention_layer
    attention.setup_memory(memory, mask)
    rng = np.random.default_rng(0)
    query = rng.standard_normal((1, model.config.decoder_units)).astype(np.float32)
    cumulative = rng.uniform(0, 1, (1, ids.shape[1])).astype(np.float32)
    _, alignment = attention.attend(tf.constant(query), tf.constant(cumulative))
    ours = forward.attend(memory.numpy()[0].astype(np.float64), query[0], cumulative[0],
                          forward.attention_weights(checkpoint.read, recognised))
    np.testing.assert_allclose(ours, alignment.numpy()[0], rtol=1e-4, atol=1e-6)


def test_trainer_state_is_carried_or_reset(sources, capsys, tmp_path):
    adapted = adapt(sources, "v2", capsys, tmp_path, "--fold-speaker", str(SPEAKER))
    optimizer = tftts.keras.optimizers.legacy.Adam(1e-3)
    trainer = tf.train.Checkpoint(steps=tf.Variable(1), epochs=tf.Variable(1), optimizer=optimizer)
    trainer.restore(str(adapted.parent / f"ckpt-{tftts.STEPS}")).assert_existing_objects_matched()
    assert int(trainer.steps.numpy()) == tftts.STEPS and int(trainer.epochs.numpy()) == 3
    assert tf.train.latest_checkpoint(str(adapted.parent)).endswith(f"ckpt-{tftts.STEPS}")
    reset = adapt(sources, "v1", capsys, tmp_path, "--optimizer", "reset")
    assert sorted(p.name for p in reset.parent.iterdir()) == ["manifest.json", reset.name]
    manifest = read_manifest(reset.parent)
    assert manifest.dialect == "h5" and manifest.checkpoint == reset.name


def test_per_variable_optimizer_state_is_not_carried_and_the_plan_says_so(sources, capsys, tmp_path):
    """A newer Keras optimizer lists its moments by position: they cannot follow rows by name."""
    folder = tmp_path / "newer"
    model = tftts.build(sources["v1"]["config"], seed=0)
    optimizer = tftts.keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    tf.train.CheckpointManager(tf.train.Checkpoint(steps=tf.Variable(7), optimizer=optimizer), str(folder),
                               max_to_keep=1).save(checkpoint_number=7)
    model.save_weights(str(folder / "model-7.h5"))
    code, out, err = run_cli(["adapt", folder / "model-7.h5", "--layout", propose(sources["v1"]["weights"], capsys,
                              tmp_path), "--output", tmp_path / "out", "--dry-run", "--format", "json"], capsys)
    assert code == 0, err
    plan = AdaptReport.from_json(json.loads(out), "adapt --format json").plan
    assert any("not carried, Adam starts afresh" in note for note in plan.notes)
    assert not any(a.key.startswith("ckpt-7/") for a in plan.actions)


@pytest.mark.parametrize("option, says", [
    (["--speaker-vector", "VECTOR"], "additive speaker sites fold a row of their own speaker tables"),
    (["--fold-speaker", "auto", "--data", "DATA"], "name the speaker (ID|NAME|mean)"),
    (["--fold-speaker", "7"], "7"),
])
def test_a_speaker_an_additive_site_cannot_fold_is_one_line_exit_2(sources, capsys, tmp_path, option, says):
    np.save(tmp_path / "vector.npy", np.zeros(16, np.float32))
    (tmp_path / "data").mkdir()
    option = [{"VECTOR": tmp_path / "vector.npy", "DATA": tmp_path / "data"}.get(o, o) for o in option]
    code, out, err = run_cli(["adapt", sources["v2"]["weights"], "--layout", propose(sources["v2"]["weights"], capsys,
                              tmp_path), *option, "--output", tmp_path / "out"], capsys)
    assert code == 2 and out == "" and says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
