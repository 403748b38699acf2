"""Real processes, real signals: an interrupted run saves, exits non-zero, and resumes without losing or repeating steps."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny_model import make_prepared

TRAIN = [sys.executable, "-m", "tts_adapt", "train", "--preset", "tiny", "--batch-size", "4",
         "--checkpoint-every", "7", "--val-every", "1000"]  # logged every 10 steps, saved every 7


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return make_prepared(tmp_path_factory.mktemp("interrupt") / "data")


def start(prepared: Path, exp: Path, steps: int, command: list[str] = TRAIN) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen([*command, "--data", str(prepared), "--output", str(exp), "--steps", str(steps)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_checkpoint(process: subprocess.Popen, exp: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not list(exp.glob("ckpt-*.index")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"no checkpoint appeared (exit {process.returncode}): {err[-2000:]}")
        time.sleep(0.1)


def finish(process: subprocess.Popen, timeout: float = 120.0) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:  # always reaped
            process.kill()
            process.communicate()
    return process.returncode, out, err


def checkpoint_steps(exp: Path) -> list[int]:
    return sorted(int(p.name[len("ckpt-"):-len(".index")]) for p in exp.glob("ckpt-*.index"))


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_run_saves_where_it_stopped_and_exits_non_zero(prepared, tmp_path, signum, code):
    exp = tmp_path / "exp"
    process = start(prepared, exp, steps=1_000_000)
    wait_for_checkpoint(process, exp)
    process.send_signal(signum)
    returncode, out, _ = finish(process)
    assert returncode == code  # a recipe stamps a stage only on 0: an interrupted one runs again
    assert f"stopped by {signal.Signals(signum).name}" in out
    assert f"ckpt-{checkpoint_steps(exp)[-1]}" in out  # the final save, at the step reached


def test_sigkill_then_resume_loses_only_unsaved_steps_and_logs_each_step_once(prepared, tmp_path):
    exp = tmp_path / "exp"
    process = start(prepared, exp, steps=1_000_000)
    wait_for_checkpoint(process, exp)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # freeze it until it has logged steps it has not saved, then kill it
        process.send_signal(signal.SIGSTOP)
        if max(logged_steps(exp), default=0) > checkpoint_steps(exp)[-1]:
            break
        process.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    process.kill()
    finish(process)
    saved = checkpoint_steps(exp)[-1]
    assert max(logged_steps(exp)) > saved  # steps whose weights the kill lost were logged
    target = saved + 27
    returncode, _, err = finish(start(prepared, exp, steps=target))
    assert returncode == 0, err[-2000:]
    assert checkpoint_steps(exp)[-1] == target
    steps = logged_steps(exp)
    assert steps == sorted(set(steps)), "a step logged twice"
    assert steps[-1] == target and [s for s in steps if s > saved][:2] == [saved + 10 - saved % 10, saved + 20 - saved % 10]


def logged_steps(exp: Path) -> list[int]:
    with (exp / "metrics.csv").open(newline="", encoding="utf-8") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle)
                if row.get("loss") and row["step"].isdigit()]  # training rows, every 10 steps


def test_a_train_killed_before_its_first_checkpoint_starts_afresh_when_run_again(prepared, tmp_path):
    exp = tmp_path / "exp"
    process = start(prepared, exp, steps=1_000_000)
    deadline = time.monotonic() + 120
    while not ((exp / "metrics.csv").is_file() and (exp / "logs").is_dir()):
        assert process.poll() is None and time.monotonic() < deadline, "train ended before it could be killed"
        time.sleep(0.01)
    process.kill()  # out of memory, say: long before step 7's checkpoint
    finish(process)
    assert not checkpoint_steps(exp) and (exp / "metrics.csv").is_file()
    returncode, out, err = finish(start(prepared, exp, steps=3))
    assert returncode == 0, err[-2000:]
    assert f"{exp} held only what an earlier train run left before its first checkpoint" in out + err
    assert checkpoint_steps(exp) == [3] and logged_steps(exp) == [3]


DIE_IN_FIRST_SAVE = """
import os, sys
from pathlib import Path
publish = os.replace

def publish_then_die(source, target):
    publish(source, target)
    if Path(target).name.startswith("ckpt-"):
        os._exit(137)  # killed after the data shard is in place, before the index and the state file

os.replace = publish_then_die
from tts_adapt.cli.main import main
main(sys.argv[1:])
"""


def test_a_finetune_killed_in_its_first_save_starts_afresh_when_run_again(prepared, tmp_path, capsys):
    from tests.cli_testing import run_cli

    assert run_cli([*TRAIN[3:], "--data", prepared, "--output", tmp_path / "run", "--steps", "1"], capsys)[0] == 0
    assert run_cli(["adapt", tmp_path / "run", "--output", tmp_path / "adapted", "--fold-speaker", "ann"],
                   capsys)[0] == 0
    exp = tmp_path / "exp"
    finetune = [sys.executable, "-c", DIE_IN_FIRST_SAVE, "finetune", str(tmp_path / "adapted"), "--batch-size", "4"]
    assert finish(start(prepared, exp, steps=2, command=finetune))[0] == 137
    assert (exp / "ckpt-1.data-00000-of-00001").is_file() and not (exp / "checkpoint").exists()
    code, _, err = run_cli(["finetune", tmp_path / "adapted", "--data", prepared, "--output", exp, "--steps", "2",
                            "--batch-size", "4"], capsys)
    assert code == 0, err
    assert f"{exp} held only what an earlier finetune run left before its first checkpoint" in err
    assert checkpoint_steps(exp) == [1, 3] and not [p for p in exp.iterdir() if p.name.startswith(".")]
