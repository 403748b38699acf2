"""Every bad input: exit 2, one clear line on stderr, no traceback, no output left behind."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from tts_adapt.errors import UserError
from tts_adapt.testing import tiny_tacotron as tiny
from tts_adapt.training.config import TrainingConfig, read_experiment_config
from tests.cli_testing import run_cli, write_table

N = tiny.names()


def bad_layout(tmp_path, mutate) -> str:
    data = tiny.layout_dict()
    mutate(data)
    path = tmp_path / "layout.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def site(data, role):
    return next(s for s in data["sites"] if s["kernel"] == N[role])


CASES = {
    "unknown layout key": (lambda d: d.update(speaker_rows=[1, 2]), "unknown layout key"),
    "unknown site kernel": (lambda d: site(d, "memory").update(kernel="nope/kernel"), "not a variable"),
    "rows out of bounds": (lambda d: site(d, "proj_kernel").update(speaker_rows=[12, 16]), "out of bounds"),
    "rows span != speaker_dim": (lambda d: site(d, "proj_kernel").update(speaker_rows=[10, 13]), "speaker_dim"),
    "fold bias length": (lambda d: site(d, "memory").update(fold_into=N["lstm_bias"]), "columns"),
    "unknown fold target": (lambda d: site(d, "memory").update(fold_into="nope/bias"), "fold_into"),
    "overlapping sites": (lambda d: d["sites"].append(
        {"kernel": N["memory"], "speaker_rows": [5, 9]}), "overlap"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layout_errors(tmp_path, capsys, tf1_source, tables, case):
    mutate, words = CASES[case]
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(["adapt", tf1_source, "--output", out, "--symbols", tables["new"],
                                    "--source-symbols", tables["old"], "--layout", bad_layout(tmp_path, mutate),
                                    "--fold-speaker", "0"], capsys)
    assert code == 2
    assert words in stderr and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def common(tf1_source, tables, layouts, out):
    return ["adapt", tf1_source, "--output", out, "--symbols", tables["new"], "--source-symbols", tables["old"],
            "--layout", layouts["tf1"]]


def expect_error(capsys, args, words, out):
    code, _, stderr = run_cli(args, capsys)
    assert code == 2, stderr
    assert words in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists() or not any(out.iterdir())


def test_symbol_table_length_must_match_embedding(tmp_path, capsys, tf1_source, tables, layouts):
    short = write_table(tmp_path / "short.txt", list("abc"))
    out = tmp_path / "out"
    args = common(tf1_source, tables, layouts, out)
    args[args.index("--source-symbols") + 1] = short
    expect_error(capsys, args, "has 10 rows", out)


@pytest.mark.parametrize("speaker,words", [("7", "out of range"), ("kal", "unknown speaker")])
def test_unknown_speaker(tmp_path, capsys, tf1_source, tables, layouts, speaker, words):
    out = tmp_path / "out"
    expect_error(capsys, common(tf1_source, tables, layouts, out) + ["--fold-speaker", speaker], words, out)


def test_output_is_the_source(capsys, tf1_source, tables, layouts):
    expect_error(capsys, common(tf1_source, tables, layouts, tf1_source), "is the source", tf1_source / "nothing")


def test_output_inside_the_source_folder(capsys, tf1_source, tables, layouts):
    out = tf1_source / "adapted"
    expect_error(capsys, common(tf1_source, tables, layouts, out), "inside the source checkpoint's folder", out)


def test_output_is_a_non_empty_directory(tmp_path, capsys, tf1_source, tables, layouts):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, stderr = run_cli(common(tf1_source, tables, layouts, out), capsys)
    assert code == 2 and "not empty" in stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_speaker_vector_of_wrong_size(tmp_path, capsys, tf1_source, tables, layouts):
    vector = tmp_path / "v.npy"
    np.save(vector, np.zeros(tiny.SPK + 1, np.float32))
    out = tmp_path / "out"
    expect_error(capsys, common(tf1_source, tables, layouts, out) + ["--speaker-vector", vector], "speaker_dim", out)


def test_empty_speaker_vector_file(tmp_path, capsys, tf1_source, tables, layouts):
    vector = tmp_path / "v.npy"
    vector.write_bytes(b"")
    out = tmp_path / "out"
    expect_error(capsys, common(tf1_source, tables, layouts, out) + ["--speaker-vector", vector], "not a .npy", out)


@pytest.mark.parametrize("value, words", [(".inf", "finite"), (".nan", "finite"), ("1e999", "finite")])
def test_non_finite_numbers_in_yaml_are_refused(tmp_path, value, words):
    path = tmp_path / "train.yaml"
    path.write_text(f"training:\n  learning_rate: {value}\n")
    with pytest.raises(UserError, match=words):
        TrainingConfig.from_dict(read_experiment_config(path)["training"], source=str(path))


def test_integer_keys_in_yaml_are_refused(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("training:\n  1: 2\n2: x\n")
    with pytest.raises(UserError, match="unknown section"):
        read_experiment_config(path)
    path.write_text("training:\n  1: 2\n")
    with pytest.raises(UserError, match="keys must be names, got 1"):
        TrainingConfig.from_dict(read_experiment_config(path)["training"], source=str(path))


@pytest.mark.parametrize("argv", [["synthesize", "x", "--text", "a", "--output", "a.wav", "--max-seconds", "nan"],
                                  ["prepare", "--metadata", "m.csv", "--output", "p", "--max-seconds", "inf"]])
def test_non_finite_numbers_on_the_command_line_are_refused(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        run_cli(argv, capsys)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "must be a finite number" in err and err.count("\n") == 1


def test_missing_layout_for_foreign_checkpoint(tmp_path, capsys, tf1_source, tables):
    out = tmp_path / "out"
    expect_error(capsys, ["adapt", tf1_source, "--output", out, "--symbols", tables["new"],
                          "--source-symbols", tables["old"]], "--layout", out)


def test_missing_source_symbols(tmp_path, capsys, tf1_source, tables, layouts):
    out = tmp_path / "out"
    expect_error(capsys, ["adapt", tf1_source, "--output", out, "--symbols", tables["new"], "--layout",
                          layouts["tf1"]], "--source-symbols", out)


def test_no_such_checkpoint(tmp_path, capsys, tables, layouts):
    out = tmp_path / "out"
    expect_error(capsys, ["adapt", tmp_path / "missing", "--output", out, "--symbols", tables["new"]],
                 "no such checkpoint", out)


def test_duplicate_symbol_in_new_table(tmp_path, capsys, tf1_source, tables, layouts):
    dup = tmp_path / "dup.txt"
    dup.write_text("a\nb\na\n")
    out = tmp_path / "out"
    args = common(tf1_source, tables, layouts, out)
    args[args.index("--symbols") + 1] = dup
    expect_error(capsys, args, "dup.txt:3: duplicate symbol", out)


@pytest.mark.parametrize("name, content", [("empty.txt", ""), ("bom.txt", "\ufeff"), ("empty.json", "[]")])
def test_an_empty_new_table_is_refused(tmp_path, capsys, tf1_source, tables, layouts, name, content):
    (tmp_path / name).write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    args = common(tf1_source, tables, layouts, out)
    args[args.index("--symbols") + 1] = tmp_path / name
    expect_error(capsys, args, f"{name}: holds no symbols", out)


def test_fold_needs_a_bias_for_every_site(tmp_path, capsys, tf1_source, tables):
    def drop_fold(d):
        del site(d, "memory")["fold_into"]
    out = tmp_path / "out"
    expect_error(capsys, ["adapt", tf1_source, "--output", out, "--symbols", tables["new"], "--source-symbols",
                          tables["old"], "--layout", bad_layout(tmp_path, drop_fold), "--fold-speaker", "1"],
                 "no fold_into", out)
