"""Stage 0: Allison's G.722 prompts -> an LJSpeech-layout corpus with normalised transcripts.

Writes OUTPUT/wavs/<id>.wav (16 kHz, 16-bit, decoded as is: ``tts-adapt prepare`` normalises),
OUTPUT/metadata.csv (``id|text|normalized_text``), OUTPUT/heldout.csv (same form, never trained on;
audio in OUTPUT/heldout/) and OUTPUT/skipped.csv (``id|reason``).

    python local/make_data.py --config conf/data.yaml --output exp/allison/data
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from transcripts import normalize_transcript, read_transcripts, utterance_id  # noqa: E402

from tts_adapt.fsutil import atomic_output_dir  # noqa: E402

SAMPLE_RATE = 16000


def decode_g722(path: Path) -> np.ndarray:
    """16 kHz int16 samples of a G.722 (64 kbit/s) file."""
    try:
        import G722
    except ImportError:
        raise SystemExit("the G722 decoder is missing: pip install G722 (a tts-adapt dependency)") from None
    samples = G722.G722(SAMPLE_RATE, 64000).decode(path.read_bytes())
    return np.frombuffer(samples, dtype=np.int16) if not isinstance(samples, np.ndarray) else samples


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def choose_heldout(items: list[dict], count: int, words: tuple[int, int], seed: int) -> set[str]:
    """Ids of ``count`` whole-sentence prompts, picked by a seeded hash; texts said twice are avoided."""
    said = [item["normalized"] for item in items]
    candidates = [item["id"] for item in items
                  if words[0] <= len(item["normalized"].split()) <= words[1]
                  and item["normalized"].endswith((".", "?", "!")) and said.count(item["normalized"]) == 1]
    return set(sorted(candidates, key=lambda uid: _rank(uid, seed))[:count])


def make_data(config: dict, output: Path) -> dict:
    """Decode and write everything into ``output`` (which must not exist yet); returns a summary."""
    sounds = Path(config["sounds"])
    if not sounds.is_dir():
        raise SystemExit(f"{sounds} is missing: apt-get install asterisk-core-sounds-en-g722")
    items, skipped = [], []
    for name, raw in read_transcripts(config["transcripts"]):
        uid = utterance_id(name)
        audio = sounds / f"{name}.g722"
        try:
            normalized = normalize_transcript(raw)
        except ValueError as exc:  # a symbol no rule speaks (a newer package's transcripts?)
            skipped.append((uid, str(exc)))
            continue
        if normalized is None:
            skipped.append((uid, f"no speakable text: {raw}"))
        elif not audio.is_file():
            skipped.append((uid, f"no recording {audio.name}"))
        else:
            items.append({"id": uid, "audio": audio, "raw": " ".join(raw.split()), "normalized": normalized})
    heldout = choose_heldout(items, config["heldout"], tuple(config["heldout_words"]), config["seed"])
    rows: dict[str, list[str]] = {"wavs": [], "heldout": []}
    seconds = {"wavs": 0.0, "heldout": 0.0}
    with atomic_output_dir(output) as tmp:
        for folder in rows:
            (tmp / folder).mkdir()
        for item in items:
            folder = "heldout" if item["id"] in heldout else "wavs"
            samples = decode_g722(item["audio"])
            sf.write(tmp / folder / f"{item['id']}.wav", samples, SAMPLE_RATE, subtype="PCM_16")
            rows[folder].append(f"{item['id']}|{item['raw']}|{item['normalized']}")
            seconds[folder] += len(samples) / SAMPLE_RATE
        (tmp / "metadata.csv").write_text("\n".join(rows["wavs"]) + "\n", encoding="utf-8")
        (tmp / "heldout.csv").write_text("\n".join(rows["heldout"]) + "\n", encoding="utf-8")
        (tmp / "skipped.csv").write_text("".join(f"{uid}|{why}\n" for uid, why in skipped), encoding="utf-8")
        summary = {"utterances": len(rows["wavs"]), "minutes": round(seconds["wavs"] / 60, 2),
                   "heldout": len(rows["heldout"]), "heldout_minutes": round(seconds["heldout"] / 60, 2),
                   "skipped": len(skipped)}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    summary = make_data(config, args.output)
    print(f"{summary['utterances']} utterances ({summary['minutes']:.1f} min) for training, "
          f"{summary['heldout']} held out, {summary['skipped']} prompts skipped (see skipped.csv) -> {args.output}")


if __name__ == "__main__":
    main()
