"""``tts-adapt postfilter``: measure a fine-tuned model's variance post-filter and keep it beside the checkpoint."""

from __future__ import annotations

from tts_adapt.cli._output import COUNT, add_format_argument, console, print_document

DESCRIPTION = """\
Measure how much smoother CKPT's mels are than its voice's recordings, per mel band, and keep
the correction beside the checkpoint (postfilter.json). From then on synthesize, evaluate and
the recipe's report render CKPT's mels through it: each band's deviation from its mean over
the utterance is scaled by sqrt(variance of the recordings / variance of the model's
teacher-forced mels), both measured on PREPARED's training recordings (never the held-out
ones). Why: a model fine-tuned on minutes of speech predicts blurred formants and harmonics,
and the recogniser hears fewer of their words (docs/intelligibility.md).

It applies to the weights it was measured for: fine-tune further and measure again (a
post-filter of another checkpoint is not applied, and synthesize says so). Delete the file
to render without it."""

EPILOG = """\
examples:
  tts-adapt postfilter exp/allison/finetune --data exp/allison/prepared
  tts-adapt postfilter exp/allison/finetune --data exp/allison/prepared --max-items 200 --format json"""


def register(subparsers) -> None:
    p = subparsers.add_parser("postfilter", help="measure a fine-tuned model's variance post-filter (sharper mels)",
                              description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("checkpoint", metavar="CKPT", help="a tts-adapt checkpoint (directory or prefix)")
    p.add_argument("--data", required=True, metavar="PREPARED", help="the voice's prepared recordings (train split)")
    p.add_argument("--max-items", type=COUNT, default=96, metavar="N",
                   help="a seeded sample of N training recordings (default 96)")
    add_format_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from tts_adapt.fsutil import write_text_atomic
    from tts_adapt.training.postfilter_fit import measure_postfilter
    from tts_adapt.training.runtime import configure_threads
    from tts_adapt.vocoder.postfilter import FILE_NAME, index_digest

    configure_threads()
    postfilter = measure_postfilter(args.checkpoint, args.data, args.max_items)
    path = index_digest(args.checkpoint)[2] / FILE_NAME
    write_text_atomic(path, postfilter.to_text())
    if args.format == "json":
        print_document(postfilter)
        return 0
    scale = np.asarray(postfilter.scale)
    console().print(f"{postfilter.checkpoint}: its mels' spread per band is {1 / scale.max():.2f}-{1 / scale.min():.2f} "
                    f"of the recordings' (scale {scale.min():.2f}-{scale.max():.2f}, median {np.median(scale):.2f}; "
                    f"{postfilter.utterances} training recordings)", markup=False)
    console().print(f"wrote {path}: synthesize and evaluate now render this checkpoint's mels through it", markup=False)
    return 0
