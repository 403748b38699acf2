"""Imports run one way: foundations, then audio and symbols, the manifest, checkpoints, then corpus, model and
vocoder, then scoring, then the three jobs (surgery, training, evaluation, which never import each other), then the
report that reads their documents, then the command line.

A module may import from its own package or from a lower layer only. Read from the source
(every ``import`` statement, top-level or inside a function), so a lazy import cannot hide a
cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tts_adapt"

LAYERS = [
    {"__init__", "errors", "tfquiet", "testing"},
    {"fsutil", "configfields", "documents", "speakers", "htmlpage", "structured", "workers"},
    {"audio", "symbols"},
    {"manifest"},
    {"checkpoint"},
    {"corpus", "model", "vocoder"},
    {"scoring"},
    {"surgery", "importing", "training", "evaluation"},
    {"report"},
    {"cli"},
    {"__main__"},
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}


def unit_of(path: Path) -> str:
    """The package (folder) or top-level module a file belongs to."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def imported_units(path: Path) -> set[str]:
    units = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tts_adapt":
            parts = node.module.split(".")
            units |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            units |= {a.name.split(".")[1] for a in node.names if a.name.startswith("tts_adapt.")}
    return units


def test_every_unit_has_a_layer():
    units = {unit_of(path) for path in PACKAGE.rglob("*.py")}
    assert units <= set(LAYER_OF), f"put {sorted(units - set(LAYER_OF))} in a layer of tests/test_layering.py"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path):
    unit = unit_of(path)
    upward = sorted(
        target for target in imported_units(path) - {unit}
        if target in LAYER_OF and LAYER_OF[target] >= LAYER_OF[unit]
    )
    assert not upward, f"{path.relative_to(PACKAGE)} ({unit}, layer {LAYER_OF[unit]}) imports {upward}"
