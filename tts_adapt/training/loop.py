"""The training loop shared by ``train`` (from scratch) and ``finetune`` (from an adapted checkpoint).

One ``tf.function`` step (traced once: the batch signature has no fixed lengths);
Adam with a stepped learning-rate schedule and global-norm clipping; validation loss,
attention focus and a free-running check on a held-out item every ``val_every``
steps; a checkpoint every ``checkpoint_every`` steps, at the end, and before exiting
on Ctrl-C or SIGTERM. The step counter is Adam's ``iterations``, which the
checkpoint carries, so a rerun into the same directory simply continues.

Signals become a flag checked between steps, never an exception: a Ctrl-C that lands
inside a save (periodic or final) cannot cut it short, and a second one cannot either.
The summary names the signal, so the CLI exits 130 / 143 and a recipe never stamps an
interrupted stage as done.

A non-finite loss (or non-finite weights at a save) stops the run with a :class:`Diverged`
error before anything of that step is logged or saved: the newest checkpoint stays the last
finite one, and a rerun resumes from it.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tts_adapt.checkpoint.own import save_checkpoint
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.manifest import Manifest
from tts_adapt.model.alignment_metrics import alignment_metrics
from tts_adapt.model.loading import decoder_step_limit
from tts_adapt.symbols.table import SymbolTable
from tts_adapt.training.config import FREEZABLE_PARTS, TrainingConfig
from tts_adapt.training.distribute import Placement, place
from tts_adapt.training.reporting import MetricsLog, Reporter, TensorBoardLog


@dataclass
class TrainingRun:
    model: Any  # Tacotron
    optimizer: Any  # keras.optimizers.Adam, built, possibly restored
    config: TrainingConfig
    output: Path  # checkpoints, manifest.json, metrics.csv, logs/
    data: Path  # prepared feature cache
    table: SymbolTable
    speakers: list[str]  # the model's speakers; [] for a single-speaker model
    manifest: Manifest  # written with every checkpoint (step and dialect are filled in)
    start_step: int = 0  # the step at which this run's schedules (learning rate, attention weight) begin
    cleaners: tuple[str, ...] | None = None  # None: the cleaners recorded by prepare
    placement: Placement | None = None  # None: one device (the default strategy)
    notes: tuple[str, ...] = ()  # said once before the steps (and listed in the summary)


@dataclass(frozen=True)
class TrainingSummary(Document):
    """What a run did: ``train``/``finetune --format json`` print it, scripts read it back with ``from_json``."""

    KIND = "tts-adapt-training"

    output: str
    checkpoint: str  # the newest checkpoint's prefix
    step: int
    target_step: int
    steps_run: int
    seconds: float
    steps_per_second: float | None  # None: too few steps to time (the first traces the graph)
    stopped_early: bool
    signal: str | None  # SIGINT, SIGTERM, "another worker's"
    exit_code: int  # 130 Ctrl-C, 143 SIGTERM, else 0
    train: dict[str, float]  # the last logged training losses
    validation: dict[str, float]  # the last validation
    notes: tuple[str, ...] = ()  # absent from summaries written before runs said notes


@dataclass(frozen=True)
class AlreadyTrained(Document):
    """What a rerun prints when the run already reached its target: nothing trained, nothing written."""

    KIND = "tts-adapt-training-up-to-date"

    output: str
    step: int
    target_step: int
    steps_run: int
    message: str


class Diverged(UserError):
    """The run blew up (learning rate too high, bad data): stop, and never save the non-finite model."""


def _check_loss(parts: dict, step: int, learning_rate: float, output: Path) -> None:
    loss = float(parts["loss"])
    if not math.isfinite(loss):
        raise Diverged(_diverged(f"the loss became {loss} at step {step}", learning_rate, output))


def _check_weights(model, step: int, learning_rate: float, output: Path) -> None:
    """Before a save: a finite loss can still come with a step whose update overflowed the weights."""
    import tensorflow as tf

    if not bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(v.value)) for v in model.variables])):
        raise Diverged(_diverged(f"the weights became non-finite by step {step}", learning_rate, output))


def _diverged(what: str, learning_rate: float, output: Path) -> str:
    import tensorflow as tf

    last = tf.train.latest_checkpoint(str(output))
    kept = f"the last finite checkpoint, {Path(last).name}, is kept" if last else "no checkpoint was saved"
    return (f"training diverged: {what} (learning rate {learning_rate:g}); {kept}; "
            "lower --learning-rate and run the same command again")


def make_optimizer(config: TrainingConfig):
    """Adam; under the ``mixed_float16`` policy wrapped in Keras's dynamic loss scaling."""
    import keras

    adam = keras.optimizers.Adam(learning_rate=config.learning_rate, beta_1=config.adam_beta_1,
                                 beta_2=config.adam_beta_2, epsilon=config.adam_epsilon)
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(adam)
    return adam


