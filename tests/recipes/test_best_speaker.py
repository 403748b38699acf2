"""recipes/common/best_speaker.py: the speaker suggest-speaker ranked first, read through its typed document."""

from __future__ import annotations

import subprocess
import sys

from tests.recipes.recipe_modules import RECIPES

from tts_adapt.scoring.speaker_ranking import RankedSpeaker, SpeakerRanking

SCRIPT = RECIPES / "common" / "best_speaker.py"


def best(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, path], capture_output=True, text=True)


def test_the_first_ranked_speaker_by_name_or_row(tmp_path):
    path = tmp_path / "speakers.json"
    for first, said in ((RankedSpeaker(1, 3, "slt", 0.41), "slt"), (RankedSpeaker(1, 2, None, 0.41), "2")):
        ranking = SpeakerRanking("pretrained", "prepared", ("u1",), (), (first, RankedSpeaker(2, 0, "awb", 0.57)))
        path.write_text(ranking.to_text(), encoding="utf-8")
        assert best(path).stdout == f"{said}\n"


def test_a_ranking_that_drifted_stops_the_recipe_naming_the_file(tmp_path):
    path = tmp_path / "speakers.json"
    path.write_text('{"best": "slt", "ranking": [{"rank": 1, "id": 3, "name": "slt"}]}', encoding="utf-8")
    done = best(path)
    assert done.returncode == 1 and done.stderr.startswith(f"{path}: missing ")
