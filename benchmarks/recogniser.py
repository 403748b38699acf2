"""The recogniser's pruning settings: what each saves in CPU, and what it changes in what is heard.

Hearing is most of a voice recipe's scoring (200 recognitions for 40 held-out prompts: the two models,
the recordings, the recordings' mels through each vocoder), so a cheaper PocketSphinx setting is the
obvious lever, and it is only worth having if it hears the same. Each setting is a decoder of its own
in this process; every utterance is heard by each in turn (so machine drift falls on all alike),
each from a fresh front-end as evaluate hears it. Per folder: CPU seconds an utterance, the ratio to
evaluate's setting (PocketSphinx's defaults), the corpus CER, and how many utterances were heard
word for word as evaluate's setting hears them.

    tts-adapt synthesize exp/allison/finetune --texts TEXTS --output-dir /tmp/after    # and adapted -> /tmp/before
    .venv/bin/python benchmarks/recogniser.py --texts exp/allison/data/heldout.csv \\
        --audio recordings=exp/allison/data/heldout --audio before=/tmp/before --audio after=/tmp/after [--json FILE]

TEXTS: the held-out prompts as ``id|text`` (``cut -d'|' -f1,3 exp/allison/data/heldout.csv``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tts_adapt.evaluation import intelligibility

SETTINGS = {  # name: PocketSphinx options beyond evaluate's (its defaults)
    "evaluate's (defaults)": {},
    "maxhmmpf 3000": {"maxhmmpf": 3000},
    "maxhmmpf 3000, maxwpf 10": {"maxhmmpf": 3000, "maxwpf": 10},
    "maxhmmpf 2000": {"maxhmmpf": 2000},
    "topn 2": {"topn": 2},
    "no fwdflat pass": {"fwdflat": False},
}


def recogniser(options: dict) -> intelligibility.Recogniser:
    """evaluate's recogniser (its models, its way of hearing) with these decoder options."""
    from pocketsphinx import Decoder, get_model_path

    model = os.path.join(get_model_path(), intelligibility.LANGUAGE)
    heard = intelligibility.Recogniser.__new__(intelligibility.Recogniser)
    heard._decoder = Decoder(hmm=os.path.join(model, intelligibility.LANGUAGE),
                             lm=os.path.join(model, f"{intelligibility.LANGUAGE}.lm.bin"),
                             dict=os.path.join(model, "cmudict-en-us.dict"), loglevel="FATAL", **options)
    return heard


def main() -> None:
    from tts_adapt.audio.io import read_audio

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=Path, required=True, help="id|...|text lines: what each utterance says")
    parser.add_argument("--audio", action="append", required=True, metavar="NAME=DIR",
                        help="a folder of <id>.wav to hear (repeat: recordings, each model's audio)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    texts = {}
    for line in args.texts.read_text(encoding="utf-8").splitlines():
        if "|" in line:
            texts[line.split("|")[0]] = line.split("|")[-1]
    recognisers = {name: recogniser(options) for name, options in SETTINGS.items()}
    folders = {}
    for spec in args.audio:
        name, folder = spec.split("=", 1)
        ids = sorted(i for i in texts if (Path(folder) / f"{i}.wav").is_file())
        cpu = dict.fromkeys(SETTINGS, 0.0)
        heard: dict[str, dict[str, str]] = {setting: {} for setting in SETTINGS}
        for utterance in ids:
            wav, rate = read_audio(Path(folder) / f"{utterance}.wav")
            for setting, each in recognisers.items():
                began = time.process_time()
                heard[setting][utterance] = each.transcribe(wav, rate)
                cpu[setting] += time.process_time() - began
        default = next(iter(SETTINGS))
        rows = {}
        for setting in SETTINGS:
            pairs = [(intelligibility.normalise(texts[i]), heard[setting][i]) for i in ids]
            rows[setting] = {"cpu_s": cpu[setting] / len(ids), "ratio": cpu[default] / cpu[setting],
                             "cer": intelligibility.corpus_rates(pairs)["cer"],
                             "same": sum(heard[setting][i] == heard[default][i] for i in ids)}
        folders[name] = {"folder": folder, "utterances": len(ids), "settings": rows}
    result = {"cpu_count": os.cpu_count(), "folders": folders}
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def markdown(result: dict) -> str:
    """The run as a markdown table (docs/benchmarks.md renders the committed JSON with this)."""
    names = list(result["folders"])
    clips = ", ".join(f"{name} {folder['utterances']}" for name, folder in result["folders"].items())
    lines = [f"{result['cpu_count']} CPUs; clips: {clips}. Each cell: CPU seconds a clip, the speedup over evaluate's "
             "setting, the corpus CER, and the clips heard word for word as evaluate's setting hears them.", "",
             "| setting | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for setting in SETTINGS:
        cells = []
        for name in names:
            folder = result["folders"][name]
            row = folder["settings"][setting]
            cells.append(f"{row['cpu_s']:.2f} s, {row['ratio']:.2f}x, {row['cer']:.3f}, "
                         f"{row['same']}/{folder['utterances']}")
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
