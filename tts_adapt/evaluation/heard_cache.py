"""What the recogniser heard, kept by content: an audio is heard once, however many evaluations score it.

An evaluation's ceilings (the recordings, and their own mels through the vocoder) are the same for
every model scored on those recordings with that vocoder, and they cost as much as the synthesis
they bound: each is rendered, recognised and pitch-tracked. So each result is filed under a digest of
everything it depends on: the recording's bytes, or the mel's values with the renderer's content
(a vocoder's card and weights) and the audio settings, and the code that renders, resamples,
tracks and recognises (this package's source and every installed distribution's version). A
changed input is another key, so an entry is never stale, only unused.

``DIR/heard/<key>.json`` holds one :class:`HeardRecord`, written to a temporary file and renamed
into place, so a reader sees a whole entry or none; one that cannot be read is heard again and
rewritten.

Recognition and pitch tracking run Python on one core, and they are most of an evaluation's time;
with ``workers`` > 1 they run in worker processes (:mod:`tts_adapt.workers`) while the caller goes
on decoding and rendering, and the ``hear_*`` methods return futures. The results are the same
either way: the recogniser hears each audio from a fresh front-end, and heard a fixed clip when it
loaded (its first utterance would be heard from a state no later one sees).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.evaluation import intelligibility, metrics
from tts_adapt.fsutil import atomic_file

FOLDER = "heard"


@dataclass(frozen=True)
class HeardRecord(Document):
    """What the recogniser heard of one audio and, for a rendered mel, the pitch pYIN tracked in it."""

    KIND = "tts-adapt-heard"

    key: str  # the digest it is filed under
    heard: str  # the recogniser's words, normalised
    pitch: tuple[float, ...] | None = None  # Hz per frame of the rendering, NaN where unvoiced; None: a recording


class HeardCache:
    """Hears recordings, rendered mels and waveforms, remembering each in ``folder`` (None: remembers nothing).

    ``workers`` > 1 hears in that many worker processes; close the cache (or use it as a context
    manager) to end them. ``recalled`` and ``heard`` count the audio found in the folder and the
    audio heard anew."""

    def __init__(self, folder: str | os.PathLike | None = None, workers: int = 1) -> None:
        self.folder = None if folder is None else Path(folder) / FOLDER
        self.workers = workers
        self.recalled = 0
        self.heard = 0
        self._pool = None
        self._asked: dict[str, Future] = {}  # by key: an audio asked for twice is heard once
        if workers > 1:  # start them now: they load the recogniser while the caller loads its model
            for _ in range(workers):
                self._workers().submit(_hear_nothing)

    def __enter__(self) -> HeardCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def recording(self, path: str | os.PathLike) -> HeardRecord:
        """What the recogniser hears in a recording file."""
        return self.hear_recording(path).result()

    def rendered(self, mel: np.ndarray, renderer) -> HeardRecord:
        """What the recogniser hears in ``mel`` [frames, n_mels] rendered by ``renderer``, and its pitch."""
        return self.hear_rendered(mel, renderer).result()

    def hear_recording(self, path: str | os.PathLike) -> Future:
        """A future :class:`HeardRecord` of a recording file."""
        return self._hear(recording_key(path), _hear_recording, lambda: (str(path),))

    def hear_waveform(self, wav: np.ndarray, sample_rate: int) -> Future:
        """A future :class:`HeardRecord` of a waveform made elsewhere (a synthesised sentence), no pitch."""
        wav = np.ascontiguousarray(wav, np.float32)
        key = _key("waveform", repr(wav.shape).encode(), wav.tobytes(), str(sample_rate).encode())
        return self._hear(key, _hear_waveform, lambda: (wav, sample_rate))

    def hear_rendered(self, mel: np.ndarray, renderer) -> Future:
        """A future :class:`HeardRecord` of ``mel`` rendered by ``renderer`` (rendered here, when not
        remembered: the renderer may be a TensorFlow model, which stays in this process)."""
        return self._hear(rendered_key(mel, renderer), _hear_rendering, lambda: (renderer(mel), renderer.audio))

    def _hear(self, key: str, hear: Callable[..., tuple[str, Any]], arguments: Callable[[], tuple]) -> Future:
        """``hear(*arguments())`` as a future record filed under ``key``, unless asked before or remembered."""
        if key in self._asked:
            self.recalled += 1
            return self._asked[key]
        answer: Future = Future()
        found = self._recall(key)
        if found is not None:
            answer.set_result(found)
        elif self.workers <= 1:
            answer.set_result(self._keep(HeardRecord(key, *hear(*arguments()))))
        else:
            heard = self._workers().submit(hear, *arguments())
            heard.add_done_callback(lambda done: self._settle(answer, key, done))
        self._asked[key] = answer
        return answer

    def _workers(self):
        if self._pool is None:
            from tts_adapt.workers import worker_pool

            self._pool = worker_pool(self.workers, preload=("librosa", "pocketsphinx", __name__))
        return self._pool

    def _settle(self, answer: Future, key: str, done: Future) -> None:
        try:
            answer.set_result(self._keep(HeardRecord(key, *done.result())))
        except BaseException as exc:  # a worker's failure is the caller's, raised where it asks
            answer.set_exception(exc)

    def _recall(self, key: str) -> HeardRecord | None:
        if self.folder is None or not (self.folder / f"{key}.json").is_file():
            return None
        try:
            record = HeardRecord.read(self.folder / f"{key}.json")
        except UserError:  # damaged (a crash before the disk caught up): heard again, rewritten
            return None
        if record.key != key:
            return None
        self.recalled += 1
        return record

    def _keep(self, record: HeardRecord) -> HeardRecord:
        self.heard += 1
        if self.folder is not None:
            with atomic_file(self.folder / f"{record.key}.json", durable=False) as tmp:
                tmp.write_text(record.to_text(), encoding="utf-8")
        return record


def _hear_nothing() -> None:
    """A worker's start: the recogniser loaded, the pitch tracker compiled, before the first audio arrives."""
    from tts_adapt.audio.config import AudioConfig

    intelligibility.shared_recogniser()
    metrics.pitch_track(np.zeros(4096, np.float32), AudioConfig())


