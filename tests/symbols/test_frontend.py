"""The text front-end: cleaners and greedy longest-match encoding."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_adapt.errors import UserError
from tts_adapt.symbols.frontend import (
    CLEANER_NAMES,
    UnencodableTextError,
    clean_text,
    split_symbols,
    text_to_ids,
    unencodable_chars,
)
from tts_adapt.symbols.table import SymbolTable

LETTERS = SymbolTable.from_list(list("abcdefghijklmnopqrstuvwxyz '.,?!"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I have 3 cats", "i have three cats"),
        ("It costs $3.50", "it costs three dollars and fifty cents"),
        ("£1 and €2", "one pound and two euros"),
        ("the 21st time", "the twenty first time"),
        ("in 1999 and 2024", "in nineteen ninety nine and twenty twenty four"),
        ("pi is 3.14", "pi is three point one four"),
        ("1,000,000 people", "one million people"),
        ("50% off", "fifty percent off"),
        ("Mr. Smith met Dr. Who", "mister smith met doctor who"),
        ("No. 5 but no. way", "number five but no. way"),
        ("  Spaced \t out\n text ", "spaced out text"),
    ],
)
def test_english_cleaner_expands_numbers_and_abbreviations(raw, expected):
    assert clean_text(raw, ["english"]) == expected


def test_number_words_hold_only_letters_and_spaces():
    cleaned = clean_text("21 1234567 $1,234.05 42nd", ["english"])
    assert unencodable_chars(cleaned, LETTERS) == []
    assert "-" not in cleaned and "," not in cleaned


def test_nfc_composes_accents_so_they_match_table_symbols():
    table = SymbolTable.from_list(["é", "t"])
    decomposed = "e\u0301t"
    assert text_to_ids(decomposed, table, ["nfc"]) == [0, 1]
    with pytest.raises(UnencodableTextError):
        text_to_ids(decomposed, table, [])


def test_basic_cleaner_keeps_case():
    assert clean_text("  Hello\tWorld ", ["basic"]) == "Hello World"


def test_abbreviation_keeps_capital_when_not_lowercased():
    assert clean_text("Dr. Jones", ["expand_abbreviations"]) == "Doctor Jones"


EACH_CLEANER = {  # name: what it makes of "  Mr. Émile  paid 12 " (NFD accent, double spaces)
    "nfc": "  Mr. \u00c9mile  paid 12 ",
    "lowercase": "  mr. e\u0301mile  paid 12 ",
    "collapse_whitespace": "Mr. E\u0301mile paid 12",
    "expand_numbers": "  Mr. E\u0301mile  paid twelve ",
    "expand_abbreviations": "  Mister E\u0301mile  paid 12 ",
    "basic": "Mr. \u00c9mile paid 12",
    "english": "mister \u00e9mile paid twelve",
}


@pytest.mark.parametrize("name", CLEANER_NAMES)
def test_every_named_cleaner_does_its_own_job(name):
    if name in ("phonemize", "phonemes"):
        pytest.skip("espeak-ng output: see test_phonemes.py")
    assert clean_text("  Mr. E\u0301mile  paid 12 ", [name]) == EACH_CLEANER[name]


def test_unknown_cleaner_is_a_user_error():
    with pytest.raises(UserError, match="unknown cleaner 'klingon'"):
        clean_text("x", ["klingon"])


def test_multi_character_symbols_win_by_longest_match():
    table = SymbolTable.from_list(["s", "h", "sh", "shh", " ", "a"])
    assert [s for _, s in split_symbols("shhh sha", table)] == ["shh", "h", " ", "sh", "a"]
    assert text_to_ids("shhh sha", table, []) == [3, 1, 4, 2, 5]


def test_unencodable_error_lists_every_missing_character_once():
    table = SymbolTable.from_list(list("abc "))
    with pytest.raises(UnencodableTextError) as caught:
        text_to_ids("abxc yx\t", table, ["nfc"])
    assert caught.value.chars == ["x", "y", "\t"]
    assert isinstance(caught.value, UserError)
    message = str(caught.value)
    assert "x y \\t" in message and "\n" not in message


def test_unencodable_chars_does_not_clean():
    table = SymbolTable.from_list(list("abc"))
    assert unencodable_chars("ABc", table) == ["A", "B"]
    assert unencodable_chars("abc", table) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.,$£€%stndrh MrDo\t")) | st.characters(), max_size=60))
def test_english_cleaner_handles_any_text_and_leaves_no_digits(text):
    cleaned = clean_text(text, ["english"])
    assert not any(ch in "0123456789" for ch in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned


def test_very_long_digit_runs_are_read_digit_by_digit():
    cleaned = clean_text("code 12345678901234567890", ["english"])
    assert cleaned.startswith("code one two three") and cleaned.endswith("eight nine zero")
