"""The loading chain: every source rate and level ends up at one rate, one bandwidth, one loudness."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from tests.audio.audio_testdata import voice, write_voice

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.io import AudioLoadError, load_audio, save_wav, voiced_rms_dbfs

CFG = AudioConfig()


@pytest.mark.parametrize("sr", [8000, 22050, 44100])
@pytest.mark.parametrize("amplitude", [0.02, 0.6])
def test_every_rate_and_level_reaches_the_target_loudness(tmp_path, sr, amplitude):
    wav = load_audio(write_voice(tmp_path / "v.wav", sr, amplitude=amplitude, seconds=1.0), CFG)
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert voiced_rms_dbfs(wav, CFG) == pytest.approx(CFG.target_dbfs, abs=0.05)
    assert np.max(np.abs(wav)) <= 10 ** (CFG.peak_dbfs / 20) + 1e-6


def test_leading_and_trailing_silence_is_trimmed_the_same_at_every_rate(tmp_path):
    lengths = [load_audio(write_voice(tmp_path / f"{sr}.wav", sr, seconds=1.0, pad_seconds=0.5), CFG).size
               for sr in (8000, 22050, 44100)]
    assert max(lengths) - min(lengths) <= CFG.hop_length
    assert 1.0 * CFG.sample_rate <= lengths[0] <= 1.0 * CFG.sample_rate + CFG.win_length + 2 * CFG.hop_length


@pytest.mark.parametrize("sr", [16000, 44100])  # at 16 kHz only the low-pass can remove it
def test_content_above_fmax_is_removed(tmp_path, sr):
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, sr).astype(np.float32)
    sf.write(tmp_path / "noise.wav", noise, sr)
    wav = load_audio(tmp_path / "noise.wav", CFG)
    power = np.abs(np.fft.rfft(wav)) ** 2
    freqs = np.fft.rfftfreq(wav.size, 1 / CFG.sample_rate)
    passband = power[(freqs > 1000) & (freqs < 6000)].mean()
    stopband = power[freqs > CFG.fmax + 200].mean()
    assert 10 * np.log10(stopband / passband) < -20


def test_stereo_becomes_mono(tmp_path):
    left = voice(16000, seconds=0.8)
    sf.write(tmp_path / "stereo.wav", np.stack([left, 0.5 * left], axis=1), 16000)
    wav = load_audio(tmp_path / "stereo.wav", CFG)
    assert wav.ndim == 1 and wav.size > 0.8 * 16000


def test_peaks_are_limited(tmp_path):
    signal = voice(16000, seconds=1.0, amplitude=0.01)
    signal[8000] = 0.9  # a click far above the speech level
    sf.write(tmp_path / "click.wav", signal, 16000)
    wav = load_audio(tmp_path / "click.wav", CFG)
    assert np.max(np.abs(wav)) == pytest.approx(10 ** (CFG.peak_dbfs / 20), rel=1e-3)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.wav", b"", "empty audio"),
    ("garbage.wav", b"\x00\x01garbage" * 50, "unreadable audio"),
    ("absent.wav", None, "missing audio"),
])
def test_bad_files_raise_with_a_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioLoadError) as error:
        load_audio(path, CFG)
    assert error.value.reason == reason and name in str(error.value)


def test_a_header_claiming_a_few_hertz_is_refused_before_any_resampling(tmp_path):
    import tracemalloc

    sf.write(tmp_path / "eight_hz.wav", voice(22050), 8)  # a second of speech, "at 8 Hz": 46 minutes at 22.05 kHz
    tracemalloc.start()
    try:
        with pytest.raises(AudioLoadError) as error:
            load_audio(tmp_path / "eight_hz.wav", CFG)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.value.reason == "implausible sample rate" and "8 Hz" in str(error.value)
    assert peak < 5e6  # the file's own samples, not 46 minutes of them


def test_what_is_no_regular_file_is_skipped_with_its_reason_and_never_opened(tmp_path):
    import os

    (tmp_path / "folder.wav").mkdir()
    os.mkfifo(tmp_path / "pipe.wav")  # opening it would wait for a writer forever
    (tmp_path / "loop.wav").symlink_to(tmp_path / "loop.wav")
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "gone.wav")
    (tmp_path / "device.wav").symlink_to("/dev/zero")
    expected = {"folder.wav": ("unreadable audio", "not a regular file"),
                "pipe.wav": ("unreadable audio", "not a regular file"),
                "device.wav": ("unreadable audio", "not a regular file"),
                "loop.wav": ("missing audio", "a symbolic link to nothing"),
                "dangling.wav": ("missing audio", "a symbolic link to nothing")}
    for name, (reason, words) in expected.items():
        with pytest.raises(AudioLoadError) as error:
            load_audio(tmp_path / name, CFG)
        assert error.value.reason == reason and words in str(error.value), name


def test_silence_is_refused(tmp_path):
    sf.write(tmp_path / "zeros.wav", np.zeros(8000, dtype=np.float32), 8000)
    with pytest.raises(AudioLoadError) as error:
        load_audio(tmp_path / "zeros.wav", CFG)
    assert error.value.reason == "silent audio"


def test_save_wav_writes_16_bit_pcm_and_clips(tmp_path):
    wav = np.array([0.0, 0.5, -0.5, 2.0, -2.0], dtype=np.float32)
    save_wav(tmp_path / "out" / "x.wav", wav, 16000)
    data, sr = sf.read(tmp_path / "out" / "x.wav", dtype="float32")
    info = sf.info(tmp_path / "out" / "x.wav")
    assert sr == 16000 and info.subtype == "PCM_16"
    np.testing.assert_allclose(data, [0.0, 0.5, -0.5, 1.0, -1.0], atol=1e-4)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.wav"]
