"""tts-adapt prepare: the command line around prepare()."""

from __future__ import annotations

import json

import pytest
from tests.cli_testing import run_cli as cli
from tests.corpus.corpus_testdata import good_items, write_voice

from tts_adapt.cli.main import main
from tts_adapt.corpus.prepare import PrepareSummary
from tts_adapt.corpus.prepared import read_info


@pytest.fixture
def ljspeech(tmp_path):
    root = tmp_path / "lj"
    lines = good_items(root, count=3)
    for i, line in enumerate(lines):  # move into LJSpeech layout: wavs/<id>.wav
        audio = line.split("|")[0]
        (root / "wavs" / audio).rename(root / "wavs" / f"LJ{i}.wav")
    (root / "metadata.csv").write_text("".join(f"LJ{i}|Raw {i}|Item number {i}.\n" for i in range(3)))
    return root / "metadata.csv"


def test_json_summary_and_default_speaker_from_output_name(ljspeech, tmp_path, capsys):
    code, out, _ = cli(["prepare", "--metadata", ljspeech, "--output", tmp_path / "voice_a", "--format", "json"], capsys)
    assert code == 0
    document = json.loads(out)
    summary = PrepareSummary.from_json(document, "prepare --format json")
    assert summary.to_json() == document  # every key read back, none renamed on one side only
    assert summary.kept == 3 and summary.skipped == 0
    assert list(summary.speakers) == ["voice_a"] and summary.speakers["voice_a"].items == 3
    assert summary.splits["train"] + summary.splits["val"] == 3


def test_human_summary_lists_skip_reasons(corpus, symbols_file, tmp_path, capsys):
    args = ["prepare", "--metadata", corpus, "--wavs", corpus.parent / "wavs", "--output", tmp_path / "out",
            "--symbols", symbols_file, "--max-seconds", "3"]
    code, out, _ = cli(args, capsys)
    assert code == 0
    assert "kept 6 items" in out and "skipped 8" in out
    for reason in ("unencodable text", "too long", "missing audio", "duplicate id"):
        assert reason in out
    code, out, _ = cli(args, capsys)
    assert code == 0 and "reused 6" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--cleaners", "english,klingon"], "klingon"),
    (["--speaker", "x"], "--speaker"),
    (["--val-fraction", "1.5"], "val-fraction"),
    (["--jobs", "0"], "jobs"),
])
def test_bad_options_exit_2_with_one_line(corpus, tmp_path, capsys, extra, message):
    code, _, err = cli(["prepare", "--metadata", corpus, "--output", tmp_path / "out", *extra], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_config_and_missing_metadata_exit_2(corpus, tmp_path, capsys):
    config = tmp_path / "audio.yaml"
    config.write_text("audio:\n  fmax: 20000\n")
    code, _, err = cli(["prepare", "--metadata", corpus, "--output", tmp_path / "o", "--config", config], capsys)
    assert code == 2 and "fmax" in err
    code, _, err = cli(["prepare", "--metadata", tmp_path / "none.csv", "--output", tmp_path / "o"], capsys)
    assert code == 2 and "none.csv" in err


def test_help_teaches_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["prepare", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out and "tts-adapt prepare --metadata" in out and "--val-fraction" in out


def test_nothing_usable_exits_2_after_the_summary(tmp_path, capsys):
    (tmp_path / "wavs").mkdir()
    (tmp_path / "metadata.csv").write_text("a|One.\nb|Two.\n")
    code, out, err = cli(["prepare", "--metadata", tmp_path / "metadata.csv", "--output", tmp_path / "out"], capsys)
    assert code == 2 and "no item" in err
    assert "missing audio" in out


def test_like_a_model_takes_its_audio_settings_cleaners_and_table(ljspeech, tmp_path, capsys):
    from tts_adapt.audio.config import AudioConfig
    from tts_adapt.manifest import Manifest, write_manifest

    model = tmp_path / "model"
    model.mkdir()
    audio = AudioConfig(n_mels=40, fmax=7000.0)
    write_manifest(model, Manifest(dialect="own", symbols=tuple("Itemnubr .012"), cleaners=("basic",), audio=audio))
    code, out, err = cli(["prepare", "--metadata", ljspeech, "--output", tmp_path / "out", "--like", model,
                          "--format", "json"], capsys)
    assert code == 0, err
    info = read_info(tmp_path / "out")
    assert info.audio == audio and info.cleaners == ("basic",)
    assert info.symbols == tuple("Itemnubr .012") and _summary(out).kept == 3
    table = tmp_path / "voice.txt"
    table.write_text("".join(f"{s}\n" for s in "Itemnubr .012x"))  # the voice's own: the model's and one more
    assert cli(["prepare", "--metadata", ljspeech, "--output", tmp_path / "own", "--like", model, "--symbols", table],
               capsys)[0] == 0
    assert read_info(tmp_path / "own").symbols == tuple("Itemnubr .012x")


@pytest.mark.parametrize(("extra", "message"), [
    (["--cleaners", "english"], "--like takes the cleaners from"),
    (["--config", "audio.yaml"], "--like takes the audio settings from"),
])
def test_like_refuses_settings_it_takes_from_the_model(ljspeech, tmp_path, capsys, extra, message):
    code, _, err = cli(["prepare", "--metadata", ljspeech, "--output", tmp_path / "out",
                        "--like", tmp_path, *extra], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(["prepare", "--metadata", ljspeech, "--output", tmp_path / "out", "--like", tmp_path], capsys)
    assert code == 2 and "no manifest.json with audio settings" in err


def test_filesystem_oddities_under_the_audio_folder_are_skipped_with_their_reasons(tmp_path, capsys):
    import os

    wavs = tmp_path / "wavs"
    write_voice(wavs / "good.wav", 16000, seconds=1.0)
    (wavs / "folder.wav").mkdir()
    os.mkfifo(wavs / "pipe.wav")
    (wavs / "loop.wav").symlink_to(wavs / "loop.wav")
    (tmp_path / "m.csv").write_text("".join(f"{n}|Said well.\n" for n in ("good", "folder", "pipe", "loop")))
    code, out, err = cli(["prepare", "--metadata", tmp_path / "m.csv", "--wavs", wavs, "--output", tmp_path / "p",
                          "--format", "json"], capsys)
    assert code == 0, err
    summary = _summary(out)
    skipped = {s.id: s.reason for s in summary.skipped_items}
    assert skipped == {"folder": "unreadable audio", "pipe": "unreadable audio", "loop": "missing audio"}
    assert summary.skipped_by_reason() == {"unreadable audio": 2, "missing audio": 1}


def test_a_nul_byte_in_the_metadata_is_one_line_naming_it(tmp_path, capsys):
    (tmp_path / "wavs").mkdir()
    (tmp_path / "m.csv").write_bytes(b"a|Fine.\nb\x00c|Not fine.\n")
    code, _, err = cli(["prepare", "--metadata", tmp_path / "m.csv", "--wavs", tmp_path / "wavs", "--output",
                        tmp_path / "p"], capsys)
    assert code == 2 and err.strip().endswith("m.csv:2: holds a NUL byte (is this a text file?)")
    assert len(err.strip().splitlines()) == 1


def _summary(out: str) -> PrepareSummary:
    """What ``prepare --format json`` printed, read as scripts read it."""
    return PrepareSummary.from_json(json.loads(out), "prepare --format json")
