"""Tiny toolkit checkpoints and prepared caches for the proofs (verify, suggest-speaker, evaluate).

Models use the ``tiny`` preset with every variable randomised (biases and batch-norm
statistics too), so a wrong row or a missed fold shows up as a large difference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.tiny_model import randomise, write_prepared_cache

SYMBOLS = list("abcdefghij ")
NEW_SYMBOLS = ["b", "a", "c", "x", " ", "j", "d", "e"]  # moved, kept, added, removed
SPEAKERS = ["ann", "bob", "cy"]
NEW_VOICE_TEXTS = ["bad cab", "a jab", "fed a deaf bee", "dig a hedge", "cage", "bead"]


def tiny_config():
    from tts_adapt.model.config import preset

    return preset("tiny")


def make_frame_independent(model) -> None:
    """Zero the last prenet kernel and the post-net's output, so outputs ignore the teacher-forced frames.

    Then what the model says for a text and speaker is a fixed point of teacher
    forcing: a recording made of it scores a loss of ~0 for that speaker only.
    """
    for v in model.variables:
        last_prenet = f"prenet/dense_{model.config.prenet_layers - 1}/kernel"
        last_norm = f"postnet/batch_norm_{model.config.postnet_layers - 1}/"
        if v.path.endswith(last_prenet) or (last_norm in v.path and v.path.endswith(("gamma", "beta"))):
            v.assign(np.zeros(v.shape, np.float32))


def audio_dict() -> dict:
    from tts_adapt.audio.config import AudioConfig

    return AudioConfig(n_mels=tiny_config().n_mels).to_dict()


def save_model(directory: Path, model, symbols=SYMBOLS, speakers=SPEAKERS) -> Path:
    from tts_adapt.checkpoint.own import save_checkpoint
    from tts_adapt.audio.config import AudioConfig
    from tts_adapt.manifest import Manifest

    manifest = Manifest(symbols=tuple(symbols), speakers=tuple(speakers), layout=model.layout().to_dict(),
                        model=model.config.to_dict(), audio=AudioConfig.from_dict(audio_dict()))
    save_checkpoint(directory, model, None, 0, manifest)
    return directory


def make_source(directory: Path, seed: int = 0, frame_independent: bool = False):
    """A randomised multi-speaker tiny model saved as a toolkit checkpoint; returns the model."""
    from tts_adapt.model.tacotron import Tacotron

    model = Tacotron(tiny_config(), len(SYMBOLS), len(SPEAKERS))
    randomise(model, seed)
    if frame_independent:
        make_frame_independent(model)
    save_model(directory, model)
    return model


def write_table(path: Path, symbols) -> Path:
    path.write_text("".join(f"{s}\n" for s in symbols), encoding="utf-8")
    return path


def write_prepared(directory: Path, texts: list[str], mels: list[np.ndarray], speaker: str = "newvoice",
                   splits: list[str] | None = None) -> Path:
    """A prepared cache in the ``tts-adapt prepare`` layout, written directly from given mels."""
    items = [{"id": f"utt{i:03d}", "speaker": speaker, "text": text, "mel": mel,
              "split": (splits or ["val"] * len(texts))[i]} for i, (text, mel) in enumerate(zip(texts, mels))]
    return write_prepared_cache(directory, items, {"audio": audio_dict(), "cleaners": ["english"], "symbols": None,
                                                   "speakers": [speaker]})


def spoken_by(model, speaker: int, texts: list[str], seed: int = 0) -> list[np.ndarray]:
    """Teacher-forced mels of ``model`` as ``speaker`` (one item at a time, random previous frames)."""
    from tts_adapt.symbols.frontend import text_to_ids
    from tts_adapt.symbols.table import SymbolTable

    table = SymbolTable.from_list(SYMBOLS)
    rng = np.random.default_rng(seed)
    r, n_mels = model.config.reduction, model.config.n_mels
    mels = []
    for i, text in enumerate(texts):
        ids = np.array([text_to_ids(text, table)], np.int32)
        frames = r * (2 + i % 3)
        batch = {"text": ids, "text_len": np.array([ids.shape[1]], np.int32),
                 "mel": rng.uniform(-4, 4, (1, frames, n_mels)).astype(np.float32),
                 "speaker": np.array([speaker], np.int32)}
        mels.append(model(batch, training=False)["mel_post"].numpy()[0])
    return mels
