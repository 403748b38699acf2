"""A model from a toolkit checkpoint: shaped by its manifest, weights restored strictly.

Every command that reads a trained, adapted or fine-tuned model (synthesize, evaluate,
verify, suggest-speaker, finetune, vocoder training) starts here, so all of them agree on its
table, cleaners and audio config.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from tts_adapt.audio.config import AudioConfig
from tts_adapt.checkpoint.own import restore_checkpoint
from tts_adapt.checkpoint.paths import resolve_checkpoint
from tts_adapt.errors import UserError
from tts_adapt.manifest import Manifest, read_manifest
from tts_adapt.symbols.table import SymbolTable


@dataclass(frozen=True)
class LoadedModel:
    """A restored model with what its manifest says about reading text and making audio."""

    model: object  # tts_adapt.model.tacotron.Tacotron
    manifest: Manifest
    table: SymbolTable
    audio: AudioConfig
    directory: Path

    @property
    def cleaners(self) -> tuple[str, ...]:
        return self.manifest.text_cleaners

    @property
    def speakers(self) -> tuple[str, ...]:
        return self.manifest.speakers


def model_from_manifest(manifest: Manifest, source: str = "manifest"):
    """An untrained model shaped as the manifest says (config, symbols, speakers)."""
    from tts_adapt.model.config import ModelConfig
    from tts_adapt.model.tacotron import Tacotron

    if manifest.model is None or manifest.symbols is None:
        raise UserError(f"{source}: manifest has no model config or symbols; not a checkpoint of a tts-adapt model")
    config = ModelConfig.from_dict(manifest.model, f"{source}: model")
    return Tacotron(config, len(manifest.symbols), len(manifest.speakers))


def load_model(checkpoint: str | os.PathLike) -> LoadedModel:
    """A toolkit checkpoint (trained, fine-tuned or adapted), weights only."""
    prefix, directory = resolve_checkpoint(checkpoint)
    manifest = read_manifest(directory)
    if manifest is None:
        raise UserError(f"{directory}: no manifest.json; only checkpoints made by tts-adapt can be loaded as a model")
    if manifest.dialect != "own":
        raise UserError(f"{directory}: a {manifest.dialect!r} checkpoint; only the toolkit's own "
                        "checkpoints (dialect 'own') load as a model")
    if manifest.audio is None:
        raise UserError(f"{directory}/manifest.json: records no audio config; not a checkpoint of a tts-adapt model")
    model = model_from_manifest(manifest, str(directory))
    restore_checkpoint(prefix, model)
    return LoadedModel(model, manifest, manifest.table(str(directory)), manifest.audio, Path(directory))


def decoder_step_limit(config, reference_frames: int | None = None, max_frames: int | None = None) -> int:
    """How many steps free-running decoding may take: the one rule every caller uses.

    A user's limit (``max_frames``) replaces the model's guard; with a reference (a recording
    of the same sentence) twice its length plus a margin, so a stop token that never fires
    shows as a run-on without costing minutes; otherwise the model's own guard.
    """
    r = config.reduction
    if max_frames is not None:
        return max(1, math.ceil(max_frames / r))
    if reference_frames is not None:
        return min(config.max_decoder_steps, 2 * math.ceil(reference_frames / r) + 10)
    return config.max_decoder_steps
