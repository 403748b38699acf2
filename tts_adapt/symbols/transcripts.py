"""Transcript files: pipe-separated, no header, one utterance per line.

Accepted forms (decided by the number of columns):

* 2 columns: ``id|text``
* 3 columns, multi-speaker: ``audio|speaker|text`` - chosen when on every line
  the first column looks like an audio file (a known audio extension, or a
  path with ``/``) and the second like a speaker name (1-40 characters, no
  whitespace);
* 3 columns otherwise, LJSpeech: ``id|text|normalized_text`` - the last column
  is used (the raw text where the last column is empty).

The utterance id is the first column as written (an id, or the audio path).
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tts_adapt.errors import UserError

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aiff", ".sph", ".sln16", ".g722", ".raw")
_SPEAKER_RE = re.compile(r"^\S{1,40}$")


@dataclass(frozen=True)
class Utterance:
    id: str
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Transcripts:
    path: str
    form: str  # "id_text" | "ljspeech" | "multispeaker"
    utterances: tuple[Utterance, ...]

    def speakers(self) -> list[str]:
        return list(dict.fromkeys(u.speaker for u in self.utterances if u.speaker is not None))


def _looks_like_audio(value: str) -> bool:
    return value.lower().endswith(AUDIO_EXTENSIONS) or "/" in value


def is_multispeaker(first: pd.Series, second: pd.Series) -> bool:
    """The 3-column rule: audio paths in column 1 and speaker-like names in column 2, on every line."""
    return bool(first.map(_looks_like_audio).all() and second.map(lambda s: bool(_SPEAKER_RE.match(s))).all())


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(f"{source}:{line}: not valid UTF-8 (byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _check_columns(text: str, source: str) -> None:
    """Every line must have as many columns as the first: name the first one that does not."""
    expected = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = line.count("|") + 1
        if expected is None:
            expected = found
        elif found != expected:
            raise UserError(f"{source}:{number}: {found} pipe-separated columns, but the first line has {expected}")


def read_transcripts(path: str | os.PathLike) -> Transcripts:
    """Read a transcript file in one of the accepted forms (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such transcripts file")
    text = _decode(path.read_bytes(), str(path))
    if not text.strip():
        raise UserError(f"{path}: the transcripts file is empty")
    _check_columns(text, str(path))
    frame = pd.read_csv(io.StringIO(text), sep="|", header=None, quoting=csv.QUOTE_NONE, dtype=str,
                        keep_default_na=False, skip_blank_lines=True)
    columns = frame.shape[1]
    if columns == 2:
        form, ids, texts, speakers = "id_text", frame[0], frame[1], None
    elif columns == 3 and is_multispeaker(frame[0], frame[1]):
        form, ids, texts, speakers = "multispeaker", frame[0], frame[2], frame[1]
    elif columns == 3:
        form, ids = "ljspeech", frame[0]
        texts = frame[2].where(frame[2] != "", frame[1])
        speakers = None
    else:
        raise UserError(f"{path}: {columns} pipe-separated columns; expected id|text, "
                        "id|text|normalized_text or audio|speaker|text")
    utterances = tuple(
        Utterance(i, t, None if speakers is None else speakers.iloc[n])
        for n, (i, t) in enumerate(zip(ids, texts))
    )
    return Transcripts(str(path), form, utterances)
