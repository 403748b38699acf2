"""recipes/pretrain_multispeaker/run.sh on a tiny corpus: stages 0-2 through the real commands."""

from __future__ import annotations

import os
import subprocess

import pandas as pd
import pytest
import yaml

from tests.recipes.recipe_modules import RECIPES, debian_installed

EXAMPLES = ["the cat sat quietly on the warm mat", "she walked slowly to the railway station",
            "they painted the old fence bright green", "we heard the birds singing at dawn",
            "he forgot his umbrella on the bus again", "the river flooded the lower fields last spring",
            "a small boat drifted across the calm lake"]

PACKAGES = ("flite", "festival", "festvox-kdlpc16k", "espeak-ng", "wordnet-base", "fortunes-min")
pytestmark = pytest.mark.skipif(not debian_installed(*PACKAGES),
                                reason=f"stage 0 needs the Debian packages {' '.join(PACKAGES)}")


def test_tiny_corpus_to_features(tmp_path):
    wordnet, fortunes = tmp_path / "wordnet", tmp_path / "fortunes"
    wordnet.mkdir()
    fortunes.mkdir()
    (wordnet / "data.noun").write_text(
        "".join(f"0000000{i} 00 n 01 x 0 | gloss; \"{e}\"\n" for i, e in enumerate(EXAMPLES)), encoding="latin-1")
    (fortunes / "fortunes").write_text("You will have a pleasant surprise very soon.\n%\n")
    config = tmp_path / "corpus.yaml"
    config.write_text(yaml.safe_dump({
        "sentences_per_speaker": 3, "heldout_sentences": 2, "seed": 0, "min_words": 5, "max_words": 20,
        "jobs": 2, "sources": {"wordnet": str(wordnet), "fortunes": str(fortunes)},
        "speakers": {"awb": {"engine": "flite", "voice": "awb"},
                     "us_f2": {"engine": "espeak-ng", "voice": "en-us+f2"}}}))
    env = {**os.environ, "TTS_ADAPT_WORK": str(tmp_path / "work")}
    command = [str(RECIPES / "pretrain_multispeaker" / "run.sh"), "--stop-stage", "2", "--corpus-config", "corpus.yaml"]

    first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert first.returncode == 0, first.stderr[-3000:] + first.stdout[-3000:]
    exp = tmp_path / "work" / "exp" / "pretrain"
    table = (exp / "symbols.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert " " in table and "." in table and {"ð", "æ", "ˈ"} <= set(table)  # phonemes: 'the cat', stress
    assert "c" not in table  # spelling is gone: the model reads sounds
    items = pd.read_csv(exp / "prepared" / "items.csv")
    assert items["cleaned"].str.contains("ˈ").all()
    assert sorted(items["speaker"].unique()) == ["awb", "us_f2"] and len(items) == 6
    assert all((exp / "prepared" / "mels" / f"{i}.npy").is_file() for i in items["id"])
    heldout = (exp / "corpus" / "heldout.txt").read_text().splitlines()
    assert not set(heldout) & set(items["text"])
    for stage in range(3):
        assert f"stage {stage}: done" in first.stderr

    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stderr.count("up to date, skipped") == 3
