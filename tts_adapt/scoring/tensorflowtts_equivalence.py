"""``verify`` for TensorFlowTTS ``.h5`` adaptations: the folded speaker's terms, measured where they act.

The source (multi-speaker) and the adapted (single-speaker) weights run the same seeded inputs:

* each text through embedding + LayerNorm and the whole encoder, the source adding its speaker
  term to the character embeddings, the adapted reading its folded table: exact;
* for a term added to the encoder outputs, each consumer on the same attention weights (the
  source's context carries the term, the adapted one's bias does): exact where folded, and at
  the first decoder step, where the source's context is zeros, the difference is measured;
* the attention's alignment over the source's memory (with the term) and the adapted one's
  (without): exact only if the keys had a bias to fold into; TensorFlowTTS's have none, so the
  difference is measured and reported, not hidden.

"Exact" rows must agree to ``tolerance`` (relative to the largest source value); the others are
reported as the residual.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_adapt.checkpoint.additive import AdditiveSite
from tts_adapt.checkpoint.layout import layout_from_dict
from tts_adapt.checkpoint.reader import Checkpoint, open_checkpoint
from tts_adapt.checkpoint.tensorflowtts import Recognised, recognise
from tts_adapt.documents import Document
from tts_adapt.errors import UserError
from tts_adapt.scoring import tensorflowtts_forward as forward
from tts_adapt.scoring.equivalence import default_speaker, relative_difference
from tts_adapt.speakers import MEAN, resolve_speaker
from tts_adapt.symbols.table import SymbolTable

DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Measurement:
    what: str
    exact: bool  # the fold claims equality up to float32 rounding here
    max_abs_output: float
    max_abs_diff: float
    max_rel_diff: float


@dataclass(frozen=True)
class FoldVerification(Document):
    """What ``tts-adapt verify --format json`` prints for ``.h5`` weights."""

    KIND = "tts-adapt-verify-h5"

    notes: tuple[str, ...]
    source: str
    adapted: str
    speaker: str  # the folded speaker as people read it
    shared_symbols: int
    texts: int
    seed: int
    measurements: dict[str, Measurement]
    max_rel_diff: float  # over the exact measurements
    residual: float | None  # largest relative difference where the fold is not exact; None: all exact
    tolerance: float
    ok: bool  # max_rel_diff <= tolerance


class _Tally:
    def __init__(self) -> None:
        self.rows: dict[str, list] = {}  # name -> [what, exact, max |source|, max |diff|]

    def add(self, name: str, what: str, exact: bool, source: np.ndarray, adapted: np.ndarray) -> None:
        row = self.rows.setdefault(name, [what, exact, 0.0, 0.0])
        row[2] = max(row[2], float(np.max(np.abs(source))))
        row[3] = max(row[3], float(np.max(np.abs(source - adapted))))

    def measurements(self) -> dict[str, Measurement]:
        return {name: Measurement(what, exact, scale, diff, relative_difference(diff, scale))
                for name, (what, exact, scale, diff) in self.rows.items()}


def _open(path: str | os.PathLike, role: str) -> tuple[Checkpoint, Recognised]:
    checkpoint = open_checkpoint(path)
    shapes = {name: group.weight.shape for name, group in checkpoint.grouping.variables.items()}
    recognised = recognise(shapes) if checkpoint.dialect == "h5" else None
    if recognised is None:
        raise UserError(f"{path}: the {role} is not a TensorFlowTTS Tacotron-2 .h5 (verify knows .h5 weights by "
                        "those names only)")
    return checkpoint, recognised


def _reader(checkpoint: Checkpoint):
    def read(name: str) -> np.ndarray:
        return checkpoint.read(checkpoint.variable(name).weight.key)
    return read


def _speaker_row(chosen, checkpoint: Checkpoint, sites: tuple[AdditiveSite, ...]) -> int | None:
    if chosen == MEAN:
        return None
    names = list(checkpoint.manifest.speakers) if checkpoint.manifest else []
    rows = checkpoint.variable(sites[0].table).weight.shape[0]
    return chosen if isinstance(chosen, int) else resolve_speaker(chosen, names, rows)


def _short(name: str) -> str:
    return name.split("/")[-2] if "/" in name else name


def verify_tensorflowtts(source_path: str | os.PathLike, adapted_path: str | os.PathLike,
                         speaker: str | None = None, tolerance: float = DEFAULT_TOLERANCE, seed: int = 0,
                         texts: int = 4, activation: str = "relu") -> FoldVerification:
    """Measure the fold on ``texts`` random texts; ``activation``: the encoder convolutions' (TensorFlowTTS's
    v1 configs use relu; the comparison holds for any, since both sides share every encoder weight)."""
    source, source_roles = _open(source_path, "source")
    adapted, adapted_roles = _open(adapted_path, "adapted checkpoint")
    manifest = adapted.manifest
    if manifest is None or not manifest.adaptation:
        raise UserError(f"{adapted_path} is not an adapted checkpoint (no manifest with an adaptation record beside it)")
    if adapted_roles.layout.additive:
        raise UserError(f"{adapted_path} still has speaker tables; verify compares a folded single-speaker adaptation")
    layout = layout_from_dict(manifest.adaptation.get("source_layout") or {}, f"{adapted_path}: source_layout")
    sites = layout.additive
    row = None
    if sites:
        row = _speaker_row(default_speaker(manifest, str(adapted_path)) if speaker is None else speaker, source, sites)
    elif speaker is not None:
        raise UserError(f"{source_path} has no speaker sites; --speaker does not apply")
    recorded = manifest.adaptation.get("source_symbols")
    if not recorded:
        raise UserError(f"{adapted_path}: its adaptation record keeps no source symbol table")
    source_table = SymbolTable.from_list(list(recorded), "the source's symbols")
    adapted_table = manifest.table(str(adapted_path))
    shared = [s for s in adapted_table.symbols if s in source_table]
    if not shared:
        raise UserError("the two symbol tables have no symbol in common; nothing to compare")

    read_source, read_adapted = _reader(source), _reader(adapted)
    encoders = (forward.encoder_weights(list(source.grouping.variables), read_source, source_roles),
                forward.encoder_weights(list(adapted.grouping.variables), read_adapted, adapted_roles))
    attention = (forward.attention_weights(read_source, source_roles),
                 forward.attention_weights(read_adapted, adapted_roles))
    symbol_tables = (read_source(source_roles.roles["symbols"]), read_adapted(adapted_roles.roles["symbols"]))
    terms = [(site, site.speaker_term(read_source, row)) for site in sites]
    embedding_term = sum((term for site, term in terms if site.added_to == "symbol_embedding"), np.zeros(1))

    rng = np.random.default_rng(seed)
    tally = _Tally()
    for n in [24] + list(rng.integers(2, 25, size=texts - 1)):
        text = [shared[i] for i in rng.integers(0, len(shared), size=n)]
        embedded = (np.asarray(symbol_tables[0], np.float64)[[source_table.id(s) for s in text]] + embedding_term,
                    np.asarray(symbol_tables[1], np.float64)[[adapted_table.id(s) for s in text]])
        (norm_s, enc_s), (norm_a, enc_a) = (forward.encode(e, w, activation) for e, w in zip(embedded, encoders))
        tally.add("layer_norm", "embedding + LayerNorm", True, norm_s, norm_a)
        tally.add("encoder", "encoder outputs (convolutions, BiLSTM)", True, enc_s, enc_a)
        for site, term in terms:
            if site.added_to == "outputs":
                _measure_outputs_site(tally, site, term, enc_s, enc_a, attention, read_source, read_adapted, rng)

    measurements = tally.measurements()
    exact = [m.max_rel_diff for m in measurements.values() if m.exact]
    loose = [m.max_rel_diff for m in measurements.values() if not m.exact]
    max_rel = max(exact)
    who = "single-speaker source" if not sites else ("the mean of its speaker rows" if row is None else f"speaker {row}")
    return FoldVerification(tuple(_provenance(source_path, manifest.adaptation_source)), str(source_path),
                            str(adapted_path), who, len(shared), texts, seed, measurements, max_rel,
                            max(loose) if loose else None, tolerance, bool(max_rel <= tolerance))


def _measure_outputs_site(tally: _Tally, site: AdditiveSite, term: np.ndarray, enc_s: np.ndarray, enc_a: np.ndarray,
                          attention, read_source, read_adapted, rng: np.random.Generator) -> None:
    """The term on the encoder outputs: the keys (through the alignment) and each context consumer."""
    memory_s, memory_a = enc_s + term, enc_a
    query = rng.standard_normal(attention[0].query_kernel.shape[0])
    cumulative = rng.uniform(0.0, 1.0, len(enc_s))
    keys_folded = any(c.fold_into and c.kernel.endswith("memory_layer/kernel") for c in site.consumers)
    alignment = forward.attend(memory_s, query, cumulative, attention[0])
    tally.add("alignment", "attention alignment (keys read the encoder outputs)", keys_folded, alignment,
              forward.attend(memory_a, query, cumulative, attention[1]))
    contexts = (alignment @ memory_s, alignment @ memory_a)  # the same attention weights on both sides
    for consumer in site.consumers:
        start, stop = consumer.rows
        kernels = (read_source(consumer.kernel), read_adapted(consumer.kernel))
        # without a fold bias both sides add the same own bias, if any: leaving it out changes no difference
        biases = [read(consumer.fold_into) if consumer.fold_into else 0.0 for read in (read_source, read_adapted)]
        other = rng.standard_normal(kernels[0].shape[0])
        outputs = []
        for context, kernel, bias in zip(contexts, kernels, biases):
            x = other.copy()
            x[start:stop] = context
            outputs.append(x @ np.asarray(kernel, np.float64) + bias)
        name = _short(consumer.kernel)
        what = f"{name} on a context of the same attention weights" if consumer.fold_into else \
            f"{name}: the term it reads through rows [{start}:{stop}), which has no bias to go to"
        tally.add(name, what, bool(consumer.fold_into), *outputs)
        if consumer.zero_at_first_step and consumer.fold_into:
            x = other.copy()
            x[start:stop] = 0.0
            first = [x @ np.asarray(kernel, np.float64) + bias for kernel, bias in zip(kernels, biases)]
            tally.add(f"{name}@first_step", f"{name} at the first decoder step (the source's context is zeros)",
                      False, *first)


def _provenance(source_path: str | os.PathLike, recorded: str | None) -> list[str]:
    if recorded and Path(recorded).resolve() != Path(source_path).resolve():
        return [f"ADAPTED was made from {recorded}, not from {Path(source_path).resolve()}"]
    return []
