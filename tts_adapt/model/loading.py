"""A model from a toolkit checkpoint: shaped by its manifest, weights restored strictly.

Every command that reads a trained, adapted or fine-tuned model (synthesize, evaluate,
verify, suggest-speaker, finetune) starts here.
"""

from __future__ import annotations

import os
from typing import Any

from tts_adapt.checkpoint.own import restore_checkpoint
from tts_adapt.checkpoint.paths import resolve_checkpoint
from tts_adapt.errors import UserError
from tts_adapt.manifest import read_manifest


def model_from_manifest(manifest: dict[str, Any], source: str = "manifest"):
    """An untrained model shaped as the manifest says (config, symbols, speakers)."""
    from tts_adapt.model.config import ModelConfig
    from tts_adapt.model.tacotron import Tacotron

    for key in ("model", "symbols", "speakers"):
        if manifest.get(key) is None:
            raise UserError(f"{source}: manifest has no {key!r}; not a checkpoint of a tts-adapt model")
    config = ModelConfig.from_dict(manifest["model"], f"{source}: model")
    return Tacotron(config, len(manifest["symbols"]), len(manifest["speakers"]))


def load_model(path_or_dir: str | os.PathLike):
    """``(model, manifest)`` for a toolkit checkpoint (trained, fine-tuned or adapted); weights only."""
    prefix, directory = resolve_checkpoint(path_or_dir)
    manifest = read_manifest(directory)
    if manifest is None:
        raise UserError(f"{directory}: no manifest.json; only checkpoints made by tts-adapt can be loaded as a model")
    if manifest.get("dialect") != "own":
        raise UserError(f"{directory}: a {manifest.get('dialect')!r} checkpoint; only the toolkit's own "
                        "checkpoints (dialect 'own') load as a model")
    model = model_from_manifest(manifest, str(directory))
    restore_checkpoint(prefix, model)
    return model, manifest
