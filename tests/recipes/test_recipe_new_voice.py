"""`tts-adapt new-voice`: a recipe scaffolded from recipes/TEMPLATE for LJSpeech-layout data."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf
from tests.cli_testing import run_cli
from tests.recipes.recipe_modules import RECIPES, REPO

from tts_adapt.audio.config import AudioConfig
from tts_adapt.cli.new_voice import Scaffold
from tts_adapt.manifest import Manifest, write_manifest


@pytest.fixture
def voice(tmp_path):
    data = tmp_path / "my data"  # a space in the path: the scaffold must quote it
    (data / "wavs").mkdir(parents=True)
    lines = ["utt1|Hello there, world.|hello there, world.", "utt2|It costs 5 euros.|it costs five euros.",
             "utt3|No audio for this one.|no audio for this one."]
    (data / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("utt1", "utt2"):
        sf.write(data / "wavs" / f"{name}.wav", np.zeros(8000, dtype=np.float32), 16000)
    return data


def _new_voice(capsys, *args) -> tuple[int, str, str]:
    return run_cli(["new-voice", *args], capsys)


def _scaffold_and_command(capsys, data, tmp_path, stop_stage: int, **manifest) -> tuple[list[str], dict]:
    """Scaffold 'myvoice' for ``data`` beside a stand-in pretrained manifest; the recipe's command and env."""
    assert _new_voice(capsys, "myvoice", "--metadata", data / "metadata.csv", "--wavs", data / "wavs",
                      "--output", tmp_path)[0] == 0
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    write_manifest(pretrained, Manifest(dialect="own", symbols=tuple(" abcdefghijklmnopqrstuvwxyz.,"),
                                        audio=AudioConfig(), **{key: tuple(value) for key, value in manifest.items()}))
    env = {**os.environ, "TTS_ADAPT_WORK": str(tmp_path / "work")}
    return [str(tmp_path / "myvoice" / "run.sh"), "--stop-stage", str(stop_stage), "--pretrained", str(pretrained)], env


def test_scaffold_fills_in_the_voice(voice, tmp_path, capsys):
    out = tmp_path / "recipes"
    code, stdout, _ = _new_voice(capsys, "myvoice", "--metadata", voice / "metadata.csv", "--wavs",
                                 voice / "wavs", "--output", out, "--format", "json")
    assert code == 0
    printed = json.loads(stdout)
    report = Scaffold.from_json(printed, "new-voice --format json")  # as a script reads it back
    recipe = out / "myvoice"
    assert report == Scaffold(recipe=str(recipe), items=3, with_audio=2, missing_audio=("utt3",))
    assert report.to_json() == printed  # nothing printed that the reader drops, "run" included
    assert report.run == str(recipe / "run.sh")
    assert (recipe / "run.sh").read_bytes() == (RECIPES / "TEMPLATE" / "run.sh").read_bytes()  # never edited
    assert os.access(recipe / "run.sh", os.X_OK)
    assert not (recipe / "conf" / "voice.sh.in").exists()
    assert _settings(recipe) == ["myvoice", str(voice / "metadata.csv"), str(voice / "wavs"),
                                 str(RECIPES / "common"),  # outside the toolkit's recipes/: an absolute path
                                 "Voice: myvoice (describe the recordings and their licence here)."]
    assert (recipe / "conf" / "sentences.txt").read_text() == (RECIPES / "TEMPLATE/conf/sentences.txt").read_text()
    assert subprocess.run(["bash", "-n", str(recipe / "run.sh")]).returncode == 0
    # the data is referred to, never copied or written
    assert sorted(p.name for p in voice.iterdir()) == ["metadata.csv", "wavs"]


