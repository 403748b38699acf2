"""Mixed precision: the convolutional parts compute in 16 bits, the weights, the recurrent parts and the
losses stay float32, so a run trains and its checkpoint restores under any policy."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_model import N_SPEAKERS, N_SYMBOLS, TINY, make_batch
from tts_adapt.checkpoint.own import restore_checkpoint, save_checkpoint
from tts_adapt.manifest import Manifest
from tts_adapt.model.tacotron import Tacotron
from tts_adapt.training.config import TrainingConfig
from tts_adapt.training.distribute import set_precision
from tts_adapt.training.loop import make_optimizer, make_steps
from tts_adapt.training.runtime import set_seed


STILL = dataclasses.replace(TINY, dropout=0.0, prenet_dropout=0.0)  # deterministic steps: the loss must fall


@pytest.fixture
def policy():
    yield set_precision
    set_precision("float32")  # the policy is process-wide


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_a_mixed_precision_run_trains_and_restores_in_float32(policy, precision, tmp_path):
    policy(precision)
    model = Tacotron(STILL, N_SYMBOLS, N_SPEAKERS)
    assert model.postnet.convs[0].compute_dtype == precision.removeprefix("mixed_")
    assert model.decoder.frame_projection.compute_dtype == "float32"  # the recurrent half stays float32
    assert all(v.dtype == "float32" for v in model.variables)
    config = TrainingConfig(batch_size=3)
    optimizer = make_optimizer(config)
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == (precision == "mixed_float16")
    optimizer.build(model.trainable_variables)
    step, _ = make_steps(model, optimizer, config, model.trainable_variables)
    batch = {k: tf.constant(v) for k, v in make_batch(STILL).items()}
    before = [v.numpy().copy() for v in model.trainable_variables]
    losses = [float(step(batch, tf.constant(1e-3), tf.constant(1.0))["loss"]) for _ in range(5)]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))
    save_checkpoint(tmp_path, model, optimizer, 5, Manifest())

    policy("float32")
    restored = Tacotron(STILL, N_SYMBOLS, N_SPEAKERS)
    fresh = make_optimizer(config)
    assert restore_checkpoint(tmp_path, restored, fresh).optimizer_restored
    # float16's loss scaling may skip a step whose gradients overflowed (and halve the scale)
    assert int(fresh.iterations.numpy()) == int(optimizer.iterations.numpy()) >= 4
    for a, b in zip(model.variables, restored.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_xla_compiles_the_same_step(policy):
    """``--xla``: the forward and backward pass under jit_compile give the loss and update of the graph step."""
    batch = {k: tf.constant(v) for k, v in make_batch(STILL).items()}
    config = TrainingConfig(batch_size=3)
    results = []
    for xla in (False, True):
        set_seed(0)
        model = Tacotron(STILL, N_SYMBOLS, N_SPEAKERS)
        optimizer = make_optimizer(config)
        optimizer.build(model.trainable_variables)
        step, _ = make_steps(model, optimizer, config, model.trainable_variables, xla=xla)
        loss = float(step(batch, tf.constant(1e-3), tf.constant(1.0))["loss"])
        results.append((loss, [v.numpy() for v in model.trainable_variables]))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-4)
    for graph, compiled in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(compiled, graph, rtol=1e-3, atol=1e-5)
