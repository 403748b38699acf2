"""The example voice end to end: recipes/allison/run.sh, every stage, into a temporary folder (slow)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.recipes.recipe_modules import REPO, RECIPES, debian_installed

from tts_adapt.evaluation.results import EvaluationReport
from tts_adapt.scoring.equivalence import EquivalenceResult
from tts_adapt.vocoder.bundle import read_card

PRETRAINED = REPO / "data" / "pretrained" / "multispeaker"
PACKAGES = ("asterisk-core-sounds-en", "asterisk-core-sounds-en-g722")


@pytest.mark.slow
@pytest.mark.skipif(not (PRETRAINED / "manifest.json").is_file(), reason="no bundled pretrained model yet")
@pytest.mark.skipif(not (os.geteuid() == 0 or debian_installed(*PACKAGES)),
                    reason="needs the Debian packages asterisk-core-sounds-en asterisk-core-sounds-en-g722")
def test_allison_recipe_end_to_end(tmp_path):
    env = {**os.environ, "TTS_ADAPT_WORK": str(tmp_path)}
    command = [str(RECIPES / "allison" / "run.sh"), "--steps", "20", "--vocoder-steps", "20", "--samples", "2"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-4000:]
    exp = tmp_path / "exp" / "allison"
    produced = [line.strip() for line in result.stderr.split("produced:")[1].splitlines() if line.startswith("  ")]
    assert produced[0] == str(exp / "report" / "index.html")  # the report is listed first
    page = (exp / "report" / "index.html").read_text(encoding="utf-8")
    assert 'class="note"' not in page  # every section has its content
    assert page.count("<audio") == 6  # 2 sentences x (recording, before, after)
    verify = EquivalenceResult.read(exp / "verify.json")
    assert verify.ok and verify.max_rel_diff <= 1e-5  # the folded model computes what the source did
    for stage in range(11):
        assert (exp / "stamps" / f"stage{stage}.done").is_file()
    # the adapted model is scored after the vocoder stage (not beside: --beside true), and the report has both models'
    assert result.stderr.index("stage 7: done") < result.stderr.index("stage 8: samples and scores before fine-tuning (log:")
    assert EvaluationReport.read(exp / "samples" / "evaluate_before.json").checkpoint.endswith("adapted")
    if (REPO / "data" / "pretrained" / "vocoder" / "vocoder.json").is_file():  # the voice's vocoder renders "after"
        assert read_card(exp / "vocoder").steps > 0
        after = EvaluationReport.read(exp / "samples" / "evaluate_after.json").intelligibility
        assert after.vocoder.startswith("vocoder allison/vocoder")
