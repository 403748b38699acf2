"""A trained vocoder on disk: ``vocoder.json`` (what it is) beside ``vocoder.weights.npz`` (float16).

``vocoder.json`` is the card a person and the loader both read: the audio settings the vocoder
was trained on (a vocoder is only valid for those features), its network size, how it was
trained. One writer (:func:`write_bundle`), one reader (:func:`read_bundle`); every way a bundle
can be wrong - missing, truncated, other features - is one :class:`UserError` line.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError
from tts_adapt.fsutil import atomic_file, write_text_atomic
from tts_adapt.structured import parse_json, read_text

CARD_NAME = "vocoder.json"
WEIGHTS_NAME = "vocoder.weights.npz"
FORMAT = "tts-adapt-vocoder"
VERSION = 1


@dataclass(frozen=True)
class VocoderCard:
    """Everything needed to rebuild the generator, and what it was trained on."""

    audio: AudioConfig
    network: "NetworkConfig"  # noqa: F821 (from .network; imported lazily: TensorFlow)
    steps: int
    trained_on: str  # one sentence: data, pairs, init
    history: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # one entry per training run

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "audio": self.audio.to_dict(),
                "network": self.network.to_dict(), "steps": self.steps, "trained_on": self.trained_on,
                "history": list(self.history)}

    @classmethod
    def from_json(cls, data: Any, source: str) -> "VocoderCard":
        from tts_adapt.vocoder.network import NetworkConfig

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{source}: not a tts-adapt vocoder card")
        if data.get("version") != VERSION:
            raise UserError(f"{source}: vocoder format version {data.get('version')!r}, this toolkit reads {VERSION}")
        try:
            return cls(AudioConfig.from_dict(data["audio"]), NetworkConfig.from_dict(data["network"]),
                       int(data["steps"]), str(data["trained_on"]), tuple(data.get("history") or ()))
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{source}: incomplete vocoder card ({exc})") from None


def is_bundle(path: str | os.PathLike) -> bool:
    return (Path(path) / CARD_NAME).is_file()


def read_card(directory: str | os.PathLike) -> VocoderCard:
    path = Path(directory) / CARD_NAME
    if not path.is_file():
        raise UserError(f"{directory}: no vocoder there ({CARD_NAME} missing); train one with "
                        "'tts-adapt vocoder train' or pass --vocoder griffin-lim")
    return VocoderCard.from_json(parse_json(read_text(path, "vocoder card"), str(path)), str(path))


def read_bundle(directory: str | os.PathLike):
    """``(generator, card)``: the generator rebuilt from the card, weights loaded and checked."""
    from tts_adapt.vocoder.network import build_generator

    card = read_card(directory)
    generator = build_generator(card.network, card.audio)
    path = Path(directory) / WEIGHTS_NAME
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = [stored[f"w{i}"] for i in range(len(stored.files))]
    except FileNotFoundError:
        raise UserError(f"{directory}: vocoder weights missing ({WEIGHTS_NAME})") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as exc:
        raise UserError(f"{path}: vocoder weights unreadable, truncated or damaged ({exc})") from None
    shapes = [tuple(w.shape) for w in generator.weights]
    if [a.shape for a in arrays] != shapes:
        raise UserError(f"{path}: {len(arrays)} weight arrays that do not fit the network its card describes "
                        f"({len(shapes)} expected); the bundle is damaged")
    for weight, array in zip(generator.weights, arrays):
        weight.assign(array.astype(np.float32))
    return generator, card


def write_bundle(directory: str | os.PathLike, generator, card: VocoderCard) -> None:
    """Float16 weights, then the card (its presence says the weights beside it are complete)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    weights = {f"w{i}": w.numpy().astype(np.float16) for i, w in enumerate(generator.weights)}
    with atomic_file(Path(directory) / WEIGHTS_NAME) as tmp, open(tmp, "wb") as stream:
        np.savez(stream, **weights)
    write_text_atomic(Path(directory) / CARD_NAME, json.dumps(card.to_json(), indent=2) + "\n")


def check_features(card: VocoderCard, audio: AudioConfig, vocoder: str, model: str) -> None:
    """A vocoder only renders the features it was trained on: same rate, STFT and mel scale."""
    if card.audio.feature_fingerprint() == audio.feature_fingerprint():
        return
    mine, theirs = card.audio.to_dict(), audio.to_dict()
    differ = [f"{key} {mine[key]} vs {theirs[key]}" for key in mine
              if mine[key] != theirs[key] and key not in ("griffin_lim_iters", "power")]
    raise UserError(f"vocoder {vocoder} was trained on other features than {model} makes "
                    f"({'; '.join(differ)}); use a vocoder trained on these features or --vocoder griffin-lim")
