"""Arbitrary bytes in any file a user hands the toolkit give a result or one clear UserError, never a traceback."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_adapt.audio.config import load_audio_config
from tts_adapt.corpus.metadata import read_metadata
from tts_adapt.errors import UserError
from tts_adapt.manifest import read_manifest
from tts_adapt.checkpoint.layout import layout_from_dict, load_layout
from tts_adapt.symbols.mapping import load_aliases
from tts_adapt.symbols.table import parse_table_json, parse_table_text
from tts_adapt.training.config import TrainingConfig, read_experiment_config

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Bytes that look a little like the real files, so the parsers get past their first line.
pieces = st.sampled_from([b"|", b"\n", b"a", b"\xc3\xa9", b"\xff", b" ", b"{", b"}", b"[", b"]", b":", b"-",
                          b"1", b".wav", b"slt", b'"', b"\t", b"\x00", b"symbols", b"sites", b"kernel", b"#"])
lookalike = st.lists(pieces, max_size=40).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=200), lookalike)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)
MANIFEST_KEYS = ["symbols", "speakers", "cleaners", "dialect", "layout", "model", "audio", "training", "step",
                 "checkpoint", "adaptation"]


def result_or_user_error(call):
    try:
        call()
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), repr(exc)


@SETTINGS
@given(any_bytes)
def test_symbol_tables(data):
    result_or_user_error(lambda: parse_table_text(data, "t.txt"))
    result_or_user_error(lambda: parse_table_json(data, "t.json"))


@SETTINGS
@given(any_bytes)
def test_metadata_and_transcripts(tmp_path, data):
    path = tmp_path / "metadata.csv"
    path.write_bytes(data)
    result_or_user_error(lambda: read_metadata(path, tmp_path, default_speaker="me"))


@SETTINGS
@given(any_bytes)
def test_yaml_files(tmp_path, data):
    path = tmp_path / "file.yaml"
    path.write_bytes(data)
    for load in (load_layout, load_aliases, load_audio_config, read_experiment_config):
        result_or_user_error(lambda: load(path))


@SETTINGS
@given(json_values)
def test_layouts_of_any_shape(value):
    result_or_user_error(lambda: layout_from_dict(value))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["steps", "learning_rate", "lr_decay_at", "freeze", "batch_size", "x"]),
                       json_values, max_size=4))
def test_training_configs_of_any_shape(tmp_path, section):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"training": section}))
    result_or_user_error(lambda: TrainingConfig.from_dict(read_experiment_config(path)["training"]))


@SETTINGS
@given(st.one_of(any_bytes, st.dictionaries(st.sampled_from(MANIFEST_KEYS), json_values, max_size=5)))
def test_manifests(tmp_path, content):
    path = tmp_path / "manifest.json"
    if isinstance(content, dict):
        content = json.dumps({"format": "tts-adapt", **content}).encode()
    path.write_bytes(content)
    result_or_user_error(lambda: read_manifest(tmp_path))


@pytest.mark.parametrize("text", ["training: [1, 2]", "model: 3", "- a\n- b", "audio: {sample_rate: .nan}"])
def test_config_shapes_that_used_to_slip_through(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    result_or_user_error(lambda: read_experiment_config(path))
    result_or_user_error(lambda: load_audio_config(path))
