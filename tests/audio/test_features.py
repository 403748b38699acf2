"""Log-mel features and Griffin-Lim: shapes, range, rate independence, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from tests.audio.audio_testdata import voice, write_voice

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.features import MEL_MAX, MEL_MIN, mel_to_wav, wav_to_mel
from tts_adapt.audio.io import load_audio, normalise_audio

CFG = AudioConfig()


def test_shape_dtype_and_range():
    wav = normalise_audio(voice(16000, seconds=1.0), 16000, CFG)
    mel = wav_to_mel(wav, CFG)
    assert mel.dtype == np.float32
    assert mel.shape == (1 + wav.size // CFG.hop_length, CFG.n_mels)
    assert MEL_MIN <= mel.min() and mel.max() <= MEL_MAX
    assert 0 < mel.max() < MEL_MAX  # loud speech is well inside the range, not clipped


def test_silence_is_the_floor():
    mel = wav_to_mel(np.zeros(4000, dtype=np.float32), CFG)
    assert np.all(mel == MEL_MIN)


def test_wideband_sources_give_the_same_features_at_any_rate(tmp_path):
    mels = [wav_to_mel(load_audio(write_voice(tmp_path / f"{sr}.wav", sr, seconds=1.0), CFG), CFG)
            for sr in (22050, 44100)]
    frames = min(m.shape[0] for m in mels)
    difference = np.abs(mels[0][:frames] - mels[1][:frames])
    assert np.median(difference) < 0.01 and np.percentile(difference, 99) < 0.2


def test_griffin_lim_length_and_determinism():
    mel = wav_to_mel(normalise_audio(voice(16000, seconds=0.6), 16000, CFG), CFG)
    cfg = AudioConfig(griffin_lim_iters=8)
    first, second = mel_to_wav(mel, cfg), mel_to_wav(mel, cfg)
    assert first.dtype == np.float32 and first.shape == (mel.shape[0] * cfg.hop_length,)
    np.testing.assert_array_equal(first, second)
    assert np.std(first) > 1e-3


def test_griffin_lim_round_trip_keeps_the_spectrum():
    mel = wav_to_mel(normalise_audio(voice(16000, seconds=0.6), 16000, CFG), CFG)
    cfg = AudioConfig(griffin_lim_iters=32, power=1.0)
    again = wav_to_mel(mel_to_wav(mel, cfg), cfg)[: mel.shape[0]]
    voiced = mel > -2  # where there is energy to reconstruct
    assert np.mean(np.abs(again - mel)[voiced]) < 0.25


def test_wrong_mel_shape_is_refused():
    with pytest.raises(ValueError, match="n_mels|80"):
        mel_to_wav(np.zeros((10, 40), dtype=np.float32), CFG)
