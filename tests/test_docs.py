"""The docs state what the tree and the results files say, so neither can drift from them."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tts_adapt"
DOCS = REPO / "docs"


def table_rows(page: Path, header: str) -> list[list[str]]:
    """The cells of the markdown table that starts with ``header``, header and rule left out."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(header) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_architecture_names_every_package_and_module_and_nothing_else():
    rows = table_rows(DOCS / "architecture.md", "| in `tts_adapt/` | its job |")
    named = {row[0].strip("`") for row in rows}
    present = {path.parent.name + "/" for path in PACKAGE.glob("*/__init__.py")}
    present |= {path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py"}
    assert not present - named, f"add {sorted(present - named)} to docs/architecture.md"
    assert not named - present, f"docs/architecture.md names {sorted(named - present)}, which tts_adapt/ lacks"


def load_tables():
    spec = importlib.util.spec_from_file_location("benchmark_tables", REPO / "benchmarks" / "tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_tables_are_the_results_files_rendered():
    tables = load_tables()
    page = tables.PAGE.read_text(encoding="utf-8")
    assert tables.untabled(page) == [], "docs/benchmarks.md needs a tables:begin block for each results file"
    assert tables.render(page) == page, "docs/benchmarks.md is out of date: run benchmarks/tables.py"


def test_every_test_the_failure_table_names_exists():
    rows = table_rows(DOCS / "failures.md", "| input or event | what the user gets | test |")
    named = {name for row in rows for name in re.findall(r"`([\w/]+\.py)`", row[-1])}
    assert named, "the failure table names no tests"
    assert sorted(name for name in named if not (REPO / "tests" / name).is_file()) == []


@pytest.mark.parametrize("page", [REPO / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    local = [target for target in targets if "://" not in target]
    assert [target for target in local if not (page.parent / target).exists()] == []
