"""The neural vocoder on real files: a cache made by 'tts-adapt prepare', a model made by 'tts-adapt train'."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio.audio_testdata import write_voice
from tests.cli_testing import run_cli

from tts_adapt.audio.config import AudioConfig
from tts_adapt.cli.synthesize import SynthesisReport
from tts_adapt.errors import UserError
from tts_adapt.evaluation.results import EvaluationReport
from tts_adapt.vocoder.bundle import CARD_NAME, WEIGHTS_NAME, read_bundle, read_card, write_bundle
from tts_adapt.vocoder.network import NetworkConfig, build_generator
from tts_adapt.vocoder.render import load_renderer

SMALL = ["--channels", "16", "--blocks", "1"]


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    """A prepared cache of 8 recordings of one synthetic voice, and a tiny acoustic model trained on it."""
    root = tmp_path_factory.mktemp("vocoder")
    lines = []
    for i in range(8):
        write_voice(root / "wavs" / f"{i:03d}.wav", 16000, seconds=0.9 + 0.1 * i, f0=110 + 10 * i, seed=i)
        lines.append(f"{i:03d}|said number {i}|said number {i}")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "symbols.txt").write_text("".join(f"{c}\n" for c in " abcdefghijklmnopqrstuvwxyz"), encoding="utf-8")
    from tts_adapt.cli.main import main

    assert main(["prepare", "--metadata", str(root / "metadata.csv"), "--wavs", str(root / "wavs"),
                 "--output", str(root / "prepared"), "--speaker", "solo", "--val-fraction", "0.25",
                 "--symbols", str(root / "symbols.txt")]) == 0
    assert main(["train", "--data", str(root / "prepared"), "--output", str(root / "model"), "--preset", "tiny",
                 "--steps", "2", "--batch-size", "4", "--format", "json"]) == 0
    return root


@pytest.fixture(scope="module")
def trained(voice, tmp_path_factory):
    """A small vocoder trained 30 steps with the model's teacher-forced mels; its metrics."""
    output = tmp_path_factory.mktemp("run") / "vocoder"
    from tts_adapt.cli.main import main

    assert main(["vocoder", "train", str(voice / "prepared"), "--teacher", str(voice / "model"), "--output",
                 str(output), "--steps", "30", "--checkpoint-every", "15", "--learning-rate", "3e-3", *SMALL]) == 0
    return output


def test_generator_makes_one_hop_of_samples_per_frame():
    audio = AudioConfig()
    generator = build_generator(NetworkConfig(channels=8, blocks=1), audio)
    wav = generator(np.zeros((2, 13, audio.n_mels), np.float32)).numpy()
    assert wav.shape == (2, 13 * audio.hop_length)


