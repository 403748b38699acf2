"""Mel -> waveform with the chosen renderer: a trained vocoder, or Griffin-Lim as baseline and fallback.

``--vocoder`` takes ``griffin-lim`` or a vocoder folder; unset, the model's own choice is
found by :func:`default_vocoder` (the voice's vocoder beside the model, else the bundled one,
else Griffin-Lim with a note).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError
from tts_adapt.vocoder.bundle import CARD_NAME, WEIGHTS_NAME, check_features, is_bundle, read_bundle, read_card

GRIFFIN_LIM = "griffin-lim"
BUNDLED = Path(__file__).resolve().parents[2] / "data" / "pretrained" / "vocoder"
VOICE_VOCODER = "vocoder"  # a recipe puts the voice's fine-tuned vocoder in <model>/../vocoder
CHUNK_FRAMES = 2000  # longer mels are rendered in overlapping chunks: memory stays bounded


@dataclass
class Renderer:
    """Renders mels of one feature set; ``name`` says which renderer, for reports."""

    audio: AudioConfig
    name: str
    generator: object | None = None  # None: Griffin-Lim
    note: str = ""
    digest: str = GRIFFIN_LIM  # what renders, by content: a bundle's files' sha256; Griffin-Lim is its audio settings
    postfilter: object | None = None  # a tts_adapt.vocoder.postfilter.PostFilter, applied to every mel first
    _graph: object | None = None  # the generator as one traced graph, made on first use

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        """float32 waveform of ``frames * hop_length`` samples for a mel [frames, n_mels]."""
        mel = np.asarray(mel, np.float32)
        if mel.ndim != 2 or mel.shape[1] != self.audio.n_mels:
            raise ValueError(f"expected a mel of shape [frames, {self.audio.n_mels}], got {mel.shape}")
        if self.postfilter is not None:
            mel = self.postfilter.apply(mel)
        if self.generator is None:
            from tts_adapt.audio.features import mel_to_wav

            return mel_to_wav(mel, self.audio)
        return self._vocode(mel)

    def _vocode(self, mel: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if self._graph is None:  # one trace for every length: a graph traced for one mel's exact shape rounds
            # differently from the general one, and the audio of a mel must not depend on what was rendered first
            spec = tf.TensorSpec([1, None, self.audio.n_mels], tf.float32)
            self._graph = tf.function(lambda m: self.generator(m), input_signature=[spec])
        hop, context = self.audio.hop_length, 32  # frames either side: more than the receptive field (~24)
        pieces = []
        for start in range(0, mel.shape[0], CHUNK_FRAMES):
            lo, hi = max(0, start - context), min(mel.shape[0], start + CHUNK_FRAMES + context)
            wav = self._graph(tf.constant(mel[None, lo:hi])).numpy()[0]
            end = min(mel.shape[0], start + CHUNK_FRAMES)
            pieces.append(wav[(start - lo) * hop : (end - lo) * hop])
        return np.clip(np.concatenate(pieces), -1.0, 1.0).astype(np.float32)


def griffin_lim(audio: AudioConfig, note: str = "") -> Renderer:
    return Renderer(audio, f"Griffin-Lim (power {audio.power:g}, {audio.griffin_lim_iters} iterations)", note=note)


def default_vocoder(model_dir: str | os.PathLike | None) -> str:
    """The voice's own vocoder when a recipe made one beside the model, else the bundled one, else Griffin-Lim."""
    if model_dir is not None:
        beside = Path(model_dir).resolve().parent / VOICE_VOCODER
        if is_bundle(beside):
            return str(beside)
    return str(BUNDLED) if is_bundle(BUNDLED) else GRIFFIN_LIM


def load_renderer(choice: str | None, audio: AudioConfig, model: str = "the model",
                  model_dir: str | os.PathLike | None = None, checkpoint: str | os.PathLike | None = None) -> Renderer:
    """The renderer for ``--vocoder choice`` (None: :func:`default_vocoder`), checked against ``audio``;
    with ``checkpoint``, preceded by its variance post-filter where one was measured for it
    (:mod:`tts_adapt.vocoder.postfilter`)."""
    renderer = _vocoder_or_griffin_lim(choice, audio, model, model_dir)
    if checkpoint is None:
        return renderer
    from tts_adapt.vocoder.postfilter import postfilter_for

    postfilter, note = postfilter_for(checkpoint)
    if postfilter is None:
        return replace(renderer, note="; ".join(n for n in (renderer.note, note) if n))
    return replace(renderer, name=f"{renderer.name} after the model's variance post-filter", postfilter=postfilter,
                   digest=f"{renderer.digest}+postfilter:{postfilter.digest}")


def _vocoder_or_griffin_lim(choice: str | None, audio: AudioConfig, model: str,
                            model_dir: str | os.PathLike | None) -> Renderer:
    explicit = choice is not None
    choice = choice if explicit else default_vocoder(model_dir)
    if choice == GRIFFIN_LIM:
        note = "" if explicit else "no trained vocoder found (neither beside the model nor bundled): Griffin-Lim"
        return griffin_lim(audio, note)
    if not Path(choice).is_dir():
        raise UserError(f"--vocoder {choice}: no such folder (give a vocoder folder or '{GRIFFIN_LIM}')")
    card = read_card(choice)
    try:
        check_features(card, audio, choice, model)
    except UserError as exc:
        if explicit:
            raise
        return griffin_lim(audio, f"the default vocoder does not fit: {exc}; Griffin-Lim instead")
    generator, card = read_bundle(choice)
    folder = Path(choice).resolve()
    return Renderer(audio, f"vocoder {folder.parent.name}/{folder.name} ({card.steps} steps)", generator,
                    digest=bundle_digest(folder))


def bundle_digest(folder: Path) -> str:
    """sha256 of a vocoder's card and weights: two bundles render alike exactly when these match."""
    digest = hashlib.sha256()
    for name in (CARD_NAME, WEIGHTS_NAME):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()
