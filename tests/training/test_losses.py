import numpy as np
import pytest
import tensorflow as tf

from tts_adapt.model.alignment_metrics import alignment_metrics
from tts_adapt.training.losses import guided_attention_loss, mel_loss, stop_loss


def diagonal(steps: int, symbols: int) -> np.ndarray:
    out = np.zeros((steps, symbols), np.float32)
    out[np.arange(steps), np.arange(steps) * symbols // steps] = 1.0
    return out


def test_guided_attention_is_zero_on_the_diagonal_and_large_off_it():
    steps, symbols = 12, 8
    lengths = (tf.constant([symbols]), tf.constant([steps * 3]))
    on = float(guided_attention_loss(tf.constant(diagonal(steps, symbols)[None]), *lengths, 3, 0.2))
    uniform = float(guided_attention_loss(tf.fill([1, steps, symbols], 1.0 / symbols), *lengths, 3, 0.2))
    reversed_ = float(guided_attention_loss(tf.constant(diagonal(steps, symbols)[None, ::-1].copy()), *lengths, 3, 0.2))
    assert on < 0.05 and 0.3 < uniform < reversed_ <= 1.0


def test_guided_attention_ignores_padding():
    alignment = np.zeros((1, 6, 5), np.float32)
    alignment[0, :4, :3] = diagonal(4, 3)
    alignment[0, 4:, :] = 0.2  # steps beyond the item's frames and symbols beyond its text: padding
    padded = float(guided_attention_loss(tf.constant(alignment), tf.constant([3]), tf.constant([12]), 3, 0.2))
    alone = float(guided_attention_loss(tf.constant(alignment[:, :4, :3]), tf.constant([3]), tf.constant([12]), 3, 0.2))
    assert padded == pytest.approx(alone)


def test_mel_and_stop_losses_ignore_padded_frames():
    target = np.zeros((1, 6, 2), np.float32)
    predicted = target.copy()
    predicted[0, 4:] = 9.0  # wrong only in the padding
    assert float(mel_loss(tf.constant(predicted), tf.constant(target), tf.constant([4]))) == 0.0
    predicted[0, 1] = 1.0
    assert float(mel_loss(tf.constant(predicted), tf.constant(target), tf.constant([4]))) == pytest.approx(0.5)
    logits = tf.constant([[-20.0, -20.0, -20.0, 20.0, 20.0, 20.0, -20.0, -20.0, -20.0]])
    targets = tf.constant([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])  # steps of 3 frames; the last is padding
    assert float(stop_loss(logits, targets, tf.constant([4]), 3, 5.0)) < 1e-6


def test_alignment_metrics_tell_good_from_bad():
    good = alignment_metrics(diagonal(20, 10))
    assert good == {"focus": 1.0, "monotonicity": 1.0, "coverage": 1.0, "reached_end": True}
    stuck = np.zeros((20, 10))
    stuck[:, 2] = 1.0
    bad = alignment_metrics(stuck)
    assert bad["coverage"] == pytest.approx(0.1) and not bad["reached_end"]
    jumping = diagonal(20, 10)[np.random.default_rng(0).permutation(20)]
    assert alignment_metrics(jumping)["monotonicity"] < 0.8
