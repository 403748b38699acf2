"""``verify``: the adapted model must compute what the source model computed for the folded speaker.

Folding ``[x; e] W + b = x W_x + (e W_e + b)`` is exact in real numbers, so two
models that differ only by the surgery must give the same outputs up to float32
rounding. We check that on inputs neither model has seen: random text made of
symbols both tables hold (each model encodes it through its own table, so moved
rows are checked too) and random mel frames fed teacher-forced, with
``training=False`` so nothing is random inside the models.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from tts_adapt.documents import Document
from tts_adapt.manifest import Manifest
from tts_adapt.errors import UserError
from tts_adapt.speakers import MEAN, load_speaker_vector, resolve_speaker
from tts_adapt.symbols.table import SymbolTable

OUTPUTS = ("mel", "mel_post", "stop_logits", "alignment")
DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class OutputDifference:
    max_abs_diff: float
    max_rel_diff: float  # max |difference| / max |source output|
    max_abs_output: float  # max |source output|: the scale the difference is measured against


@dataclass(frozen=True)
class ComparedSpeaker:
    """Whom the source speaks as: a speaker row, the mean of the rows (name "mean"), or a vector file."""

    id: int | None
    name: str | None
    vector: str | None = None

    def describe(self) -> str:
        if self.vector:
            return f"speaker vector {self.vector}"
        if self.id is None:
            return "the mean of its speaker rows"
        return f"speaker {self.id}" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class ProbeInputs:
    batch: int
    max_text_len: int
    frames: int
    seed: int


@dataclass(frozen=True)
class EquivalenceResult(Document):
    """What ``tts-adapt verify --format json`` prints: how far the two models' outputs differ."""

    KIND = "tts-adapt-verify"

    notes: tuple[str, ...]
    source: str
    adapted: str
    speaker: ComparedSpeaker | None  # None: a single-speaker source
    shared_symbols: int
    inputs: ProbeInputs
    outputs: dict[str, OutputDifference]
    max_abs_diff: float
    max_rel_diff: float
    tolerance: float
    ok: bool  # max_rel_diff <= tolerance


@dataclass(frozen=True)
class Probe:
    """Seeded random inputs: symbol strings (not ids) and teacher-forcing frames."""

    texts: list[list[str]]  # each a list of symbols
    mel: np.ndarray  # float32 [batch, frames, n_mels], frames a multiple of the reduction factor


def make_probe(shared_symbols: list[str], n_mels: int, reduction: int, seed: int = 0, batch: int = 4,
               max_text: int = 24, decoder_steps: int = 12) -> Probe:
    """Texts of different lengths (so padding and masking are exercised) over ``shared_symbols``."""
    if not shared_symbols:
        raise UserError("the two models' symbol tables have no symbol in common; nothing to compare")
    rng = np.random.default_rng(seed)
    lengths = [max_text] + list(rng.integers(2, max_text + 1, size=batch - 1))
    texts = [[shared_symbols[i] for i in rng.integers(0, len(shared_symbols), size=n)] for n in lengths]
    mel = rng.uniform(-4.0, 4.0, size=(batch, decoder_steps * reduction, n_mels)).astype(np.float32)
    return Probe(texts, mel)


def encode_batch(texts: list[list[str]], table: SymbolTable) -> tuple[np.ndarray, np.ndarray]:
    """(ids int32 [batch, time] padded with 0, lengths int32 [batch]) through ``table``."""
    lengths = np.array([len(t) for t in texts], np.int32)
    ids = np.zeros((len(texts), int(lengths.max())), np.int32)
    for row, text in enumerate(texts):
        ids[row, : len(text)] = [table.id(s) for s in text]
    return ids, lengths


def default_speaker(adapted_manifest: Manifest, adapted_path: str) -> int | str:
    """The speaker the adaptation folded (a row, or ``"mean"``), from the adapted manifest's provenance."""
    if not adapted_manifest.adaptation:
        raise UserError(f"{adapted_path} is not an adapted checkpoint (its manifest has no adaptation record); "
                        "name the source speaker to compare with --speaker")
    folded = adapted_manifest.folded_speaker
    if folded and folded.get("id") is None and folded.get("name") == MEAN:
        return MEAN
    if not folded or folded.get("id") is None:
        how = "no speaker was folded" if not folded else f"it folded {folded.get('vector_source')}, not a table row"
        raise UserError(f"{adapted_path}: {how}, so it matches no source speaker exactly; "
                        "pass --speaker to measure the difference anyway")
    return int(folded["id"])


def relative_difference(max_abs_diff: float, max_abs_source: float) -> float:
    """What the tolerance bounds, for both verifies: the difference against the source's scale
    (the absolute difference where the source is all zeros)."""
    return max_abs_diff / max_abs_source if max_abs_source > 0 else max_abs_diff


def compare_outputs(source: dict[str, Any], adapted: dict[str, Any]) -> dict[str, OutputDifference]:
    """Per output: max |a - b| and that relative to max |source output|."""
    out = {}
    for name in OUTPUTS:
        a, b = np.asarray(source[name], np.float64), np.asarray(adapted[name], np.float64)
        abs_diff = float(np.max(np.abs(a - b)))
        scale = float(np.max(np.abs(a)))
        out[name] = OutputDifference(abs_diff, relative_difference(abs_diff, scale), scale)
    return out


