import dataclasses
import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tests.cli_testing import run_cli
from tests.tiny_model import make_prepared

from tts_adapt.cli.main import main
from tts_adapt.corpus.prepared import read_info
from tts_adapt.manifest import read_manifest
from tts_adapt.model.loading import load_model
from tts_adapt.training.loop import TrainingSummary

TRAIN_FLAGS = ["--preset", "tiny", "--batch-size", "4", "--val-every", "50", "--format", "json"]



@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    """A tiny two-speaker run, adapted to a reordered table with one new symbol, speaker 'ann' folded."""
    root = tmp_path_factory.mktemp("finetune")
    data = make_prepared(root / "data")
    assert main(["train", "--data", str(data), "--output", str(root / "pretrained"), *TRAIN_FLAGS, "--steps", "2"]) == 0
    table = root / "new_symbols.txt"
    table.write_text("".join(f"{s}\n" for s in [" ", *"hgfedcba", "z"]), encoding="utf-8")
    outputs = {}
    for optimizer in ("keep", "reset"):
        outputs[optimizer] = root / f"adapted_{optimizer}"
        assert main(["adapt", str(root / "pretrained"), "--output", str(outputs[optimizer]), "--symbols", str(table),
                     "--fold-speaker", "ann", "--optimizer", optimizer, "--format", "json"]) == 0
    return data, outputs


def test_finetune_starts_from_the_adapted_checkpoint_and_leaves_it_alone(adapted, tmp_path, capsys):
    data, outputs = adapted
    before = sorted((p.name, p.stat().st_mtime_ns) for p in outputs["keep"].iterdir())
    exp = tmp_path / "exp"
    code, out, err = run_cli(["finetune", outputs["keep"], "--data", data, "--output", exp, "--steps", "2",
                              "--batch-size", "4", "--format", "json"], capsys)
    assert code == 0, err
    summary = TrainingSummary.from_json(json.loads(out), "finetune --format json")
    assert summary.to_json() == json.loads(out)  # nothing printed that the reader drops
    assert (summary.steps_run, summary.step) == (2, 4)  # Adam's counter continues from the source's 2
    assert sorted(p.name for p in exp.glob("*.index")) == ["ckpt-2.index", "ckpt-4.index"]
    assert sorted((p.name, p.stat().st_mtime_ns) for p in outputs["keep"].iterdir()) == before
    manifest = read_manifest(exp)
    assert manifest.speakers == () and manifest.symbols[-1] == "z"
    assert manifest.folded_speaker and manifest.run_kind == "finetune"
    assert manifest.training["optimizer_state"] == "restored"
    model = load_model(exp).model
    assert model.n_speakers == 0 and model.n_symbols == 10


def test_a_resumed_finetune_refuses_another_adapted_checkpoint(adapted, tmp_path, capsys):
    data, outputs = adapted
    exp = tmp_path / "exp"
    flags = ["--data", data, "--output", exp, "--steps", "1", "--batch-size", "4"]
    assert run_cli(["finetune", outputs["keep"], *flags], capsys)[0] == 0
    code, _, err = run_cli(["finetune", outputs["reset"], *flags], capsys)
    assert code == 2 and "continues the fine-tuning of" in err and str(outputs["reset"]) in err
    assert run_cli(["finetune", outputs["keep"], *flags[:4], "--steps", "2", "--batch-size", "4"], capsys)[0] == 0


def test_finetune_from_a_reset_optimizer_and_with_frozen_parts(adapted, tmp_path, capsys):
    data, outputs = adapted
    exp = tmp_path / "exp"
    code, out, err = run_cli(["finetune", outputs["reset"], "--data", data, "--output", exp, "--steps", "2",
                              "--batch-size", "4", "--freeze", "encoder,embedding", "--format", "json"], capsys)
    assert code == 0, err
    summary = TrainingSummary.from_json(json.loads(out), "finetune --format json")
    assert summary.step == 2  # no optimizer state: the counter starts at 0
    start, end = tf.train.load_checkpoint(str(exp / "ckpt-0")), tf.train.load_checkpoint(str(exp / "ckpt-2"))
    for key in ("tacotron/encoder/conv_0/kernel", "tacotron/symbol_embedding/embeddings"):
        np.testing.assert_array_equal(start.get_tensor(key), end.get_tensor(key))
    key = "tacotron/decoder/decoder_lstm/kernel"
    assert not np.array_equal(start.get_tensor(key), end.get_tensor(key))
    assert read_manifest(exp).training["optimizer_state"] == "fresh"


def test_finetune_errors_are_one_line(adapted, tmp_path, capsys):
    data, outputs = adapted
    code, _, err = run_cli(["finetune", outputs["keep"], "--data", data, "--output", outputs["keep"]], capsys)
    assert code == 2 and "new directory" in err
    code, _, err = run_cli(["finetune", outputs["keep"], "--data", data, "--output", tmp_path / "x",
                            "--freeze", "everything"], capsys)
    assert code == 2 and "cannot freeze everything" in err
    other = tmp_path / "other_audio"
    shutil.copytree(data, other)
    info = read_info(other)
    (other / "prepared.json").write_text(dataclasses.replace(info, audio=dataclasses.replace(info.audio, fmax=7000.0))
                                         .to_text())
    code, _, err = run_cli(["finetune", outputs["keep"], "--data", other, "--output", tmp_path / "y"], capsys)
    assert code == 2 and "other audio parameters" in err and "fmax" in err


def test_freezing_every_part_is_refused_before_the_output_is_made(adapted, tmp_path, capsys):
    from tts_adapt.training.config import FREEZABLE_PARTS

    data, outputs = adapted
    exp = tmp_path / "exp"
    code, out, err = run_cli(["finetune", outputs["keep"], "--data", data, "--output", exp, "--freeze",
                              ",".join(FREEZABLE_PARTS)], capsys)
    assert code == 2 and out == "" and "leaves nothing to train" in err and len(err.strip().splitlines()) == 1
    assert not exp.exists()


def test_train_and_finetune_do_not_resume_into_an_adapted_checkpoint(adapted, capsys):
    data, outputs = adapted
    for command in (["train"], ["finetune", outputs["reset"]]):
        code, _, err = run_cli([*command, "--data", data, "--output", outputs["keep"]], capsys)
        assert code == 2 and "not a training run" in err
