"""The phonemes cleaner: English text -> espeak-ng IPA, after the English cleaners."""

from __future__ import annotations

import shutil

import pytest

from tts_adapt.symbols.frontend import clean_text, text_to_ids
from tts_adapt.symbols.table import SymbolTable

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (Debian package)")


def test_words_become_stressed_ipa_with_prosodic_punctuation_kept():
    said = clean_text("He was swelled with pride, wasn't he?", ["phonemes"])
    assert said.endswith("?") and ", " in said
    assert "ˈ" in said and "ð" in said  # primary stress; the 'th' of 'with'
    assert not any(c.isascii() and c.isupper() for c in said)
    assert clean_text("   ", ["phonemes"]) == ""


def test_numbers_and_abbreviations_are_spoken_out_first():
    assert clean_text("2 cats", ["phonemes"]) == clean_text("two cats", ["phonemes"])
    assert clean_text("Dr. Who", ["phonemes"]) == clean_text("doctor who", ["phonemes"])


def test_homographs_of_spelling_share_sounds():
    """'through' and 'threw' sound alike: a phoneme model sees the same symbols, a character model does not."""
    assert clean_text("through", ["phonemes"]) == clean_text("threw", ["phonemes"])


def test_a_phoneme_table_encodes_what_the_cleaner_makes():
    said = clean_text("Misused words are often laughable.", ["phonemes"])
    table = SymbolTable.from_list(dict.fromkeys(said))
    ids = text_to_ids("Misused words are often laughable.", table, ["phonemes"])
    assert "".join(table.symbols[i] for i in ids) == said
