"""Symbol-table files: exact round-trip of any Unicode table, and every bad input named by line."""

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_adapt.errors import UserError
from tts_adapt.manifest import Manifest, write_manifest
from tts_adapt.manifest import load_symbol_table
from tts_adapt.symbols.table import format_table_text

symbol = st.text(st.characters(codec="utf-8", blacklist_characters="\n\r"), min_size=1, max_size=4).map(
    lambda s: unicodedata.normalize("NFC", s)
).filter(bool)
tables = st.lists(symbol, min_size=1, max_size=40, unique=True) | st.lists(
    st.sampled_from([" ", "\t", "  ", "a", "é", "\u200b", "ʃ", "sh"]), min_size=1, max_size=8, unique=True
)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_any_unicode_table_round_trips_through_the_text_file(tmp_path_factory, symbols):
    path = tmp_path_factory.mktemp("table") / "symbols.txt"
    path.write_text(format_table_text(symbols), encoding="utf-8", newline="")
    assert load_symbol_table(path).to_list() == symbols


@settings(max_examples=50, deadline=None)
@given(tables)
def test_any_unicode_table_round_trips_through_json(tmp_path_factory, symbols):
    path = tmp_path_factory.mktemp("table") / "symbols.json"
    path.write_text(json.dumps(symbols), encoding="utf-8")
    assert load_symbol_table(path).to_list() == symbols


def test_space_and_tab_lines_are_symbols_nothing_is_stripped(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"a\n \n\t\n b \n")
    assert load_symbol_table(path).to_list() == ["a", " ", "\t", " b "]


def test_nfc_normalises_decomposed_symbols(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("e\u0301\n", encoding="utf-8")
    assert load_symbol_table(path).to_list() == ["é"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a\nb\na\n", r"t.txt:3: duplicate symbol a \(first on line 1\)"),
        (b"a\n\nb\n", r"t.txt:2: empty line"),
        (b"a\nb\n\xff\xfe\n", r"t.txt:3: not valid UTF-8"),
        (b"e\xcc\x81\n\xc3\xa9\n", r"t.txt:2: duplicate symbol \xe9"),  # the same letter once NFC-normalised
    ],
)
def test_bad_table_files_name_the_line(tmp_path, data, message):
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    with pytest.raises(UserError, match=message):
        load_symbol_table(path)


def test_table_from_checkpoint_directory_prefix_and_index(tmp_path):
    write_manifest(tmp_path, Manifest(symbols=("_", "a", " ")))
    (tmp_path / "ckpt-5.index").write_bytes(b"")
    for given_path in (tmp_path, tmp_path / "ckpt-5", tmp_path / "ckpt-5.index"):
        assert load_symbol_table(given_path).to_list() == ["_", "a", " "]


def test_json_table_with_a_lone_surrogate_is_a_user_error(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('["a", "\\ud800"]', encoding="utf-8")
    with pytest.raises(UserError, match=r"symbol 1 \(\\ud800\) is not valid Unicode text"):
        load_symbol_table(path)


def test_directory_without_manifest_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="manifest.json with symbols"):
        load_symbol_table(tmp_path)