def verify_equivalence(source_path: str | os.PathLike, adapted_path: str | os.PathLike,
                       speaker: str | int | None = None, tolerance: float = DEFAULT_TOLERANCE,
                       seed: int = 0, speaker_vector: str | os.PathLike | None = None) -> EquivalenceResult:
    """Run both models on the same probe; the result is what ``tts-adapt verify --format json`` prints.

    A source that reads its speaker as a vector (an imported RTVC synthesizer) speaks with
    ``speaker_vector`` (a .npy file): the vector the adaptation folded.
    """
    from tts_adapt.model.loading import load_model

    source, adapted = load_model(source_path), load_model(adapted_path)
    source_model, adapted_model = source.model, adapted.model
    if adapted_model.n_speakers:
        raise UserError(f"{adapted_path} is a multi-speaker model; verify compares a folded single-speaker "
                        "adaptation with its source")
    source_speakers = list(source.speakers)
    mean = False
    if source_model.n_speakers:
        chosen = default_speaker(adapted.manifest, str(adapted_path)) if speaker is None else speaker
        mean = chosen == MEAN and MEAN not in source_speakers
        speaker_id = 0 if mean else resolve_speaker(chosen, source_speakers, source_model.n_speakers)
        if mean:  # the source speaks with the mean of its rows: row 0 of this in-memory copy becomes it
            rows = source_model.speaker_embedding.embeddings
            rows.assign(np.repeat(rows.numpy().mean(axis=0, keepdims=True), rows.shape[0], axis=0))
    elif speaker is not None:
        raise UserError(f"{source_path} is a single-speaker model; --speaker does not apply")
    else:
        speaker_id = None
    vector = None
    if source_model.config.reads_speaker_vector:
        if speaker_vector is None:
            raise UserError(f"{source_path} reads its speaker as a vector; pass --speaker-vector, the .npy file "
                            "the adaptation folded")
        vector = load_speaker_vector(speaker_vector, source_model.config.speaker_dim)
    elif speaker_vector is not None:
        raise UserError(f"{source_path} reads no speaker vector; --speaker-vector does not apply")
    if source_model.config.n_mels != adapted_model.config.n_mels or \
            source_model.config.reduction != adapted_model.config.reduction:
        raise UserError("the two models differ in n_mels or reduction factor; they cannot compute the same thing")

    source_table, adapted_table = source.table, adapted.table
    shared = [s for s in adapted_table.symbols if s in source_table]
    config = source_model.config
    probe = make_probe(shared, config.n_mels, config.reduction, seed)

    outputs = []
    for model, table in ((source_model, source_table), (adapted_model, adapted_table)):
        text, text_len = encode_batch(probe.texts, table)
        speakers = np.full([len(probe.texts)], speaker_id or 0, np.int32)
        batch = {"text": text, "text_len": text_len, "mel": probe.mel, "speaker": speakers}
        if vector is not None:
            batch["speaker_vector"] = np.tile(vector.astype(np.float32), (len(probe.texts), 1))  # [batch, dim]
        result = model(batch, training=False)
        outputs.append({k: v.numpy() for k, v in result.items()})
    per_output = compare_outputs(outputs[0], outputs[1])
    max_rel = max(d.max_rel_diff for d in per_output.values())
    return EquivalenceResult(
        notes=tuple(provenance_notes(source_path, adapted.manifest)),
        source=str(source_path),
        adapted=str(adapted_path),
        speaker=_compared_speaker(speaker_id, mean, source_speakers, speaker_vector if vector is not None else None),
        shared_symbols=len(shared),
        inputs=ProbeInputs(len(probe.texts), int(max(len(t) for t in probe.texts)), int(probe.mel.shape[1]), seed),
        outputs=per_output,
        max_abs_diff=max(d.max_abs_diff for d in per_output.values()),
        max_rel_diff=max_rel,
        tolerance=tolerance,
        ok=bool(max_rel <= tolerance),
    )


def provenance_notes(source_path: str | os.PathLike, adapted_manifest: Manifest) -> list[str]:
    """Say so when ADAPTED records a different source checkpoint than SRC (a likely mix-up)."""
    from pathlib import Path

    from tts_adapt.checkpoint.paths import resolve_checkpoint

    recorded = adapted_manifest.adaptation_source
    if not recorded:
        return []
    prefix, _ = resolve_checkpoint(source_path)
    if Path(prefix).resolve() == Path(recorded).resolve():
        return []
    return [f"ADAPTED was made from {recorded}, not from {Path(prefix).resolve()}"]


def _compared_speaker(speaker_id: int | None, mean: bool, names: list[str],
                      vector: str | os.PathLike | None) -> ComparedSpeaker | None:
    if vector is not None:
        return ComparedSpeaker(None, None, str(vector))
    if speaker_id is None:
        return None
    return ComparedSpeaker(None, MEAN) if mean else ComparedSpeaker(speaker_id, _name(names, speaker_id))


def _name(names: list[str], index: int) -> str | None:
    return names[index] if index < len(names) else None
