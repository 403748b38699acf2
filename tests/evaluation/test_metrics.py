"""The metric functions on inputs whose answers are known by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tts_adapt.audio.config import AudioConfig
from tts_adapt.evaluation.metrics import length_ratio, mcd_dtw
from tts_adapt.model.teacher_forcing import masked_l1

AUDIO = AudioConfig(n_mels=40)
DB_PER_UNIT = -AUDIO.min_level_db / 8.0  # normalised mel [-4, 4] spans min_level_db..0 dB


def speech_like(frames=30, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(-1.0, 0.8, (frames, AUDIO.n_mels)), -3.5, 2.5).astype(np.float32)


def test_masked_l1_ignores_padding():
    prediction = np.zeros((2, 4, 3), np.float32)
    target = np.ones((2, 4, 3), np.float32)
    target[0, 2:] = 100.0  # padding of item 0: must not count
    np.testing.assert_allclose(masked_l1(prediction, target, np.array([2, 4])), [1.0, 1.0])


def test_mcd_is_zero_for_the_same_mel_even_when_time_stretched():
    mel = speech_like()
    assert mcd_dtw(mel, mel, AUDIO)["mcd"] == pytest.approx(0.0, abs=1e-9)
    stretched = np.repeat(mel, 2, axis=0)
    result = mcd_dtw(mel, stretched, AUDIO)
    assert result["mcd"] == pytest.approx(0.0, abs=1e-9) and result["path_length"] >= len(stretched)


def test_mcd_ignores_loudness_c0():
    mel = speech_like()
    assert mcd_dtw(mel, mel + 0.5, AUDIO)["mcd"] == pytest.approx(0.0, abs=1e-4)


def test_mcd_matches_the_definition_for_one_cepstral_coefficient():
    """Shift ln-amplitude by 2a cos(pi k (n + 1/2) / N): c_k moves by a, so MCD = 10/ln10 * sqrt(2) * a."""
    k, a = 3, 0.4
    n = AUDIO.n_mels
    basis = 2.0 * np.cos(np.pi * k * (2 * np.arange(n) + 1) / (2 * n))
    shift_units = a * basis * (20.0 / math.log(10.0)) / DB_PER_UNIT
    mel = np.full((5, n), -1.0, np.float32)
    result = mcd_dtw(mel, (mel + shift_units).astype(np.float32), AUDIO)
    assert result["mcd"] == pytest.approx(10.0 / math.log(10.0) * math.sqrt(2.0) * a, rel=1e-3)


def test_mcd_does_not_depend_on_the_number_of_mel_bands():
    """The same smooth spectral shape sampled on 40 or 80 bands gives (nearly) the same MCD."""
    values = []
    for n_mels in (40, 80):
        audio = AudioConfig(n_mels=n_mels)
        position = (np.arange(n_mels) + 0.5) / n_mels
        reference = np.tile(-1.0 + 1.5 * np.cos(np.pi * position), (4, 1)).astype(np.float32)
        other = np.tile(-1.0 + 1.5 * np.cos(2 * np.pi * position), (4, 1)).astype(np.float32)
        values.append(mcd_dtw(reference, other, audio)["mcd"])
    assert values[0] == pytest.approx(values[1], rel=0.02) and values[0] > 1


def test_mcd_grows_with_the_distortion():
    mel, rng = speech_like(), np.random.default_rng(1)
    noise = rng.normal(0, 1, mel.shape).astype(np.float32)
    small, large = (mcd_dtw(mel, mel + s * noise, AUDIO)["mcd"] for s in (0.1, 0.5))
    assert 0 < small < large


def test_mcd_needs_frames_on_both_sides():
    with pytest.raises(ValueError):
        mcd_dtw(np.zeros((0, AUDIO.n_mels)), speech_like(), AUDIO)


def test_length_ratio():
    assert length_ratio(150, 100) == 1.5
    with pytest.raises(ValueError):
        length_ratio(10, 0)


def voiced_tone(f0: float, seconds: float = 1.0, unvoiced_tail: float = 0.0) -> np.ndarray:
    """A buzzy vowel-like tone (10 harmonics) at ``f0``, then optional noise (unvoiced)."""
    rate = AUDIO.sample_rate
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 11)) * 0.2
    noise = np.random.default_rng(0).normal(0, 0.05, int(unvoiced_tail * rate))
    return np.concatenate([tone, noise]).astype(np.float32)


def test_f0_rmse_measures_a_known_pitch_difference():
    from tts_adapt.audio.features import wav_to_mel
    from tts_adapt.evaluation.metrics import f0_rmse, pitch_track

    low, high = voiced_tone(150.0), voiced_tone(165.0)
    mel_low, mel_high = wav_to_mel(low, AUDIO), wav_to_mel(high, AUDIO)
    f0_low, f0_high = pitch_track(low, AUDIO), pitch_track(high, AUDIO)
    same = f0_rmse(mel_low, mel_low, f0_low, f0_low, AUDIO)
    assert same["f0_rmse"] == pytest.approx(0.0, abs=1e-6) and same["voicing_error"] == 0.0
    apart = f0_rmse(mel_low, mel_high, f0_low, f0_high, AUDIO)
    assert apart["f0_rmse"] == pytest.approx(15.0, abs=2.0)  # pYIN's resolution is a few cents


def test_f0_voicing_error_counts_frames_voiced_on_one_side_only():
    from tts_adapt.audio.features import wav_to_mel
    from tts_adapt.evaluation.metrics import f0_rmse, pitch_track

    voiced, half_noise = voiced_tone(150.0, seconds=1.0), voiced_tone(150.0, seconds=0.5, unvoiced_tail=0.5)
    result = f0_rmse(wav_to_mel(voiced, AUDIO), wav_to_mel(half_noise, AUDIO), pitch_track(voiced, AUDIO),
                     pitch_track(half_noise, AUDIO), AUDIO)
    assert 0.2 < result["voicing_error"] < 0.8
    assert result["f0_rmse"] == pytest.approx(0.0, abs=3.0)  # where both are voiced, the pitch agrees