def _hear_recording(path: str) -> tuple[str, None]:
    """What the recogniser hears in a recording file (in a worker, or here)."""
    from tts_adapt.audio.io import read_audio

    return _hear_waveform(*read_audio(path))


def _hear_waveform(wav: np.ndarray, sample_rate: int) -> tuple[str, None]:
    """What the recogniser hears in a waveform (in a worker, or here)."""
    return intelligibility.shared_recogniser().transcribe(wav, sample_rate), None


def _hear_rendering(wav: np.ndarray, audio) -> tuple[str, tuple[float, ...]]:
    """What the recogniser hears in a rendered waveform, and its pitch per frame (in a worker, or here)."""
    heard = intelligibility.shared_recogniser().transcribe(wav, audio.sample_rate)
    return heard, tuple(map(float, metrics.pitch_track(wav, audio)))


def recording_key(path: str | os.PathLike) -> str:
    return _key("recording", Path(path).read_bytes())


def rendered_key(mel: np.ndarray, renderer) -> str:
    """The mel as the renderer reads it (float32), what renders it, and the settings pitch tracking reads."""
    mel = np.ascontiguousarray(mel, np.float32)
    return _key("rendered", repr(mel.shape).encode(), mel.tobytes(), renderer.digest.encode(),
                json.dumps(renderer.audio.to_dict(), sort_keys=True).encode())


def _key(kind: str, *parts: bytes) -> str:
    digest = hashlib.sha256(kind.encode())
    for part in (code_digest().encode(), *parts):
        digest.update(len(part).to_bytes(8, "little") + part)  # length first: two parts cannot run into one
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """This package's source and every installed distribution's version: any change hears everything anew."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    # a set: run from the source tree, its .egg-info is found twice, and the same code must give the same keys
    versions = sorted({f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()})
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()
