"""Adapting real TF1 Saver checkpoints: numerics, rows by symbol, slots, counters, manifest."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from tts_adapt.manifest import read_manifest
from tts_adapt.surgery.plan_document import AdaptReport
from tts_adapt.testing import tiny_tacotron as tiny
from tests.cli_testing import NEW_SYMBOLS, OLD_SYMBOLS, run_cli

N = tiny.names()
TEXT = list("abcdjja")  # symbols present in both tables


def encode(chars, table):
    return np.array([[table.index(c) for c in chars]] * 2, np.int32)


def adapt(capsys, source, out, layouts, tables, *extra):
    code, stdout, stderr = run_cli(
        ["adapt", source, "--output", out, "--symbols", tables["new"], "--source-symbols", tables["old"],
         "--layout", layouts["tf1"], *extra], capsys)
    assert code == 0, stderr
    return stdout


def outputs(weights, table, speaker=None):
    prenet = np.random.default_rng(1).standard_normal((2, tiny.STEPS, tiny.PRENET)).astype(np.float32)
    spk = None if speaker is None else np.array([speaker, speaker], np.int32)
    return tiny.forward(weights, encode(TEXT, table), spk, prenet).numpy()


@pytest.mark.parametrize("speaker", range(3))
def test_folded_model_computes_what_the_source_computed_for_that_speaker(tmp_path, capsys, tf1_source, layouts, tables, speaker):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", speaker)
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))
    expected = outputs(src, OLD_SYMBOLS, speaker)
    got = outputs(out, NEW_SYMBOLS)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    other = outputs(src, OLD_SYMBOLS, (speaker + 1) % 3)
    assert np.abs(other - got).max() > 1e-3, "speakers must differ, or the test proves nothing"


def test_speaker_rows_dropped_everywhere_and_slots_follow(tmp_path, capsys, tf1_source, layouts, tables):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", "2")
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))
    for site in tiny.layout_dict()["sites"]:
        start, stop = site["speaker_rows"]
        for suffix in ("", "/Adam", "/Adam_1"):
            kept = np.delete(src[site["kernel"] + suffix], np.s_[start:stop], axis=0)
            np.testing.assert_array_equal(out[site["kernel"] + suffix], kept)
        # the bias gets the fold, its moments are kept as they were
        for suffix in ("/Adam", "/Adam_1"):
            np.testing.assert_array_equal(out[site["fold_into"] + suffix], src[site["fold_into"] + suffix])
    assert not any("speaker_embedding" in k for k in out), "deleted variables leave no tensors behind"
    assert out["global_step"] == src["global_step"] == 2
    assert out["beta1_power"] == src["beta1_power"]


def test_embedding_rows_follow_the_symbol(tmp_path, capsys, tf1_source, layouts, tables):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--new-rows", "zero")
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))
    emb = N["embedding"]
    assert out[emb].shape == (len(NEW_SYMBOLS), tiny.EMB)
    for new_id, sym in enumerate(NEW_SYMBOLS):
        if sym in OLD_SYMBOLS:
            for suffix in ("", "/Adam", "/Adam_1"):
                np.testing.assert_array_equal(out[emb + suffix][new_id], src[emb + suffix][OLD_SYMBOLS.index(sym)])
    # aliases: é <- e (accent), F <- f (case); their slot rows start at zero
    np.testing.assert_array_equal(out[emb][NEW_SYMBOLS.index("é")], src[emb][OLD_SYMBOLS.index("e")])
    np.testing.assert_array_equal(out[emb][NEW_SYMBOLS.index("F")], src[emb][OLD_SYMBOLS.index("f")])
    for sym in ("é", "F", " ", "x"):
        assert not out[emb + "/Adam"][NEW_SYMBOLS.index(sym)].any()
        assert not out[emb + "/Adam_1"][NEW_SYMBOLS.index(sym)].any()
    assert not out[emb][NEW_SYMBOLS.index("x")].any()  # --new-rows zero


@pytest.mark.parametrize("strategy", ["mean", "normal"])
def test_new_rows_strategies(tmp_path, capsys, tf1_source, layouts, tables, strategy):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--new-rows", strategy)
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))[N["embedding"]]
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))[N["embedding"]]
    rows = out[[NEW_SYMBOLS.index(" "), NEW_SYMBOLS.index("x")]]
    if strategy == "mean":
        np.testing.assert_allclose(rows, np.tile(src.mean(axis=0), (2, 1)), rtol=1e-6)
    else:
        assert not np.allclose(rows[0], rows[1])
        assert np.abs(rows).max() < np.abs(src).max() * 5


def test_fold_none_only_drops_rows(tmp_path, capsys, tf1_source, layouts, tables):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables)
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))
    for site in tiny.layout_dict()["sites"]:
        np.testing.assert_array_equal(out[site["fold_into"]], src[site["fold_into"]])


def test_optimizer_reset_writes_model_weights_only(tmp_path, capsys, tf1_source, layouts, tables):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--optimizer", "reset", "--fold-speaker", "0")
    keys = set(tf.train.load_checkpoint(str(tmp_path / "out")).get_variable_to_shape_map())
    expected = {n for role, n in N.items() if role != "speakers"}
    assert keys == expected


def test_sharded_source(tmp_path, capsys, tf1_sharded_source, layouts, tables):
    assert len(list(tf1_sharded_source.glob("*.data-*"))) > 1
    adapt(capsys, tf1_sharded_source, tmp_path / "out", layouts, tables, "--fold-speaker", "1")
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_sharded_source)))
    out = tiny.load_weights(tf.train.latest_checkpoint(str(tmp_path / "out")))
    np.testing.assert_allclose(outputs(out, NEW_SYMBOLS), outputs(src, OLD_SYMBOLS, 1), atol=1e-5)


def test_manifest_accounts_for_every_key(tmp_path, capsys, tf1_source, layouts, tables):
    adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", "1")
    manifest = read_manifest(tmp_path / "out")
    source_keys = set(tf.train.load_checkpoint(str(tf1_source)).get_variable_to_shape_map())
    actions = manifest.adaptation["actions"]
    assert {a["key"] for a in actions} == source_keys
    assert len(actions) == len(source_keys)
    assert list(manifest.symbols) == NEW_SYMBOLS and manifest.speakers == ()
    assert manifest.adaptation["source_symbols"] == OLD_SYMBOLS
    assert manifest.folded_speaker["id"] == 1
    assert manifest.dialect == "tf1" and manifest.layout["sites"] == []
    for name, digest in manifest.adaptation["source"]["files"].items():
        assert hashlib.sha256((tf1_source / name).read_bytes()).hexdigest() == digest
    assert len(manifest.adaptation["source"]["files"]) == 2  # index + one data shard


def test_dry_run_writes_nothing_and_json_plan_lists_every_key(tmp_path, capsys, tf1_source, layouts, tables):
    out = adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", "1", "--dry-run",
                "--format", "json")
    assert not (tmp_path / "out").exists()
    printed = json.loads(out)
    report = AdaptReport.from_json(printed, "adapt --format json")  # as the report and recipes read it
    assert report.to_json() == printed  # nothing printed that the reader drops
    assert report.dry_run and report.checkpoint is None
    plan = report.plan
    by_key = {a.key: a for a in plan.actions}
    assert by_key[N["speakers"]].op == "delete"
    assert by_key[N["lstm_kernel"]].op == "drop_rows"
    assert by_key[N["lstm_kernel"]].shape_after == (tiny.PRENET + tiny.ENC + tiny.UNITS, 4 * tiny.UNITS)
    assert by_key[N["att_bias"]].op == "fold"
    assert by_key[N["embedding"] + "/Adam"].op == "remap_rows"
    inits = {s.symbol: s.init for s in plan.symbols}
    assert inits["é"].startswith("alias of e") and inits["x"] == "mean"


def test_plan_output_keeps_the_json_document_of_a_run_that_prints_text(tmp_path, capsys, tf1_source, layouts, tables):
    """One surgery gives the recipe both: the plan for people (stdout) and the document for the report."""
    kept = tmp_path / "plan" / "adapt_plan.json"
    out = adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", "1", "--plan-output", kept)
    assert "drop_rows" in out and "wrote " in out  # the text, as without --plan-output
    written = AdaptReport.read(kept)
    assert not written.dry_run and written.checkpoint and (tmp_path / "out").is_dir()
    # the file holds what --format json prints for the same surgery
    printed = adapt(capsys, tf1_source, tmp_path / "again", layouts, tables, "--fold-speaker", "1", "--format", "json")
    again = AdaptReport.from_json(json.loads(printed), "adapt --format json")
    assert written.plan == again.plan and written.output != again.output


@pytest.mark.parametrize("where", ["inside the output", "the source's folder"])
def test_plan_output_is_refused_where_it_would_land_in_a_checkpoint(tmp_path, capsys, tf1_source, layouts, tables, where):
    out = tmp_path / "out"
    target = out / "plan.json" if where == "inside the output" else tf1_source / "plan.json"
    code, _, stderr = run_cli(["adapt", tf1_source, "--output", out, "--symbols", tables["new"], "--source-symbols",
                               tables["old"], "--layout", layouts["tf1"], "--plan-output", target], capsys)
    assert code == 2 and "--plan-output" in stderr
    assert not out.exists() and not target.exists()


def test_text_plan_is_readable(tmp_path, capsys, tf1_source, layouts, tables):
    out = adapt(capsys, tf1_source, tmp_path / "out", layouts, tables, "--fold-speaker", "1", "--dry-run")
    assert "drop_rows" in out and "fold" in out and "dry run: nothing written" in out
    assert "alias of e" in out and "␠" in out  # the space symbol is shown escaped


def test_speaker_vector_file_equals_table_row(tmp_path, capsys, tf1_source, layouts, tables):
    src = tiny.load_weights(tf.train.latest_checkpoint(str(tf1_source)))
    vector = tmp_path / "spk.npy"
    np.save(vector, src[N["speakers"]][2])
    adapt(capsys, tf1_source, tmp_path / "a", layouts, tables, "--speaker-vector", vector)
    adapt(capsys, tf1_source, tmp_path / "b", layouts, tables, "--fold-speaker", "2")
    a = tiny.load_weights(str(tmp_path / "a" / "model.ckpt-2"))
    b = tiny.load_weights(str(tmp_path / "b" / "model.ckpt-2"))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_the_plan_puts_every_kernel_before_the_bias_it_folds_into(tf1_source, layouts, tables):
    """apply streams actions in order and a fold adds what its kernels' drop computed: the order is checked."""
    import dataclasses

    from tts_adapt.surgery.adapt import plan_adaptation

    plan = plan_adaptation(tf1_source, tables["new"], source_symbols_path=tables["old"], layout_path=layouts["tf1"],
                           fold_speaker="1")
    folds = [a for a in plan.actions if a.op == "fold"]
    assert folds
    keys = [a.key for a in plan.actions]
    assert all(keys.index(kernel) < keys.index(f.key) for f in folds for kernel, _ in f.fold_from)
    with pytest.raises(ValueError, match="plan order"):
        dataclasses.replace(plan, actions=list(reversed(plan.actions)))
