"""Arbitrary bytes or shapes in any file a user hands the toolkit: the result the format promises, or one
UserError line naming the file; never a traceback, never a value silently changed on the way in.

Where a format is simple enough, the test restates it (``expected_*``) and compares: a file is accepted
exactly when the format allows it, and read as the format says.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tts_adapt.audio.config import AudioConfig, load_audio_config
from tts_adapt.checkpoint.layout import layout_from_dict, load_layout
from tts_adapt.corpus.metadata import read_metadata, safe_id
from tts_adapt.corpus.prepared import read_info, read_items
from tts_adapt.errors import UserError
from tts_adapt.manifest import read_manifest
from tts_adapt.symbols.mapping import load_aliases
from tts_adapt.symbols.table import parse_table_json, parse_table_text
from tts_adapt.training.config import FREEZABLE_PARTS, TrainingConfig, read_experiment_config
from tts_adapt.training.reporting import METRIC_COLUMNS, MetricsLog, whole_rows

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Bytes that look a little like the real files, so the parsers get past their first line.
pieces = st.sampled_from([b"|", b"\n", b"\r", b"a", b"\xc3\xa9", b"\xff", b" ", b"{", b"}", b"[", b"]", b":", b"-",
                          b"1", b".wav", b"slt", b'"', b"\t", b"\x00", b"symbols", b"sites", b"kernel", b"#",
                          b"\xe2\x80\xa8", b"\x0c", b",", b"step", b"\xc2\xb2", b"9" * 30])
lookalike = st.lists(pieces, max_size=40).map(b"".join)
any_bytes = st.one_of(st.binary(max_size=200), lookalike)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)
MANIFEST_KEYS = ["symbols", "speakers", "cleaners", "dialect", "layout", "model", "audio", "training", "step",
                 "checkpoint", "adaptation"]
TOO_DEEP_OR_LONG = ["[" * 100_000, "a: " + "[" * 5_000, "a: " + "1" * 5_000, "{" * 50_000]


class Refused(Exception):
    """What an ``expected_*`` function raises where the format says the input is not valid."""


def outcome(call):
    """``call()``'s result, or ``Refused`` when it raised a UserError, which must be one line."""
    try:
        return call()
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), repr(exc)
        return Refused