def test_scaffolded_recipe_runs_its_first_stage(voice, tmp_path, capsys):
    command, env = _scaffold_and_command(capsys, voice, tmp_path, 0, speakers=["s1", "s2"])
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    table = (tmp_path / "myvoice" / "conf" / "symbols.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert table[:29] == list(" abcdefghijklmnopqrstuvwxyz.,")  # the pretrained order is kept
    assert table[29:] == []  # numbers were expanded to words by the cleaners: nothing to append
    assert (tmp_path / "work" / "exp" / "myvoice" / "logs" / "stage0.log").is_file()


@pytest.mark.parametrize("name", ["My Voice", "../escape", "", "Upper", "a.b"])
def test_bad_names_are_refused(voice, tmp_path, capsys, name):
    code, _, err = _new_voice(capsys, name, "--metadata", voice / "metadata.csv", "--wavs", voice / "wavs",
                              "--output", tmp_path)
    assert code == 2 and "voice name" in err


def test_existing_recipe_is_never_overwritten(voice, tmp_path, capsys):
    (tmp_path / "myvoice").mkdir()
    (tmp_path / "myvoice" / "notes.txt").write_text("mine")
    code, _, err = _new_voice(capsys, "myvoice", "--metadata", voice / "metadata.csv", "--wavs", voice / "wavs",
                              "--output", tmp_path)
    assert code == 2 and "not empty" in err
    assert (tmp_path / "myvoice" / "notes.txt").read_text() == "mine"


def test_data_without_audio_is_refused(voice, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _new_voice(capsys, "myvoice", "--metadata", voice / "metadata.csv", "--wavs", empty,
                              "--output", tmp_path)
    assert code == 2 and "none of the 3 utterances has its audio" in err
    assert not (tmp_path / "myvoice").exists()
    code, _, err = _new_voice(capsys, "myvoice", "--metadata", voice / "missing.csv", "--wavs", voice / "wavs",
                              "--output", tmp_path)
    assert code == 2 and "no such metadata file" in err


def test_audio_outside_the_folder_is_refused_without_naming_a_flag_new_voice_lacks(voice, tmp_path, capsys):
    metadata = voice / "metadata.csv"
    metadata.write_text("utt1|Hello.\n../elsewhere/utt2|Out of reach.\n", encoding="utf-8")
    code, out, err = _new_voice(capsys, "myvoice", "--metadata", metadata, "--wavs", voice / "wavs",
                                "--output", tmp_path)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "'../elsewhere/utt2' lies outside" in err and "--wavs" in err and "--allow-outside-audio" not in err
    assert not (tmp_path / "myvoice").exists()


def _settings(recipe) -> list[str]:
    """recipe, metadata, wavs, common and about as bash reads them from the recipe's conf/voice.sh."""
    return subprocess.run(["bash", "-c", '. "$1"; printf "%s\\n" "$recipe" "$metadata" "$wavs" "$common" "$about"',
                           "-", str(recipe / "conf" / "voice.sh")],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def test_paths_holding_the_template_placeholders_are_kept_as_they_are(tmp_path, capsys):
    data = tmp_path / "${name} and $wavs 'quoted'"
    (data / "wavs").mkdir(parents=True)
    (data / "metadata.csv").write_text("utt1|Hello there.\n", encoding="utf-8")
    sf.write(data / "wavs" / "utt1.wav", np.zeros(8000, dtype=np.float32), 16000)
    assert _new_voice(capsys, "myvoice", "--metadata", data / "metadata.csv", "--wavs", data / "wavs",
                      "--output", tmp_path / "recipes")[0] == 0
    assert _settings(tmp_path / "recipes" / "myvoice")[:3] == ["myvoice", str(data / "metadata.csv"),
                                                               str(data / "wavs")]


def test_default_location_is_the_toolkits_recipes_folder():
    from tts_adapt.cli.new_voice import toolkit_recipes_dir

    assert toolkit_recipes_dir() == REPO / "recipes"


def test_prepare_stage_reruns_when_the_audio_changes_under_an_old_date(tmp_path, capsys):
    """A re-recorded file copied with its old modification time (cp -p, rsync -t) still reruns stage 1."""
    from tests.audio.audio_testdata import write_voice

    data = tmp_path / "data"
    lines = []
    for i in range(3):
        write_voice(data / "wavs" / f"u{i}.wav", 16000, seconds=1.0, f0=120 + 30 * i, seed=i)
        lines.append(f"u{i}|a voice said this.|a voice said this.")
    (data / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    command, env = _scaffold_and_command(capsys, data, tmp_path, 1, speakers=["s1"], cleaners=["english"])

    def run() -> str:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr + result.stdout
        return result.stderr

    run()
    assert "stage 1: prepare features - up to date, skipped" in run()
    wav = data / "wavs" / "u1.wav"
    old = wav.stat()
    write_voice(wav, 16000, seconds=1.2, f0=200, seed=9)  # re-recorded ...
    os.utime(wav, ns=(old.st_atime_ns, old.st_mtime_ns))  # ... and copied keeping the old date
    assert "stage 1: prepare features (log" in run()


def test_new_voice_never_imports_tensorflow(voice, tmp_path):
    """Scaffolding copies files and reads a CSV; TensorFlow's import would only add seconds to it."""
    import sys

    script = ("import sys; from tts_adapt.cli.main import main; "
              f"code = main(['new-voice', 'myvoice', '--metadata', {str(voice / 'metadata.csv')!r}, "
              f"'--wavs', {str(voice / 'wavs')!r}, '--output', {str(tmp_path / 'recipes')!r}]); "
              "sys.exit(10 if 'tensorflow' in sys.modules else code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "recipes" / "myvoice" / "run.sh").is_file()