def trainable_subset(model, freeze: tuple[str, ...]) -> list:
    """The variables that get updates: everything trainable outside the frozen parts.

    Frozen variables keep their Adam slots (the checkpoint still holds them), and
    batch-norm statistics inside frozen parts still follow the new data.
    """
    prefixes = tuple(p for part in freeze for p in FREEZABLE_PARTS[part])
    chosen = [v for v in model.trainable_variables if not v.path.startswith(prefixes)]
    if not chosen:
        raise UserError(f"--freeze {','.join(freeze)} leaves nothing to train")
    return chosen


def batch_signature(n_mels: int) -> dict:
    import tensorflow as tf

    return {
        "text": tf.TensorSpec([None, None], tf.int32),
        "text_len": tf.TensorSpec([None], tf.int32),
        "mel": tf.TensorSpec([None, None, n_mels], tf.float32),
        "mel_len": tf.TensorSpec([None], tf.int32),
        "stop": tf.TensorSpec([None, None], tf.float32),
        "speaker": tf.TensorSpec([None], tf.int32),
    }


def make_steps(model, optimizer, config: TrainingConfig, variables: list, strategy=None,
               batch_spec=None, xla: bool = False) -> tuple[Callable, Callable]:
    """(train_step(batch, learning_rate, attention_weight, stop), eval_step(batch)) as traced functions.

    ``train_step`` runs on every replica of ``strategy`` (default: one device) and takes a
    batch from ``strategy.experimental_distribute_dataset`` (its spec: ``batch_spec``). Each
    replica's loss is its share of the global batch's mean, so the all-reduced gradient is
    the global batch's; it is clipped once, as on one device. ``stop`` (1.0 when this worker
    was asked to stop) comes back summed over workers, so all stop at the same step.
    ``xla`` compiles each replica's forward and backward pass (all-reduce and update stay outside).
    """
    import tensorflow as tf

    from tts_adapt.training.losses import attention_focus, tacotron_losses

    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    r = model.config.reduction
    scalar = tf.TensorSpec([], tf.float32)
    signature = batch_signature(model.config.n_mels)
    scaling = hasattr(optimizer, "dynamic_scale")  # mixed_float16: a LossScaleOptimizer
    sum_ = tf.distribute.ReduceOp.SUM

    def losses_and_gradients(batch, attention_weight, scale):
        with tf.GradientTape() as tape:
            outputs = model(batch, training=True)
            with tf.name_scope("losses"):  # names for a profile of the step (benchmarks/step_profile.py)
                parts = tacotron_losses(outputs, batch, r, config.stop_pos_weight, config.guided_attention_sigma,
                                        attention_weight)
            scaled = parts["loss"] * scale
        return parts, [tf.convert_to_tensor(g) for g in tape.gradient(scaled, variables)]

    forward_backward = tf.function(losses_and_gradients, jit_compile=True) if xla else losses_and_gradients

    def replica_step(batch, attention_weight, stop):
        scale = tf.identity(optimizer.dynamic_scale) if scaling else tf.constant(1.0)
        parts, gradients = forward_backward(batch, attention_weight, scale)
        context = tf.distribute.get_replica_context()
        gradients = context.all_reduce(sum_, gradients) if replicas > 1 else gradients  # the global batch's
        with tf.name_scope("optimizer"):
            gradients, norm = tf.clip_by_global_norm([g / scale for g in gradients], config.grad_clip_norm)
            # apply_gradients sums over the replicas once more: each hands in its 1/replicas share
            optimizer.apply_gradients(zip([g * (scale / replicas) for g in gradients], variables))
        if replicas > 1:  # tf.identity: an all-reduce needs a value on this replica's device
            stop = context.all_reduce(sum_, tf.identity(stop))
        return {**parts, "grad_norm": norm, "stop": stop}

    @tf.function(input_signature=[batch_spec or signature, scalar, scalar, scalar])
    def traced_step(batch, learning_rate, attention_weight, stop):
        optimizer.learning_rate.assign(learning_rate)
        per_replica = strategy.run(replica_step, args=(batch, attention_weight, stop))
        shared = ("grad_norm", "stop")  # the same on every replica
        return {key: strategy.experimental_local_results(value)[0] if key in shared
                else strategy.reduce(sum_, value, axis=None) for key, value in per_replica.items()}

    def train_step(batch, learning_rate, attention_weight, stop=tf.constant(0.0)):
        return traced_step(batch, learning_rate, attention_weight, stop)

    @tf.function(input_signature=[signature])
    def eval_step(batch):
        outputs = model(batch, training=False)
        parts = tacotron_losses(outputs, batch, r, config.stop_pos_weight, config.guided_attention_sigma, 0.0)
        parts["focus"] = attention_focus(outputs["alignment"], batch["mel_len"], r)
        return parts, outputs

    return train_step, eval_step


