"""The pages a user opens, built by the project's commands from a tiny run, read in a browser from a moved copy."""

from __future__ import annotations

import shutil

import pytest
from tests.browser.page_checks import check_page
from tests.tiny_run import HELD_OUT, run


@pytest.fixture(scope="module")
def moved(tiny_run, tmp_path_factory):
    """The report, the symbol report and evaluate's page, copied elsewhere and the originals removed, as when a
    report folder is shared: nothing may point back to where it was made."""
    built = tmp_path_factory.mktemp("built")
    run("report", tiny_run, "--output", built / "report", "--title", "tiny voice")
    shutil.copyfile(tiny_run / "symbols" / "compare.html", built / "compare.html")
    shutil.copyfile(tiny_run / "samples" / "evaluate_after.html", built / "evaluate.html")
    moved = tmp_path_factory.mktemp("moved")
    shutil.copytree(built / "report", moved / "report")
    for name in ("compare.html", "evaluate.html"):
        (moved / name.split(".")[0]).mkdir()
        shutil.copyfile(built / name, moved / name.split(".")[0] / name)
    shutil.rmtree(built)
    return moved


def test_the_report_reads_well(browser, moved):
    sentences = {f"{uid}.{model}.wav": text for uid, text in HELD_OUT.items()
                 for model in ("reference", "before", "after")}
    problems = check_page(browser, moved / "report" / "index.html", moved / "report", sentences)
    assert problems == [], "\n".join(problems)
    assert (moved / "report" / "screenshots" / "index.png").stat().st_size > 10_000


def test_the_full_symbol_report_beside_it_reads_well(browser, moved):
    problems = check_page(browser, moved / "report" / "symbols.html", moved / "report")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("page", ["compare/compare.html", "evaluate/evaluate.html"])
def test_the_symbol_report_and_evaluate_page_read_well(browser, moved, page):
    folder = moved / page.split("/")[0]
    problems = check_page(browser, moved / page, folder)
    assert problems == [], "\n".join(problems)
