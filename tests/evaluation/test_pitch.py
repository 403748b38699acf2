"""pYIN with a banded Viterbi (tts_adapt.evaluation.pitch): librosa's pitch, to the bit, in a third of the time."""

from __future__ import annotations

import shutil
import subprocess

import librosa
import numpy as np
import pytest

from tts_adapt.evaluation import pitch

SETTINGS = dict(fmin=50.0, fmax=500.0, sr=16000, frame_length=1024, hop_length=200)  # the bundled model's audio
needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (Debian package)")


def _same(wav: np.ndarray) -> None:
    expected = librosa.pyin(wav, **SETTINGS)[0]
    assert np.array_equal(pitch.pyin_f0(wav, **SETTINGS), expected, equal_nan=True)


@needs_flite
@pytest.mark.parametrize("voice", ["slt", "awb", "kal"])
def test_speech_gets_librosas_pitch(tmp_path, voice):
    path = tmp_path / f"{voice}.wav"
    subprocess.run(["flite", "-voice", voice, "-t", "Please enter the conference pin number, then press pound.",
                    "-o", str(path)], check=True)
    wav, _ = librosa.load(path, sr=SETTINGS["sr"])
    assert np.isfinite(pitch.pyin_f0(wav, **SETTINGS)).mean() > 0.2  # speech: voiced frames, decoded
    _same(wav)


def test_odd_signals_get_librosas_pitch():
    rng = np.random.default_rng(0)
    t = np.arange(60000) / SETTINGS["sr"]
    glide = np.sin(2 * np.pi * np.cumsum(np.linspace(90, 420, t.size)) / SETTINGS["sr"])  # a rising voice
    gated = glide * (np.sin(2 * np.pi * 2.5 * t) > 0)  # voiced, silent, voiced...
    for wav in (gated, glide + 0.3 * rng.standard_normal(t.size), rng.standard_normal(30000) * 0.1,
                np.zeros(22050), np.zeros(300), 0.5 * np.sin(2 * np.pi * 180 * t)):
        _same(wav.astype(np.float32))


def test_the_viterbi_pass_is_librosas_where_only_the_epsilon_paths_connect():
    """Observations that are zero for most states make a state's banded predecessors all about as
    unlikely as any other: then a predecessor outside the band (through librosa's epsilon) can win."""
    rng = np.random.default_rng(1)
    n_bins, frames = 60, 80
    transition = np.kron(librosa.sequence.transition_loop(2, 0.99),
                         librosa.sequence.transition_local(n_bins, 7, window="triangle", wrap=False))
    p_init = np.full(2 * n_bins, 1 / (2 * n_bins))
    for density in (0.02, 0.1, 0.5, 1.0):
        prob = rng.uniform(size=(2 * n_bins, frames)) * (rng.uniform(size=(2 * n_bins, frames)) < density)
        prob /= np.maximum(prob.sum(axis=0, keepdims=True), 1.0)
        expected = librosa.sequence.viterbi(prob, transition, p_init=p_init)
        assert np.array_equal(pitch.viterbi(prob, transition, p_init), expected), density
    tied = np.zeros((2 * n_bins, frames))  # every path alike: ties everywhere, won by the lowest state
    tied[::7] = 0.5
    assert np.array_equal(pitch.viterbi(tied, transition, p_init),
                          librosa.sequence.viterbi(tied, transition, p_init=p_init))


def test_a_matrix_that_is_no_band_is_decoded_by_librosa():
    rng = np.random.default_rng(2)
    transition = rng.uniform(size=(6, 6)) * (rng.uniform(size=(6, 6)) < 0.5) + np.eye(6)  # rows in many runs
    transition /= transition.sum(axis=1, keepdims=True)
    prob = rng.uniform(size=(6, 30))
    assert pitch._column_runs(transition) is None
    np.testing.assert_array_equal(pitch.viterbi(prob, transition, np.full(6, 1 / 6)),
                                  librosa.sequence.viterbi(prob, transition, p_init=np.full(6, 1 / 6)))
