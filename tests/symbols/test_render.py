"""Renderers: the JSON schema, one self-contained html page with its chart, escaped symbols everywhere."""

import base64
import csv
import io
import json
import re

import pytest

from tts_adapt.symbols.compare import Comparison, compare_tables
from tts_adapt.symbols.render import render_csv, render_html, render_json, render_markdown, render_text
from tts_adapt.symbols.table import SymbolTable
from tts_adapt.symbols.transcripts import read_transcripts

from tests.symbols.symbols_testdata import NEW, OLD

OLD_T = SymbolTable.from_list(OLD, "old.txt")
NEW_T = SymbolTable.from_list(NEW, "new.txt")
ODD = SymbolTable.from_list(["a", "|", "*", "\t", ",", '"', "\u200b", " "], "odd.txt")


@pytest.fixture
def comparison(ljspeech):
    return compare_tables(OLD_T, NEW_T, transcripts=read_transcripts(ljspeech))


def test_json_schema(comparison):
    data = json.loads(render_json(comparison))
    assert set(data) >= {"symbols", "summary", "transcripts"}
    for item in data["symbols"]:
        assert set(item) >= {"symbol", "display", "status", "old_id", "new_id", "init", "count"}
        assert item["status"] in {"kept", "moved", "added", "removed"}
        assert isinstance(item["count"], int)
    space = next(i for i in data["symbols"] if i["symbol"] == " ")
    assert (space["display"], space["old_id"], space["new_id"]) == ("␠", 5, 4)
    assert data["summary"]["encodable_share"] == pytest.approx(1 / 8)
    assert data["transcripts"]["oov"][0] == {"char": "q", "display": "q", "count": 7,
                                             "examples": ["u3", "u4", "u5", "u6", "u7"]}
    assert data["transcripts"]["unused"] == ["_", "é", "z"]
    assert Comparison.from_json(data, "compare.json") == comparison  # the report reads back what was written


def test_json_without_transcripts_has_null_counts():
    data = json.loads(render_json(compare_tables(OLD_T, NEW_T)))
    assert data["transcripts"] is None
    assert all(item["count"] is None for item in data["symbols"])
    assert data["summary"]["encodable_share"] is None


def _chart(page: str) -> bytes:
    images = re.findall(r'<img[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 1
    return base64.b64decode(images[0])


@pytest.mark.parametrize("with_transcripts", [True, False])
def test_html_is_one_standalone_page_with_its_chart(comparison, with_transcripts):
    page = render_html(comparison if with_transcripts else compare_tables(OLD_T, NEW_T))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert _chart(page).startswith(b"\x89PNG\r\n\x1a\n")
    assert "<style>" in page
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched from elsewhere
    assert "<td class=\"sym\">␠</td>" in page


def test_markdown_table_keeps_one_cell_per_column_for_any_symbol():
    text = render_markdown(compare_tables(OLD_T, ODD))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "status" not in line]
    symbol_rows = rows[: len(ODD) + len([s for s in OLD if s not in ODD])]
    for line in symbol_rows:
        cells = re.split(r"(?<!\\)\|", line)[1:-1]
        assert len(cells) == 5, line
    assert "| \\| |" in text and "| \\* |" in text and "\\t" in text and "\\u200b" in text and "␠" in text


def test_csv_carries_raw_symbols_that_read_back(comparison):
    odd = compare_tables(OLD_T, ODD)
    rows = list(csv.DictReader(io.StringIO(render_csv(odd))))
    assert [r["symbol"] for r in rows][: len(ODD)] == list(ODD.symbols)
    assert rows[3]["display"] == "\\t"
    counted = list(csv.DictReader(io.StringIO(render_csv(comparison))))
    assert {r["symbol"]: r["count"] for r in counted}["b"] == "6"


def test_plain_text_escapes_and_ends_with_the_summary(comparison):
    text = render_text(comparison, terminal=False)
    assert "␠" in text and "alias of E (upper case)" in text
    assert "\x1b[" not in text  # no colour codes outside a terminal
    last = text.rstrip("\n").splitlines()[-1]
    assert last.startswith("summary: 2 kept, 3 moved, 4 added") and "12.5% of 8 utterances" in last
    assert "u3, u4, u5, u6, u7" in text
