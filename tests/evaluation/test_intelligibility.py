"""The recogniser and its rates: real speech (flite) is heard, silence and garbled audio are not."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tts_adapt.audio.config import AudioConfig
from tts_adapt.audio.features import wav_to_mel
from tts_adapt.audio.io import load_audio, read_audio
from tts_adapt.corpus.items import Item
from tts_adapt.evaluation import intelligibility
from tts_adapt.evaluation.evaluate import _Listener, summarise_intelligibility
from tts_adapt.evaluation.results import UtteranceScore
from tts_adapt.vocoder.render import griffin_lim

SENTENCE = "The quick brown fox jumps over the lazy dog."
needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (Debian package)")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "fox.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", SENTENCE, "-o", str(path)], check=True)
    return path


def test_text_is_normalised_alike_on_both_sides():
    assert intelligibility.normalise("Dr. Smith paid $5, didn't he?") == "doctor smith paid five dollars didn't he"
    assert intelligibility.normalise("  HELLO -- world!! ") == "hello world"
    assert intelligibility.normalise("...") == ""


def test_rates_count_word_and_character_errors():
    assert intelligibility.utterance_rates("the cat sat", "the cat sat") == (0.0, 0.0)
    wer, cer = intelligibility.utterance_rates("the cat sat", "the cat")
    assert wer == pytest.approx(1 / 3) and cer == pytest.approx(4 / 11)  # one word; " sat" is four characters
    assert intelligibility.utterance_rates("", "") == (0.0, 0.0)
    assert intelligibility.utterance_rates("", "noise") == (1.0, 1.0)
    heard = [("a b c d", "a b c d"), ("e f", "")]
    assert intelligibility.corpus_rates(heard)["wer"] == pytest.approx(2 / 6)  # summed errors, not a mean of rates


def test_understood_sentence_is_plain_english():
    said = intelligibility.understood_sentence(0.22, {"the recordings": 0.1})
    assert said == "The recogniser understood 78% of the words (90% on the recordings)."
    assert "0%" in intelligibility.understood_sentence(1.7)  # insertions can push WER past 1: never negative


def test_only_english_front_ends_are_heard():
    assert intelligibility.applies_to(["english"]) and intelligibility.applies_to(["phonemes"])
    assert intelligibility.applies_to(None)  # models from before the cleaners were recorded read English
    assert not intelligibility.applies_to(["basic"])


@needs_flite
def test_real_speech_is_heard_at_any_sample_rate(spoken):
    import librosa

    wav, rate = read_audio(spoken)
    recogniser = intelligibility.shared_recogniser()
    heard = recogniser.score(wav, rate, SENTENCE)
    assert heard.wer <= 0.34 and heard.cer <= 0.2, heard
    faster = librosa.resample(wav[:, 0], orig_sr=rate, target_sr=22050)
    assert recogniser.score(faster, 22050, SENTENCE).wer <= 0.34
    silence = recogniser.score(np.zeros(rate, np.float32), rate, SENTENCE)
    assert silence.wer == 1.0 and silence.cer > 0.9  # it may hallucinate a short word, never the sentence


@needs_flite
def test_what_is_heard_does_not_depend_on_what_was_heard_before(tmp_path):
    """Heard after ten seconds of hiss, this sentence was "the mining town are you today" before the reset."""
    path = tmp_path / "morning.wav"
    subprocess.run(["flite", "-voice", "slt", "-t", "Good morning, how are you today?", "-o", str(path)], check=True)
    wav, rate = read_audio(path)
    recogniser = intelligibility.Recogniser()
    first = recogniser.transcribe(wav, rate)
    recogniser.transcribe(np.random.default_rng(0).normal(0, 0.5, 10 * 16000).astype(np.float32), 16000)
    assert recogniser.transcribe(wav, rate) == first


@needs_flite
def test_listener_scores_synthesis_beside_both_ceilings(spoken):
    """The recording and its own mel through Griffin-Lim are heard; a flat mel (no speech) is not."""
    audio = AudioConfig()
    mel = wav_to_mel(load_audio(spoken, audio), audio)  # [frames, n_mels], as prepare makes it
    item = Item("fox", "slt", SENTENCE, np.zeros(3, np.int32), mel, str(spoken))
    flat = np.full_like(mel, -4.0)  # silence
    heard = _Listener(griffin_lim(audio)).hear(item, flat)()
    assert heard["ceilings"]["recording"].wer <= 0.34
    assert heard["ceilings"]["vocoded"].wer <= 0.5
    assert heard["wer"] == 1.0 and heard["cer"] > 0.9
    record = UtteranceScore("fox", "slt", SENTENCE, len(mel), len(mel), True, 0.0, 0.0, 0, 1.0, 1.0, 1.0, True, 1.0,
                            **heard)
    summary = summarise_intelligibility([record])
    assert summary["wer"] == 1.0 and summary["ceilings"]["recording"].wer == record.ceilings["recording"].wer
    assert summary["sentence"].startswith("The recogniser understood 0% of the words (")


def test_cer_interval_holds_the_rate_and_narrows_with_more_sentences():
    pairs = [("the cat sat on the mat", "the cat sat on a mat"), ("good morning to you", "good morning to you"),
             ("please leave a message", "please leave message"), ("goodbye", "good buy")]
    few = intelligibility.corpus_rates(pairs)
    assert few["cer_low"] <= few["cer"] <= few["cer_high"] and few["cer_low"] < few["cer_high"]
    many = intelligibility.corpus_rates(pairs * 10)
    assert many["cer"] == pytest.approx(few["cer"])
    assert many["cer_high"] - many["cer_low"] < 0.6 * (few["cer_high"] - few["cer_low"])
    perfect = intelligibility.corpus_rates([(ref, ref) for ref, _ in pairs * 10])
    assert perfect["cer_high"] == 0.0
    assert intelligibility.intervals_separate(perfect, many)
    assert not intelligibility.intervals_separate(few, many)
