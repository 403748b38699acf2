"""``tts-adapt finetune``: continue training an adapted checkpoint on the new voice."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import add_format_argument
from tts_adapt.cli.train import add_placement_flags, add_training_flags, execute, overrides

DESCRIPTION = """\
Fine-tune a checkpoint made by 'tts-adapt adapt' (or any tts-adapt checkpoint) on the
new voice's prepared data.

The model, its symbol table and its audio parameters come from ADAPTED's manifest; the
data is re-encoded with that table (rows follow the symbol) and must have been prepared
with the same audio parameters. EXPDIR first receives a copy of ADAPTED (its step-0
checkpoint of this run), so ADAPTED is never written to, then checkpoints, metrics.csv
and TensorBoard logs as in 'train'. Adam's slots continue from ADAPTED when it has them
(adapt --optimizer keep), else start fresh. Running again resumes from EXPDIR.

--freeze takes comma-separated parts: embedding, speakers, encoder, prenet, attention,
decoder, projections, postnet. Frozen weights get no updates (batch-norm statistics
still follow the new data).

examples:
  tts-adapt finetune adapted --data data/allison --output exp/allison --steps 1000
  tts-adapt finetune adapted --data data/allison --output exp/allison-dec --freeze encoder,embedding
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("finetune",
                                   help="fine-tune an adapted checkpoint on the new voice (resumes if rerun)",
                                   description=DESCRIPTION)
    parser.add_argument("adapted", metavar="ADAPTED", help="checkpoint directory or prefix made by 'tts-adapt adapt'")
    parser.add_argument("--data", required=True, metavar="PREPARED", help="the new voice's feature cache")
    parser.add_argument("--output", required=True, metavar="EXPDIR",
                        help="new or empty directory, or an earlier finetune run's directory to resume")
    parser.add_argument("--config", metavar="YAML", help="experiment config; its training: section is used")
    parser.add_argument("--freeze", metavar="PARTS", help="comma-separated parts that keep their weights")
    add_training_flags(parser, learning_rate_help="Adam learning rate (default: 1e-4)")
    add_placement_flags(parser)
    add_format_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tts_adapt.training.session import new_finetuning

    return execute(lambda placement: new_finetuning(args.adapted, Path(args.data), Path(args.output), args.config,
                                                    overrides(args), placement), args)
