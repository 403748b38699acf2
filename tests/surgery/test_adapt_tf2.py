"""Adapting an object-based (TF2) checkpoint: it restores into the single-speaker module."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tts_adapt.testing import tiny_tacotron as tiny
from tests.cli_testing import NEW_SYMBOLS, OLD_SYMBOLS, run_cli
from tts_adapt.checkpoint.object_graph import node_paths, parse_object_graph

TEXT = list("abcdjja")


def encode(table):
    return np.array([[table.index(c) for c in TEXT]], np.int32)


@pytest.fixture()
def adapted(tmp_path, capsys, tf2_source, layouts, tables):
    def make(*extra):
        out = tmp_path / "out"
        code, _, err = run_cli(["adapt", tf2_source, "--output", out, "--symbols", tables["new"],
                                "--source-symbols", tables["old"], "--layout", layouts["tf2"], *extra], capsys)
        assert code == 0, err
        return out
    return make


def restore_source(path):
    module = tiny.ToyModule(len(OLD_SYMBOLS), 3, seed=99)
    tf.train.Checkpoint(model=module).restore(tf.train.latest_checkpoint(str(path))).expect_partial()
    return module


def test_restores_into_single_speaker_module_and_computes_the_same(adapted, tf2_source):
    out = adapted("--fold-speaker", "1")
    single = tiny.ToyModule(len(NEW_SYMBOLS), 0, seed=7)
    optimizer = tf.compat.v1.train.AdamOptimizer(0.01)
    status = tf.train.Checkpoint(model=single, optimizer=optimizer).restore(tf.train.latest_checkpoint(str(out)))
    status.assert_existing_objects_matched()
    source = restore_source(tf2_source)
    prenet = np.random.default_rng(3).standard_normal((1, tiny.STEPS, tiny.PRENET)).astype(np.float32)
    expected = tiny.forward(source.weights(), encode(OLD_SYMBOLS), np.array([1], np.int32), prenet).numpy()
    got = tiny.forward(single.weights(), encode(NEW_SYMBOLS), None, prenet).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)


def test_deleted_objects_leave_the_object_graph(adapted):
    out = adapted("--fold-speaker", "0")
    reader = tf.train.load_checkpoint(str(out))
    keys = reader.get_variable_to_shape_map()
    assert not any("speaker_embedding" in k for k in keys)
    graph = parse_object_graph(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    paths = set(node_paths(graph).values())
    assert "model/speaker_embedding" not in paths and "model/memory_layer/kernel" in paths
    for node in graph.nodes:
        for attr in node.attributes:
            assert attr.checkpoint_key in keys, "every promised tensor exists"
    slot_key = "model/memory_layer/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"
    assert tuple(keys[slot_key]) == (tiny.ENC, tiny.ATT)


def test_optimizer_reset_drops_the_optimizer_object(adapted):
    out = adapted("--optimizer", "reset")
    reader = tf.train.load_checkpoint(str(out))
    assert not any("OPTIMIZER_SLOT" in k or k.startswith("optimizer/") for k in reader.get_variable_to_shape_map())
    single = tiny.ToyModule(len(NEW_SYMBOLS), 0)
    tf.train.Checkpoint(model=single).restore(tf.train.latest_checkpoint(str(out))).assert_consumed()
