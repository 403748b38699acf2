"""Tiny Tacotron models and batches for the model and training tests: each builds in milliseconds."""

from __future__ import annotations

import numpy as np

from tts_adapt.model.config import preset

N_SYMBOLS = 12
N_SPEAKERS = 3

TINY = preset("tiny")


def make_batch(config=TINY, n_speakers: int = N_SPEAKERS, seed: int = 0, batch: int = 3, time: int = 7, steps: int = 4):
    """A padded batch shaped like make_dataset's: lengths differ, padding is real."""
    rng = np.random.default_rng(seed)
    text_len = np.array([time, time - 2, 3][:batch], np.int32)
    text = rng.integers(0, N_SYMBOLS, size=(batch, time)).astype(np.int32)
    text[np.arange(time)[None, :] >= text_len[:, None]] = 0
    frames = steps * config.reduction
    mel_len = np.array([frames, frames - 2, frames - 4][:batch], np.int32)
    mel = rng.uniform(-4, 4, size=(batch, frames, config.n_mels)).astype(np.float32)
    stop = (np.arange(frames)[None, :] >= mel_len[:, None] - 1).astype(np.float32)
    return {"text": text, "text_len": text_len, "mel": mel, "mel_len": mel_len, "stop": stop,
            "speaker": rng.integers(0, max(n_speakers, 1), size=batch).astype(np.int32)}


def randomise(model, seed: int = 0, scale: float = 0.5) -> None:
    """Give every variable (biases and batch-norm statistics too) non-trivial values."""
    rng = np.random.default_rng(seed)
    for v in model.variables:
        value = rng.normal(0, scale, v.shape)
        if v.path.endswith("moving_variance"):
            value = 0.5 + np.abs(value)
        v.assign(value.astype(np.float32))


LETTERS = "abcdefgh "


def write_prepared_cache(directory, items: list[dict], info: dict):
    """A feature cache in the layout 'tts-adapt prepare' writes: ``items`` are rows of items.csv
    (id, speaker, text, split) each with its ``mel`` [frames, n_mels]; ``info`` the rest of prepared.json."""
    import json
    from pathlib import Path

    import pandas as pd

    directory = Path(directory)
    (directory / "mels").mkdir(parents=True)
    rows = []
    for item in items:
        mel = np.asarray(item["mel"], np.float32)
        np.save(directory / "mels" / f"{item['id']}.npy", mel)
        rows.append({"id": item["id"], "speaker": item["speaker"], "text": item["text"], "cleaned": item["text"],
                     "n_frames": len(mel), "seconds": len(mel) * 0.0125, "split": item["split"]})
    pd.DataFrame(rows).to_csv(directory / "items.csv", index=False)
    info = {"format": "tts-adapt-prepared", **info, "items": len(rows), "skipped": []}
    (directory / "prepared.json").write_text(json.dumps(info), encoding="utf-8")
    return directory


def make_prepared(directory, speakers=("ann", "bob"), items_per_speaker: int = 6, n_mels: int = 8, seed: int = 0):
    """A prepared feature cache as 'tts-adapt prepare' writes it, with mels that depend on the text."""
    from tts_adapt.audio.config import AudioConfig

    rng = np.random.default_rng(seed)
    items = []
    for s, speaker in enumerate(speakers):
        for i in range(items_per_speaker):
            text = "".join(rng.choice(list(LETTERS), size=int(rng.integers(4, 9)))).strip() or "ab"
            frames = np.repeat([[LETTERS.index(c) / 4 - 1 + s * 0.5] * n_mels for c in text], 3, axis=0)
            items.append({"id": f"{speaker}_{i:03d}", "speaker": speaker, "text": text,
                          "split": "val" if i == 0 else "train", "mel": frames + rng.normal(0, 0.05, frames.shape)})
    return write_prepared_cache(directory, items, {"audio": AudioConfig(n_mels=n_mels).to_dict(), "cleaners": ["basic"],
                                                   "symbols": list(LETTERS), "speakers": list(speakers)})
