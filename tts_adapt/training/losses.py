"""Training losses: masked L1 + L2 on the mel (before and after the postnet), stop token, guided attention.

Masks come from the true lengths, so padding never contributes. Each mean divides by the
count of the whole global batch (:func:`~tts_adapt.model.ops.global_sum`): inside a
distributed step a replica's loss is its share of the global mean, the shares add up to
exactly what one device computes on the same batch, and so do their gradients. The guided attention
loss (Tachibana et al. 2017, DC-TTS) penalises attention far from the diagonal,
``W[n, t] = 1 - exp(-(n/N - t/T)^2 / (2 g^2))``; it is what makes a small model on
a few hours of speech align in a thousand steps instead of never.
"""

from __future__ import annotations

import tensorflow as tf

from tts_adapt.model.ops import global_sum


def masked_mean(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Mean of ``values`` where ``mask`` is 1 (mask broadcasts against values), over the global batch."""
    mask = tf.broadcast_to(tf.cast(mask, values.dtype), tf.shape(values))
    return tf.reduce_sum(values * mask) / tf.maximum(global_sum(tf.reduce_sum(mask)), 1.0)


def mel_loss(predicted: tf.Tensor, target: tf.Tensor, mel_len: tf.Tensor) -> tf.Tensor:
    """L1 + L2 over the real frames. predicted/target [batch, frames, n_mels]."""
    frames = tf.sequence_mask(mel_len, tf.shape(target)[1], dtype=target.dtype)[:, :, None]
    error = predicted - target
    return masked_mean(tf.abs(error), frames) + masked_mean(tf.square(error), frames)


def decoder_steps(mel_len: tf.Tensor, reduction: int) -> tf.Tensor:
    """Decoder steps that hold at least one real frame: ceil(mel_len / r)."""
    return (mel_len + reduction - 1) // reduction


def stop_loss(logits: tf.Tensor, target: tf.Tensor, mel_len: tf.Tensor, reduction: int,
              pos_weight: float) -> tf.Tensor:
    """Weighted BCE over the frames of the real decoder steps (a few positives among hundreds)."""
    frames = tf.sequence_mask(decoder_steps(mel_len, reduction) * reduction, tf.shape(target)[1], dtype=logits.dtype)
    losses = tf.nn.weighted_cross_entropy_with_logits(labels=target, logits=logits, pos_weight=pos_weight)
    return masked_mean(losses, frames)


def guided_attention_weights(text_len: tf.Tensor, steps: tf.Tensor, max_steps: tf.Tensor, max_text: tf.Tensor,
                             sigma: float) -> tf.Tensor:
    """[batch, max_steps, max_text] penalty, zero on the diagonal of each item's real region."""
    n = tf.cast(tf.range(max_steps), tf.float32)[None, :, None] / tf.cast(steps, tf.float32)[:, None, None]
    t = tf.cast(tf.range(max_text), tf.float32)[None, None, :] / tf.cast(text_len, tf.float32)[:, None, None]
    return 1.0 - tf.exp(-tf.square(n - t) / (2.0 * sigma * sigma))


def guided_attention_loss(alignment: tf.Tensor, text_len: tf.Tensor, mel_len: tf.Tensor, reduction: int,
                          sigma: float) -> tf.Tensor:
    """alignment [batch, steps, time] -> the expected penalty per real decoder step, in [0, 1).

    Summed over symbols (each step's weights sum to one), averaged over steps: unlike a
    mean over all (step, symbol) cells it does not shrink with the text length, so it
    stays comparable to the mel loss (about 0.6 for uniform attention, 0 on the diagonal).
    """
    max_steps, max_text = tf.shape(alignment)[1], tf.shape(alignment)[2]
    steps = decoder_steps(mel_len, reduction)
    weights = guided_attention_weights(text_len, steps, max_steps, max_text, sigma)
    symbols = tf.sequence_mask(text_len, max_text, dtype=tf.float32)[:, None, :]
    per_step = tf.reduce_sum(alignment * weights * symbols, -1)  # [batch, steps]
    return masked_mean(per_step, tf.sequence_mask(steps, max_steps, dtype=tf.float32))


def attention_focus(alignment: tf.Tensor, mel_len: tf.Tensor, reduction: int) -> tf.Tensor:
    """Mean over real decoder steps of the largest attention weight (1.0 = sharp, 1/T = uniform)."""
    steps = tf.sequence_mask(decoder_steps(mel_len, reduction), tf.shape(alignment)[1], dtype=alignment.dtype)
    return masked_mean(tf.reduce_max(alignment, -1), steps)


def tacotron_losses(outputs: dict, batch: dict, reduction: int, stop_pos_weight: float, sigma: float,
                    attention_weight: tf.Tensor | float) -> dict[str, tf.Tensor]:
    """Every loss part and their weighted ``loss`` total (computed in float32 under mixed precision)."""
    outputs = {key: tf.cast(value, tf.float32) for key, value in outputs.items()}
    parts = {
        "mel_loss": mel_loss(outputs["mel"], batch["mel"], batch["mel_len"]),
        "post_loss": mel_loss(outputs["mel_post"], batch["mel"], batch["mel_len"]),
        "stop_loss": stop_loss(outputs["stop_logits"], batch["stop"], batch["mel_len"], reduction, stop_pos_weight),
        "attention_loss": guided_attention_loss(outputs["alignment"], batch["text_len"], batch["mel_len"],
                                                reduction, sigma),
    }
    parts["loss"] = (parts["mel_loss"] + parts["post_loss"] + parts["stop_loss"]
                     + attention_weight * parts["attention_loss"])
    return parts
