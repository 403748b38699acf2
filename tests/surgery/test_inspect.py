"""``inspect``: variables with slots, and ``--diff`` proposing a usable layout."""

from __future__ import annotations

import json

import yaml

from tts_adapt.testing import tiny_tacotron as tiny
from tests.cli_testing import run_cli


def test_inspect_json_groups_slots(capsys, tf1_source):
    code, out, _ = run_cli(["inspect", tf1_source, "--format", "json"], capsys)
    assert code == 0
    info = json.loads(out)
    assert info["dialect"] == "tf1" and info["manifest"] is None
    kernel = next(v for v in info["variables"] if v["name"] == tiny.names()["lstm_kernel"])
    assert kernel["shape"] == [tiny.PRENET + tiny.ENC + tiny.SPK + tiny.UNITS, 4 * tiny.UNITS]
    assert set(kernel["slots"]) == {"Adam", "Adam_1"}


def test_inspect_text(capsys, tf2_source):
    code, out, _ = run_cli(["inspect", tf2_source], capsys)
    assert code == 0 and "dialect tf2" in out and "optimizer/m" in out


def test_diff_proposes_the_layout_a_person_would_write(tmp_path, capsys, tf1_source):
    single = tmp_path / "single"
    single.mkdir()
    tiny.make_tf1_checkpoint(single, 9, 0)
    code, out, err = run_cli(["inspect", tf1_source, "--diff", single], capsys)
    assert code == 0
    proposal = yaml.safe_load(out)
    expected = tiny.layout_dict()
    assert proposal["speaker_embedding"] == expected["speaker_embedding"]
    assert proposal["symbol_embedding"] == expected["symbol_embedding"]
    assert proposal["speaker_dim"] == tiny.SPK
    by_kernel = {s["kernel"]: s for s in proposal["sites"]}
    for site in expected["sites"]:
        assert by_kernel[site["kernel"]]["speaker_rows"] == site["speaker_rows"]  # incl. the LSTM middle rows
    assert by_kernel[tiny.names()["lstm_kernel"]]["fold_into"] == tiny.names()["lstm_bias"]
    assert "fold_into" not in by_kernel[tiny.names()["memory"]]  # no bias of its own: left to the person
    assert "memory_layer/kernel" in err
