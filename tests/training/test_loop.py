import csv
import dataclasses
import json
import os
import shutil
import signal

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tests.cli_testing import hold_output_lock, run_cli
from tests.tiny_model import TINY, N_SPEAKERS, N_SYMBOLS, make_batch, make_prepared
from tts_adapt.cli.main import main
from tts_adapt.corpus.prepared import read_info
from tts_adapt.manifest import read_manifest
from tts_adapt.model.tacotron import Tacotron
from tts_adapt.training.config import TrainingConfig
from tts_adapt.training.loop import AlreadyTrained, TrainingSummary, make_steps, train
from tts_adapt.training.reporting import Reporter
from tts_adapt.training.session import new_training


def learnable_batch():
    """Targets a tiny model can fit: smooth in time and frequency, shifted per speaker."""
    batch = make_batch()
    frames = np.arange(batch["mel"].shape[1])[None, :, None]
    bands = np.arange(TINY.n_mels)[None, None, :]
    batch["mel"] = (2 * np.sin(frames / 3 + bands / 2 + batch["speaker"][:, None, None])).astype(np.float32)
    return {k: tf.constant(v) for k, v in batch.items()}


def test_overfitting_one_batch_lowers_every_loss():
    keras.utils.set_random_seed(0)
    model = Tacotron(TINY, N_SYMBOLS, N_SPEAKERS)
    optimizer = keras.optimizers.Adam(1e-2)
    train_step, _ = make_steps(model, optimizer, TrainingConfig(learning_rate=1e-2), model.trainable_variables)
    batch = learnable_batch()
    history = [train_step(batch, tf.constant(1e-2), tf.constant(1.0)) for _ in range(30)]
    first, last = history[0], history[-1]
    assert float(last["loss"]) < 0.7 * float(first["loss"])
    for part in ("mel_loss", "post_loss", "stop_loss"):
        assert float(last[part]) < float(first[part]), part
    assert int(optimizer.iterations.numpy()) == 30



@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return make_prepared(tmp_path_factory.mktemp("prepared") / "data")


TRAIN_FLAGS = ["--preset", "tiny", "--batch-size", "4", "--checkpoint-every", "2", "--val-every", "2"]


@pytest.fixture(scope="module")
def trained_run(prepared, tmp_path_factory):
    """A tiny multi-speaker run of 4 steps (validated and checkpointed at 2 and 4); copy it before changing it."""
    exp = tmp_path_factory.mktemp("runs") / "exp"
    assert main(["train", "--data", str(prepared), "--output", str(exp), *TRAIN_FLAGS, "--steps", "4",
                 "--format", "json"]) == 0
    return exp


def test_train_writes_a_run(trained_run):
    exp = trained_run
    assert tf.train.latest_checkpoint(str(exp)).endswith("ckpt-4")
    assert sorted(p.name for p in exp.glob("*.index")) == ["ckpt-2.index", "ckpt-4.index"]
    manifest = read_manifest(exp)
    assert manifest.speakers == ("ann", "bob") and manifest.symbols == tuple("abcdefgh ")
    assert manifest.step == 4 and manifest.model["n_mels"] == 8 and len(manifest.layout["sites"]) == 5
    assert manifest.cleaners == ("basic",) and manifest.training["config"]["batch_size"] == 4
    with (exp / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["step"] for r in rows if r["loss"]] == ["4"]  # log_every 10, and the last step
    validation = [r for r in rows if r["val_loss"]]
    assert [r["step"] for r in validation] == ["2", "4"]
    assert 0 < float(validation[-1]["fr_focus"]) <= 1 and validation[-1]["fr_coverage"] != ""
    tags = {value.tag for events in (exp / "logs").iterdir()
            for event in tf.compat.v1.train.summary_iterator(str(events)) for value in event.summary.value}
    assert {"train/loss", "val/fr_focus", "attention/free_running_alignment", "mel/mel_target",
            "audio/free_running"} <= tags


