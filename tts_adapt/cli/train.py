"""``tts-adapt train``: train a Tacotron model from scratch on a prepared feature cache."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tts_adapt.cli._output import add_format_argument, console, finite_float
from tts_adapt.model.config import PRESETS

if TYPE_CHECKING:  # imported when a run starts, so that --help stays quick
    from tts_adapt.training.loop import TrainingSummary

DESCRIPTION = """\
Train a Tacotron 2-style model on the output of 'tts-adapt prepare'.

The symbol table and the speakers come from the prepared data (PREPARED/prepared.json;
without a table there, the symbols its transcripts use, said in one line): two or more
speakers give a multi-speaker model (a learned speaker table), one gives a single-speaker
model. The model's shape comes from --preset (tiny, small, base) and
the 'model:' section of --config; training settings from the 'training:' section,
overridden by the flags below.

EXPDIR receives checkpoints (ckpt-<step>, the last --keep of them), manifest.json,
metrics.csv (loss parts, validation loss, attention focus, steps/s) and TensorBoard
logs (EXPDIR/logs: scalars, alignment and mel images). EXPDIR is itself a checkpoint
directory: adapt, synthesize and verify take it as is.

Running the same command again resumes from the newest checkpoint; raise --steps to
train further. Ctrl-C or SIGTERM saves a checkpoint before exiting. While one run
writes EXPDIR, a second command into it is refused (exit 2, naming its process).
A loss that becomes nan or inf stops the run (exit 2); the newest checkpoint stays
the last finite one.

--strategy spreads each step over several devices or machines (TensorFlow's
tf.distribute); checkpoints do not depend on it, so a run may resume under another.

examples:
  tts-adapt train --data data/pretrain --output exp/multispeaker --preset small --steps 3000
  tts-adapt train --data data/pretrain --output exp/multispeaker --config recipes/pretrain_multispeaker/conf/train.yaml
  tts-adapt train --data data/pretrain --output exp/multispeaker --strategy mirrored --precision mixed_bfloat16
  TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}' \
      tts-adapt train --data /shared/pretrain --output /shared/exp/multispeaker --strategy multi-worker
  tensorboard --logdir exp/multispeaker/logs
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("train", help="train a model from scratch on prepared data (resumes if rerun)",
                                   description=DESCRIPTION)
    parser.add_argument("--data", required=True, metavar="PREPARED", help="feature cache made by 'tts-adapt prepare'")
    parser.add_argument("--output", required=True, metavar="EXPDIR",
                        help="new or empty directory, or an earlier run's directory to resume")
    parser.add_argument("--config", metavar="YAML", help="experiment config with model: and training: sections")
    parser.add_argument("--preset", choices=tuple(PRESETS),
                        help="model size (default: small, ~1.2 M parameters)")
    parser.add_argument("--symbols", metavar="TABLE",
                        help="symbol table (default: the one recorded in PREPARED/prepared.json, else every "
                             "symbol its transcripts use)")
    add_training_flags(parser)
    add_placement_flags(parser)
    add_format_argument(parser)
    parser.set_defaults(func=run)


def add_training_flags(parser: argparse.ArgumentParser, learning_rate_help: str = "") -> None:
    """Flags shared with finetune; each overrides the config file (and a resumed run's saved setting)."""
    parser.add_argument("--steps", type=int, metavar="N", help="train until this many steps into the run")
    parser.add_argument("--batch-size", type=int, metavar="B", help="utterances per step (default: 32)")
    parser.add_argument("--learning-rate", type=finite_float, metavar="LR", help=learning_rate_help or "Adam learning rate")
    parser.add_argument("--seed", type=int, metavar="S", help="seed for initial weights, data order and dropout")
    parser.add_argument("--checkpoint-every", type=int, metavar="N", help="steps between checkpoints")
    parser.add_argument("--val-every", type=int, metavar="N", help="steps between validations")
    parser.add_argument("--keep", type=int, metavar="K", help="checkpoints kept in EXPDIR")


def add_placement_flags(parser: argparse.ArgumentParser) -> None:
    """Where and how the steps run; not saved with the run, so a rerun may choose differently."""
    from tts_adapt.training.distribute import PRECISIONS, STRATEGIES

    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default: one device; mirrored: every local GPU (or logical CPU device); "
                             "multi-worker: the machines listed in TF_CONFIG (see docs/distributed.md). "
                             "--batch-size is the global batch")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="compute dtype of the convolutional postnet and embedding (recurrent parts stay "
                             "float32; mixed_float16 scales the loss); default float32")
    parser.add_argument("--xla", action="store_true",
                        help="compile each replica's forward and backward pass with XLA (per batch shape; "
                             "off by default: slower on CPU)")


def overrides(args: argparse.Namespace) -> dict:
    return {"steps": args.steps, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
            "seed": args.seed, "checkpoint_every": args.checkpoint_every, "val_every": args.val_every,
            "keep": args.keep, "freeze": getattr(args, "freeze", None)}


def execute(make_run, args: argparse.Namespace) -> int:
    """Set TensorFlow up, lock the output, build the run, train, report."""
    import contextlib

    from tts_adapt.cli._output import print_document
    from tts_adapt.fsutil import is_disk_full, output_lock
    from tts_adapt.training.loop import AlreadyTrained, train
    from tts_adapt.training.reporting import Reporter
    from tts_adapt.training.runtime import configure_threads
    from tts_adapt.training.session import discard_unfinished, holds_run

    from tts_adapt.training.distribute import place, set_precision

    configure_threads()
    placement = place(args.strategy)
    set_precision(args.precision)  # before the model is built: layers take the policy when created
    # the chief writes --output (other workers write scratch): one run at a time may write there
    lock = output_lock(args.output) if placement.chief else contextlib.nullcontext()
    new_run = placement.chief and not holds_run(args.output)
    try:
        with lock:
            try:
                with placement.strategy.scope():
                    run = make_run(placement)
                summary = train(run, Reporter(enabled=args.format == "text" and placement.chief), xla=args.xla)
            except Exception as exc:
                if new_run and is_disk_full(exc):
                    discard_unfinished(args.output, args.command)
                raise
    finally:
        placement.close()
    if args.format == "json":
        print_document(summary)
    elif isinstance(summary, AlreadyTrained):
        console().print(summary.message)
    else:
        _render(summary)
    return 0 if isinstance(summary, AlreadyTrained) else summary.exit_code


def _render(summary: TrainingSummary) -> None:
    """A finished run in a few lines for people."""
    out = console()
    speed = summary.steps_per_second
    out.print(f"trained {summary.steps_run} steps to step {summary.step} in {summary.seconds} s"
              + (f" ({1 / speed:.2f} s/step)" if speed else ""))
    if summary.validation:
        v = summary.validation
        out.print(f"validation loss {v.get('val_loss', float('nan')):.3f}, free-running focus "
                  f"{v.get('fr_focus', float('nan')):.2f}, coverage {v.get('fr_coverage', float('nan')):.2f}")
    out.print(f"checkpoint: {summary.checkpoint}")
    if summary.signal:
        out.print(f"stopped by {summary.signal} before step {summary.target_step}; "
                  "run the same command again to continue")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tts_adapt.training.session import new_training

    return execute(lambda placement: new_training(Path(args.data), Path(args.output), args.config, args.preset,
                                                  args.symbols, overrides(args), placement), args)
