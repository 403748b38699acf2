"""recipes/from_tf1/run.sh: a TF1 checkpoint with RTVC's names imported, its speaker vector folded and verified."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.recipes.recipe_modules import RECIPES
from tts_adapt.importing.convert import ImportReport
from tts_adapt.scoring.equivalence import EquivalenceResult


def run(work, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TTS_ADAPT_WORK": str(work)}
    return subprocess.run([str(RECIPES / "from_tf1" / "run.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=1800)


@pytest.mark.slow
def test_import_fold_and_verify_stages(tmp_path):
    result = run(tmp_path, "--stop-stage", "3")
    assert result.returncode == 0, result.stderr[-4000:]
    exp = tmp_path / "exp" / "from_tf1"
    plan = ImportReport.read(exp / "plan.json").plan
    assert plan.architecture == "rtvc" and plan.summary.source_tensors == len(plan.tensors)
    verify = EquivalenceResult.read(exp / "verify.json")
    assert verify.ok and verify.max_rel_diff <= 1e-5 and verify.speaker.vector.endswith("speaker.npy")
    again = run(tmp_path, "--stop-stage", "3")
    assert again.returncode == 0 and again.stderr.count("up to date, skipped") == 4  # nothing reruns
