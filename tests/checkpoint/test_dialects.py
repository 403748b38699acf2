"""Reading the three dialects: slots grouped with their variable, optimizer state apart."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tts_adapt.checkpoint import own_keys
from tts_adapt.checkpoint.reader import open_checkpoint
from tts_adapt.checkpoint.writer import StreamingCheckpointWriter, write_checkpoint_state


def test_tf1_groups_adam_slots_and_counters(tf1_source):
    ckpt = open_checkpoint(tf1_source)
    assert ckpt.dialect == "tf1"
    groups = ckpt.grouping.variables
    assert len(groups) == 12
    for group in groups.values():
        assert set(group.slots) == {"Adam", "Adam_1"}
        assert all(slot.shape == group.weight.shape for slot in group.slots.values())
    roles = {key: role for key, (role, _) in ckpt.grouping.others.items()}
    assert roles == {"beta1_power": "optimizer", "beta2_power": "optimizer", "global_step": "counter"}


def test_tf1_slots_under_an_optimizer_scope(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        w = tf.compat.v1.get_variable("model/dense/kernel", shape=[3, 2])
        loss = tf.reduce_sum(tf.square(w))
        with tf.compat.v1.variable_scope("train"):
            step = tf.compat.v1.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(step)
            tf.compat.v1.train.Saver().save(sess, str(tmp_path / "model.ckpt"))
    ckpt = open_checkpoint(tmp_path / "model.ckpt")
    keys = set(ckpt.entries)
    assert any(k.startswith("train/") for k in keys), keys
    assert list(ckpt.grouping.variables) == ["model/dense/kernel"]
    assert len(ckpt.grouping.variables["model/dense/kernel"].slots) == 1


def test_tf2_groups_optimizer_slots(tf2_source):
    ckpt = open_checkpoint(tf2_source)
    assert ckpt.dialect == "tf2"
    kernel = ckpt.grouping.variables["model/memory_layer/kernel"]
    assert set(kernel.slots) == {"optimizer/m", "optimizer/v"}
    roles = {key.split("/.ATTRIBUTES")[0]: role for key, (role, _) in ckpt.grouping.others.items()}
    assert roles["optimizer/beta1_power"] == "optimizer" and roles["save_counter"] == "meta"


def test_own_dialect_and_streaming_writer_shards(tmp_path):
    writer = StreamingCheckpointWriter(tmp_path / "ckpt-3", budget_bytes=64)
    weights = {"tacotron/dense/kernel": np.ones((4, 4), np.float32), "tacotron/dense/bias": np.zeros(4, np.float32)}
    for key, value in weights.items():
        writer.add(key, value)
        writer.add(own_keys.slot_key(key, "m"), value * 2)
        writer.add(own_keys.slot_key(key, "v"), value * 3)
    writer.add(own_keys.optimizer_key("iterations"), np.int64(3))
    writer.finish()
    write_checkpoint_state(tmp_path, "ckpt-3")
    assert len(list(tmp_path.glob("ckpt-3.data-*"))) > 1, "small budget -> several shards, merged"
    assert not list(tmp_path.glob(".*shards"))
    ckpt = open_checkpoint(tmp_path)
    assert ckpt.dialect == "own"
    assert set(ckpt.grouping.variables) == set(weights)
    assert set(ckpt.grouping.variables["tacotron/dense/kernel"].slots) == {"m", "v"}
    np.testing.assert_array_equal(ckpt.read(own_keys.slot_key("tacotron/dense/kernel", "v")), np.full((4, 4), 3.0))
    assert ckpt.grouping.others["optimizer/iterations"][0] == "optimizer"
