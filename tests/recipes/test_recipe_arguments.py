"""Recipes hand user text to the toolkit as ``--option=value``: a sentence such as "-Hi." given as
``--text "$text"`` is read by argparse as an unknown option, and the stage fails."""

from __future__ import annotations

import re

import pytest
from tests.recipes.recipe_modules import RECIPES

FREE_TEXT_OPTIONS = ("--text", "--speaker", "--fold-speaker", "--about", "--title")
SCRIPTS = sorted(RECIPES.glob("*/*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(RECIPES)))
def test_user_text_is_passed_glued_to_its_option(script):
    separated = re.compile("(" + "|".join(map(re.escape, FREE_TEXT_OPTIONS)) + r')\s+"?\$')
    found = [f"{script.name}:{n}: {line.strip()}" for n, line in enumerate(script.read_text().splitlines(), 1)
             if separated.search(line)]
    assert found == []

