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


@pytest.fixture
def recipe(tmp_path):
    run = tmp_path / "recipes" / "dummy" / "run.sh"
    run.parent.mkdir(parents=True)
    run.write_text(DUMMY.format(stages=RECIPES / "common" / "stages.sh"))
    run.chmod(0o755)
    work = tmp_path / "work"

    def invoke(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "TTS_ADAPT_WORK": str(work)}
        return subprocess.run([str(run), *args], env=env, capture_output=True, text=True, timeout=60)

    invoke.work = work
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
    assert rows[0] == ["stage", "seconds", "cpu_seconds", "finished", "load", "title"]
    assert [(row[0], row[5]) for row in rows[1:]] == [("0", "make a"), ("1", "make b"), ("2", "make c")]
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
