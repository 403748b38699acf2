"""manifest.json as a run document: the files checkpoints already hold read and write back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tts_adapt.audio.config import AudioConfig
from tts_adapt.errors import UserError
from tts_adapt.manifest import Manifest, read_manifest, write_manifest

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "pretrained" / "multispeaker"


def test_the_bundled_manifest_reads_and_writes_back_the_same_json():
    manifest = read_manifest(BUNDLED)
    assert manifest.dialect == "own" and manifest.speakers[0] == "awb" and manifest.audio.sample_rate == 16000
    assert manifest.to_json() == json.loads((BUNDLED / "manifest.json").read_text(encoding="utf-8"))


def test_what_the_toolkit_writes_comes_back_byte_for_byte(tmp_path):
    manifest = Manifest(tool_version="0.1.0", dialect="tf2", symbols=("a", "b"), cleaners=("english",),
                        audio=AudioConfig(), layout={"symbol_embedding": "emb"}, step=3, checkpoint="ckpt-3")
    text = write_manifest(tmp_path, manifest).read_text(encoding="utf-8")
    assert list(json.loads(text))[:4] == ["format", "format_version", "tool_version", "dialect"]
    assert "null" not in text and read_manifest(tmp_path) == manifest
    write_manifest(tmp_path, read_manifest(tmp_path))
    assert (tmp_path / "manifest.json").read_text(encoding="utf-8") == text


def test_an_old_manifest_reads_with_its_fallbacks():
    """Before the format was typed: no tool_version, nulls for absent fields, keys a later version added."""
    data = {"later": {"x": None}, "format": "tts-adapt", "symbols": ["a"], "cleaners": None, "step": None}
    manifest = Manifest.from_json(data, "old/manifest.json")
    assert manifest.tool_version == "unknown" and manifest.cleaners is None and manifest.step is None
    assert manifest.text_cleaners == ("english",) and manifest.extra == {"later": {"x": None}}
    assert list(manifest.to_json()) == ["later", "format", "format_version", "tool_version", "symbols", "speakers"]


@pytest.mark.parametrize("data, words", [
    ({"symbols": ["a"]}, "not a tts-adapt document"),
    ({"format": "tts-adapt", "format_version": 2}, "written by a newer tts-adapt"),
    ({"format": "tts-adapt", "checkpoint": "a/ckpt-1"}, "checkpoint must be a checkpoint name (no /)"),
    ({"format": "tts-adapt", "audio": {"sample_rate": -1}}, "audio: audio config: sample_rate must be positive"),
])
def test_a_wrong_manifest_names_its_file_and_field(data, words):
    with pytest.raises(UserError, match="^old/manifest.json: ") as raised:
        Manifest.from_json(data, "old/manifest.json")
    assert words in str(raised.value)
