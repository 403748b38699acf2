"""One call from user inputs (paths, options) to a plan, and from a plan to an adapted checkpoint."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from tts_adapt.checkpoint.h5 import looks_like_h5
from tts_adapt.checkpoint.layout import Layout, layout_from_dict, load_layout
from tts_adapt.checkpoint.reader import Checkpoint, open_checkpoint
from tts_adapt.errors import UserError
from tts_adapt.surgery.apply import apply_plan
from tts_adapt.surgery.plan import AdaptOptions, Plan, make_plan, speaker_dim_of
from tts_adapt.surgery.speaker import choose_speaker
from tts_adapt.symbols.mapping import load_aliases
from tts_adapt.manifest import load_symbol_table
from tts_adapt.symbols.table import SymbolTable

if TYPE_CHECKING:  # scoring loads TensorFlow: imported where a speaker is ranked
    from tts_adapt.scoring.speaker_ranking import RankedSpeaker

Path_ = str | os.PathLike


def source_layout(checkpoint: Checkpoint, layout_path: Path_ | None) -> Layout:
    """The layout file when given, else the one the source's manifest declares."""
    if layout_path is not None:
        return load_layout(layout_path)
    if checkpoint.manifest and checkpoint.manifest.layout is not None:
        return layout_from_dict(checkpoint.manifest.layout, f"{checkpoint.directory}/manifest.json layout")
    raise UserError(f"{checkpoint.prefix} has no manifest describing where speaker rows live; pass --layout "
                    "(tts-adapt inspect SRC --diff TARGET proposes one; for a TensorFlowTTS .h5, "
                    "inspect SRC --propose-layout)")


def source_symbols(checkpoint: Checkpoint, symbols_path: Path_ | None) -> SymbolTable | None:
    if symbols_path is not None:
        return load_symbol_table(symbols_path)
    if checkpoint.manifest and checkpoint.manifest.symbols:
        return checkpoint.manifest.table(f"{checkpoint.directory}/manifest.json")
    return None


def plan_adaptation(
    source: Path_,
    symbols: Path_ | None,
    *,
    source_symbols_path: Path_ | None = None,
    layout_path: Path_ | None = None,
    fold_speaker: str | None = None,
    speaker_vector: Path_ | None = None,
    new_rows: str = "mean",
    aliases_path: Path_ | None = None,
    optimizer: str = "keep",
    seed: int = 0,
    data: Path_ | None = None,
) -> Plan:
    """The plan for ``source``; ``fold_speaker="auto"`` folds the speaker nearest to the voice in ``data``."""
    if optimizer not in ("keep", "reset"):
        raise UserError(f"--optimizer must be keep or reset, not {optimizer!r}")
    if fold_speaker == "auto":
        fold_speaker = f"#{nearest_speaker(source, data).id}"
    checkpoint = open_checkpoint(source)
    layout = source_layout(checkpoint, layout_path)
    new_table = load_symbol_table(symbols) if symbols is not None else None
    old_table = source_symbols(checkpoint, source_symbols_path)
    aliases = load_aliases(aliases_path) if aliases_path is not None else None
    speaker = choose_speaker(checkpoint, layout, speaker_dim_of(checkpoint, layout), fold_speaker, speaker_vector)
    return make_plan(checkpoint, layout, old_table, new_table, speaker, AdaptOptions(new_rows, optimizer, seed), aliases)


def nearest_speaker(source: Path_, data: Path_ | None) -> RankedSpeaker:
    """The pretrained speaker whose voice predicts the new voice's recordings best (``suggest-speaker``'s first)."""
    if data is None:
        raise UserError("--fold-speaker auto needs --data PREPARED (the new voice's prepared features)")
    if looks_like_h5(source):
        raise UserError("--fold-speaker auto ranks speakers by running a tts-adapt model, which .h5 weights are not; "
                        "name the speaker (ID|NAME|mean)")
    from tts_adapt.scoring.speaker_ranking import rank_speakers

    return rank_speakers(source, data).ranking[0]


def adapt(source: Path_, output: Path_, symbols: Path_ | None, progress: Callable | None = None,
          **options: Any) -> dict[str, Any]:
    """Plan and apply in one call (the Python face of ``tts-adapt adapt``)."""
    plan = plan_adaptation(source, symbols, **options)
    return apply_plan(plan, output, progress)
