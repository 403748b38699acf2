"""The shared stage runner (recipes/common/stages.sh) on a dummy recipe in a temporary folder."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.recipes.recipe_modules import RECIPES

DUMMY = """\
#!/usr/bin/env bash
# A dummy recipe for the tests.
# Usage: run.sh [--stage N] [--stop-stage M] [--fail-in 1] [--size S] [--burn N]

recipe=dummy
fail_in=""
size=1
burn=0
. {stages}
parse_options "$@"

make_a() {{ echo "a$size" > exp/dummy/a.txt; echo ran0 >> exp/dummy/trace; }}
make_b() {{
  echo ran1 >> exp/dummy/trace
  if [[ $fail_in == 1 ]]; then false; fi
  cat exp/dummy/a.txt > exp/dummy/b.txt
  echo "b says hello"
}}
make_c() {{
  echo ran2 >> exp/dummy/trace
  for ((i = 0; i < burn; i++)); do :; done  # CPU time
  cat exp/dummy/b.txt > exp/dummy/c.txt
}}
run_stage 0 "make a" --out exp/dummy/a.txt --sig "size=$size" -- make_a
run_stage 1 "make b" --in exp/dummy/a.txt --out exp/dummy/b.txt -- make_b
run_stage 2 "make c" --in exp/dummy/b.txt --out exp/dummy/c.txt -- make_c
finish_recipe
"""


def _dummy_recipe(tmp_path: Path, name: str, text: str):
    """``recipes/<name>/run.sh`` holding ``text`` (stages.sh filled in), and a function that runs it into ``work/``."""
    run = tmp_path / "recipes" / name / "run.sh"
    run.parent.mkdir(parents=True)
    run.write_text(text.format(stages=RECIPES / "common" / "stages.sh"))
    run.chmod(0o755)
    work = tmp_path / "work"

    def invoke(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "TTS_ADAPT_WORK": str(work)}
        return subprocess.run([str(run), *args], env=env, capture_output=True, text=True, timeout=60)

    invoke.work = work
    return invoke


@pytest.fixture
def recipe(tmp_path):
    invoke = _dummy_recipe(tmp_path, "dummy", DUMMY)
    work = invoke.work
    invoke.trace = lambda: (work / "exp/dummy/trace").read_text().split() if (work / "exp/dummy/trace").exists() else []
    invoke.reset_trace = lambda: (work / "exp/dummy/trace").unlink(missing_ok=True)
    return invoke


def test_all_stages_run_then_skip_when_up_to_date(recipe):
    first = recipe()
    assert first.returncode == 0, first.stderr
    assert recipe.trace() == ["ran0", "ran1", "ran2"]
    assert (recipe.work / "exp/dummy/c.txt").read_text() == "a1\n"
    log = (recipe.work / "exp/dummy/logs/stage1.log").read_text()
    assert "b says hello" in log and "# stage 1: make b" in log
    assert "b says hello" in first.stdout  # tee'd to the terminal too
    assert (recipe.work / "exp/dummy/stamps/stage2.done").exists()

    recipe.reset_trace()
    second = recipe()
    assert second.returncode == 0
    assert recipe.trace() == []
    assert second.stderr.count("up to date, skipped") == 3


def test_newer_input_reruns_that_stage_and_the_ones_after(recipe):
    assert recipe().returncode == 0
    recipe.reset_trace()
    past = time.time() - 100
    for path in (recipe.work / "exp/dummy").rglob("*"):
        os.utime(path, (past, past))
    os.utime(recipe.work / "exp/dummy/a.txt", (past + 50, past + 50))  # edited after stage 1 ran
    assert recipe().returncode == 0
    assert recipe.trace() == ["ran1", "ran2"]  # b is redone, so c (fed by b) is too; a is not
    recipe.reset_trace()
    assert recipe().returncode == 0
    assert recipe.trace() == []


def test_changed_option_reruns_the_stage_that_records_it(recipe):
    assert recipe().returncode == 0
    recipe.reset_trace()
    assert recipe("--size", "2", "--stop-stage", "0").returncode == 0
    assert recipe.trace() == ["ran0"]
    assert (recipe.work / "exp/dummy/a.txt").read_text() == "a2\n"


def test_missing_output_reruns_the_stage(recipe):
    assert recipe().returncode == 0
    recipe.reset_trace()
    (recipe.work / "exp/dummy/b.txt").unlink()
    assert recipe("--stop-stage", "1").returncode == 0
    assert recipe.trace() == ["ran1"]


def test_stage_range(recipe):
    result = recipe("--stage", "0", "--stop-stage", "1")
    assert result.returncode == 0
    assert recipe.trace() == ["ran0", "ran1"]
    assert not (recipe.work / "exp/dummy/c.txt").exists()
    recipe.reset_trace()
    assert recipe("--stage=2").returncode == 0
    assert recipe.trace() == ["ran2"]


def test_force_reruns_up_to_date_stages(recipe):
    assert recipe().returncode == 0
    recipe.reset_trace()
    assert recipe("--stage", "1", "--stop-stage", "1", "--force", "true").returncode == 0
    assert recipe.trace() == ["ran1"]


def test_failing_command_stops_the_stage_and_the_run(recipe):
    result = recipe("--fail-in", "1")
    assert result.returncode != 0
    # set -e holds inside the stage: nothing after the failing command ran, no later stage ran
    assert recipe.trace() == ["ran0", "ran1"]
    assert not (recipe.work / "exp/dummy/b.txt").exists()
    assert not (recipe.work / "exp/dummy/stamps/stage1.done").exists()
    assert "stage 1: FAILED" in result.stderr and "exp/dummy/logs/stage1.log" in result.stderr
    # fixed, the run resumes at the failed stage
    recipe.reset_trace()
    assert recipe().returncode == 0
    assert recipe.trace() == ["ran1", "ran2"]


def test_each_finished_stage_adds_its_time(recipe):
    """stages.tsv, read by benchmarks/main_job.py: a failed or skipped stage adds nothing."""
    assert recipe("--fail-in", "1").returncode != 0
    assert recipe("--burn", "300000").returncode == 0
    assert recipe().returncode == 0  # everything up to date
    rows = [line.split("\t") for line in (recipe.work / "exp/dummy/stages.tsv").read_text().splitlines()]
    assert rows[0] == ["stage", "seconds", "cpu_seconds", "finished", "load", "title", "beside"]
    assert [(row[0], row[5], row[6]) for row in rows[1:]] == [("0", "make a", ""), ("1", "make b", ""),
                                                              ("2", "make c", "")]
    assert all(re.fullmatch(r"\d+\.\d", row[1]) and re.fullmatch(r"\d+\.\d", row[2]) for row in rows[1:])
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[3]) for row in rows[1:])
    burnt = rows[3]
    assert 0.2 <= float(burnt[2]) <= float(burnt[1]) + 0.1, burnt  # the loop's CPU, within its wall time


def test_unknown_option_and_help(recipe):
    bad = recipe("--sise", "3")
    assert bad.returncode == 2 and "unknown option --sise" in bad.stderr
    assert recipe("--stage", "x").returncode == 2
    helped = recipe("--help")
    assert helped.returncode == 0 and "A dummy recipe for the tests." in helped.stdout


@pytest.mark.parametrize("name", ["..", ".", "../x", "a/b", "", "-x"])
def test_the_recipe_name_is_a_plain_name_never_a_path(recipe, name):
    (recipe.work / "symbols").mkdir(parents=True)
    refused = recipe("--recipe", name)
    assert refused.returncode == 2 and "--recipe takes a plain name" in refused.stderr
    assert sorted(p.name for p in recipe.work.iterdir()) == ["symbols"]  # nothing made, nothing removed


def _up_to_date(tmp_path: Path, *args: str) -> bool:
    script = f". {RECIPES / 'common' / 'stages.sh'}; up_to_date \"$@\""
    env = {**os.environ, "TTS_ADAPT_WORK": str(tmp_path)}
    return subprocess.run(["bash", "-c", script, "up_to_date", *args], env=env).returncode == 0


def test_up_to_date_helper(tmp_path):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    folder = tmp_path / "inputs"
    folder.mkdir()
    old.write_text("x")
    new.write_text("y")
    (folder / "deep.txt").write_text("z")
    os.utime(old, (1_000, 1_000))
    os.utime(folder / "deep.txt", (1_000, 1_000))
    os.utime(folder, (1_000, 1_000))
    assert _up_to_date(tmp_path, str(new), "--", str(old))
    assert not _up_to_date(tmp_path, str(old), "--", str(new))
    assert _up_to_date(tmp_path, str(new), "--", str(folder))
    os.utime(folder / "deep.txt")  # a file inside an input folder changed
    os.utime(new, (2_000, 2_000))
    assert not _up_to_date(tmp_path, str(new), "--", str(folder))
    assert not _up_to_date(tmp_path, str(tmp_path / "missing"), "--", str(old))
    assert not _up_to_date(tmp_path, str(new), "--", str(tmp_path / "missing"))
    assert _up_to_date(tmp_path, str(new), "--")


BESIDE = """\
#!/usr/bin/env bash
# A dummy recipe with a stage beside the others.
recipe=beside
fail_in=""
burn=0
hold=0
hold_front=0
. {stages}
parse_options "$@"