def test_training_lowers_the_loss_and_writes_a_bundle(trained):
    with open(trained / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [15, 30]
    assert (trained / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert float(rows[-1]["val_mel_own"]) < float(rows[0]["val_mel_own"])
    assert float(rows[-1]["val_mel_predicted"]) > 0  # the teacher's mels were scored too
    card = read_card(trained)
    assert card.steps == 30 and card.network.channels == 16 and "teacher-forced" in card.trained_on


def test_training_loss_falls_from_the_first_steps(voice, tmp_path):
    from tts_adapt.training.vocoder_run import VocoderTrainingConfig, train_vocoder

    config = VocoderTrainingConfig(steps=40, checkpoint_every=40, learning_rate=3e-3, final_learning_rate=3e-3)
    lines = []
    train_vocoder(voice / "prepared", tmp_path / "v", config, network=NetworkConfig(16, 1), log=lines.append)
    with open(tmp_path / "v" / "metrics.csv", newline="") as handle:
        last = float(next(csv.DictReader(handle))["loss"])
    generator = build_generator(NetworkConfig(16, 1), AudioConfig())  # the same network, untrained
    from tts_adapt.training.vocoder_pairs import SegmentSampler, load_recordings
    from tts_adapt.vocoder.losses import MelLoss, multi_resolution_stft_loss

    mel, wav = SegmentSampler(load_recordings(voice / "prepared", AudioConfig()), 200, 32, 0.0, 5).batch(16)
    untrained = generator(mel)
    first = float(multi_resolution_stft_loss(untrained, wav) + MelLoss(AudioConfig())(untrained, wav))
    assert last < 0.8 * first


def test_a_rerun_resumes_and_a_saved_vocoder_renders_identically(voice, trained, tmp_path, capsys):
    import shutil

    copy = tmp_path / "resumed"
    shutil.copytree(trained, copy)
    code, _, err = run_cli(["vocoder", "train", voice / "prepared", "--teacher", voice / "model",
                            "--output", copy, "--steps", "45", "--checkpoint-every", "15"], capsys)
    assert code == 0 and "resuming" in err and "from step 30" in err
    assert read_card(copy).steps == 45

    mel = np.load(voice / "prepared" / "mels" / "000.npy")
    first = load_renderer(str(trained), AudioConfig())
    generator, card = read_bundle(trained)
    write_bundle(tmp_path / "again", generator, card)
    again = load_renderer(str(tmp_path / "again"), AudioConfig())
    np.testing.assert_array_equal(first(mel), again(mel))
    assert first(mel).shape == (mel.shape[0] * 200,)


def test_predicted_mels_are_as_long_as_the_recordings(voice):
    from tts_adapt.training.vocoder_pairs import add_teacher_forced, load_recordings

    recordings = load_recordings(voice / "prepared", AudioConfig())
    add_teacher_forced(recordings, voice / "model", voice / "prepared")
    for recording in recordings:
        assert recording.predicted.shape == recording.mel.shape
        assert recording.wav.size == recording.mel.shape[0] * 200
        assert not np.allclose(recording.predicted, recording.mel)


def test_long_mels_render_in_chunks_like_one_piece(trained, monkeypatch):
    from tts_adapt.vocoder import render

    renderer = load_renderer(str(trained), AudioConfig())
    mel = np.random.default_rng(0).uniform(-4, 2, (300, 80)).astype(np.float32)
    whole = renderer(mel)
    monkeypatch.setattr(render, "CHUNK_FRAMES", 100)
    np.testing.assert_allclose(renderer(mel), whole, atol=1e-4)


def _spoken(out: str) -> SynthesisReport:
    return SynthesisReport.from_json(json.loads(out), "synthesize --format json")


def test_synthesize_and_evaluate_use_the_chosen_vocoder(voice, trained, tmp_path, capsys):
    code, out, err = run_cli(["synthesize", voice / "model", "--text", "said number one", "--vocoder", trained,
                              "--output", tmp_path / "a.wav", "--mel-output", tmp_path / "a.npy",
                              "--max-seconds", "0.5", "--format", "json"], capsys)
    assert code == 0, err
    assert _spoken(out).vocoder.startswith(f"vocoder {trained.parent.name}/{trained.name}")
    wav, _ = sf.read(tmp_path / "a.wav", dtype="float32")
    expected = load_renderer(str(trained), AudioConfig())(np.load(tmp_path / "a.npy"))
    np.testing.assert_allclose(wav, expected, atol=1 / 32768 + 1e-6)  # 16-bit PCM

    code, out, err = run_cli(["synthesize", voice / "model", "--text", "said number one", "--vocoder", "griffin-lim",
                              "--output", tmp_path / "b.wav", "--max-seconds", "0.5", "--format", "json"], capsys)
    assert code == 0 and _spoken(out).vocoder.startswith("Griffin-Lim")

    code, out, err = run_cli(["evaluate", voice / "model", "--data", voice / "prepared", "--split", "all",
                              "--max-items", "2", "--vocoder", trained, "--format", "json"], capsys)
    assert code == 0, err
    heard = EvaluationReport.from_json(json.loads(out), "evaluate --format json").intelligibility
    if heard.scored:
        assert heard.vocoder.startswith(f"vocoder {trained.parent.name}/{trained.name}")


def _damaged(trained: Path, tmp_path: Path, how: str) -> Path:
    import shutil

    copy = tmp_path / how
    shutil.copytree(trained, copy)
    if how == "missing":
        (copy / CARD_NAME).unlink()
    elif how == "truncated":
        data = (copy / WEIGHTS_NAME).read_bytes()
        (copy / WEIGHTS_NAME).write_bytes(data[: len(data) // 2])
    elif how in ("other-rate", "other-mels"):  # a well-formed card, for other features
        card = read_card(copy)
        other = {"sample_rate": 22050} if how == "other-rate" else {"fmax": 8000.0}
        card = dataclasses.replace(card, audio=dataclasses.replace(card.audio, **other))
        (copy / CARD_NAME).write_text(json.dumps(card.to_json()))
    elif how == "not-json":
        (copy / CARD_NAME).write_text("{ nope")
    elif how == "nested-too-deep":
        (copy / CARD_NAME).write_text("[" * 100_000)
    return copy


@pytest.mark.parametrize("how, message", [
    ("missing", "no vocoder there"), ("truncated", "unreadable, truncated or damaged"),
    ("other-rate", "sample_rate 22050 vs 16000"), ("other-mels", "fmax 8000.0 vs 7600.0"),
    ("not-json", "not valid JSON"), ("nested-too-deep", "not valid JSON"),
])
def test_a_bad_vocoder_is_one_line(voice, trained, tmp_path, capsys, how, message):
    vocoder = _damaged(trained, tmp_path, how)
    code, _, err = run_cli(["synthesize", voice / "model", "--text", "said", "--vocoder", vocoder,
                            "--output", tmp_path / "x.wav", "--max-seconds", "0.2"], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.wav").exists()


def test_vocoder_errors_name_the_problem(voice, trained, tmp_path, capsys):
    with pytest.raises(UserError, match="no such folder"):
        load_renderer(str(tmp_path / "nowhere"), AudioConfig())
    for extra, message in ((["--init", trained, "--channels", "8"], "keeps the shape"),
                           (["--channels", "8"], "another shape")):
        output = trained if "--init" not in extra else tmp_path / "x"
        code, _, err = run_cli(["vocoder", "train", voice / "prepared", "--output", output, *extra], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("size", [{"channels": 2**31 - 1}, {"blocks": 2**20}, {"kernel_size": 2**30}])
def test_a_network_too_large_to_allocate_is_refused_before_it_is_built(size):
    with pytest.raises(UserError, match=r"vocoder network: .* weights; at most 2.68e\+08"):
        NetworkConfig(**size)


def test_relative_phase_loss_sees_phase_not_level_or_offset():
    import tensorflow as tf

    from tts_adapt.vocoder.losses import relative_phase_loss

    audio, rng = AudioConfig(), np.random.default_rng(0)
    t = np.arange(6400) / audio.sample_rate
    tone = (0.1 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 660 * t + 1)).astype(np.float32)[None]
    same = float(relative_phase_loss(tone, tone, audio))
    louder = float(relative_phase_loss(3 * tone, tone, audio))  # a level change keeps every phase
    later = float(relative_phase_loss(np.roll(tone, 37, axis=1), tone, audio))  # so does an offset of a tone
    noise = tf.Variable(rng.normal(0, 0.05, tone.shape).astype(np.float32))
    with tf.GradientTape() as tape:
        wrong = relative_phase_loss(noise, tone, audio)
    gradient = tape.gradient(wrong, noise).numpy()
    assert max(same, louder, later) < 1e-3 < 0.05 < float(wrong)
    assert np.isfinite(gradient).all() and np.abs(gradient).max() > 0
