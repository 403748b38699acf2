"""Train (pretrain or fine-tune) the vocoder on a prepared cache; resumable, exported as a bundle.

The output folder is a vocoder bundle (``vocoder.json`` + weights, exported at every
checkpoint) and a run: ``ckpt-*`` (generator and Adam state), ``metrics.csv``. Run the same
command again to continue from the newest checkpoint; a folder with no checkpoint starts fresh.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from tts_adapt.configfields import config_values
from tts_adapt.corpus.prepared import read_info
from tts_adapt.errors import UserError
from tts_adapt.fsutil import atomic_file
from tts_adapt.training.reporting import whole_rows
from tts_adapt.training.vocoder_pairs import SegmentSampler, add_teacher_forced, load_recordings

METRICS_NAME = "metrics.csv"
PLOT_NAME = "training.png"
METRIC_COLUMNS = ("step", "loss", "stft_loss", "mel_loss", "phase_loss", "steps_per_s", "val_mel_own",
                  "val_mel_predicted")
VAL_ITEMS = 32  # validation recordings (the cache's val split): fixed segments, scored at every checkpoint


@dataclass(frozen=True)
class VocoderTrainingConfig:
    steps: int = 20000
    batch_size: int = 16
    segment_frames: int = 32  # 0.4 s at 16 kHz / hop 200
    learning_rate: float = 5e-4
    final_learning_rate: float = 5e-5  # cosine decay over `steps`
    predicted_share: float = 0.5  # share of pairs whose mel is the acoustic model's teacher-forced one
    phase_weight: float = 0.0  # weight of the relative-phase loss (0: magnitude and mel losses only)
    checkpoint_every: int = 500
    max_items: int = 4000  # recordings loaded (a seeded sample of the cache): bounds memory and set-up time
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.steps, self.batch_size, self.segment_frames, self.checkpoint_every, self.max_items) < 1:
            raise UserError("vocoder training: steps, batch_size, segment_frames, checkpoint_every, max_items >= 1")
        if not 0 <= self.predicted_share <= 1 or self.learning_rate <= 0 or self.final_learning_rate < 0:
            raise UserError("vocoder training: predicted_share in [0, 1], learning rates positive")
        if self.phase_weight < 0:
            raise UserError("vocoder training: phase_weight must be >= 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: "VocoderTrainingConfig | None" = None) -> "VocoderTrainingConfig":
        return cls(**{**asdict(base or cls()), **config_values(cls, data, "vocoder training")})


def train_vocoder(data: str | os.PathLike, output: str | os.PathLike, config: VocoderTrainingConfig,
                  teacher: str | os.PathLike | None = None, init: str | os.PathLike | None = None,
                  network=None, speaker: str | None = None, log=print) -> dict[str, Any]:
    """Train to ``config.steps``; returns the last metrics row. See the module docstring."""
    import keras
    import tensorflow as tf

    from tts_adapt.vocoder.bundle import VocoderCard, check_features, is_bundle, read_bundle, read_card, write_bundle
    from tts_adapt.vocoder.losses import MelLoss, multi_resolution_stft_loss, relative_phase_loss
    from tts_adapt.vocoder.network import NetworkConfig, build_generator, parameter_count

    output = Path(output)
    audio = read_info(data).audio
    resumed = read_card(output) if (output / "checkpoint").is_file() and is_bundle(output) else None
    if resumed is not None:  # the run's own network; its checkpoint holds the weights
        if network is not None and network != resumed.network:
            raise UserError(f"{output} holds a vocoder of another shape ({resumed.network}); "
                            "drop --channels/--blocks to resume it, or choose a new --output")
        check_features(resumed, audio, str(output), str(data))
        generator, history = build_generator(resumed.network, audio), resumed.history
    elif init is not None:
        generator, card = read_bundle(init)
        check_features(card, audio, str(init), str(data))
        history = card.history
    else:
        generator, history = build_generator(network or NetworkConfig(), audio), ()
    log(f"vocoder: {parameter_count(generator) / 1e6:.2f} M parameters"
        + (f", the run in {output}" if resumed is not None else f", starting from {init}" if init is not None
           else ", from scratch"))

    recordings = load_recordings(data, audio, "train", config.max_items, config.seed)
    validation = load_recordings(data, audio, "val", VAL_ITEMS, config.seed) if _has_val(data) else recordings[:8]
    if teacher is not None:
        log(f"teacher-forced mels of {teacher} for {len(recordings) + len(validation)} recordings")
        add_teacher_forced(recordings + validation, teacher, data, speaker)
    share = config.predicted_share if teacher is not None else 0.0
    sampler = SegmentSampler(recordings, audio.hop_length, config.segment_frames, share, config.seed)
    seconds = sum(r.wav.size for r in recordings) / audio.sample_rate
    log(f"{len(recordings)} recordings ({seconds / 60:.1f} min), {share:.0%} of pairs teacher-forced")

    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, config.steps, alpha=config.final_learning_rate / config.learning_rate)
    optimizer = keras.optimizers.Adam(schedule, beta_1=0.8, beta_2=0.99, global_clipnorm=10.0)
    optimizer.build(generator.trainable_variables)
    step_var = tf.Variable(0, dtype=tf.int64, trainable=False)
    state = tf.train.Checkpoint(generator=generator, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(state, str(output), max_to_keep=2)
    if manager.latest_checkpoint:
        state.restore(manager.latest_checkpoint).assert_existing_objects_matched().expect_partial()
        log(f"resuming {output} from step {int(step_var.numpy())}")
    elif output.exists() and any(output.iterdir()):
        log(f"{output} holds no checkpoint yet: starting fresh (its earlier files are replaced)")
    output.mkdir(parents=True, exist_ok=True)
    start = int(step_var.numpy())
    metrics = _MetricsCsv(output / METRICS_NAME, start)

    mel_loss = MelLoss(audio)

    @tf.function(reduce_retracing=True)
    def train_step(mel, wav):
        with tf.GradientTape() as tape:
            generated = generator(mel)  # [batch, samples]
            stft, mel_l1 = multi_resolution_stft_loss(generated, wav), mel_loss(generated, wav)
            phase = relative_phase_loss(generated, wav, audio) if config.phase_weight else tf.constant(0.0)
            loss = stft + mel_l1 + config.phase_weight * phase
        grads = tape.gradient(loss, generator.trainable_variables)
        optimizer.apply_gradients(zip(grads, generator.trainable_variables))
        step_var.assign_add(1)
        return loss, stft, mel_l1, phase

    @tf.function(reduce_retracing=True)
    def val_loss(mel, wav):
        return mel_loss(generator(mel), wav)

    val_own = SegmentSampler(validation, audio.hop_length, 64, 0.0, 1).batch(VAL_ITEMS)
    val_predicted = (SegmentSampler(validation, audio.hop_length, 64, 1.0, 1).batch(VAL_ITEMS)
                     if teacher is not None else None)

    def save(step: int, row: dict[str, Any]) -> None:
        row["val_mel_own"] = float(val_loss(*val_own))
        if val_predicted is not None:
            row["val_mel_predicted"] = float(val_loss(*val_predicted))
        manager.save(checkpoint_number=step)
        trained_on = (f"{_shown(data)}: {len(recordings)} recordings ({seconds / 60:.0f} min)"
                      + (f", {share:.0%} of pairs with {_shown(teacher)}'s teacher-forced mels" if teacher else ""))
        run = {"data": _shown(data), "teacher": _shown(teacher) if teacher else None,
               "init": _shown(init) if init else None,
               "from_step": start, "to_step": step, "config": asdict(config),
               "val_mel_own": row["val_mel_own"], "val_mel_predicted": row.get("val_mel_predicted")}
        runs = tuple(h for h in history if h.get("from_step") != start or h.get("data") != run["data"]) + (run,)
        base = sum(h["to_step"] - h["from_step"] for h in runs)
        write_bundle(output, generator, VocoderCard(audio, generator.network, base, trained_on, runs))
        metrics.write(row)
        plot_metrics(output / METRICS_NAME, output / PLOT_NAME)
        log(f"step {step}: val mel L1 own {row['val_mel_own']:.3f}"
            + (f", predicted {row['val_mel_predicted']:.3f}" if val_predicted is not None else "")
            + f"; saved {output}")

    row: dict[str, Any] = {}
    started, last_report = time.time(), time.time()
    for step in range(start + 1, config.steps + 1):
        loss, stft, mel_l1, phase = (float(v) for v in train_step(*sampler.batch(config.batch_size)))
        if not math.isfinite(loss):
            raise UserError(f"vocoder training diverged at step {step} (loss {loss}); lower --learning-rate")
        speed = (step - start) / (time.time() - started)
        row = {"step": step, "loss": loss, "stft_loss": stft, "mel_loss": mel_l1, "steps_per_s": speed,
               **({"phase_loss": phase} if config.phase_weight else {})}
        if time.time() - last_report > 30 or step == config.steps:
            left = (config.steps - step) / speed
            log(f"step {step}/{config.steps}: loss {loss:.3f} (stft {stft:.3f}, mel {mel_l1:.3f}"
                + (f", phase {phase:.3f}" if config.phase_weight else "") + "), "
                f"{speed:.2f} steps/s, {left / 60:.0f} min left")
            last_report = time.time()
        if step % config.checkpoint_every == 0 or step == config.steps:
            save(step, row)
    if not row:
        log(f"{output} is already at step {start} (>= {config.steps}); nothing to do")
    return row


def _shown(path: str | os.PathLike) -> str:
    """A path as the card shows it: relative to the working folder when inside it (no machine's absolute paths)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(path)


def _has_val(data) -> bool:
    from tts_adapt.corpus.prepared import read_items

    return bool((read_items(data)["split"] == "val").any())


class _MetricsCsv:
    """``metrics.csv``; rows past the step a resumed run restarts from are dropped (their weights were lost)."""

    def __init__(self, path: Path, resume_step: int) -> None:
        self.path = path
        rows = whole_rows(path, resume_step) if path.exists() else []
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, METRIC_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def write(self, row: dict[str, Any]) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.DictWriter(handle, METRIC_COLUMNS, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def plot_metrics(metrics_csv: Path, path: Path) -> None:
    """Training loss and validation mel error against steps: where a person looks first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    rows = pd.read_csv(metrics_csv)
    figure, (train_axis, val_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
    train_axis.plot(rows["step"], rows["loss"], marker=".")
    train_axis.set(xlabel="step", ylabel="loss (STFT + mel)", title="Training loss at each checkpoint")
    for column, label in (("val_mel_own", "recordings' own mels"), ("val_mel_predicted", "teacher-forced mels")):
        if rows[column].notna().any():
            val_axis.plot(rows["step"], rows[column], marker=".", label=label)
    val_axis.set(xlabel="step", ylabel="log-mel L1 of the audio", title="Validation (held-out recordings)")
    val_axis.legend()
    figure.tight_layout()
    with atomic_file(path) as tmp:
        figure.savefig(tmp, dpi=90)
    plt.close(figure)


def log_to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
