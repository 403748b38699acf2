"""The variance post-filter: measured on the training recordings, kept beside its checkpoint, applied by the renderer."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from tests.cli_testing import printed_document, run_cli
from tests.tiny_checkpoints import NEW_VOICE_TEXTS, SPEAKERS, make_source, spoken_by, write_prepared

from tts_adapt.vocoder.postfilter import FILE_NAME, PostFilter

VOICE = 2
SPLITS = ["train", "train", "train", "train", "val", "val"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A model whose outputs ignore the teacher-forced frames, and recordings that are exactly what it says
    ('same') or the same with each band's deviation from its mean doubled ('spread')."""
    root = tmp_path_factory.mktemp("postfilter")
    model = make_source(root / "model", seed=5, frame_independent=True)
    mels = spoken_by(model, VOICE, NEW_VOICE_TEXTS)
    write_prepared(root / "same", NEW_VOICE_TEXTS, mels, speaker=SPEAKERS[VOICE], splits=SPLITS)
    spread = [m.mean(0) + 2 * (m - m.mean(0)) for m in mels]
    write_prepared(root / "spread", NEW_VOICE_TEXTS, spread, speaker=SPEAKERS[VOICE], splits=SPLITS)
    return root


def measured(world, capsys, data, checkpoint=None):
    checkpoint = checkpoint or world / "model"
    code, out, err = run_cli(["postfilter", checkpoint, "--data", world / data, "--format", "json"], capsys)
    assert code == 0, err
    printed = printed_document(PostFilter, out)
    assert PostFilter.read(checkpoint / FILE_NAME) == printed  # what it printed is what it kept
    return printed


def test_the_scale_gives_the_model_the_recordings_spread(world, capsys, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(world / "model", model)
    same = measured(world, capsys, "same", model)
    assert same.utterances == SPLITS.count("train")  # the training recordings only
    np.testing.assert_allclose(same.scale, 1.0, atol=1e-3)  # it says what was recorded: nothing to restore
    spread = measured(world, capsys, "spread", model)
    np.testing.assert_allclose(spread.scale, 2.0, rtol=1e-3)  # recordings twice as spread out
    mel = np.random.default_rng(0).normal(size=(20, len(spread.scale))).astype(np.float32)
    filtered = spread.apply(mel)
    np.testing.assert_allclose(filtered.mean(0), mel.mean(0), atol=1e-5)  # each band keeps its mean...
    np.testing.assert_allclose(filtered.std(0), 2 * mel.std(0), rtol=1e-4)  # ...and gets the recordings' spread


def speak(model, capsys, tmp_path, name):
    wav = tmp_path / f"{name}.wav"
    code, out, err = run_cli(["synthesize", model, "--text", "bad cab", "--speaker", "cy", "--vocoder", "griffin-lim",
                              "--output", wav, "--mel-output", tmp_path / f"{name}.npy", "--format", "json"], capsys)
    assert code == 0, err
    return wav.read_bytes(), json.loads(out), err


def test_synthesize_renders_through_the_postfilter_of_its_own_weights_only(world, capsys, tmp_path):
    from tts_adapt.audio.config import AudioConfig
    from tts_adapt.manifest import read_manifest
    from tts_adapt.vocoder.render import load_renderer

    model = tmp_path / "model"
    shutil.copytree(world / "model", model)
    plain, plain_doc, _ = speak(model, capsys, tmp_path, "plain")
    postfilter = measured(world, capsys, "spread", model)
    filtered, doc, _ = speak(model, capsys, tmp_path, "filtered")
    assert filtered != plain and doc["vocoder"].endswith("after the model's variance post-filter")
    audio = read_manifest(model).audio
    expected = io.BytesIO()  # the same mel through the plain renderer, after the scale: byte for byte
    sf.write(expected, load_renderer("griffin-lim", AudioConfig.from_dict(audio.to_dict()))(
        postfilter.apply(np.load(tmp_path / "filtered.npy"))), audio.sample_rate, subtype="PCM_16", format="WAV")
    assert filtered == expected.getvalue()
    stale = json.loads((model / FILE_NAME).read_text(encoding="utf-8")) | {"index_sha256": "0" * 64,
                                                                            "checkpoint": "ckpt-99"}
    (model / FILE_NAME).write_text(json.dumps(stale), encoding="utf-8")
    again, doc, _ = speak(model, capsys, tmp_path, "stale")
    assert again == plain and doc["vocoder"] == plain_doc["vocoder"]  # measured for other weights: not applied...
    code, _, err = run_cli(["synthesize", model, "--text", "bad cab", "--speaker", "cy", "--vocoder", "griffin-lim",
                            "--output", tmp_path / "said.wav"], capsys)
    assert code == 0 and "was measured for ckpt-99, not ckpt-0: not applied" in " ".join(err.split())  # ...and said


def test_a_damaged_postfilter_is_one_clear_line(world, capsys, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(world / "model", model)
    (model / FILE_NAME).write_text('{"schema": "tts-adapt-postfilter"', encoding="utf-8")
    code, out, err = run_cli(["synthesize", model, "--text", "bad cab", "--speaker", "cy", "--output",
                              tmp_path / "a.wav"], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and FILE_NAME in err
    assert not (tmp_path / "a.wav").exists()


def test_recordings_of_another_voice_or_without_a_training_split_are_refused(world, capsys, tmp_path):
    mels = [np.zeros((6, 8), np.float32)] * 2
    cases = {"stranger": ("not the model's", ["train", "train"]), "held_out_only": ("no items in the 'train' split", None)}
    for name, (says, splits) in cases.items():
        data = write_prepared(tmp_path / name, ["a", "b"], mels, speaker="stranger" if splits else "cy",
                              splits=splits)
        code, out, err = run_cli(["postfilter", world / "model", "--data", data], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, (name, err)
    assert not (world / "model" / FILE_NAME).exists()
