"""Compare two checkpoints and propose a layout: kernels whose rows differ by the speaker dimension.

The proposal is a starting point a person edits, not a guess applied silently:
``inspect --diff`` prints it as YAML with the reasoning in comments.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tts_adapt.checkpoint.reader import Checkpoint
from tts_adapt.documents import Document


@dataclass(frozen=True)
class ShapeDifference:
    name: str
    source: tuple[int, ...] | None  # None: only the target has it
    target: tuple[int, ...] | None


@dataclass(frozen=True)
class CheckpointDiff(Document):
    """What ``inspect --diff --format json`` prints; a script reads it back with ``from_json``."""

    KIND = "tts-adapt-inspect-diff"

    differences: tuple[ShapeDifference, ...]
    proposed_layout: str  # YAML for adapt --layout


def diff_checkpoints(source: Checkpoint, target: Checkpoint) -> CheckpointDiff:
    return CheckpointDiff(tuple(shape_differences(source, target)), propose_layout(source, target))


def shape_differences(source: Checkpoint, target: Checkpoint) -> list[ShapeDifference]:
    a, b = source.grouping.variables, target.grouping.variables
    out = []
    for name in sorted(set(a) | set(b)):
        sa = a[name].weight.shape if name in a else None
        sb = b[name].weight.shape if name in b else None
        if sa != sb:
            out.append(ShapeDifference(name, sa, sb))
    return out


def _sibling_bias(source: Checkpoint, kernel: str, columns: int) -> str | None:
    scope = kernel.rpartition("/")[0]
    for candidate in (f"{scope}/bias", f"{scope}/biases"):
        group = source.grouping.variables.get(candidate)
        if group is not None and group.weight.shape == (columns,):
            return candidate
    return None


def propose_layout(source: Checkpoint, target: Checkpoint) -> str:
    """A ready-to-edit layout YAML for adapting ``source`` into ``target``'s shapes."""
    diffs = shape_differences(source, target)
    row_gaps = Counter(
        d.source[0] - d.target[0]
        for d in diffs
        if d.source and d.target and len(d.source) == 2 and len(d.target) == 2
        and d.source[1] == d.target[1] and d.source[0] > d.target[0]
    )
    lines = ["# layout proposed by 'tts-adapt inspect --diff': check every entry before use"]
    speaker_dim = None
    if row_gaps:
        speaker_dim, count = row_gaps.most_common(1)[0]
        lines.append(f"# {count} kernel(s) lose exactly {speaker_dim} rows: taken as the speaker dimension")
    embedding = [d for d in diffs if d.source and d.target and len(d.source) == 2 and d.source[1] == d.target[1]
                 and "embed" in d.name.lower()]
    if embedding:
        lines.append(f"symbol_embedding: {embedding[0].name}   # {embedding[0].source[0]} -> {embedding[0].target[0]} rows")
    else:
        lines.append("# symbol_embedding: NAME   # no embedding-like variable changed its row count")
    only_source = [d for d in diffs if d.target is None and d.source and len(d.source) == 2]
    table = next((d for d in only_source if speaker_dim is None or d.source[1] == speaker_dim), None)
    if table:
        lines.append(f"speaker_embedding: {table.name}   # only in the source, {table.source[0]} speakers")
        speaker_dim = speaker_dim or table.source[1]
    if speaker_dim:
        lines.append(f"speaker_dim: {speaker_dim}")
    lines.append("sites:")
    for d in diffs:
        if not (d.source and d.target and len(d.source) == 2 and speaker_dim
                and d.source[1] == d.target[1] and d.source[0] - d.target[0] == speaker_dim):
            continue
        rows, cols = d.source
        bias = _sibling_bias(source, d.name, cols)
        lstm_units = cols // 4 if cols % 4 == 0 and bias and d.name.rpartition("/")[2] == "kernel" else 0
        if lstm_units and rows - lstm_units - speaker_dim >= 0 and f"{d.name.rpartition('/')[0]}/recurrent_kernel" \
                not in source.grouping.variables:
            start = rows - lstm_units - speaker_dim
            why = f"TF1 LSTM kernel [x; speaker; h]: speaker rows just before the {lstm_units} h rows"
        else:
            start = rows - speaker_dim
            why = "speaker rows assumed last: check the concat order"
        lines.append(f"  - kernel: {d.name}")
        lines.append(f"    speaker_rows: [{start}, {start + speaker_dim}]   # {why}")
        if bias:
            lines.append(f"    fold_into: {bias}")
        else:
            lines.append("    # fold_into: NAME   # no bias of its own: the next bias its output reaches")
    if lines[-1] == "sites:":
        lines[-1] = "sites: []"
    return "\n".join(lines) + "\n"
