"""Metadata + audio -> the prepared feature cache (see :mod:`tts_adapt.corpus.prepared`).

Every item is checked (text first: it is cheap) and either kept or skipped with a reason;
a bad file never stops the run. A re-run reuses a feature file when its audio has the same
path and the same bytes (size and blake2b, never the modification time: ``cp -p``, ``rsync -t``
and tar keep old times on new content) and the feature-relevant audio config is unchanged; a
changed config recomputes all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.corpus import prepared
from tts_adapt.corpus.metadata import MetadataItem
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.fsutil import LOCK_NAME, atomic_file, is_disk_full, output_lock, write_text_atomic
from tts_adapt.symbols.table import SymbolTable

# One warm process beat two on a shared 2-core machine: the pool's start-up and the other work
# there eat the gain (benchmarks/prepare_throughput.py; the figures are in docs/benchmarks.md).
DEFAULT_JOBS = 1

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class PrepareOptions:
    audio: AudioConfig = field(default_factory=AudioConfig)
    cleaners: tuple[str, ...] = ("english",)
    table: SymbolTable | None = None  # encodability is checked against it when given
    val_fraction: float = 0.05
    min_seconds: float = 0.5
    max_seconds: float = 12.0
    jobs: int = DEFAULT_JOBS

    def __post_init__(self) -> None:
        if not 0 <= self.val_fraction < 1:
            raise UserError("--val-fraction must be in [0, 1)")
        if not 0 <= self.min_seconds < self.max_seconds:
            raise UserError("need 0 <= --min-seconds < --max-seconds")
        if self.jobs < 1:
            raise UserError("--jobs must be at least 1")


@dataclass(frozen=True)
class SpeakerShare:
    items: int
    minutes: float


@dataclass(frozen=True)
class PrepareSummary(Document):
    """What a run kept and skipped: ``prepare --format json`` prints it, scripts read it back with ``from_json``."""

    KIND = "tts-adapt-prepare-summary"
    DERIVED = ("skipped", "skipped_by_reason")

    output: str
    kept: int
    hours: float
    speakers: dict[str, SpeakerShare]
    splits: dict[str, int]
    computed: int  # features made by this run
    reused: int  # features kept from an earlier run into the same output
    seconds_elapsed: float
    skipped_items: tuple[prepared.SkippedRecording, ...]

    @property
    def skipped(self) -> int:
        return len(self.skipped_items)

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(s.reason for s in self.skipped_items).most_common())


@dataclass(frozen=True)
class _Job:
    """One item's audio work, small enough to ship to a worker process."""

    id: str
    audio: str
    mel: str
    cfg: AudioConfig
    min_seconds: float
    max_seconds: float


OWNER_MARK = ".made-by-tts-adapt-prepare"  # prepare writes (and deletes stale features) only where it finds this


def prepare(
    items: Sequence[MetadataItem],
    output: str | os.PathLike,
    options: PrepareOptions,
    progress: Progress | None = None,
) -> PrepareSummary:
    """Build (or bring up to date) the cache in ``output``, holding its lock throughout; returns the summary.

    A first run that fills the disk removes what it wrote: without its index none of it could be reused.
    """
    with output_lock(output) as folder:
        first_run = not any(p.name != LOCK_NAME for p in folder.iterdir())
        try:
            return _prepare(items, folder, options, progress)
        except Exception as exc:
            if first_run and is_disk_full(exc):
                _remove_all_but_the_lock(folder)
            raise


def _remove_all_but_the_lock(folder: Path) -> None:
    """Best effort: a file that cannot be removed must not hide the full disk behind its own error."""
    for entry in folder.iterdir():
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


def _prepare(items: Sequence[MetadataItem], output: Path, options: PrepareOptions,
             progress: Progress | None) -> PrepareSummary:
    from tts_adapt.symbols.frontend import clean_text

    started = time.perf_counter()
    previous = _previous_run(output, options.audio)
    (output / prepared.MELS_DIR).mkdir(parents=True, exist_ok=True)
    (output / OWNER_MARK).touch()

    skipped: list[tuple[int, dict[str, str]]] = []  # (position in the metadata, entry)
    rows: dict[str, dict[str, Any]] = {}
    jobs: list[_Job] = []
    reused = 0
    position: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in position:  # its features would overwrite the first item's
            skipped.append((index, _skip(item.id, "duplicate id", f"{item.audio} repeats an earlier item's id")))
            continue
        position[item.id] = index
        cleaned = clean_text(item.text, options.cleaners)
        reason = _text_problem(cleaned, options.table)
        if reason:
            skipped.append((index, _skip(item.id, *reason)))
            continue
        row = {"id": item.id, "speaker": item.speaker, "text": item.text, "cleaned": cleaned,
               prepared.AUDIO_COLUMN: os.path.realpath(item.audio)}
        cached = _reusable(previous.get(item.id), item, output)
        if cached is not None:
            reason = _duration_problem(cached["seconds"], options.min_seconds, options.max_seconds)
            if reason:
                skipped.append((index, _skip(item.id, *reason)))
                continue
            rows[item.id] = {**row, "n_frames": cached["n_frames"], "seconds": cached["seconds"],
                             prepared.DIGEST_COLUMN: cached["digest"]}
            reused += 1
            continue
        rows[item.id] = row
        mel = prepared.mel_path(output, item.id)
        jobs.append(_Job(item.id, str(item.audio), str(mel), options.audio, options.min_seconds, options.max_seconds))

    for item_id, result in _run_jobs(jobs, options.jobs, progress):
        if "reason" in result:
            skipped.append((position[item_id], _skip(item_id, result["reason"], result["detail"])))
            del rows[item_id]
        else:
            rows[item_id].update(result)

    kept = list(rows.values())  # metadata order
    skipped_in_order = [entry for _, entry in sorted(skipped, key=lambda pair: pair[0])]
    _assign_splits(kept, options.val_fraction)
    _remove_stale_features(output, {r["id"] for r in kept})
    summary = _summarise(output, kept, skipped_in_order, len(jobs), reused, time.perf_counter() - started)
    _write_index(output, kept, options, summary)
    return summary


