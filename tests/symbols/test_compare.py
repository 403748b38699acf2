"""The comparison: every status, the init that adapt will use, and transcript coverage."""

import pytest

from tts_adapt.symbols.compare import compare_tables
from tts_adapt.symbols.mapping import map_symbols
from tts_adapt.symbols.table import SymbolTable
from tts_adapt.symbols.transcripts import read_transcripts

from tests.symbols.symbols_testdata import NEW, OLD

old_table = SymbolTable.from_list(OLD, "old")
new_table = SymbolTable.from_list(NEW, "new")


def by_symbol(comparison):
    return {row.symbol: row for row in comparison.rows}


def test_every_status_with_ids_in_new_order_then_removed():
    comparison = compare_tables(old_table, new_table)
    assert [r.symbol for r in comparison.rows] == NEW + ["E", "x"]
    rows = by_symbol(comparison)
    assert (rows["_"].status, rows["_"].old_id, rows["_"].new_id, rows["_"].init) == ("kept", 0, 0, "copy")
    assert (rows["b"].status, rows["b"].old_id, rows["b"].new_id) == ("moved", 2, 1)
    assert (rows[" "].status, rows[" "].old_id, rows[" "].new_id) == ("moved", 5, 4)
    assert (rows["e"].status, rows["e"].init, rows["e"].alias, rows["e"].alias_reason) == (
        "added", "alias", "E", "upper case")
    assert (rows["sh"].status, rows["sh"].old_id, rows["sh"].init) == ("added", None, "mean")
    assert (rows["x"].status, rows["x"].old_id, rows["x"].new_id, rows["x"].init) == ("removed", 6, None, None)
    summary = comparison.summary()
    assert {k: summary[k] for k in ("kept", "moved", "added", "removed", "aliased", "initialised")} == {
        "kept": 2, "moved": 3, "added": 4, "removed": 2, "aliased": 1, "initialised": 3}
    assert summary["encodable_share"] is None and all(r.count is None for r in comparison.rows)


@pytest.mark.parametrize("strategy", ["mean", "normal", "zero"])
def test_init_column_is_what_map_symbols_decides(strategy):
    aliases = {"z": "x"}
    comparison = compare_tables(old_table, new_table, strategy, aliases)
    sources = map_symbols(old_table, new_table, strategy, aliases)
    for source, row in zip(sources, comparison.rows):
        assert row.symbol == source.symbol and row.new_id == source.new_id
        expected = {"copy": "copy", "alias": "alias", "init": source.init}[source.kind]
        assert row.init == expected
        if source.kind == "alias":
            assert (row.alias, row.old_id) == (source.alias, None)
    rows = by_symbol(comparison)
    assert rows["z"].describe_init() == "alias of x (aliases file)"
    assert rows["sh"].init == strategy


def test_transcript_counts_oov_examples_unused_and_share(ljspeech):
    comparison = compare_tables(old_table, new_table, transcripts=read_transcripts(ljspeech))
    rows = by_symbol(comparison)
    assert {s: rows[s].count for s in ("a", "b", "c", " ", "e", "sh", "é", "z", "_")} == {
        "a": 6, "b": 6, "c": 3, " ": 6, "e": 3, "sh": 1, "é": 0, "z": 0, "_": 0}
    assert rows["x"].count == 1 and rows["E"].count == 0  # removed: occurrences in the cleaned text
    stats = comparison.transcripts
    assert [(o.char, o.count) for o in stats.oov] == [("q", 7), ("s", 1), ("y", 1), ("x", 1)]
    assert stats.oov[0].examples == ("u3", "u4", "u5", "u6", "u7")  # at most five, in file order
    assert stats.oov[1].examples == ("u2",)
    assert stats.unused == ["_", "é", "z"]
    assert (stats.utterances, stats.encodable) == (8, 1)
    assert comparison.summary()["encodable_share"] == pytest.approx(1 / 8)


def test_cleaners_decide_what_is_counted(ljspeech):
    comparison = compare_tables(old_table, new_table, transcripts=read_transcripts(ljspeech), cleaners=["basic"])
    oov = {o.char for o in comparison.transcripts.oov}
    assert {"A", "B", "S"} <= oov  # no lowercasing: capitals are not in the new table


def test_multispeaker_transcripts_use_audio_paths_as_examples(multispeaker):
    stats = compare_tables(old_table, new_table, transcripts=read_transcripts(multispeaker)).transcripts
    assert stats.form == "multispeaker"
    assert dict((o.char, o.examples) for o in stats.oov)["s"] == ("wavs/s2_001.wav",)
