import json

import numpy as np
import pytest
import soundfile as sf

from cli_testing import run_cli
from tiny_model import make_prepared
from tts_adapt.cli.main import main
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
        runs.append(json.loads(out))
    wav, rate = sf.read(tmp_path / "a.wav")
    assert rate == 16000 and wav.ndim == 1 and wav.size == runs[0]["frames"] * 200 and np.abs(wav).max() > 0
    assert runs[0]["frames"] <= 0.2 * 16000 / 200 + 3 and runs[0]["speaker"] is None
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
