"""Metadata: which audio file holds which text, said by which speaker.

The file forms (and how they are told apart) are those of the transcript reader,
:mod:`tts_adapt.symbols.transcripts`, so ``symbols compare --transcripts`` and ``prepare``
read a file the same way. This module adds where the audio is:

* LJSpeech (``id|text|normalized_text``) or ``id|text``: ``WAVS/<id>.wav``; one speaker,
  named by the caller.
* Multi-speaker (``audio|speaker|text``): ``audio`` is relative to ``WAVS`` (or, when not
  found there, to the metadata file's folder); the item id is the path without extension,
  made file-name safe: ``kal/0001.wav`` -> ``kal_0001``.

Audio named by an absolute path or one that climbs out with ``..`` is refused unless the
caller allows it (``prepare --allow-outside-audio``): a metadata file from elsewhere should
not make the toolkit read files its user did not point it at.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tts_adapt.errors import UserError
from tts_adapt.symbols.transcripts import AUDIO_EXTENSIONS, read_transcripts

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class MetadataItem:
    id: str  # safe as a file name: features are stored as ``mels/<id>.npy``
    speaker: str
    text: str
    audio: Path


def safe_id(name: str) -> str:
    """A file-name-safe item id (path separators and odd characters become ``_``)."""
    cleaned = _UNSAFE_ID_CHARS.sub("_", name).strip("._")
    return cleaned or "_"


def default_wavs_dir(metadata: Path) -> Path:
    """LJSpeech keeps its audio in ``wavs/`` beside ``metadata.csv``; otherwise the file's own folder."""
    base = metadata.parent
    return base / "wavs" if (base / "wavs").is_dir() else base


def read_metadata(
    path: str | os.PathLike,
    wavs_dir: str | os.PathLike | None = None,
    speaker: str | None = None,
    default_speaker: str | None = None,
    allow_outside: bool = False,
) -> list[MetadataItem]:
    """Read a metadata file into items, in file order (ids may repeat: the caller decides).

    ``speaker`` (else ``default_speaker``) names the one speaker of LJSpeech-form data; the
    multi-speaker form names its own, so an explicit ``speaker`` is refused there.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such metadata file")
    transcripts = read_transcripts(path)
    if not allow_outside:
        for u in transcripts.utterances:
            _check_inside(u.id.strip(), path)
    wavs = default_wavs_dir(path) if wavs_dir is None else Path(wavs_dir)
    if not wavs.is_dir():
        raise UserError(f"{wavs}: no such audio directory")
    if transcripts.form == "multispeaker":
        if speaker is not None:
            raise UserError(f"{path} names its speakers (audio|speaker|text); --speaker is for LJSpeech-form data")
        return [_multispeaker_item(u.id, u.speaker or "", u.text, wavs, path.parent) for u in transcripts.utterances]
    speaker = speaker or default_speaker
    if not speaker:
        raise UserError("LJSpeech-form metadata needs a speaker name (--speaker)")
    return [_ljspeech_item(u.id, u.text, wavs, speaker) for u in transcripts.utterances]


class AudioOutsideFolder(UserError):
    """Metadata names audio by an absolute path or climbs out with ``..``; callers without
    ``--allow-outside-audio`` (new-voice) say what their user can do instead."""

    def __init__(self, metadata: Path, audio: str) -> None:
        self.metadata, self.audio = metadata, audio
        super().__init__(f"{metadata}: audio {audio!r} lies outside the audio folder (absolute, or '..'); "
                         "pass --allow-outside-audio if that is meant")


def _check_inside(audio: str, metadata: Path) -> None:
    if os.path.isabs(audio) or ".." in Path(audio).parts:
        raise AudioOutsideFolder(metadata, audio)


def _ljspeech_item(name: str, text: str, wavs: Path, speaker: str) -> MetadataItem:
    name = name.strip()
    stem, extension = os.path.splitext(name)
    if extension.lower() in AUDIO_EXTENSIONS:  # "id.wav|text" names the file itself
        return MetadataItem(safe_id(stem), speaker, text, wavs / name)
    return MetadataItem(safe_id(name), speaker, text, wavs / f"{name}.wav")


def _multispeaker_item(audio: str, speaker: str, text: str, wavs: Path, base: Path) -> MetadataItem:
    audio = audio.strip()
    candidate = wavs / audio
    if not candidate.exists() and (base / audio).exists():
        candidate = base / audio
    return MetadataItem(safe_id(os.path.splitext(audio)[0]), speaker.strip(), text, candidate)
