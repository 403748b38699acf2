"""Fixtures: a corpus with good items at several sample rates plus one of each kind of bad item."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tests.corpus.corpus_testdata import LETTERS, good_items, write_voice


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