def test_a_rerun_resumes_where_the_run_stopped(prepared, trained_run, tmp_path, capsys):
    exp = tmp_path / "exp"
    shutil.copytree(trained_run, exp)
    common = ["train", "--data", prepared, "--output", exp, "--format", "json"]
    code, out, err = run_cli([*common, "--steps", "6"], capsys)
    assert code == 0, err
    resumed = read_printed(TrainingSummary, out)
    assert (resumed.steps_run, resumed.step) == (2, 6)
    assert read_manifest(exp).training["config"]["steps"] == 6
    code, out, _ = run_cli([*common, "--steps", "6"], capsys)
    assert code == 0 and read_printed(AlreadyTrained, out).steps_run == 0


def read_printed(document, out: str):
    """The summary ``--format json`` printed, read by its class, which keeps every key printed."""
    found = document.from_json(json.loads(out), "train --format json")
    assert found.to_json() == json.loads(out)
    return found


def test_train_refuses_a_changed_model_on_resume(prepared, trained_run, tmp_path, capsys):
    exp = tmp_path / "exp"
    shutil.copytree(trained_run, exp)
    code, _, err = run_cli(["train", "--data", prepared, "--output", exp, "--steps", "5", "--preset", "small"], capsys)
    assert code == 2 and "another model config" in err


def test_train_refuses_another_symbol_table_on_resume(prepared, trained_run, tmp_path, capsys):
    exp = tmp_path / "exp"
    shutil.copytree(trained_run, exp)
    table = tmp_path / "symbols.txt"
    table.write_text("".join(f"{s}\n" for s in "zyx "), encoding="utf-8")
    code, _, err = run_cli(["train", "--data", prepared, "--output", exp, "--steps", "5", "--symbols", table], capsys)
    assert code == 2 and "another symbol table" in err


