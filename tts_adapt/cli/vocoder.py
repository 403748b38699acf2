"""``tts-adapt vocoder train``: pretrain or fine-tune the neural vocoder on a prepared cache."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import finite_float

DESCRIPTION = """\
Train the neural vocoder (mel -> waveform) on the recordings of a prepared cache.

Pairs are (mel, the recording's samples): the recording's own mel, and with --teacher the
acoustic model's teacher-forced prediction of it, which is what the vocoder is given at
synthesis time (a fine-tuned model's mels are smoother than real speech's; the vocoder learns
to render them). With --init a trained vocoder is fine-tuned (a voice's few minutes of audio);
without, one is trained from scratch (hours of CPU: run it in the background).

OUTPUT becomes a vocoder folder (vocoder.json + weights, exported at every checkpoint), usable
as 'synthesize --vocoder OUTPUT' as soon as the first checkpoint is written. Running the same
command again resumes from the newest checkpoint; --steps is the total to reach.

examples:
  tts-adapt vocoder train exp/pretrain/prepared --teacher data/pretrained/multispeaker \\
      --output exp/pretrain/vocoder --steps 20000
  tts-adapt vocoder train exp/allison/prepared --teacher exp/allison/finetune \\
      --init data/pretrained/vocoder --output exp/allison/vocoder --steps 1500 --learning-rate 2e-4
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("vocoder", help="train the neural vocoder (pretrain, or fine-tune on a voice)",
                                   description=DESCRIPTION)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train or fine-tune a vocoder (resumes if rerun)",
                               description=DESCRIPTION)
    train.add_argument("data", metavar="PREPARED", help="a feature cache made by 'tts-adapt prepare' (its train split)")
    train.add_argument("--output", required=True, metavar="DIR", help="new folder, or an earlier run's to resume")
    train.add_argument("--teacher", metavar="MODEL",
                       help="acoustic model whose teacher-forced mels are paired with the recordings")
    train.add_argument("--speaker", help="the teacher's speaker for recordings of a voice it does not know")
    train.add_argument("--init", metavar="VOCODER", help="fine-tune this trained vocoder instead of starting fresh")
    train.add_argument("--steps", type=int, help="total steps to reach (default 20000)")
    train.add_argument("--learning-rate", type=finite_float, help="peak Adam learning rate (default 5e-4)")
    train.add_argument("--predicted-share", type=finite_float,
                       help="share of pairs with the teacher's mel, 0..1 (default 0.5)")
    train.add_argument("--phase-weight", type=finite_float,
                       help="weight of the relative-phase loss (group delay, instantaneous frequency; default 0)")
    train.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    train.add_argument("--max-items", type=int, help="recordings loaded, a seeded sample (default 4000)")
    train.add_argument("--channels", type=int, help="network width for a new vocoder (default 256)")
    train.add_argument("--blocks", type=int, help="ConvNeXt blocks for a new vocoder (default 6)")
    train.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tts_adapt.errors import UserError
    from tts_adapt.training.vocoder_run import VocoderTrainingConfig, log_to_stderr, train_vocoder
    from tts_adapt.vocoder.network import NetworkConfig

    given = {"steps": args.steps, "learning_rate": args.learning_rate, "predicted_share": args.predicted_share,
             "checkpoint_every": args.checkpoint_every, "max_items": args.max_items, "phase_weight": args.phase_weight}
    config = VocoderTrainingConfig.from_dict({k: v for k, v in given.items() if v is not None})
    shape = {k: v for k, v in {"channels": args.channels, "blocks": args.blocks}.items() if v is not None}
    if shape and args.init:
        raise UserError("--channels/--blocks shape a new vocoder; --init keeps the shape of the one it starts from")
    train_vocoder(args.data, args.output, config, teacher=args.teacher, init=args.init,
                  network=NetworkConfig(**shape) if shape else None, speaker=args.speaker, log=log_to_stderr)
    return 0
