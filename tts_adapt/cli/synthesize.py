"""``tts-adapt synthesize``: text -> mel -> waveform (a trained vocoder or Griffin-Lim), with an optional alignment plot."""

from __future__ import annotations

import argparse

from tts_adapt.cli._output import add_format_argument, add_vocoder_argument, finite_float

DESCRIPTION = """\
Speak a text with a toolkit checkpoint (trained, adapted or fine-tuned).

The text is cleaned with the cleaners the model was trained with and encoded with
its symbol table (characters the table lacks are an error, listed). Decoding runs
free until the stop token fires or the length guard (--max-seconds, default: the
model's max_decoder_steps) ends it; the mel becomes audio through --vocoder: the voice's
own vocoder (a recipe trains one beside the model), else the bundled one, else Griffin-Lim.
Deterministic: the same --seed gives the same mel and the same audio.

examples:
  tts-adapt synthesize exp/allison --text "Please leave a message after the tone." --output hello.wav
  tts-adapt synthesize data/pretrained/multispeaker --speaker slt --text "Good morning." \\
      --output slt.wav --alignment-output slt.png --mel-output slt.npy
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("synthesize", help="text -> waveform with a checkpoint and a vocoder",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint directory or prefix with a tts-adapt manifest")
    parser.add_argument("--text", required=True, help="what to say")
    parser.add_argument("--output", "-o", required=True, metavar="WAV", help="the waveform to write (.wav)")
    parser.add_argument("--speaker", metavar="ID|NAME", help="voice of a multi-speaker model (default: its first)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the prenet dropout (default: 0)")
    parser.add_argument("--max-seconds", type=finite_float, metavar="S", help="length guard in seconds of audio")
    parser.add_argument("--mel-output", metavar="NPY", help="also write the mel [frames, n_mels] as .npy")
    parser.add_argument("--alignment-output", metavar="PNG", help="also write the attention alignment as a heatmap")
    add_vocoder_argument(parser)
    add_format_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import os

    import numpy as np
    import soundfile as sf

    from tts_adapt.checkpoint.paths import checkpoint_files
    from tts_adapt.cli._output import console, print_json
    from tts_adapt.errors import UserError
    from tts_adapt.fsutil import atomic_file, check_output_file, check_outputs_apart
    from tts_adapt.model.alignment_metrics import alignment_metrics
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import plot_alignment, synthesize
    from tts_adapt.training.runtime import configure_threads
    from tts_adapt.vocoder.render import load_renderer

    if not args.output.lower().endswith(".wav"):
        raise UserError(f"--output {args.output}: expected a .wav path")
    outputs = {"--output": args.output, "--mel-output": args.mel_output, "--alignment-output": args.alignment_output}
    for option, path in outputs.items():
        if path:
            check_output_file(path, option)
    vocoder_folder = [args.vocoder] if args.vocoder and os.path.isdir(args.vocoder) else []
    check_outputs_apart(outputs, checkpoint_files(args.checkpoint) + vocoder_folder)
    configure_threads()
    loaded = load_model(args.checkpoint)
    render = load_renderer(args.vocoder, loaded.audio, args.checkpoint, loaded.directory)
    result = synthesize(loaded, args.text, args.speaker, args.seed, args.max_seconds, render)
    with contextlib.ExitStack() as published:  # every output is written first, then all are renamed into place
        tmp = published.enter_context(atomic_file(args.output))
        sf.write(tmp, result.wav, result.sample_rate, subtype="PCM_16", format="WAV")
        if args.mel_output:
            with open(published.enter_context(atomic_file(args.mel_output)), "wb") as handle:
                np.save(handle, result.mel)
        if args.alignment_output:
            title = f"{args.text[:60]!r}" + (f" ({result.speaker})" if result.speaker else "")
            plot_alignment(result.alignment, result.symbols, published.enter_context(atomic_file(args.alignment_output)),
                           title)
    metrics = alignment_metrics(result.alignment)
    report = {
        "output": args.output, "seconds": round(result.seconds, 3), "frames": int(result.mel.shape[0]),
        "stop_fired": result.stop_fired, "speaker": result.speaker, "seed": args.seed, "vocoder": render.name,
        "symbols": len(result.symbols), "mel_output": args.mel_output, "alignment_output": args.alignment_output,
        "attention": {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics.items()},
    }
    if args.format == "json":
        print_json(report)
        return 0
    out = console()
    voice = f" as {result.speaker}" if result.speaker else ""
    out.print(f"wrote {args.output}: {report['seconds']} s{voice}, {report['frames']} frames, "
              f"attention focus {metrics['focus']:.2f}, coverage {metrics['coverage']:.2f}")
    if render.note:
        console(stderr=True).print(f"note: {render.note}", markup=False)
    if not result.stop_fired:
        console(stderr=True).print("warning: the stop token never fired; the length guard cut the audio "
                                   "(an undertrained model, or raise --max-seconds)")
    return 0
