"""The heard cache: a repeat is recalled with the same words and pitch, a changed audio or renderer is heard anew."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
import soundfile as sf

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.features import wav_to_mel
from tts_adapt.evaluation import intelligibility
from tts_adapt.evaluation.heard_cache import FOLDER, HeardCache
from tts_adapt.vocoder.render import BUNDLED, bundle_digest, griffin_lim

AUDIO = AudioConfig()


def vowel(f0: float, seconds: float = 0.8) -> np.ndarray:
    """A buzzy vowel-like tone: voiced, so the pitch track holds numbers as well as NaN."""
    t = np.arange(int(seconds * AUDIO.sample_rate)) / AUDIO.sample_rate
    return (sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 11)) * 0.2).astype(np.float32)


@pytest.fixture
def transcribed(monkeypatch):
    """Every audio the recogniser is given, in order (it still hears them)."""
    recogniser, given = intelligibility.shared_recogniser(), []
    real = recogniser.transcribe
    monkeypatch.setattr(recogniser, "transcribe", lambda wav, rate: given.append(len(wav)) or real(wav, rate))
    return given


def same_record(a, b) -> bool:
    pitch_alike = a.pitch is b.pitch is None or np.array_equal(a.pitch, b.pitch, equal_nan=True)
    return a.key == b.key and a.heard == b.heard and pitch_alike


def test_a_rendered_mel_heard_once_is_recalled_with_the_same_words_and_pitch(tmp_path, transcribed):
    mel, renderer = wav_to_mel(vowel(150.0), AUDIO), griffin_lim(AUDIO)
    first = HeardCache(tmp_path).rendered(mel, renderer)
    assert np.isfinite(first.pitch).any() and len(transcribed) == 1
    again = HeardCache(tmp_path)  # another process: only the folder is shared
    assert same_record(again.rendered(mel, renderer), first)
    assert (again.recalled, again.heard, len(transcribed)) == (1, 0, 1)
    forgetful = HeardCache()
    assert same_record(forgetful.rendered(mel, renderer), first) and forgetful.heard == 1 and len(transcribed) == 2


def test_a_changed_mel_or_renderer_is_heard_anew(tmp_path, transcribed):
    mel, renderer = wav_to_mel(vowel(150.0), AUDIO), griffin_lim(AUDIO)
    cache = HeardCache(tmp_path)
    cache.rendered(mel, renderer)
    nudged = mel.copy()
    nudged[3, 5] += 1e-3
    cache.rendered(nudged, renderer)
    cache.rendered(mel, griffin_lim(dataclasses.replace(AUDIO, griffin_lim_iters=AUDIO.griffin_lim_iters + 1)))
    cache.rendered(mel, dataclasses.replace(renderer, digest="another vocoder's sha256"))
    assert (cache.recalled, cache.heard, len(transcribed)) == (0, 4, 4)
    assert len(list((tmp_path / FOLDER).glob("*.json"))) == 4


def test_a_recording_is_known_by_its_bytes_not_its_name(tmp_path, transcribed):
    path, copy = tmp_path / "a.wav", tmp_path / "copy.wav"
    sf.write(path, vowel(150.0), AUDIO.sample_rate)
    shutil.copy(path, copy)
    cache = HeardCache(tmp_path / "cache")
    first = cache.recording(path)
    assert first.pitch is None and same_record(cache.recording(copy), first)
    sf.write(path, vowel(180.0), AUDIO.sample_rate)  # re-recorded under the same name
    assert cache.recording(path).key != first.key
    assert (cache.recalled, cache.heard, len(transcribed)) == (1, 2, 2)


def test_a_damaged_entry_is_heard_again_and_rewritten(tmp_path, transcribed):
    mel, renderer = wav_to_mel(vowel(150.0), AUDIO), griffin_lim(AUDIO)
    first = HeardCache(tmp_path).rendered(mel, renderer)
    entry = tmp_path / FOLDER / f"{first.key}.json"
    entry.write_text(entry.read_text(encoding="utf-8")[:40], encoding="utf-8")
    again = HeardCache(tmp_path)
    assert same_record(again.rendered(mel, renderer), first) and again.heard == 1
    assert same_record(HeardCache(tmp_path).rendered(mel, renderer), first) and len(transcribed) == 2


def test_a_vocoder_is_known_by_its_card_and_weights(tmp_path):
    copy = tmp_path / "vocoder"
    shutil.copytree(BUNDLED, copy)
    assert bundle_digest(copy) == bundle_digest(BUNDLED)  # another folder, the same vocoder
    with np.load(copy / "vocoder.weights.npz") as stored:
        weights = dict(stored)
    weights["w0"] = weights["w0"] + np.float16(0.01)  # trained on: the same place, another vocoder
    np.savez(copy / "vocoder.weights.npz", **weights)
    assert bundle_digest(copy) != bundle_digest(BUNDLED)


def test_workers_hear_what_this_process_hears_and_end_with_the_cache(tmp_path):
    """Heard in worker processes (while the caller goes on), the records are the ones heard here."""
    renderer = griffin_lim(AUDIO)
    mels = [wav_to_mel(vowel(f0), AUDIO) for f0 in (120.0, 200.0)]
    path = tmp_path / "a.wav"
    sf.write(path, vowel(150.0), AUDIO.sample_rate)
    here = [HeardCache().rendered(mel, renderer) for mel in mels] + [HeardCache().recording(path)]
    with HeardCache(tmp_path / "cache", workers=2) as pooled:
        asked = [pooled.hear_rendered(mel, renderer) for mel in mels] + [pooled.hear_recording(path)]
        assert pooled.hear_rendered(mels[0], renderer) is asked[0]  # asked twice, heard once
        there = [answer.result(timeout=120) for answer in asked]
        workers = list(pooled._pool._processes.values())
    assert all(same_record(a, b) for a, b in zip(here, there))
    assert (pooled.heard, pooled.recalled) == (3, 1) and len(list((tmp_path / "cache" / FOLDER).glob("*.json"))) == 3
    assert workers and all(not worker.is_alive() for worker in workers)
