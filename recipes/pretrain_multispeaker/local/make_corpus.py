"""Stage 0: synthesise the multi-speaker corpus offline with flite, festival and espeak-ng.

Writes OUTPUT/<speaker>/<nnnn>.wav, OUTPUT/metadata.csv (``audio|speaker|text``, audio relative to
OUTPUT), OUTPUT/heldout.txt (sentences no speaker trained on) and OUTPUT/speakers.json. Audio is left
as each engine makes it: ``tts-adapt prepare`` normalises every speaker the same way.

    python local/make_corpus.py --config conf/corpus.yaml --output exp/pretrain/corpus
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sentences import fortune_files, fortunes, split_sentences, wordnet_examples  # noqa: E402

from tts_adapt.fsutil import atomic_output_dir  # noqa: E402

ENGINE_PACKAGES = {"flite": "flite", "festival": "festival festvox-kdlpc16k", "espeak-ng": "espeak-ng"}
FESTIVAL_BATCH = 50  # utterances per festival process: its start-up is paid once per batch


@dataclass(frozen=True)
class Utterance:
    speaker: str
    text: str
    wav: Path


def _flite(voice: str, batch: list[Utterance]) -> None:
    for utt in batch:
        subprocess.run(["flite", "-voice", voice, "-t", utt.text, "-o", str(utt.wav)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _espeak(voice: str, batch: list[Utterance]) -> None:
    for utt in batch:
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(utt.wav), utt.text], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _festival(voice: str, batch: list[Utterance]) -> None:
    """One festival process for the whole batch (batch mode, a generated Scheme script)."""
    lines = [f"(voice_{voice})"]
    lines += [f"(utt.save.wave (SynthText {_scheme_string(u.text)}) {_scheme_string(str(u.wav))} 'riff)"
              for u in batch]
    with tempfile.NamedTemporaryFile("w", suffix=".scm", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        subprocess.run(["festival", "-b", script.name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        Path(script.name).unlink()


ENGINES = {"flite": _flite, "espeak-ng": _espeak, "festival": _festival}


def _check_engines(speakers: dict) -> None:
    for engine in sorted({spec["engine"] for spec in speakers.values()}):
        if engine not in ENGINES:
            raise SystemExit(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
        if shutil.which(engine) is None:
            raise SystemExit(f"{engine} is not installed: apt-get install {ENGINE_PACKAGES[engine]}")


def _batches(utterances: list[Utterance], engine: str) -> list[list[Utterance]]:
    size = FESTIVAL_BATCH if engine == "festival" else 10
    return [utterances[i:i + size] for i in range(0, len(utterances), size)]


def make_corpus(config: dict, output: Path) -> dict:
    """Synthesise everything into ``output`` (which must not exist yet); returns a summary."""
    speakers: dict = config["speakers"]
    _check_engines(speakers)
    sources = config["sources"]
    pool = list(wordnet_examples(sorted(Path(sources["wordnet"]).glob("data.*"))))
    pool += list(fortunes(fortune_files(Path(sources["fortunes"]))))
    dealt, heldout = split_sentences(pool, list(speakers), config["sentences_per_speaker"],
                                     config["heldout_sentences"], config["seed"],
                                     config["min_words"], config["max_words"])
    started = time.monotonic()
    with atomic_output_dir(output) as tmp:
        jobs = []
        for name, sentences in dealt.items():
            (tmp / name).mkdir()
            utts = [Utterance(name, text, tmp / name / f"{i:04d}.wav") for i, text in enumerate(sentences, 1)]
            spec = speakers[name]
            jobs += [(spec["engine"], spec["voice"], batch) for batch in _batches(utts, spec["engine"])]
        jobs.sort(key=lambda job: job[0] != "festival")  # the slowest batches first
        total = sum(len(batch) for _, _, batch in jobs)
        columns = (TextColumn("synthesising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns) as progress, ThreadPoolExecutor(config.get("jobs", 2)) as pool_:
            task = progress.add_task("synth", total=total)
            futures = {pool_.submit(ENGINES[engine], voice, batch): (engine, voice, batch)
                       for engine, voice, batch in jobs}
            for future in as_completed(futures):
                engine, voice, batch = futures[future]
                try:
                    future.result()
                except subprocess.CalledProcessError as exc:
                    raise SystemExit(f"{engine} ({voice}) failed: {exc.stderr.decode(errors='replace')[-500:]}")
                progress.advance(task, len(batch))
        synth_seconds = time.monotonic() - started

        rows, audio_seconds = [], {name: 0.0 for name in dealt}
        for name, sentences in dealt.items():
            for i, text in enumerate(sentences, 1):
                wav = tmp / name / f"{i:04d}.wav"
                info = sf.info(str(wav))
                if info.duration < 0.3:
                    raise SystemExit(f"{wav.name} of {name} is {info.duration:.2f} s long: the voice did not speak")
                audio_seconds[name] += info.duration
                rows.append(f"{name}/{i:04d}.wav|{name}|{text}")
        (tmp / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        (tmp / "heldout.txt").write_text("\n".join(heldout) + "\n", encoding="utf-8")
        summary = {
            "speakers": {name: {**speakers[name], "utterances": len(dealt[name]),
                                "minutes": round(audio_seconds[name] / 60, 2)} for name in dealt},
            "utterances": len(rows),
            "heldout": len(heldout),
            "minutes": round(sum(audio_seconds.values()) / 60, 2),
            "synthesis_seconds": round(synth_seconds, 1),
            "jobs": config.get("jobs", 2),
        }
        (tmp / "speakers.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    summary = make_corpus(config, args.output)
    print(f"{summary['utterances']} utterances, {len(summary['speakers'])} speakers, "
          f"{summary['minutes']:.1f} min of audio, synthesised in {summary['synthesis_seconds']:.0f} s "
          f"with {summary['jobs']} jobs -> {args.output}/metadata.csv")
    for name, info in summary["speakers"].items():
        print(f"  {name:8s} {info['engine']:9s} {info['voice']:20s} {info['utterances']:4d} utts "
              f"{info['minutes']:5.1f} min")


if __name__ == "__main__":
    main()