def _skip(item_id: str, reason: str, detail: str) -> dict[str, str]:
    return {"id": item_id, "reason": reason, "detail": detail}


def _text_problem(cleaned: str, table: SymbolTable | None) -> tuple[str, str] | None:
    from tts_adapt.symbols.frontend import unencodable_chars
    from tts_adapt.symbols.table import escape_symbol

    if not cleaned.strip():
        return "empty text", "no text after cleaning"
    if table is not None:
        missing = unencodable_chars(cleaned, table)
        if missing:
            return "unencodable text", "cannot encode " + " ".join(escape_symbol(c) for c in missing)
    return None


def _duration_problem(seconds: float, min_seconds: float, max_seconds: float) -> tuple[str, str] | None:
    if seconds < min_seconds:
        return "too short", f"{seconds:.2f} s of speech < --min-seconds {min_seconds:g}"
    if seconds > max_seconds:
        return "too long", f"{seconds:.2f} s of speech > --max-seconds {max_seconds:g}"
    return None


# --- re-runs -------------------------------------------------------------------


def _previous_run(output: Path, cfg: AudioConfig) -> dict[str, dict[str, Any]]:
    """Items of an earlier run into ``output`` whose features are still valid for ``cfg``.

    prepare only writes into a folder it made (``OWNER_MARK``, written first) or an empty one.
    A cache made with other audio settings stops being a cache before any new feature is
    written (its ``prepared.json`` is removed): an interrupted run can never leave features of
    two configurations under one index.
    """
    info_path = output / prepared.INFO_NAME
    if not (output / OWNER_MARK).is_file() and not info_path.is_file():
        if any(p.name != LOCK_NAME for p in output.iterdir()):
            raise UserError(f"output directory {output} is not empty and was not made by prepare; choose a new path")
        return {}
    if not info_path.is_file():
        return {}  # an interrupted first run: nothing is known to be valid
    info = prepared.read_info(output)
    if info.audio_fingerprint != cfg.feature_fingerprint():
        info_path.unlink()  # the audio config changed: every feature is recomputed
        return {}
    items = prepared.read_items(output)
    return {  # rows without a digest (caches made before it) are recomputed
        str(r["id"]): {"n_frames": int(r["n_frames"]), "seconds": float(r["seconds"]),
                       "audio": r.get(prepared.AUDIO_COLUMN), "digest": r[prepared.DIGEST_COLUMN]}
        for r in items.to_dict("records") if r.get(prepared.DIGEST_COLUMN)
    }


def _reusable(previous: dict[str, Any] | None, item: MetadataItem, output: Path) -> dict[str, Any] | None:
    """The earlier run's entry when its features came from this very file: same path, same bytes."""
    if previous is None or previous["audio"] != os.path.realpath(item.audio):  # realpath: a symlink loop is no error
        return None
    if not prepared.mel_path(output, item.id).is_file():
        return None
    try:
        digest = audio_digest(item.audio)
    except OSError:
        return None  # missing or unreadable now: the audio work reports why
    return previous if digest == previous["digest"] else None


def audio_digest(path: str | os.PathLike) -> str:
    """``<size>:<blake2b>`` of a file's bytes: what a cached feature is keyed on (one reused 1 MB buffer)."""
    digest = hashlib.blake2b(digest_size=16)
    block = bytearray(1 << 20)
    view = memoryview(block)
    size = 0
    with open(path, "rb", buffering=0) as handle:
        while n := handle.readinto(block):
            digest.update(view[:n])
            size += n
    return f"{size}:{digest.hexdigest()}"


def _remove_stale_features(output: Path, kept_ids: set[str]) -> None:
    """Feature files of items no longer kept would only mislead a reader of the cache."""
    for path in (output / prepared.MELS_DIR).glob("*.npy"):
        if path.stem not in kept_ids:
            path.unlink()


# --- the audio work ------------------------------------------------------------