class _StopRequest:
    """Turns SIGTERM and SIGINT into a flag the loop checks between steps, so the run saves before it ends.

    A SIGINT that the process inherited as ignored (jobs started with nohup or in CI) stays ignored.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def __enter__(self) -> "_StopRequest":
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.signum = self.signum or signum  # the first signal is the one reported

    def __exit__(self, *exc) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _datasets(run: TrainingRun, session_seed: int):
    from tts_adapt.corpus.dataset import make_dataset

    speakers = run.speakers or None
    r = run.model.config.reduction
    train = make_dataset(run.data, run.table, speakers, run.config.batch_size, r, split="train", shuffle=True,
                         seed=session_seed, cleaners=run.cleaners, repeat=True)
    try:
        val = make_dataset(run.data, run.table, speakers, run.config.batch_size, r, split="val", shuffle=False,
                           cleaners=run.cleaners, repeat=False)
    except UserError as exc:
        if "split is empty" not in str(exc):
            raise
        val = None
    return train, val


def _free_running_check(model, batch) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Synthesise the first held-out item from its text alone; judge its alignment.

    Returns the metrics, the alignment [steps, symbols] and the mel [frames, n_mels].
    """
    text_len = int(batch["text_len"][0])
    target_frames = int(batch["mel_len"][0])
    r = model.config.reduction
    max_steps = decoder_step_limit(model.config, reference_frames=target_frames)
    result = model.infer(batch["text"][:1, :text_len], batch["text_len"][:1], batch["speaker"][:1],
                         max_steps=max_steps, seed=0)
    frames = int(result["mel_len"][0])
    steps = math.ceil(frames / r)
    alignment = result["alignment"].numpy()[0, :steps, :text_len]
    metrics = {f"fr_{k}": float(v) for k, v in alignment_metrics(alignment).items()}
    metrics["fr_length_ratio"] = frames / target_frames
    metrics["fr_stop_fired"] = float(frames < max_steps * r)
    return metrics, alignment, result["mel_post"].numpy()[0, :frames]


