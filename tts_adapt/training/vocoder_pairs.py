"""Training pairs for the vocoder: (mel segment, the recording's samples under it).

Two mels per recording: its own (what prepare computed from the audio) and the acoustic
model's teacher-forced prediction of it (what the vocoder will be given at synthesis time;
Tacotron 2 trained its WaveNet that way). Teacher forcing keeps the predicted mel exactly as
long as the recording's frames, so sample ``t * hop`` lines up with frame ``t`` in both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.features import MEL_MIN
from tts_adapt.errors import UserError


@dataclass
class Recording:
    id: str
    wav: np.ndarray  # float32 [frames * hop]: the normalised recording, zero-padded to whole frames
    mel: np.ndarray  # float32 [frames, n_mels]: its own features
    predicted: np.ndarray | None = None  # float32 [frames, n_mels]: the model's teacher-forced mel


def load_recordings(prepared_dir: str | os.PathLike, audio: AudioConfig, split: str | None = None,
                    max_items: int | None = None, seed: int = 0,
                    progress: Callable[[int, int], None] | None = None) -> list[Recording]:
    """The cache's recordings, normalised exactly as prepare did (same audio settings), with their mels."""
    from tts_adapt.audio.io import load_audio
    from tts_adapt.corpus import prepared

    info = prepared.read_info(prepared_dir)
    rows = prepared.read_items(prepared_dir, split)
    if prepared.AUDIO_COLUMN not in rows.columns:
        raise UserError(f"{prepared_dir}: the cache does not record its audio files; re-run 'tts-adapt prepare'")
    if max_items is not None and max_items < len(rows):
        rows = rows.iloc[np.sort(np.random.default_rng(seed).choice(len(rows), max_items, replace=False))]
    if info.audio.feature_fingerprint() != audio.feature_fingerprint():
        raise UserError(f"{prepared_dir}: prepared with other audio settings than the vocoder's")
    recordings = []
    for done, (_, row) in enumerate(rows.iterrows(), 1):
        mel = prepared.load_mel(prepared_dir, row["id"], audio.n_mels)
        wav = load_audio(row[prepared.AUDIO_COLUMN], audio)
        frames = 1 + wav.size // audio.hop_length
        if frames != mel.shape[0]:
            raise UserError(f"{row[prepared.AUDIO_COLUMN]}: the audio gives {frames} frames, its cached mel "
                            f"{mel.shape[0]}; the recording changed since prepare (run it again)")
        recordings.append(Recording(row["id"], np.pad(wav, (0, frames * audio.hop_length - wav.size)), mel))
        if progress:
            progress(done, len(rows))
    if not recordings:
        raise UserError(f"{prepared_dir}: no recordings" + (f" in the {split!r} split" if split else ""))
    return recordings


def add_teacher_forced(recordings: list[Recording], model_dir: str | os.PathLike, prepared_dir: str | os.PathLike,
                       speaker: str | None = None, batch_size: int = 16,
                       progress: Callable[[int, int], None] | None = None) -> None:
    """Set ``predicted`` on each recording: the model's post-net mel under teacher forcing.

    A multi-speaker model predicts each recording as its own speaker when the model knows the
    name (the pretraining corpus), else as ``speaker`` (default: the first)."""
    from tts_adapt.corpus.items import batches, pad_batch
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.teacher_forcing import teacher_forced_graph
    from tts_adapt.scoring.inputs import model_items
    from tts_adapt.speakers import resolve_speaker

    loaded = load_model(model_dir)
    model = loaded.model
    items, skipped = model_items(loaded, prepared_dir)
    wanted = {r.id: r for r in recordings}
    items = [item for item in items if item.id in wanted]
    names = list(loaded.speakers)
    fallback = resolve_speaker(speaker, names, len(names)) if speaker is not None and names else 0
    forward = teacher_forced_graph(model)
    groups = batches(items, batch_size)
    for done, group in enumerate(groups, 1):
        ids = [names.index(item.speaker) if item.speaker in names else fallback for item in group]
        predicted = forward(pad_batch(group, model.config.reduction, ids))["mel_post"].numpy()
        for row, item in enumerate(group):
            wanted[item.id].predicted = predicted[row, : item.mel.shape[0]]
        if progress:
            progress(done, len(groups))
    missing = [r.id for r in recordings if r.predicted is None]
    if missing:
        raise UserError(f"{model_dir}: cannot predict {len(missing)} recordings (first {missing[0]}: "
                        f"{next((s.reason for s in skipped if s.id == missing[0]), 'not encodable')})")


class SegmentSampler:
    """Random (mel, wav) segments of ``frames`` frames; each pair's mel is the teacher-forced one
    with probability ``predicted_share`` (when there is one), else the recording's own."""

    def __init__(self, recordings: list[Recording], hop: int, frames: int, predicted_share: float, seed: int) -> None:
        self.recordings, self.hop, self.frames = recordings, hop, frames
        self.predicted_share = predicted_share
        self.rng = np.random.default_rng(seed)
        lengths = np.array([r.mel.shape[0] for r in recordings], np.float64)
        self.weights = lengths / lengths.sum()  # every frame equally likely

    def batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """mel [size, frames, n_mels] and wav [size, frames * hop]; short recordings padded with silence."""
        n_mels = self.recordings[0].mel.shape[1]
        mel = np.full((size, self.frames, n_mels), MEL_MIN, np.float32)
        wav = np.zeros((size, self.frames * self.hop), np.float32)
        for row, index in enumerate(self.rng.choice(len(self.recordings), size, p=self.weights)):
            recording = self.recordings[index]
            source = recording.mel
            if recording.predicted is not None and self.rng.random() < self.predicted_share:
                source = recording.predicted
            start = int(self.rng.integers(0, max(1, source.shape[0] - self.frames + 1)))
            piece = source[start : start + self.frames]
            mel[row, : len(piece)] = piece
            samples = recording.wav[start * self.hop : (start + len(piece)) * self.hop]
            wav[row, : samples.size] = samples
        return mel, wav
