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

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tts_adapt.errors import UserError

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aiff", ".sph", ".sln16", ".g722", ".raw")
_SPEAKER_RE = re.compile(r"^\S{1,40}$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


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


def is_multispeaker(first: Sequence[str], second: Sequence[str]) -> bool:
    """The 3-column rule: audio paths in column 1 and speaker-like names in column 2, on every line."""
    return all(map(_looks_like_audio, first)) and all(_SPEAKER_RE.match(s) for s in second)


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.split(data[: exc.start]))
        raise UserError(f"{source}:{line}: not valid UTF-8 (byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _rows(text: str, source: str) -> list[list[str]]:
    """The pipe-separated columns of every non-blank line; name the first line whose count differs.

    Lines end where a CSV reader ends them (``\\n``, ``\\r\\n``, ``\\r``): a form feed or a U+2028 line
    separator pasted into a sentence stays inside its line (``str.splitlines`` would split there and
    report a wrong column count on a line number that exists in no editor)."""
    rows: list[list[str]] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        if "\x00" in line:  # no path, id or sentence holds one; the OS refuses it in a file name
            raise UserError(f"{source}:{number}: holds a NUL byte (is this a text file?)")
        row = line.split("|")
        if rows and len(row) != len(rows[0]):
            raise UserError(f"{source}:{number}: {len(row)} pipe-separated columns, but the first line has "
                            f"{len(rows[0])}")
        rows.append(row)
    return rows


def read_transcripts(path: str | os.PathLike) -> Transcripts:
    """Read a transcript file in one of the accepted forms (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such transcripts file")
    text = _decode(path.read_bytes(), str(path))
    if not text.strip():
        raise UserError(f"{path}: the transcripts file is empty")
    rows = _rows(text, str(path))
    columns = len(rows[0])
    if columns == 2:
        form, utterances = "id_text", [Utterance(i, t) for i, t in rows]
    elif columns == 3 and is_multispeaker([r[0] for r in rows], [r[1] for r in rows]):
        form, utterances = "multispeaker", [Utterance(audio, t, speaker) for audio, speaker, t in rows]
    elif columns == 3:
        form, utterances = "ljspeech", [Utterance(i, normalized or raw) for i, raw, normalized in rows]
    else:
        raise UserError(f"{path}: {columns} pipe-separated columns; expected id|text, "
                        "id|text|normalized_text or audio|speaker|text")
    return Transcripts(str(path), form, tuple(utterances))