def validate(run: TrainingRun, val, eval_step) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Mean validation losses and focus over ``val_batches`` batches, plus the free-running check.

    Also returns arrays to look at: teacher-forced and free-running alignments and mels.
    """
    totals: dict[str, float] = {}
    count = 0
    images: dict[str, np.ndarray] = {}
    for batch in val.take(run.config.val_batches):
        parts, outputs = eval_step(batch)
        for key, value in parts.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        if count == 0:
            text_len, frames = int(batch["text_len"][0]), int(batch["mel_len"][0])
            steps = math.ceil(frames / run.model.config.reduction)
            images["alignment"] = outputs["alignment"].numpy()[0, :steps, :text_len]
            images["mel_predicted"] = outputs["mel_post"].numpy()[0, :frames]
            images["mel_target"] = batch["mel"].numpy()[0, :frames]
            first = batch
        count += 1
    if count == 0:
        return {}, {}
    metrics = {f"val_{k}": v / count for k, v in totals.items()}
    free, images["free_running_alignment"], images["mel_free_running"] = _free_running_check(run.model, first)
    return {**metrics, **free}, images


def train(run: TrainingRun, reporter: Reporter | None = None,
          xla: bool = False) -> TrainingSummary | AlreadyTrained:
    """Train until ``run.start_step + run.config.steps``; returns a summary of what happened.

    Runs on ``run.placement`` (one device when None); ``xla`` compiles the step (see :func:`make_steps`).
    """
    import tensorflow as tf

    cfg = run.config
    reporter = reporter or Reporter(enabled=False)
    placement = run.placement or place("default")
    output = placement.output(run.output)  # the chief writes to --output, other workers to scratch
    target = run.start_step + cfg.steps
    step = int(run.optimizer.iterations.numpy())
    if step >= target:
        return AlreadyTrained(str(run.output), step, target, 0,
                              f"already at step {step} (target {target}); raise --steps to train further")
    variables = trainable_subset(run.model, cfg.freeze)
    train_data, val_data = _datasets(run, cfg.seed + step)
    train_data, batch_spec = placement.distribute(train_data)
    with placement.strategy.scope():
        train_step, eval_step = make_steps(run.model, run.optimizer, cfg, variables, placement.strategy, batch_spec,
                                           xla)
    metrics_log = MetricsLog(output / "metrics.csv", resume_step=step)
    board = TensorBoardLog(output / "logs")
    first_step, started = step, time.perf_counter()
    timed_steps, step_seconds = 0, 0.0  # time inside train steps only (not data, validation, saving)
    last: dict[str, float] = {}
    validation: dict[str, float] = {}
    saved_at = None
    stopped_by_peer = diverged = False
    lr = cfg.learning_rate_at(step - run.start_step)

    def checkpoint() -> str:
        nonlocal saved_at, step
        step = int(run.optimizer.iterations.numpy())
        _check_weights(run.model, step, lr, output)
        prefix = save_checkpoint(output, run.model, run.optimizer, step, run.manifest, keep=cfg.keep)
        saved_at = step  # only once the save is complete
        return prefix

    for note in (*run.notes, placement.describe(cfg.batch_size)):
        reporter.note(note)
    reporter.start(first_step, target)
    with _StopRequest() as stop, board, reporter:
        try:
            for batch in train_data:
                done = step - run.start_step
                lr, weight = cfg.learning_rate_at(done), cfg.attention_weight_at(done)
                step_started = time.perf_counter()
                parts = train_step(batch, tf.constant(lr, tf.float32), tf.constant(weight, tf.float32),
                                   tf.constant(float(stop.requested), tf.float32))
                flagged = float(parts.pop("stop")) > 0  # a worker was asked to stop before this step
                if step > first_step:  # the first step traces the graph: it does not count for the speed
                    timed_steps += 1
                    step_seconds += time.perf_counter() - step_started
                step += 1
                _check_loss(parts, step, lr, output)
                speed = timed_steps / step_seconds if timed_steps else float("nan")
                if step % cfg.log_every == 0 or step == target:
                    last = {k: float(v) for k, v in parts.items()}
                    row = {"step": step, "lr": lr, "attention_weight": weight, "steps_per_s": speed, **last}
                    metrics_log.write(row)
                    board.scalars(step, row, prefix="train")
                    reporter.update(step, last, speed)
                if val_data is not None and (step % cfg.val_every == 0 or step == target):
                    validation, images = validate(run, val_data, eval_step)
                    metrics_log.write({"step": step, **validation})
                    board.scalars(step, validation, prefix="val")
                    board.images(step, images)
                    board.audio(step, "free_running", images.get("mel_free_running"), run.manifest.audio)
                    reporter.validation(step, validation)
                if step % cfg.checkpoint_every == 0:
                    checkpoint()
                # one process stops at once; workers stop together, after the step that carried the flag
                if step >= target or flagged or (stop.requested and placement.workers == 1):
                    stopped_by_peer = flagged and not stop.requested
                    break
        except Diverged:
            diverged = True
            raise
        finally:  # also on an error: the steps done so far are kept (never a diverged model's)
            if not diverged:
                if saved_at != int(run.optimizer.iterations.numpy()):
                    prefix = checkpoint()
                else:
                    prefix = str(output / f"ckpt-{step}")
                reporter.finish(step, prefix, stop.requested or stopped_by_peer)
    elapsed = time.perf_counter() - started
    return TrainingSummary(
        output=str(run.output),
        checkpoint=prefix,
        step=step,
        target_step=target,
        steps_run=step - first_step,
        seconds=round(elapsed, 1),
        steps_per_second=round(timed_steps / step_seconds, 3) if timed_steps else None,
        stopped_early=stop.requested or stopped_by_peer,
        signal=(signal.Signals(stop.signum).name if stop.signum
                else "another worker's" if stopped_by_peer else None),
        # 130 Ctrl-C, 143 SIGTERM: the shell's convention (a worker stopped by another's signal: 143)
        exit_code=128 + stop.signum if stop.signum else (128 + signal.SIGTERM if stopped_by_peer else 0),
        train=last,
        validation=validation,
        notes=tuple(run.notes),
    )