def expected_text_table(data: bytes) -> list[str]:
    """The text form: UTF-8, one symbol a line, a final newline and a CR before a newline not part of
    a symbol, a leading BOM dropped; none empty or repeated after NFC."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise Refused from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    symbols = [unicodedata.normalize("NFC", line.removesuffix("\r")) for line in lines]
    if "" in symbols or len(set(symbols)) != len(symbols):
        raise Refused
    return symbols


def expected_json_table(data: bytes) -> list[str]:
    """The JSON form: a UTF-8 list of strings (or {"symbols": [...]}), none empty or repeated after NFC."""
    try:
        items = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise Refused from None
    if isinstance(items, dict) and isinstance(items.get("symbols"), list):
        items = items["symbols"]
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise Refused
    symbols = [unicodedata.normalize("NFC", s) for s in items]
    if "" in symbols or len(set(symbols)) != len(symbols):
        raise Refused
    return symbols


def expected_or_refused(expect, *args):
    try:
        return expect(*args)
    except Refused:
        return Refused


@SETTINGS
@given(any_bytes)
@example(b"a\r\nb\n").via("a CR before the newline")
@example(b"\xef\xbb\xbfa\nb").via("a BOM")
@example(b"a\n\nb\n").via("an empty line")
def test_symbol_tables_are_read_as_their_format_says(data):
    table = outcome(lambda: parse_table_text(data, "t.txt"))
    assert (table if table is Refused else list(table.symbols)) == expected_or_refused(expected_text_table, data)
    table = outcome(lambda: parse_table_json(data, "t.json"))
    assert (table if table is Refused else list(table.symbols)) == expected_or_refused(expected_json_table, data)


# A NUL is never a sentence: metadata holding one is refused as not text (tests/corpus/test_cli_prepare.py).
rows = st.lists(st.tuples(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True).filter(lambda s: ".." not in s),
                          st.text(st.characters(blacklist_characters="|\r\n\x00", blacklist_categories=("Cs",)),
                                  max_size=20).filter(str.strip)),
                min_size=1, max_size=6)


@SETTINGS
@given(rows)
@example([("u1", "Hello\u2028world"), ("u2", "Form\x0cfeed")]).via("separators inside a sentence")
def test_id_text_metadata_is_read_line_for_line(tmp_path, rows):
    path = tmp_path / "metadata.csv"
    path.write_text("".join(f"{i}|{t}\n" for i, t in rows), encoding="utf-8")
    items = read_metadata(path, tmp_path, default_speaker="me")
    assert [(item.id, item.text, item.speaker) for item in items] == [
        (safe_id(i.rsplit(".", 1)[0] if i.lower().endswith((".wav", ".flac")) else i), t, "me") for i, t in rows]


@SETTINGS
@given(any_bytes)
def test_any_metadata_gives_one_item_a_line_or_one_line_naming_the_file(tmp_path, data):
    path = tmp_path / "metadata.csv"
    path.write_bytes(data)
    items = outcome(lambda: read_metadata(path, tmp_path, default_speaker="me"))
    if items is not Refused:
        lines = re.split(rb"\r\n|\r|\n", data.removeprefix(b"\xef\xbb\xbf"))
        assert len(items) == sum(1 for line in lines if line.decode("utf-8").strip())


def yaml_mapping_or_empty(data: bytes) -> bool:
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, ValueError, RecursionError):
        return False
    return parsed is None or isinstance(parsed, dict)


@SETTINGS
@given(any_bytes)
@example(b"a: b\n").via("an alias")
def test_yaml_files_are_accepted_only_as_mappings(tmp_path, data):
    path = tmp_path / "file.yaml"
    path.write_bytes(data)
    results = {load.__name__: outcome(lambda: load(path))
               for load in (load_layout, load_aliases, load_audio_config, read_experiment_config)}
    if not yaml_mapping_or_empty(data):
        assert all(result is Refused for result in results.values()), results
    aliases = results["load_aliases"]
    if aliases is not Refused:
        parsed = yaml.safe_load(data.decode("utf-8")) or {}
        assert aliases == {unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v) for k, v in parsed.items()}


@pytest.mark.parametrize("text", TOO_DEEP_OR_LONG)
def test_yaml_and_json_nested_too_deep_or_with_endless_numbers_are_one_line(tmp_path, text):
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    for load in (load_layout, load_aliases, load_audio_config, read_experiment_config):
        assert outcome(lambda: load(path)) is Refused
    assert outcome(lambda: parse_table_json(text.encode(), "t.json")) is Refused
    (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
    assert outcome(lambda: read_manifest(tmp_path)) is Refused


@SETTINGS
@given(json_values)
def test_a_layout_is_a_mapping_and_reads_back_as_itself(value):
    layout = outcome(lambda: layout_from_dict(value))
    if layout is not Refused:
        assert value is None or isinstance(value, dict)
        assert layout_from_dict(layout.to_dict()) == layout


WHOLE_KEYS = ("steps", "batch_size")


def expected_training_value(key: str, value):
    """What TrainingConfig holds for ``key: value``, as its fields are documented."""
    def whole(v, least):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise Refused
        if not least <= v <= 2**31 - 1:
            raise Refused
        return int(v)

    if key in WHOLE_KEYS:
        return whole(value, 1)
    if key == "learning_rate":  # a positive finite number; an integer too large for a float is not one
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Refused
        if isinstance(value, int) and value > 1e300 or not 0 < value < math.inf:
            raise Refused
        return float(value)
    if key == "lr_decay_at":
        if isinstance(value, str):
            value = [int(v) if re.fullmatch(r"[0-9]{1,10}", v) else v for v in map(str.strip, value.split(",")) if v]
        if not isinstance(value, list):
            raise Refused
        return [whole(v, 0) for v in value]
    if key == "freeze":
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v in FREEZABLE_PARTS for v in value):
            raise Refused
        return value
    raise Refused  # no such key


training_values = st.one_of(json_values, st.sampled_from([10**400, 2**31, -1, 1.5, 3.0, "1, 2", "١", True, "encoder",
                                                          ["encoder", "postnet"], [2000, 4000.0], 1e308]))


@SETTINGS
@given(st.dictionaries(st.sampled_from([*WHOLE_KEYS, "learning_rate", "lr_decay_at", "freeze", "x"]),
                       training_values, max_size=3))
def test_training_configs_hold_what_was_written_or_name_the_key(tmp_path, section):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"training": section}))
    config = outcome(lambda: TrainingConfig.from_dict(read_experiment_config(path)["training"], source=str(path)))
    expected = {key: expected_or_refused(expected_training_value, key, value) for key, value in section.items()}
    if Refused in expected.values():
        assert config is Refused
    else:
        assert config is not Refused and {k: config.to_dict()[k] for k in section} == expected


@SETTINGS
@given(st.one_of(any_bytes, st.dictionaries(st.sampled_from(MANIFEST_KEYS), json_values, max_size=5)))
def test_manifests_hold_what_was_written_or_name_the_file(tmp_path, content):
    path = tmp_path / "manifest.json"
    if isinstance(content, dict):
        path.write_text(json.dumps({"format": "tts-adapt", **content}), encoding="utf-8")
    else:
        path.write_bytes(content)
    try:
        manifest = read_manifest(tmp_path)
    except UserError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert isinstance(content, dict)
    written = manifest.to_json()
    for key, value in content.items():
        if value is not None and key != "audio":  # the audio config is read with its defaults filled in
            assert written[key] == value, key


prepared_info = st.dictionaries(st.sampled_from(["format", "audio", "cleaners", "symbols", "speakers", "items",
                                                 "hours", "skipped", "audio_fingerprint"]), json_values, max_size=5)


@SETTINGS
@given(st.one_of(any_bytes, prepared_info.map(lambda d: json.dumps(d).encode())))
@example(b"[" * 100_000)
def test_prepared_json_is_a_record_or_one_line_naming_it(tmp_path, data):
    (tmp_path / "prepared.json").write_bytes(data)
    try:
        record = read_info(tmp_path)
    except UserError as exc:
        assert str(tmp_path / "prepared.json") in str(exc) and "\n" not in str(exc)
        return
    assert isinstance(record.audio, AudioConfig)


ITEMS_HEADER = b"id,speaker,text,cleaned,n_frames,seconds,split\n"


@SETTINGS
@given(st.one_of(any_bytes, any_bytes.map(ITEMS_HEADER.__add__)))
@example(ITEMS_HEADER + b"u1,me,a,a,\xc2\xb2,1.0,train\n").via("a non-ASCII digit as a frame count")
@example(ITEMS_HEADER + b"u1,me,a,a," + b"9" * 30 + b",1.0,train\n").via("a frame count past int64")
@example(ITEMS_HEADER + b"u1,me,\xff,a,3,1.0,train\n").via("an undecodable byte")
def test_items_csv_holds_whole_frame_counts_or_names_the_file(tmp_path, data):
    (tmp_path / "items.csv").write_bytes(data)
    try:
        items = read_items(tmp_path)
    except UserError as exc:
        assert str(tmp_path / "items.csv") in str(exc) and "\n" not in str(exc)
        return
    assert all(isinstance(n, int) and n >= 1 for n in items["n_frames"].tolist())


METRICS_HEADER = ",".join(METRIC_COLUMNS).encode() + b"\n"
metrics_lines = st.lists(st.one_of(any_bytes, st.integers(0, 30).map(lambda n: f"{n},0.1".encode() + b"," * 20)),
                         max_size=6).map(lambda lines: METRICS_HEADER + b"\n".join(lines))


@SETTINGS
@given(st.one_of(any_bytes, metrics_lines), st.integers(0, 30))
@example(METRICS_HEADER + b"\xc2\xb2,1" + b"," * 20 + b"\n", 5).via("a non-ASCII digit as the step")
@example(METRICS_HEADER + b"9" * 5000 + b"," * 21 + b"\n", 5).via("a step of 5000 digits")
@example(METRICS_HEADER + b"3,\xff\xfe" + b"," * 20 + b"\n", 5).via("an undecodable byte")
def test_a_resumed_run_keeps_the_whole_rows_of_its_metrics_up_to_its_step(tmp_path, data, step):
    path = tmp_path / "metrics.csv"
    path.write_bytes(data)
    kept = whole_rows(path, step)
    assert all(re.fullmatch(r"[0-9]+", row["step"]) and int(row["step"]) <= step for row in kept)
    MetricsLog(path, resume_step=step)  # rewrites the file to exactly those rows
    assert [row["step"] for row in whole_rows(path)] == [row["step"] for row in kept]
    assert path.read_bytes().startswith(METRICS_HEADER.rstrip(b"\n"))


@pytest.mark.parametrize("text, load", [("training: [1, 2]", read_experiment_config), ("model: 3", read_experiment_config),
                                        ("- a\n- b", read_experiment_config), ("- a\n- b", load_audio_config),
                                        ("audio: {sample_rate: .nan}", load_audio_config)])
def test_config_shapes_that_used_to_slip_through(tmp_path, text, load):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert outcome(lambda: load(path)) is Refused
