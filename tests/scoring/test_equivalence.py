"""verify: a folded adaptation of a real (tiny) Tacotron computes what its source computed for that speaker."""

from __future__ import annotations

import shutil

import pytest
from tests.cli_testing import printed_document, run_cli
from tests.tiny_checkpoints import NEW_SYMBOLS, make_source, write_table

from tts_adapt.manifest import read_manifest, write_manifest
from tts_adapt.scoring.equivalence import ComparedSpeaker, EquivalenceResult

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify_source")
    make_source(root / "src", seed=3)
    return root


def adapted(source, capsys, fold: str):
    out = source / f"adapted_{fold}"
    if not out.exists():
        table = write_table(source / "new.txt", NEW_SYMBOLS)
        code, _, err = run_cli(["adapt", source / "src", "--output", out, "--symbols", table,
                                "--fold-speaker", fold], capsys)
        assert code == 0, err
    return out


def verify(capsys, *args):
    code, out, err = run_cli(["verify", *args, "--format", "json"], capsys)
    if not out:
        return code, None, err
    return code, printed_document(EquivalenceResult, out, "verify --format json"), err


def test_folded_speaker_is_equivalent_on_every_output(source, capsys):
    code, result, _ = verify(capsys, source / "src", adapted(source, capsys, "1"))
    assert code == 0
    assert result.ok and result.speaker == ComparedSpeaker(id=1, name="bob", vector=None)
    assert result.max_rel_diff <= TOLERANCE
    assert set(result.outputs) == {"mel", "mel_post", "stop_logits", "alignment"}
    for name, d in result.outputs.items():
        assert d.max_abs_output > 0.05, name  # the outputs compared are not trivially zero
    assert result.shared_symbols == len(set(NEW_SYMBOLS) & set("abcdefghij "))
    assert result.notes == ()  # ADAPTED records SRC as its source


def test_a_different_source_is_noted(source, capsys, tmp_path):
    copy = tmp_path / "src_copy"
    shutil.copytree(source / "src", copy)
    code, result, _ = verify(capsys, copy, adapted(source, capsys, "1"))
    assert code == 0 and len(result.notes) == 1 and "was made from" in result.notes[0]


def test_speaker_by_name_and_human_output(source, capsys):
    code, out, _ = run_cli(["verify", source / "src", adapted(source, capsys, "1"), "--speaker", "bob"], capsys)
    assert code == 0
    assert "OK: equivalent" in out and "speaker 1 (bob)" in out and "stop_logits" in out


def test_another_speaker_differs_and_exits_1(source, capsys):
    code, result, _ = verify(capsys, source / "src", adapted(source, capsys, "1"), "--speaker", "2")
    assert code == 1
    assert not result.ok and result.max_rel_diff > 1e-3


def test_unfolded_adaptation_needs_a_speaker_and_then_differs(source, capsys):
    unfolded = adapted(source, capsys, "none")
    code, result, err = verify(capsys, source / "src", unfolded)
    assert code == 2 and result is None
    assert "no speaker was folded" in err and len(err.strip().splitlines()) == 1
    code, result, _ = verify(capsys, source / "src", unfolded, "--speaker", "1")
    assert code == 1 and result.max_rel_diff > 1e-3


def test_rows_must_follow_their_symbol(source, capsys, tmp_path):
    """Swap two symbols in the adapted manifest: the rows no longer match, and verify sees it."""
    broken = tmp_path / "swapped"
    shutil.copytree(adapted(source, capsys, "1"), broken)
    manifest = read_manifest(broken)
    symbols = list(manifest.symbols)
    i, j = symbols.index("a"), symbols.index("b")
    symbols[i], symbols[j] = symbols[j], symbols[i]
    write_manifest(broken, manifest.replace(symbols=tuple(symbols)))
    code, result, _ = verify(capsys, source / "src", broken)
    assert code == 1 and result.max_rel_diff > 1e-3


def test_seed_changes_the_probe_not_the_verdict(source, capsys):
    folded = adapted(source, capsys, "1")
    _, first, _ = verify(capsys, source / "src", folded, "--seed", "5")
    _, again, _ = verify(capsys, source / "src", folded, "--seed", "5")
    _, other, _ = verify(capsys, source / "src", folded, "--seed", "6")
    assert first == again and first.ok and other.ok  # the same seed, the same probe; any seed, the same verdict
    probe = [first.outputs[name].max_abs_output for name in sorted(first.outputs)]
    assert probe != [other.outputs[name].max_abs_output for name in sorted(other.outputs)]


@pytest.mark.parametrize("case", ["multi_speaker", "no_manifest", "bad_speaker"])
def test_bad_inputs_exit_2_with_one_line(source, capsys, tmp_path, case):
    folded = adapted(source, capsys, "1")
    args = {
        "multi_speaker": [source / "src", source / "src"],
        "no_manifest": [source / "src", tmp_path],
        "bad_speaker": [source / "src", folded, "--speaker", "zed"],
    }[case]
    code, out, err = run_cli(["verify", *args], capsys)
    assert code == 2 and out == ""
    assert err.startswith("tts-adapt verify: error:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("site", range(5))
def test_a_fold_missing_at_any_one_site_is_caught(source, capsys, tmp_path, site):
    """Put one fold_into bias back to its unfolded value: verify must see that site's missing speaker."""
    from tts_adapt.checkpoint.own import save_checkpoint
    from tts_adapt.model.loading import load_model

    loaded, source_loaded = load_model(adapted(source, capsys, "1")), load_model(source / "src")
    model, manifest, source_model = loaded.model, loaded.manifest, source_loaded.model
    sites = source_loaded.manifest.layout["sites"]
    assert len(sites) == 5
    bias = sites[site]["fold_into"]
    unfolded = {v.path: v for v in source_model.variables}[bias].numpy()
    {v.path: v for v in model.variables}[bias].assign(unfolded)
    save_checkpoint(tmp_path / "broken", model, None, manifest.step, manifest)
    code, result, _ = verify(capsys, source / "src", tmp_path / "broken")
    assert code == 1 and result.max_rel_diff > 1e-3, bias


def test_the_mean_speaker_fold_is_equivalent_to_the_source_speaking_with_its_mean_row(source, capsys):
    """--fold-speaker mean: the adapted model computes what the source computes with the mean speaker vector."""
    code, result, _ = verify(capsys, source / "src", adapted(source, capsys, "mean"))
    assert code == 0 and result.ok and result.max_rel_diff <= TOLERANCE
    assert result.speaker == ComparedSpeaker(id=None, name="mean", vector=None)
    code, result, _ = verify(capsys, source / "src", adapted(source, capsys, "mean"), "--speaker", "1")
    assert code == 1 and not result.ok  # no single speaker is the mean
    code, result, _ = verify(capsys, source / "src", adapted(source, capsys, "1"), "--speaker", "mean")
    assert code == 1 and not result.ok
    code, out, _ = run_cli(["verify", source / "src", adapted(source, capsys, "mean")], capsys)
    assert code == 0 and "the mean of its speaker rows" in out