def _run_jobs(jobs: list[_Job], workers: int, progress: Progress | None):
    """Yield ``(id, result)`` per job, in order; a pool of ``workers`` processes when > 1
    (see :mod:`tts_adapt.workers`: one BLAS thread each, and they end with prepare's process)."""
    from threadpoolctl import threadpool_limits

    from tts_adapt.workers import worker_pool

    total = len(jobs)
    if progress:
        progress(0, total)
    if workers == 1 or total < 2:
        results = map(process_item, jobs)
        pool = threadpool_limits(limits=1)
    else:
        pool = worker_pool(min(workers, total), preload=("librosa", "scipy.signal", __name__))
        results = pool.map(process_item, jobs, chunksize=max(1, min(16, total // (4 * workers))))
    with pool:
        for done, (job, result) in enumerate(zip(jobs, results), start=1):
            if progress:
                progress(done, total)
            yield job.id, result


def process_item(job: _Job) -> dict[str, Any]:
    """Load, normalise, check the duration, extract and store one item's features.

    Returns ``{"n_frames", "seconds", DIGEST_COLUMN}`` or ``{"reason", "detail"}``; never raises for bad audio.
    The digest is taken before the audio is read, so features are never keyed on newer bytes than they hold.
    """
    from tts_adapt.audio.features import wav_to_mel
    from tts_adapt.audio.io import AudioLoadError, load_audio

    try:
        digest = audio_digest(job.audio) if os.path.isfile(job.audio) else None
        wav = load_audio(job.audio, job.cfg)
    except AudioLoadError as exc:
        return {"reason": exc.reason, "detail": str(exc)}
    except Exception as exc:  # a decoder crash on one odd file must not end the run
        return {"reason": "unreadable audio", "detail": f"{job.audio}: {type(exc).__name__}: {exc}"}
    seconds = wav.size / job.cfg.sample_rate
    problem = _duration_problem(seconds, job.min_seconds, job.max_seconds)
    if problem:
        return {"reason": problem[0], "detail": problem[1]}
    mel = wav_to_mel(wav, job.cfg)
    _save_npy_atomic(Path(job.mel), mel)
    return {"n_frames": int(mel.shape[0]), "seconds": round(seconds, 4), prepared.DIGEST_COLUMN: digest}


def _save_npy_atomic(path: Path, array: np.ndarray) -> None:
    import io

    encoded = io.BytesIO()  # np.save into a file reports a full disk without errno ("N requested and M written")
    np.save(encoded, array)
    with atomic_file(path, durable=False) as tmp:  # made durable together, before prepared.json publishes them
        tmp.write_bytes(encoded.getbuffer())


# --- splits, summary, index ----------------------------------------------------


def _hash_unit(item_id: str) -> float:
    """A stable number in [0, 1) per id: the split never depends on order or on the run."""
    return int(hashlib.sha1(item_id.encode("utf-8")).hexdigest()[:12], 16) / 16**12


def _assign_splits(rows: list[dict[str, Any]], val_fraction: float) -> None:
    """``val`` where the id's hash falls below ``val_fraction``; at least one of each when possible."""
    for row in rows:
        row["split"] = "val" if _hash_unit(row["id"]) < val_fraction else "train"
    if val_fraction > 0 and len(rows) >= 2:
        if not any(r["split"] == "val" for r in rows):
            min(rows, key=lambda r: _hash_unit(r["id"]))["split"] = "val"
        if not any(r["split"] == "train" for r in rows):
            max(rows, key=lambda r: _hash_unit(r["id"]))["split"] = "train"


def _summarise(output, kept, skipped, computed, reused, elapsed) -> PrepareSummary:
    seconds: dict[str, list[float]] = {}
    for row in kept:
        seconds.setdefault(row["speaker"], []).append(row["seconds"])
    return PrepareSummary(
        output=str(output),
        kept=len(kept),
        hours=round(sum(r["seconds"] for r in kept) / 3600, 4),
        speakers={name: SpeakerShare(len(each), round(sum(each) / 60, 2)) for name, each in sorted(seconds.items())},
        splits={s: sum(r["split"] == s for r in kept) for s in prepared.SPLITS},
        computed=computed,
        reused=reused,
        seconds_elapsed=round(elapsed, 2),
        skipped_items=tuple(prepared.SkippedRecording(**entry) for entry in skipped),
    )


def _write_index(output: Path, kept, options: PrepareOptions, summary: PrepareSummary) -> None:
    """items.csv, then prepared.json: the latter marks a complete cache, so it goes last."""
    import pandas as pd

    os.sync()  # every feature file on disk before the index that makes the cache valid
    frame = pd.DataFrame(kept, columns=[*prepared.ITEM_COLUMNS, prepared.AUDIO_COLUMN, prepared.DIGEST_COLUMN])
    write_text_atomic(output / prepared.ITEMS_NAME, frame.to_csv(index=False))
    record = prepared.PreparedRecord(
        audio=options.audio, items=summary.kept, cleaners=tuple(options.cleaners),
        symbols=None if options.table is None else tuple(options.table.to_list()), speakers=tuple(summary.speakers),
        audio_fingerprint=options.audio.feature_fingerprint(), hours=summary.hours, skipped=summary.skipped_items)
    write_text_atomic(output / prepared.INFO_NAME, record.to_text())
