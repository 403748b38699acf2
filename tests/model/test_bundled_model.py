"""The bundled model computes what it computed when it was trained: a change to how the network is
computed (a faster step, fused ops) may move outputs by float rounding, never more.

``bundled_reference.npz`` holds the bundled model's outputs on a fixed batch, written by the code
before the training step was restructured (issue 24); rewrite it only for a change that is meant
to change the function: ``.venv/bin/python tests/model/test_bundled_model.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "data" / "pretrained" / "multispeaker"
REFERENCE = Path(__file__).with_name("bundled_reference.npz")
FREE_RUNNING_STEPS = 20


def fixed_batch(n_symbols: int, n_mels: int, reduction: int) -> dict[str, np.ndarray]:
    """Two items of different lengths, padded as the pipeline pads; smooth mel-like frames."""
    rng = np.random.default_rng(24)
    text_len = np.array([20, 14], np.int32)
    text = rng.integers(1, n_symbols, size=(2, 20)).astype(np.int32)
    text[1, 14:] = 0
    frames = 16 * reduction
    mel_len = np.array([frames, frames - 7], np.int32)
    walk = np.cumsum(rng.normal(0, 0.3, size=(2, frames, n_mels)), axis=1)
    mel = np.clip(-2 + walk, -4, 4).astype(np.float32)
    mel[1, mel_len[1]:] = -4.0
    stop = (np.arange(frames)[None, :] >= mel_len[:, None] - 1).astype(np.float32)
    return {"text": text, "text_len": text_len, "mel": mel, "mel_len": mel_len, "stop": stop,
            "speaker": np.array([6, 1], np.int32)}


def outputs() -> dict[str, np.ndarray]:
    """Teacher-forced outputs, per-variable gradient norms of the training loss, a free-running decode."""
    import tensorflow as tf

    from tts_adapt.model.loading import load_model
    from tts_adapt.model.teacher_forcing import teacher_forced_graph
    from tts_adapt.training.losses import tacotron_losses

    model = load_model(MODEL).model
    c = model.config
    batch = fixed_batch(model.n_symbols, c.n_mels, c.reduction)
    forced = teacher_forced_graph(model)(batch)

    @tf.function
    def gradient_norms(batch):
        with tf.GradientTape() as tape:
            loss = tacotron_losses(model(batch, training=False), batch, c.reduction, 5.0, 0.2, 1.0)["loss"]
        return tf.stack([tf.norm(g) for g in tape.gradient(loss, model.trainable_variables)])

    free = model.infer(batch["text"][:1], batch["text_len"][:1], batch["speaker"][:1],
                       max_steps=FREE_RUNNING_STEPS, seed=0)
    return {**{key: forced[key].numpy() for key in ("mel", "mel_post", "stop_logits", "alignment")},
            "gradient_norms": gradient_norms(batch).numpy(),
            "variables": np.array([v.path for v in model.trainable_variables]),
            "free_mel_post": free["mel_post"].numpy(), "free_alignment": free["alignment"].numpy()}


def test_bundled_model_gives_its_reference_outputs():
    reference = np.load(REFERENCE)
    now = outputs()
    assert list(now["variables"]) == list(reference["variables"])
    for key in ("mel", "mel_post", "stop_logits", "alignment"):
        np.testing.assert_allclose(now[key], reference[key], rtol=1e-5, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(now["gradient_norms"], reference["gradient_norms"], rtol=1e-4, atol=1e-7)
    for key in ("free_mel_post", "free_alignment"):  # 20 steps fed back on themselves: rounding may grow
        np.testing.assert_allclose(now[key], reference[key], rtol=1e-4, atol=1e-4, err_msg=key)


if __name__ == "__main__":
    np.savez_compressed(REFERENCE, **outputs())
