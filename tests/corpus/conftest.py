"""Tiny corpora written in the test: good items at several sample rates plus every kind of bad item."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "audio"))

from audio_testdata import write_voice  # noqa: E402

from tts_adapt.symbols.table import SymbolTable  # noqa: E402

LETTERS = SymbolTable.from_list(list(" abcdefghijklmnopqrstuvwxyz.,'?!"))
RATES = (8000, 22050, 44100)


def good_items(root: Path, count: int = 6) -> list[str]:
    """``count`` multi-speaker rows, two speakers, rates cycling 8k / 22.05k / 44.1k."""
    lines = []
    for i in range(count):
        speaker = ("alice", "bob")[i % 2]
        write_voice(root / "wavs" / speaker / f"{i:03d}.wav", RATES[i % 3], seconds=0.8 + 0.15 * i,
                    amplitude=0.05 + 0.1 * (i % 3), f0=120 + 40 * (i % 2), seed=i)
        lines.append(f"{speaker}/{i:03d}.wav|{speaker}|Utterance number {i}, said well.")
    return lines


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A multi-speaker metadata file: 6 good items and one of each kind of bad item."""
    root = tmp_path / "corpus"
    lines = good_items(root)
    wavs = root / "wavs"
    (wavs / "bad").mkdir(parents=True)
    (wavs / "bad" / "empty.wav").write_bytes(b"")
    (wavs / "bad" / "garbage.wav").write_bytes(b"RIFF this is not audio at all" * 10)
    write_voice(wavs / "bad" / "short.wav", 16000, seconds=0.2, pad_seconds=0.1)
    write_voice(wavs / "bad" / "long.wav", 16000, seconds=3.5, pad_seconds=0.1)
    write_voice(wavs / "bad" / "accent.wav", 16000, seconds=1.0)
    import numpy as np
    import soundfile as sf

    sf.write(wavs / "bad" / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    lines += [
        "bad/empty.wav|alice|An empty file.",
        "bad/garbage.wav|alice|Garbage bytes.",
        "bad/short.wav|bob|Too short.",
        "bad/long.wav|bob|Far too long.",
        "bad/accent.wav|bob|Caf\u00e9 \u00fcber alles.",
        "bad/missing.wav|alice|This file does not exist.",
        "bad/silent.wav|alice|Nothing but silence.",
        "alice/000.wav|alice|The same audio twice.",
    ]
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "metadata.csv"


@pytest.fixture
def symbols_file(tmp_path) -> Path:
    path = tmp_path / "symbols.txt"
    path.write_text("".join(f"{s}\n" for s in LETTERS.symbols), encoding="utf-8")
    return path
