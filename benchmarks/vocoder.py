"""Benchmark: the neural vocoder against Griffin-Lim, side by side in one run on this machine.

For each renderer, on the same held-out recordings' own mels (prepared features of audio no
model or vocoder trained on): the recogniser's CER with its bootstrap 95% interval, the
real-time factor (seconds of compute per second of audio, this process's threads), and for
the vocoder one training step (batch 16 x 32 frames, the losses of ``tts-adapt vocoder train``).
The recordings themselves are the ceiling. With ``--model``, the same is done for that model's
teacher-forced mels (what a perfect-alignment synthesis would give).

    .venv/bin/python benchmarks/vocoder.py --data exp/allison/prepared_heldout \\
        [--vocoder data/pretrained/vocoder ...] [--model exp/allison/finetune] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

GRIFFIN_LIM_SETTINGS = ((1.5, 60), (1.0, 200))  # the toolkit's default; the best on real speech's mels


def renderers(vocoders: list[str], audio, griffin_lim_too: bool = True):
    from dataclasses import replace

    from tts_adapt.vocoder.render import griffin_lim, load_renderer

    chosen = [griffin_lim(replace(audio, power=p, griffin_lim_iters=n)) for p, n in GRIFFIN_LIM_SETTINGS]
    return (chosen if griffin_lim_too else []) + [load_renderer(v, audio) for v in vocoders]


def real_time_factor(render, mel: np.ndarray, hop: int, rate: int, repeats: int = 3) -> float:
    render(mel[:50])  # trace / warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        render(mel)
        times.append(time.perf_counter() - started)
    return min(times) / (mel.shape[0] * hop / rate)


def step_seconds(generator, audio, steps: int = 10) -> float:
    import keras
    import tensorflow as tf

    from tts_adapt.vocoder.losses import MelLoss, multi_resolution_stft_loss

    optimizer, mel_loss = keras.optimizers.Adam(1e-5), MelLoss(audio)

    @tf.function
    def step(mel, wav):
        with tf.GradientTape() as tape:
            generated = generator(mel)
            loss = multi_resolution_stft_loss(generated, wav) + mel_loss(generated, wav)
        optimizer.apply_gradients(zip(tape.gradient(loss, generator.trainable_variables),
                                      generator.trainable_variables))

    mel = tf.random.normal([16, 32, audio.n_mels])
    wav = tf.random.normal([16, 32 * audio.hop_length]) * 0.05
    step(mel, wav)
    started = time.perf_counter()
    for _ in range(steps):
        step(mel, wav)
    return (time.perf_counter() - started) / steps


def markdown(results: dict) -> str:
    """The results as a markdown table (docs/benchmarks.md renders the committed JSON with this)."""
    def cell(value: dict) -> str:
        return f"{value['cer']:.3f} ({value['cer_low']:.2f}-{value['cer_high']:.2f})"

    sources = [key for key, value in results["renderers"][0].items() if isinstance(value, dict)]
    lines = [f"{results['items']} held-out recordings of `{results['data']}`; the recordings themselves: CER "
             f"{cell(results['recordings'])}.", "",
             "| renderer | real-time factor | train step (s) | " + " | ".join(f"CER, {s}" for s in sources) + " |",
             "|---|---|---|" + "---|" * len(sources)]
    for e in results["renderers"]:
        step = f"{e['train_step_s']:.3f}" if "train_step_s" in e else "-"
        lines.append(f"| {e['name']} | {e['real_time_factor']:.4f} | {step} | "
                     + " | ".join(cell(e[s]) for s in sources) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="prepared held-out recordings (all splits are scored)")
    parser.add_argument("--vocoder", action="append", default=[], help="vocoder folder (repeatable)")
    parser.add_argument("--model", help="also render this model's teacher-forced mels of the recordings")
    parser.add_argument("--max-items", type=int)
    parser.add_argument("--no-griffin-lim", dest="griffin_lim", action="store_false",
                        help="score only the vocoders (Griffin-Lim at 200 iterations takes minutes)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    from tts_adapt.corpus.prepared import read_info, read_items
    from tts_adapt.evaluation import intelligibility
    from tts_adapt.training.vocoder_pairs import add_teacher_forced, load_recordings

    audio = read_info(args.data).audio
    recordings = load_recordings(args.data, audio, None, args.max_items)
    rows = read_items(args.data)
    texts = dict(zip(rows["id"], rows["text"]))
    sources = {"own mels": lambda r: r.mel}
    if args.model:
        add_teacher_forced(recordings, args.model, args.data)
        sources[f"{Path(args.model).name} teacher-forced mels"] = lambda r: r.predicted
    recogniser = intelligibility.shared_recogniser()

    def rate(wavs) -> dict[str, float]:
        pairs = [(intelligibility.normalise(texts[r.id]), recogniser.transcribe(w, audio.sample_rate))
                 for r, w in zip(recordings, wavs)]
        return intelligibility.corpus_rates(pairs)

    results = {"items": len(recordings), "data": args.data, "cpus": os.cpu_count(),
               "recordings": rate([r.wav for r in recordings]), "renderers": []}
    long_mel = np.concatenate([r.mel for r in recordings])[:800]  # 10 s of features
    for render in renderers(args.vocoder, audio, args.griffin_lim):
        entry = {"name": render.name,
                 "real_time_factor": real_time_factor(render, long_mel, audio.hop_length, audio.sample_rate)}
        for source, pick in sources.items():
            entry[source] = rate([render(pick(r)) for r in recordings])
        if render.generator is not None:
            entry["train_step_s"] = step_seconds(render.generator, audio)
        results["renderers"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)

    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
