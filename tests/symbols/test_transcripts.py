"""Transcript files: the three accepted forms and the rule that tells them apart."""

import pytest

from tts_adapt.errors import UserError
from tts_adapt.symbols.transcripts import read_transcripts


def test_ljspeech_uses_the_last_column_and_falls_back_to_the_text(ljspeech):
    t = read_transcripts(ljspeech)
    assert t.form == "ljspeech"
    assert [u.id for u in t.utterances][:3] == ["u1", "u2", "u3"]
    assert [u.text for u in t.utterances][:3] == ["Abc cab", "Bee sea", "Shabby cab q"]
    assert t.speakers() == []


def test_multispeaker_form_keeps_speakers_and_audio_ids(multispeaker):
    t = read_transcripts(multispeaker)
    assert t.form == "multispeaker"
    assert [u.speaker for u in t.utterances] == ["alice", "bob", "alice"]
    assert t.utterances[1].id == "wavs/s2_001.wav" and t.utterances[1].text == "Bee sea"
    assert t.speakers() == ["alice", "bob"]


def test_three_columns_with_a_spaced_second_column_are_ljspeech(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a.wav|Hello there|hello there\nb.wav|Hi|hi\n", encoding="utf-8")
    t = read_transcripts(path)
    assert t.form == "ljspeech" and t.utterances[0].text == "hello there"


def test_two_columns_and_quotes_are_kept_literally(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a|He said "no, 5"\nb|NA\n', encoding="utf-8")
    t = read_transcripts(path)
    assert t.form == "id_text"
    assert [u.text for u in t.utterances] == ['He said "no, 5"', "NA"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a|x\nb|y|z\n", r"t.csv:2: 3 pipe-separated columns, but the first line has 2"),
        (b"a|x|y\nb|y\n", r"t.csv:2: 2 pipe-separated columns"),
        (b"a|x\nb|\xff\n", r"t.csv:2: not valid UTF-8"),
        (b"\n \n", r"t.csv: the transcripts file is empty"),
        (b"just text\n", r"1 pipe-separated columns"),
        (b"a|b|c|d\n", r"4 pipe-separated columns"),
    ],
)
def test_bad_transcripts_are_user_errors(tmp_path, data, message):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(UserError, match=message):
        read_transcripts(path)


@pytest.mark.parametrize("inside", ["\u2028", "\x0c", "\x0b", "\x85", "\x1e"])
def test_line_separators_inside_a_sentence_stay_in_its_line(tmp_path, inside):
    path = tmp_path / "t.csv"
    path.write_text(f"u1|Hello{inside}world\nu2|Fine\r\nu3|Third\ru4|x|y\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"t.csv:4: 3 pipe-separated columns, but the first line has 2"):
        read_transcripts(path)
    path.write_text(f"u1|Hello{inside}world\n{inside}\nu2|Fine\n", encoding="utf-8")
    t = read_transcripts(path)
    assert [(u.id, u.text) for u in t.utterances] == [("u1", f"Hello{inside}world"), ("u2", "Fine")]


def test_a_bad_byte_is_reported_on_the_line_an_editor_shows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"u1|a\xe2\x80\xa8b\ru2|c\r\nu3|\xff\n")  # U+2028 in line 1, a bare CR ends it
    with pytest.raises(UserError, match=r"t.csv:3: not valid UTF-8"):
        read_transcripts(path)
