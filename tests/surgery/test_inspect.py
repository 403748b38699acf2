"""``inspect``: variables with slots, and ``--diff`` proposing a usable layout."""

from __future__ import annotations

import json

import yaml

from tts_adapt.cli.inspect import CheckpointDescription
from tts_adapt.surgery.diff import CheckpointDiff
from tts_adapt.testing import tiny_tacotron as tiny
from tests.cli_testing import run_cli


def test_inspect_json_groups_slots(capsys, tf1_source):
    code, out, _ = run_cli(["inspect", tf1_source, "--format", "json"], capsys)
    assert code == 0
    info = _read(out, CheckpointDescription)
    assert info.dialect == "tf1" and info.manifest is None and info.recognised is None
    kernel = next(v for v in info.variables if v.name == tiny.names()["lstm_kernel"])
    assert kernel.shape == (tiny.PRENET + tiny.ENC + tiny.SPK + tiny.UNITS, 4 * tiny.UNITS)
    assert set(kernel.slots) == {"Adam", "Adam_1"} and kernel.slots["Adam"].shape == kernel.shape
    assert {o.role for o in info.others} and info.parameters > 0


def test_inspect_json_of_an_adapted_checkpoint_reads_its_manifest(tmp_path, capsys, tf1_source, layouts, tables):
    code, _, err = run_cli(["adapt", tf1_source, "--output", tmp_path / "out", "--symbols", tables["new"],
                            "--source-symbols", tables["old"], "--layout", layouts["tf1"], "--fold-speaker", "1"],
                           capsys)
    assert code == 0, err
    code, out, _ = run_cli(["inspect", tmp_path / "out", "--format", "json"], capsys)
    assert code == 0
    manifest = _read(out, CheckpointDescription).manifest
    assert manifest.speakers == () and manifest.symbols and manifest.layout["sites"] == []
    assert manifest.adaptation.source["path"] == str(tf1_source.resolve() / "model.ckpt-2")
    assert manifest.adaptation.folded_speaker["id"] == 1 and manifest.adaptation.created
    code, out, _ = run_cli(["inspect", tmp_path / "out"], capsys)
    assert code == 0 and f"from {tf1_source.resolve() / 'model.ckpt-2'}; folded speaker: " in out


def test_inspect_text(capsys, tf2_source):
    code, out, _ = run_cli(["inspect", tf2_source], capsys)
    assert code == 0 and "dialect tf2" in out and "optimizer/m" in out


def test_diff_proposes_the_layout_a_person_would_write(tmp_path, capsys, tf1_source):
    single = tmp_path / "single"
    single.mkdir()
    tiny.make_tf1_checkpoint(single, 9, 0)
    code, out, err = run_cli(["inspect", tf1_source, "--diff", single], capsys)
    assert code == 0
    code, document, _ = run_cli(["inspect", tf1_source, "--diff", single, "--format", "json"], capsys)
    found = _read(document, CheckpointDiff)
    assert code == 0 and found.proposed_layout == out
    assert {d.name for d in found.differences if d.target is None} == {tiny.names()["speakers"]}
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


def _read(out: str, document):
    """``inspect --format json`` as scripts read it: through the document's one reader, every key checked."""
    found = document.from_json(json.loads(out), "inspect --format json")
    assert found.to_json() == json.loads(out)  # nothing written that the reader drops
    return found
