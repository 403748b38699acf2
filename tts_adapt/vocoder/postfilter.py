"""A fine-tuned model's variance post-filter: its mels given back the spread over time of its voice's recordings.

Why: trained with an L1 loss on a few minutes of speech, the model predicts the average of what a
frame could be, so its mels come out over-smoothed (formants and harmonics blurred), and the
recogniser hears fewer of their words. The classic remedy of statistical speech synthesis is a
global-variance post-filter: per mel band, scale each utterance's deviation from its own mean by
sqrt(variance of the recordings / variance of the model's teacher-forced mels), both measured on
the training recordings, so no held-out sentence chooses anything. ``tts-adapt postfilter`` measures
it and writes ``postfilter.json`` beside the checkpoint; the renderer applies it before the vocoder
(or Griffin-Lim), to every mel it renders, the ceilings' too, while the file matches the checkpoint.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_adapt.checkpoint.paths import resolve_checkpoint
from tts_adapt.documents import Document

FILE_NAME = "postfilter.json"


@dataclass(frozen=True)
class PostFilter(Document):
    """Per-band scale of a mel's deviation from its mean over time, measured for one checkpoint."""

    KIND = "tts-adapt-postfilter"

    checkpoint: str  # the checkpoint's name (ckpt-N), for people
    index_sha256: str  # its .index file: which weights the scale was measured for
    data: str  # the prepared recordings it was measured on
    utterances: int
    scale: tuple[float, ...]  # [n_mels]: sqrt(recordings' variance / model's variance), per band

    def apply(self, mel: np.ndarray) -> np.ndarray:
        """``mel`` [frames, n_mels] with each band's deviation from its mean over time scaled."""
        mel = np.asarray(mel, np.float32)
        mean = mel.mean(axis=0, keepdims=True)  # [1, n_mels]
        return (mean + (mel - mean) * np.asarray(self.scale, np.float32)).astype(np.float32)

    @property
    def digest(self) -> str:
        return hashlib.sha256(np.asarray(self.scale, np.float32).tobytes()).hexdigest()


def index_digest(checkpoint: str | os.PathLike) -> tuple[str, str, Path]:
    """(name, sha256 of its .index file, directory) of a checkpoint directory or prefix."""
    prefix, directory = resolve_checkpoint(checkpoint)
    return Path(prefix).name, hashlib.sha256(Path(f"{prefix}.index").read_bytes()).hexdigest(), Path(directory)


def postfilter_for(checkpoint: str | os.PathLike) -> tuple[PostFilter | None, str]:
    """The post-filter beside ``checkpoint`` when it was measured for these weights, and a note when one is
    there but not applied (measured for another checkpoint of the run)."""
    name, digest, directory = index_digest(checkpoint)
    path = directory / FILE_NAME
    if not path.is_file():
        return None, ""
    found = PostFilter.read(path)  # a damaged file is a clear error, not silently another rendering
    if found.index_sha256 != digest:
        return None, (f"{path} was measured for {found.checkpoint}, not {name}: not applied "
                      f"(run tts-adapt postfilter again)")
    return found, ""