def test_train_without_a_table_takes_the_symbols_its_transcripts_use(prepared, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    info = read_info(data)
    (data / "prepared.json").write_text(dataclasses.replace(info, symbols=None).to_text())  # prepared without --symbols
    code, out, err = run_cli(["train", "--data", data, "--output", tmp_path / "exp", *TRAIN_FLAGS, "--steps", "1"],
                             capsys)
    assert code == 0, err
    used = "".join(pd.read_csv(data / "items.csv", keep_default_na=False)["cleaned"])
    symbols = read_manifest(tmp_path / "exp").symbols
    assert sorted(symbols) == sorted(set(used))
    assert [used.count(s) for s in symbols] == sorted((used.count(s) for s in symbols), reverse=True)
    said = [line for line in (out + err).splitlines() if "symbol table:" in line]
    assert len(said) == 1 and f"the {len(symbols)} symbols of {data}'s transcripts (cleaners basic)" in said[0]


def test_train_refuses_a_non_empty_unrelated_output(prepared, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(["train", "--data", prepared, "--output", tmp_path, "--preset", "tiny"], capsys)
    assert code == 2 and "not empty" in err


def test_a_dead_runs_leftovers_beside_a_users_file_are_refused_untouched(prepared, tmp_path, capsys):
    (tmp_path / "metrics.csv").write_text("step\n")
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(["train", "--data", prepared, "--output", tmp_path, "--preset", "tiny"], capsys)
    assert code == 2 and "not empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.csv", "notes.txt"]


def test_a_second_train_into_a_run_in_progress_is_refused(prepared, trained_run, tmp_path, capsys):
    exp = tmp_path / "exp"
    shutil.copytree(trained_run, exp)
    metrics = (exp / "metrics.csv").read_bytes()
    holder = hold_output_lock(exp)  # the first train, still running
    try:
        code, _, err = run_cli(["train", "--data", prepared, "--output", exp, *TRAIN_FLAGS, "--steps", "6"], capsys)
    finally:
        holder.communicate("")
    assert code == 2 and err.count("\n") == 1 and f"in use by process {holder.pid}" in err
    assert (exp / "metrics.csv").read_bytes() == metrics and tf.train.latest_checkpoint(str(exp)).endswith("ckpt-4")


class SignalAt(Reporter):
    """Sends this process a signal at a given step, as a job scheduler (SIGTERM) or a person (Ctrl-C) would."""

    def __init__(self, step: int, signum: int) -> None:
        super().__init__(enabled=False)
        self.at, self.signum = step, signum

    def update(self, step, parts, speed) -> None:
        if step == self.at:
            os.kill(os.getpid(), self.signum)


@pytest.fixture
def default_sigint():
    """A person at a terminal has Python's default SIGINT handler; jobs started by CI or nohup inherit it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_saves_a_checkpoint_and_stops(prepared, tmp_path, signum, code, default_sigint):
    run = new_training(prepared, tmp_path / "exp", preset="tiny",
                       overrides={"steps": 50, "batch_size": 4, "val_every": 100, "log_every": 1})
    summary = train(run, SignalAt(3, signum))
    assert summary.stopped_early and summary.signal == signal.Signals(signum).name
    assert summary.exit_code == code  # the CLI exits with it: a recipe never stamps the stage done
    assert tf.train.latest_checkpoint(str(tmp_path / "exp")).endswith("ckpt-3")


def test_ctrl_c_twice_during_a_periodic_save_loses_nothing(prepared, tmp_path, monkeypatch, default_sigint):
    """The save in progress completes, the run stops there, and it says so."""
    import tts_adapt.training.loop as loop

    real_save, calls = loop.save_checkpoint, []

    def interrupted_save(*args, **kwargs):
        calls.append(args[3])
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(loop, "save_checkpoint", interrupted_save)
    run = new_training(prepared, tmp_path / "exp", preset="tiny",
                       overrides={"steps": 50, "batch_size": 4, "val_every": 100, "checkpoint_every": 2})
    summary = train(run, Reporter(enabled=False))
    assert calls == [2] and summary.step == 2 and summary.exit_code == 130
    assert tf.train.latest_checkpoint(str(tmp_path / "exp")).endswith("ckpt-2")
    assert summary.checkpoint.endswith("ckpt-2")


def checkpoint_is_finite(prefix: str) -> bool:
    reader = tf.train.load_checkpoint(prefix)
    return all(np.isfinite(reader.get_tensor(key)).all() for key, dtype in reader.get_variable_to_dtype_map().items()
               if dtype.is_floating)


@pytest.mark.parametrize("learning_rate, cause", [("1e30", "the loss became nan at step"),
                                                  ("1e39", "the weights became non-finite by step 1")])
def test_a_diverged_run_stops_in_one_line_and_saves_no_non_finite_checkpoint(prepared, tmp_path, capsys,
                                                                             learning_rate, cause):
    """1e30: a finite step of huge weights, then a nan loss; 1e39 is inf in float32: the first update is."""
    exp = tmp_path / "exp"
    code, _, err = run_cli(["train", "--data", prepared, "--output", exp, *TRAIN_FLAGS, "--steps", "6",
                            "--checkpoint-every", "1", "--learning-rate", learning_rate], capsys)
    assert code == 2 and "Traceback" not in err, err
    last = err.splitlines()[-1]  # after the progress lines: the one line that says what happened
    assert last.startswith("tts-adapt train: error: training diverged: " + cause) and "lower --learning-rate" in last
    latest = tf.train.latest_checkpoint(str(exp))
    assert (f"the last finite checkpoint, {os.path.basename(latest)}, is kept" if latest
            else "no checkpoint was saved") in err
    assert all(checkpoint_is_finite(str(p.with_suffix(""))) for p in exp.glob("ckpt-*.index"))
    assert not [p for p in exp.iterdir() if p.name.startswith(".")]
