"""One rule for which speaker a value means, in every command: a name wins, '#N' is row N."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.cli_testing import run_cli
from tests.tiny_checkpoints import make_source, save_model

from tts_adapt.evaluation.results import TextsReport
from tts_adapt.manifest import read_manifest
from tts_adapt.errors import UserError
from tts_adapt.scoring.equivalence import EquivalenceResult
from tts_adapt.speakers import file_stem, resolve_speaker

NAMES = ["b", "0", "a"]  # a speaker named "0" sits in row 1


@pytest.mark.parametrize("value, row", [("a", 2), ("0", 1), ("#0", 0), ("#1", 1), ("2", 2), (" #2", 2)])
def test_a_name_wins_and_hash_means_a_row(value, row):
    assert resolve_speaker(value, NAMES, 3) == row


@pytest.mark.parametrize("value, message", [("zed", "unknown speaker 'zed'; its speakers: b, 0, a, or #0-#2"),
                                            ("#3", "speaker id 3 out of range"), ("5", "out of range"),
                                            ("#x", "unknown speaker"), ("²", "unknown speaker '²'"),
                                            ("#\u0661", "unknown speaker '#\u0661'"), ("9" * 5000, "unknown speaker")])
def test_unknown_values_say_what_is_known(value, message):
    with pytest.raises(UserError, match=message):
        resolve_speaker(value, NAMES, 3)


def test_every_command_reads_a_numeric_name_the_same_way(tmp_path, capsys):
    """adapt folds the speaker named '0' (row 1), and verify and evaluate --texts mean the same one."""
    model = make_source(tmp_path / "raw")
    source = save_model(tmp_path / "src", model, speakers=NAMES)
    code, _, err = run_cli(["adapt", source, "--output", tmp_path / "adapted", "--fold-speaker", "0"], capsys)
    assert code == 0, err
    assert read_manifest(tmp_path / "adapted").folded_speaker["id"] == 1
    code, out, err = run_cli(["verify", source, tmp_path / "adapted", "--speaker", "0", "--format", "json"], capsys)
    assert code == 0, err
    result = EquivalenceResult.from_json(json.loads(out), "verify --format json")
    assert result.ok and result.speaker.id == 1
    code, out, _ = run_cli(["verify", source, tmp_path / "adapted", "--speaker", "#0", "--format", "json"], capsys)
    assert code == 1
    result = EquivalenceResult.from_json(json.loads(out), "verify --format json")
    assert not result.ok and result.speaker.id == 0  # row 0 is another voice
    texts = tmp_path / "texts.txt"
    texts.write_text("bad cab\n", encoding="utf-8")
    code, out, err = run_cli(["evaluate", source, "--texts", texts, "--speaker", "0,#0", "--format", "json"], capsys)
    assert code == 0, err
    assert TextsReport.from_json(json.loads(out), "evaluate --texts --format json").speakers == ("0", "b")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_speaker_file_stems_are_one_safe_component_and_never_shared(first, second):
    for name in (first, second):
        stem = file_stem(name)
        assert stem and stem not in (".", "..") and "/" not in stem and "\0" not in stem
        assert len(stem.encode("utf-8")) <= 64 and not stem.startswith(".")
    if first != second:
        assert file_stem(first) != file_stem(second)


@pytest.mark.parametrize("name, stem", [("slt", "slt"), ("us_f2", "us_f2"), ("rp-m7", "rp-m7")])
def test_safe_speaker_names_are_their_own_file_stems(name, stem):
    assert file_stem(name) == stem
