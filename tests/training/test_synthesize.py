import json

import numpy as np
import pytest
import soundfile as sf

from tests.cli_testing import run_cli
from tests.tiny_model import make_prepared
from tts_adapt.cli.main import main
from tts_adapt.cli.synthesize import SynthesisListing, SynthesisReport
from tts_adapt.errors import UserError
from tts_adapt.model.synthesis import speaker_of
from tts_adapt.manifest import read_manifest



@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    data = make_prepared(root / "data", speakers=("solo",))  # one voice: a single-speaker model
    assert main(["train", "--data", str(data), "--output", str(root / "exp"), "--preset", "tiny", "--steps", "1",
                 "--batch-size", "4", "--format", "json"]) == 0
    return root / "exp"


def test_synthesis_writes_a_wav_and_is_deterministic(checkpoint, tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        code, out, err = run_cli(["synthesize", checkpoint, "--text", "bad cafe", "--seed", "3",
                                  "--output", tmp_path / f"{name}.wav", "--mel-output", tmp_path / f"{name}.npy",
                                  "--alignment-output", tmp_path / f"{name}.png", "--max-seconds", "0.2",
                                  "--format", "json"], capsys)
        assert code == 0, err
        runs.append(_read(out, SynthesisReport))
    wav, rate = sf.read(tmp_path / "a.wav")
    assert rate == 16000 and wav.ndim == 1 and wav.size == runs[0].frames * 200 and np.abs(wav).max() > 0
    assert runs[0].frames <= 0.2 * 16000 / 200 + 3 and runs[0].speaker is None and runs[0].seed == 3
    assert runs[0].mel_output == str(tmp_path / "a.npy") and 0 <= runs[0].attention.focus <= 1
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert read_manifest(checkpoint).speakers == () and read_manifest(checkpoint).layout["sites"] == []


@pytest.mark.parametrize("args, message", [
    (["--text", "xyz!"], "cannot encode"),
    (["--text", "bad", "--speaker", "zed"], "single-speaker model"),
    (["--text", "bad", "--max-seconds", "-1"], "must be positive"),
])
def test_synthesis_errors_are_one_line(checkpoint, tmp_path, capsys, args, message):
    code, _, err = run_cli(["synthesize", checkpoint, "--output", tmp_path / "x.wav", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.wav").exists()


def test_speakers_resolve_by_name_or_id():
    speakers = ("ann", "bob", "7")
    assert speaker_of(speakers, None) == (0, "ann")
    assert speaker_of(speakers, "bob") == (1, "bob")
    assert speaker_of(speakers, "1") == (1, "bob")
    assert speaker_of(speakers, "7") == (2, "7")  # a name wins over an id
    with pytest.raises(UserError, match="speaker id 3 out of range.*0..2"):
        speaker_of(speakers, "3")


@pytest.mark.parametrize("outputs, message", [
    ({"--mel-output": "CKPT/manifest.json"}, "inside the input"),
    ({"--alignment-output": "OUT/a.wav"}, "are the same file"),
    ({"--mel-output": "CKPT/../exp/new.npy"}, "inside the input"),
])
def test_synthesis_never_writes_over_its_inputs_or_itself(checkpoint, tmp_path, capsys, outputs, message):
    manifest = (checkpoint / "manifest.json").read_bytes()
    extra = [value for option, path in outputs.items()
             for value in (option, path.replace("CKPT", str(checkpoint)).replace("OUT", str(tmp_path)))]
    code, _, err = run_cli(["synthesize", checkpoint, "--text", "bad", "--output", tmp_path / "a.wav", *extra], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (checkpoint / "manifest.json").read_bytes() == manifest and not (tmp_path / "a.wav").exists()


def test_synthesis_writes_every_output_or_none(checkpoint, tmp_path, capsys):
    code, _, err = run_cli(["synthesize", checkpoint, "--text", "bad", "--max-seconds", "0.2", "--output",
                            tmp_path / "a.wav", "--mel-output", "/proc/no-such-place.npy"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []  # the wav was not published without its mel


def _texts(tmp_path, *lines: str):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_texts_speak_each_sentence_as_it_sounds_alone(checkpoint, tmp_path, capsys):
    texts = _texts(tmp_path, "first|bad cafe", "# a comment", "", "dead beef", "../x|a cab")
    common = ["--seed", "3", "--max-seconds", "0.2", "--format", "json"]
    code, out, err = run_cli(["synthesize", checkpoint, "--texts", texts, "--output-dir", tmp_path / "many",
                              "--mels", "--alignments", *common], capsys)
    assert code == 0, err
    report = _read(out, SynthesisListing)
    assert report.output_dir == str(tmp_path / "many") and report.texts == str(texts) and report.seed == 3
    stems = [item.id for item in report.items]
    assert stems[:2] == ["first", "002"] and stems[2].startswith("x+")  # an id never leaves the folder
    assert [item.text for item in report.items] == ["bad cafe", "dead beef", "a cab"]
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == sorted(
        f"{stem}.{suffix}" for stem in stems for suffix in ("wav", "npy", "png"))
    for item in report.items:
        assert item.output == str(tmp_path / "many" / f"{item.id}.wav")
        assert item.mel_output == str(tmp_path / "many" / f"{item.id}.npy")
        assert item.alignment_output == str(tmp_path / "many" / f"{item.id}.png")
        code, out, err = run_cli(["synthesize", checkpoint, "--text", item.text, "--output", tmp_path / "one.wav",
                                  "--mel-output", tmp_path / "one.npy", *common], capsys)
        assert code == 0, err
        assert (tmp_path / "one.wav").read_bytes() == (tmp_path / "many" / f"{item.id}.wav").read_bytes()
        assert (tmp_path / "one.npy").read_bytes() == (tmp_path / "many" / f"{item.id}.npy").read_bytes()
        alone = _read(out, SynthesisReport)
        assert (alone.frames, alone.attention) == (item.frames, item.attention)  # measured alike in both modes


def test_texts_in_every_voice_go_to_one_folder_per_speaker(tmp_path, capsys):
    from tests.tiny_checkpoints import SPEAKERS, make_source

    make_source(tmp_path / "multi")
    texts = _texts(tmp_path, "a|bad", "b|cab")
    code, out, err = run_cli(["synthesize", tmp_path / "multi", "--texts", texts, "--output-dir", tmp_path / "out",
                              "--all-speakers", "--max-seconds", "0.1", "--vocoder", "griffin-lim",
                              "--format", "json"], capsys)
    assert code == 0, err
    items = _read(out, SynthesisListing).items
    assert [(item.speaker, item.id) for item in items] == [(s, i) for s in SPEAKERS for i in "ab"]
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.wav")) == \
        sorted(f"{s}/{i}.wav" for s in SPEAKERS for i in "ab")


@pytest.mark.parametrize("lines, args, message", [
    (["bad", "xyz!"], [], "line 2: "),  # every sentence is checked before any is spoken
    (["a|bad", "A|cab"], [], "would both be written as A.wav"),
    (["bad"], ["--speaker", "ann", "--all-speakers"], "drop --speaker"),
    (["bad"], ["--all-speakers"], "single-speaker model"),
    (["bad"], ["--output", "x.wav"], "--output does not apply to --texts"),
])
def test_texts_errors_are_one_line_and_write_nothing(checkpoint, tmp_path, capsys, lines, args, message):
    code, _, err = run_cli(["synthesize", checkpoint, "--texts", _texts(tmp_path, *lines),
                            "--output-dir", tmp_path / "out", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_texts_never_write_beside_their_inputs_or_into_a_full_folder(checkpoint, tmp_path, capsys):
    texts = _texts(tmp_path, "bad")
    code, _, err = run_cli(["synthesize", checkpoint, "--texts", texts, "--output-dir", checkpoint / "out"], capsys)
    assert code == 2 and "inside the input" in err and not (checkpoint / "out").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.wav").write_bytes(b"mine")
    code, _, err = run_cli(["synthesize", checkpoint, "--texts", texts, "--output-dir", tmp_path / "full"], capsys)
    assert code == 2 and "not empty" in err and (tmp_path / "full" / "mine.wav").read_bytes() == b"mine"
    code, _, err = run_cli(["synthesize", checkpoint, "--text", "bad", "--output", tmp_path / "a.wav",
                            "--mels"], capsys)
    assert code == 2 and "--mels does not apply to --text" in err
    code, _, err = run_cli(["synthesize", checkpoint, "--texts", texts], capsys)
    assert code == 2 and "--texts needs --output-dir" in err


def _read(out: str, document):
    """``synthesize --format json`` as scripts read it: through the document's one reader, every key checked."""
    found = document.from_json(json.loads(out), "synthesize --format json")
    assert found.to_json() == json.loads(out)  # nothing printed that the reader drops
    return found
