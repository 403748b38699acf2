import keras
import numpy as np
import pytest
import tensorflow as tf
from tests.tiny_model import N_SPEAKERS, N_SYMBOLS, TINY, make_batch

from tts_adapt.checkpoint.own import restore_checkpoint, save_checkpoint
from tts_adapt.checkpoint.own_keys import slot_key
from tts_adapt.errors import UserError
from tts_adapt.audio.config import AudioConfig
from tts_adapt.manifest import Manifest, read_manifest
from tts_adapt.model.loading import load_model
from tts_adapt.model.tacotron import Tacotron

SYMBOLS = [chr(ord("a") + i) for i in range(N_SYMBOLS)]
SPEAKERS = ["ann", "bob", "cy"]


def trained(n_speakers=N_SPEAKERS, steps=2):
    model = Tacotron(TINY, N_SYMBOLS, n_speakers)
    optimizer = keras.optimizers.Adam(1e-2)
    batch = make_batch(n_speakers=n_speakers)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            out = model(batch, training=True)
            loss = sum(tf.reduce_mean(tf.abs(out[k] - batch["mel"])) for k in ("mel", "mel_post"))
            loss += tf.reduce_mean(tf.abs(out["stop_logits"]))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return model, optimizer


def manifest(model, speakers=SPEAKERS):
    return Manifest(symbols=tuple(SYMBOLS), speakers=tuple(speakers), layout=model.layout().to_dict(),
                    model=model.config.to_dict(), audio=AudioConfig(n_mels=model.config.n_mels))


def test_round_trip_is_exact_including_adam_slots(tmp_path):
    model, optimizer = trained()
    prefix = save_checkpoint(tmp_path, model, optimizer, 2, manifest(model))
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix
    keys = dict(tf.train.list_variables(prefix))
    kernel = "tacotron/encoder/conv_0/kernel"
    assert {kernel, slot_key(kernel, "m"), slot_key(kernel, "v"), "optimizer/iterations",
            "tacotron/encoder/batch_norm_0/moving_mean"} <= set(keys)
    assert read_manifest(tmp_path).step == 2 and read_manifest(tmp_path).dialect == "own"

    restored, fresh = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS), keras.optimizers.Adam(1e-2)
    assert restore_checkpoint(tmp_path, restored, fresh).optimizer_restored
    for a, b in zip(model.variables, restored.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    for a, b in zip(optimizer.variables, fresh.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    assert int(fresh.iterations.numpy()) == 2
    assert np.abs(fresh.variables[2].numpy()).max() > 0  # slots are real, not zeros


def test_keeps_the_last_k_and_state_file_lists_them(tmp_path):
    model, optimizer = trained(steps=1)
    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path, model, optimizer, step, manifest(model), keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.index")) == ["ckpt-30.index", "ckpt-40.index"]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert [p.rsplit("/", 1)[-1] for p in state.all_model_checkpoint_paths] == ["ckpt-30", "ckpt-40"]
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_load_model_builds_from_the_manifest(tmp_path):
    model, optimizer = trained(steps=1)
    save_checkpoint(tmp_path, model, optimizer, 1, manifest(model))
    restored = load_model(tmp_path)
    loaded = restored.model
    assert loaded.n_speakers == N_SPEAKERS and list(restored.manifest.symbols) == SYMBOLS
    batch = make_batch()
    np.testing.assert_array_equal(model(batch)["mel_post"].numpy(), loaded(batch)["mel_post"].numpy())


def test_strict_restore_names_what_does_not_fit(tmp_path):
    model, optimizer = trained(steps=1)
    save_checkpoint(tmp_path, model, optimizer, 1, manifest(model))
    with pytest.raises(UserError, match=r"unexpected 3: tacotron/speaker_embedding/embeddings.*shape mismatch 5"):
        restore_checkpoint(tmp_path, Tacotron(TINY, N_SYMBOLS, 0))
    mismatch = r"shape mismatch 1: tacotron/symbol_embedding/embeddings \[12, 8\] vs model \[13, 8\]"
    with pytest.raises(UserError, match=mismatch):
        restore_checkpoint(tmp_path, Tacotron(TINY, N_SYMBOLS + 1, N_SPEAKERS))


def test_missing_weights_are_an_error(tmp_path):
    model = Tacotron(TINY, N_SYMBOLS, 0)
    names = [v.path for v in model.variables if "postnet" not in v.path]
    tf.raw_ops.SaveV2(prefix=str(tmp_path / "partial"), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[v.value for v in model.variables if "postnet" not in v.path])
    with pytest.raises(UserError, match=r"missing \d+: tacotron/postnet/"):
        restore_checkpoint(tmp_path / "partial", Tacotron(TINY, N_SYMBOLS, 0))


def test_weights_only_checkpoint_leaves_a_fresh_optimizer(tmp_path):
    """An adapted checkpoint made with --optimizer reset has no slots and no counter."""
    model, _ = trained(n_speakers=0, steps=1)
    save_checkpoint(tmp_path, model, None, 5, manifest(model, speakers=[]))
    optimizer = keras.optimizers.Adam(1e-3)
    result = restore_checkpoint(tmp_path, Tacotron(TINY, N_SYMBOLS, 0), optimizer)
    assert not result.optimizer_restored and int(optimizer.iterations.numpy()) == 0
