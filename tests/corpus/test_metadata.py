"""Metadata: where each item's audio is, which speaker, which id."""

from __future__ import annotations

import pytest

from tts_adapt.corpus.metadata import read_metadata, safe_id
from tts_adapt.errors import UserError


def test_ljspeech_form_uses_wavs_dir_and_normalized_text(tmp_path):
    (tmp_path / "wavs").mkdir()
    (tmp_path / "metadata.csv").write_text('LJ001-0001|Raw "text" 1|normalized text one\nLJ001-0002|only raw|\n')
    items = read_metadata(tmp_path / "metadata.csv", default_speaker="lj")
    assert [(i.id, i.speaker, i.text, i.audio) for i in items] == [
        ("LJ001-0001", "lj", "normalized text one", tmp_path / "wavs" / "LJ001-0001.wav"),
        ("LJ001-0002", "lj", "only raw", tmp_path / "wavs" / "LJ001-0002.wav"),
    ]
    assert read_metadata(tmp_path / "metadata.csv", speaker="me", default_speaker="lj")[0].speaker == "me"


def test_multispeaker_paths_resolve_against_wavs_then_the_csv_folder(tmp_path):
    audio = tmp_path / "audio"
    (audio / "kal").mkdir(parents=True)
    (audio / "kal" / "a.wav").write_bytes(b"x")
    (tmp_path / "near").mkdir()
    (tmp_path / "near" / "b.wav").write_bytes(b"x")
    (tmp_path / "m.csv").write_text("kal/a.wav|kal|one\nnear/b.wav|slt|two\n")
    items = read_metadata(tmp_path / "m.csv", audio)
    assert [(i.id, i.speaker, i.audio) for i in items] == [
        ("kal_a", "kal", audio / "kal" / "a.wav"),
        ("near_b", "slt", tmp_path / "near" / "b.wav"),
    ]


def test_speaker_option_is_refused_for_multispeaker_metadata(tmp_path):
    (tmp_path / "m.csv").write_text("a.wav|kal|one\n")
    with pytest.raises(UserError, match="--speaker"):
        read_metadata(tmp_path / "m.csv", speaker="x")


def test_missing_audio_dir_and_metadata_are_user_errors(tmp_path):
    (tmp_path / "m.csv").write_text("a|one\n")
    with pytest.raises(UserError, match="no such audio directory"):
        read_metadata(tmp_path / "m.csv", tmp_path / "nowhere", speaker="x")
    with pytest.raises(UserError):
        read_metadata(tmp_path / "absent.csv", speaker="x")


@pytest.mark.parametrize(("name", "expected"), [
    ("LJ001-0001", "LJ001-0001"), ("kal/0001", "kal_0001"), ("../up", "up"), ("a b", "a_b"), ("..", "_"),
])
def test_safe_ids(name, expected):
    assert safe_id(name) == expected


@pytest.mark.parametrize("line", ["/etc/passwd.wav|slt|one", "../secret/a.wav|slt|one", "kal/../../a.wav|kal|one"])
def test_audio_outside_the_audio_folder_needs_consent(tmp_path, line):
    (tmp_path / "wavs").mkdir()
    (tmp_path / "m.csv").write_text(line + "\n")
    with pytest.raises(UserError, match="outside the audio folder.*--allow-outside-audio"):
        read_metadata(tmp_path / "m.csv")
    items = read_metadata(tmp_path / "m.csv", allow_outside=True)
    assert len(items) == 1 and items[0].audio.name in ("a.wav", "passwd.wav")
