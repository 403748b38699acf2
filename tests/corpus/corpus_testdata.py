"""Shared by the corpus tests: a letters-only table and tiny multi-speaker corpora written in the test."""

from __future__ import annotations

from pathlib import Path

from tests.audio.audio_testdata import write_voice

from tts_adapt.symbols.table import SymbolTable

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