make_a() {{ echo a > exp/beside/a.txt; echo ran0 >> exp/beside/trace; }}
make_d() {{
  echo "d began $(cut -d' ' -f19,41 /proc/$BASHPID/stat)" >> exp/beside/trace  # its nice value, its policy
  echo "d says hello"
  for ((i = 0; i < burn; i++)); do :; done  # CPU time
  sleep "$hold"  # tts_adapt_beside_marker
  if [[ $fail_in == 3 ]]; then false; fi
  cat exp/beside/a.txt > exp/beside/d.txt
  echo "d ended" >> exp/beside/trace
}}
make_b() {{
  echo ran1 >> exp/beside/trace
  if [[ $fail_in == 1 ]]; then false; fi
  sleep "$hold_front"
  echo b > exp/beside/b.txt
}}
make_e() {{ cat exp/beside/d.txt exp/beside/b.txt > exp/beside/e.txt; echo ran4 >> exp/beside/trace; }}
run_stage 0 "make a" --out exp/beside/a.txt -- make_a
run_stage_beside 3 "make d" --in exp/beside/a.txt --out exp/beside/d.txt -- make_d
run_stage 1 "make b" --in exp/beside/a.txt --out exp/beside/b.txt -- make_b
wait_beside
run_stage 4 "make e" --in exp/beside/d.txt --in exp/beside/b.txt --out exp/beside/e.txt -- make_e
finish_recipe
"""


@pytest.fixture
def beside(tmp_path):
    invoke = _dummy_recipe(tmp_path, "beside", BESIDE)
    invoke.exp = invoke.work / "exp" / "beside"
    invoke.trace = lambda: (invoke.exp / "trace").read_text().splitlines()
    return invoke


def test_a_stage_beside_runs_while_the_next_ones_do_at_the_lowest_priority(beside):
    result = beside("--hold", "1")
    assert result.returncode == 0, result.stderr
    trace = beside.trace()
    # stage 1 ran while stage 3 held on; stage 4, after the wait, read what stage 3 made
    assert trace.index("ran1") < trace.index("d ended") < trace.index("ran4"), trace
    assert "d began 19 5" in trace  # nice 19, SCHED_IDLE (5)
    assert (beside.exp / "e.txt").read_text() == "a\nb\n"
    # its log is written, not shown: it would cut into the stage in front
    assert "d says hello" in (beside.exp / "logs/stage3.log").read_text()
    assert "d says hello" not in result.stdout + result.stderr
    assert "stage 3: make d (beside the next stages, at the lowest priority; log: " in result.stderr
    assert "stage 3: done" in result.stderr
    # up to date, it is skipped like any stage
    again = beside()
    assert again.returncode == 0 and "stage 3: make d - up to date, skipped" in again.stderr


def test_a_failed_stage_beside_stops_the_recipe_where_it_waits(beside):
    result = beside("--fail-in", "3")
    assert result.returncode != 0
    assert "stage 3: FAILED" in result.stderr and "exp/beside/logs/stage3.log" in result.stderr
    assert "ran1" in beside.trace() and "ran4" not in beside.trace()  # the stage in front finished, none after
    assert not (beside.exp / "stamps/stage3.done").exists()
    assert beside().returncode == 0 and (beside.exp / "e.txt").is_file()  # fixed, the run resumes


def test_a_recipe_that_fails_stops_the_stage_beside_it(beside):
    began = time.monotonic()
    result = beside("--fail-in", "1", "--hold", "30")
    assert result.returncode != 0 and "stage 1: FAILED" in result.stderr
    assert time.monotonic() - began < 20  # it did not wait for the stage beside
    left = subprocess.run(["pgrep", "-f", f"sleep 30"], capture_output=True, text=True).stdout.split()
    mine = [pid for pid in left if str(beside.work) in Path(f"/proc/{pid}/cwd").resolve().as_posix()]
    assert not mine, "the stage beside kept running after the recipe ended"
    assert "d ended" not in beside.trace()


def test_a_stage_beside_records_its_own_time(beside):
    assert beside("--burn", "300000").returncode == 0
    rows = [line.split("\t") for line in (beside.exp / "stages.tsv").read_text().splitlines()][1:]
    by_stage = {row[0]: row for row in rows}
    assert set(by_stage) == {"0", "1", "3", "4"}
    assert [row[6] for row in rows] == ["yes" if row[0] == "3" else "" for row in rows]
    assert float(by_stage["3"][2]) >= 0.2, by_stage["3"]  # its loop's CPU, counted where it ran...
    assert float(by_stage["1"][2]) < 0.2 and float(by_stage["4"][2]) < 0.2, rows  # ...and nowhere else


def test_a_stage_beside_that_ends_during_another_keeps_its_cpu_to_itself(beside):
    """bash reaps a background stage whenever it ends: its CPU once went to the stage in front."""
    assert beside("--burn", "300000", "--hold-front", "4").returncode == 0
    rows = {row[0]: row for row in (line.split("\t") for line in (beside.exp / "stages.tsv").read_text().splitlines())}
    assert "d ended" in beside.trace() and float(rows["1"][1]) >= 4  # it ended while stage 1 held on
    assert float(rows["3"][2]) >= 0.2 and float(rows["1"][2]) < 0.2, rows


@pytest.mark.parametrize("while_", ["waiting for it", "in the stage in front"])
def test_ctrl_c_stops_the_recipe_and_the_stage_beside_it(beside, while_):
    """Ctrl-C reaches the whole foreground process group; a stage in the background ignores it."""
    import signal

    env = {**os.environ, "TTS_ADAPT_WORK": str(beside.work)}
    holds = ["--hold", "30"] + (["--hold-front", "30"] if while_ == "in the stage in front" else [])
    run = beside.work.parent / "recipes" / "beside" / "run.sh"
    # as from a terminal: a test run started in the background (nohup, some CI runners) passes SIGINT on ignored,
    # and a shell started so can never catch it
    recipe = subprocess.Popen([str(run), *holds], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 20
    log = beside.exp / "logs" / "stage3.log"
    while not (log.is_file() and "d says hello" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the front stage (or the wait) under way
    began = time.monotonic()
    os.killpg(recipe.pid, signal.SIGINT)
    _, stderr = recipe.communicate(timeout=20)
    assert recipe.returncode != 0 and time.monotonic() - began < 10, stderr
    settled = time.monotonic() + 3  # a process signalled as the recipe exits may still be on its way out
    while (left := subprocess.run(["pgrep", "-s", str(recipe.pid)], capture_output=True, text=True).stdout.split()) \
            and time.monotonic() < settled:
        time.sleep(0.1)
    assert not left, f"still running 3 s after Ctrl-C: {left}"
    assert "d ended" not in beside.trace() and "ran4" not in beside.trace()
