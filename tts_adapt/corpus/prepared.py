"""The prepared feature cache (output of ``tts-adapt prepare``), read by training and scoring.

Layout of ``PREPARED/``:

* ``prepared.json`` - :class:`PreparedRecord`: how the features were made and what was kept and
  skipped; written last, so its presence means the cache is complete.
* ``items.csv`` - columns ``id,speaker,text,cleaned,n_frames,seconds,split`` (``train``/``val``), and
  ``audio``: the recording's absolute path (caches made before it lack the column; ``evaluate``
  then cannot score the recording itself), and ``audio_digest``: ``<size>:<blake2b>`` of the
  recording's bytes, what a re-run's cache is keyed on (caches made before it recompute).
* ``mels/<id>.npy`` - float32 ``[n_frames, n_mels]`` (see :mod:`tts_adapt.audio.features`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.manifest import DEFAULT_CLEANERS

INFO_NAME = "prepared.json"
ITEMS_NAME = "items.csv"
MELS_DIR = "mels"
FORMAT = "tts-adapt-prepared"
ITEM_COLUMNS = ("id", "speaker", "text", "cleaned", "n_frames", "seconds", "split")  # required
AUDIO_COLUMN = "audio"  # optional
DIGEST_COLUMN = "audio_digest"  # optional
SPLITS = ("train", "val")


def mel_path(prepared_dir: str | os.PathLike, item_id: str) -> Path:
    return Path(prepared_dir) / MELS_DIR / f"{item_id}.npy"


@dataclass(frozen=True)
class SkippedRecording:
    id: str
    reason: str  # a few words, the same for every item skipped alike
    detail: str = ""


@dataclass(frozen=True)
class PreparedRecord(Document):
    """``prepared.json``: how the cache's features were made, and what prepare kept and skipped."""

    KIND = FORMAT
    KIND_KEY = "format"
    KIND_REQUIRED = True

    audio: AudioConfig
    items: int  # kept
    cleaners: tuple[str, ...] | None = None  # caches made before they were recorded: English
    symbols: tuple[str, ...] | None = None  # the table encodability was checked with, if any
    speakers: tuple[str, ...] = ()  # sorted
    audio_fingerprint: str | None = None
    hours: float | None = None
    skipped: tuple[SkippedRecording, ...] = ()

    @property
    def text_cleaners(self) -> tuple[str, ...]:
        return self.cleaners or DEFAULT_CLEANERS


def read_info(prepared_dir: str | os.PathLike) -> PreparedRecord:
    """``prepared.json`` of a finished cache; a clear error for anything else."""
    path = Path(prepared_dir) / INFO_NAME
    if not path.is_file():
        raise UserError(f"{prepared_dir}: not a prepared data directory (no {INFO_NAME}); run 'tts-adapt prepare'")
    return PreparedRecord.read(path)


def read_items(prepared_dir: str | os.PathLike, split: str | None = None):
    """``items.csv`` as a pandas DataFrame (text columns kept as strings), optionally one split."""
    import pandas as pd

    path = Path(prepared_dir) / ITEMS_NAME
    if not path.is_file():
        raise UserError(f"{prepared_dir}: no {ITEMS_NAME}; run 'tts-adapt prepare'")
    try:
        items = pd.read_csv(
            path,
            dtype={"id": str, "speaker": str, "text": str, "cleaned": str, "split": str, AUDIO_COLUMN: str,
                   DIGEST_COLUMN: str},
            keep_default_na=False,
            encoding="utf-8",
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:  # ValueError: bad UTF-8
        raise UserError(f"{path}: damaged ({str(exc).strip()[:80]}); re-run prepare") from None
    missing = set(ITEM_COLUMNS) - set(items.columns)
    if missing:
        raise UserError(f"{path}: missing columns {', '.join(sorted(missing))}")
    _check_counts(items, path)
    if split is not None:
        if split not in SPLITS:
            raise UserError(f"unknown split {split!r} (choose from {', '.join(SPLITS)})")
        items = items[items["split"] == split].reset_index(drop=True)
    return items


def _check_counts(items, path: Path) -> None:
    """Frames must be whole numbers from 1 and durations finite: every reader of the cache relies on it."""
    import pandas as pd

    if items.empty:
        return
    frames, seconds = items["n_frames"], items["seconds"]
    if not (pd.api.types.is_integer_dtype(frames) and (frames >= 1).all()
            and pd.api.types.is_numeric_dtype(seconds) and np.isfinite(seconds.to_numpy(np.float64)).all()):
        raise UserError(f"{path}: n_frames must be whole numbers from 1 and seconds finite numbers; re-run prepare")


def load_mel(prepared_dir: str | os.PathLike, item_id: str, n_mels: int) -> np.ndarray:
    """One item's cached features [frames, n_mels] float32, or a UserError that says to re-run prepare."""
    path = mel_path(prepared_dir, item_id)
    try:
        mel = np.load(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read features ({exc}); re-run prepare") from None
    if mel.ndim != 2 or mel.shape[1] != n_mels or mel.shape[0] == 0:
        raise UserError(f"{path}: expected features [frames, {n_mels}], found {list(mel.shape)}; re-run prepare")
    return mel.astype(np.float32, copy=False)


def check_same_features(ours: AudioConfig | None, prepared_dir: str | os.PathLike, source: str) -> None:
    """Scores mean nothing on features made another way than the model's (sample rate, mel scale, levels)."""
    if ours is None:
        return
    theirs = read_info(prepared_dir).audio
    if ours.feature_fingerprint() != theirs.feature_fingerprint():
        changed = sorted(k for k, v in ours.to_dict().items() if theirs.to_dict()[k] != v)
        raise UserError(f"{prepared_dir} was prepared with other audio parameters than {source} "
                        f"({', '.join(changed)}); re-run prepare with the model's audio config")
