"""Intelligibility: what an offline recogniser hears, scored as word and character error rates.

A voice is judged by whether it can be understood, and mel distances do not say that. The
recogniser is CMU PocketSphinx (PyPI ``pocketsphinx``, whose wheel ships an en-US acoustic
model, language model and dictionary), so scores are reproducible offline. Its rates mean
most beside ceilings measured the same way on the same sentences: the recordings themselves,
and the recordings' own mels through the same vocoder (what a perfect acoustic model could get).

Text is normalised identically on both sides: the English cleaners (numbers and
abbreviations spoken out), lower case, only letters, apostrophes and spaces kept.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

RECOGNISER_RATE = 16000  # PocketSphinx's en-US model: 16 kHz mono 16-bit
PADDING_SECONDS = 0.25  # silence at each end: the recogniser's endpointing needs a little
ENGLISH_CLEANERS = ("english", "phonemes")  # models whose text is English: the recogniser applies
LANGUAGE = "en-us"
CEILING_LABELS = {"recording": "the recordings", "vocoded": "the recordings' own mels through the same vocoder"}


@dataclass(frozen=True)
class Heard:
    """What the recogniser made of one utterance, against what was meant."""

    reference: str  # normalised
    hypothesis: str  # normalised
    wer: float
    cer: float

    def to_json(self) -> dict:
        return {"heard": self.hypothesis, "wer": self.wer, "cer": self.cer}


def applies_to(cleaners: Sequence[str] | None) -> bool:
    """The en-US recogniser scores models whose front-end reads English (characters or phonemes)."""
    return any(name in ENGLISH_CLEANERS for name in (cleaners or ("english",)))


def normalise(text: str) -> str:
    """Spoken English words, lower case, letters and apostrophes only: 'Dr. Who, 2 pm' -> 'doctor who two pm'."""
    from tts_adapt.symbols.frontend import clean_text

    spoken = clean_text(text, ("english",))
    return " ".join(re.sub(r"[^a-z' ]+", " ", spoken.lower()).split())


class Recogniser:
    """One loaded PocketSphinx decoder, reused: loading costs more than hearing a short utterance."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder, get_model_path

        model = os.path.join(get_model_path(), LANGUAGE)
        self._decoder = Decoder(hmm=os.path.join(model, LANGUAGE), lm=os.path.join(model, f"{LANGUAGE}.lm.bin"),
                                dict=os.path.join(model, "cmudict-en-us.dict"), loglevel="FATAL")
        # A decoder's first utterance is heard from a state no later one sees (reinit_feat does not restore it;
        # a full reinit does, at 0.27 s a time): a tiny model's noisy clip was "dog" first and "" ever after,
        # so what a worker heard depended on which clip reached it first. Hearing a fixed clip of noise now puts
        # every real utterance in the later state (on 40 real clips: the same words as heard after any other).
        self.transcribe(np.random.default_rng(0).normal(0.0, 0.05, RECOGNISER_RATE // 2).astype(np.float32),
                        RECOGNISER_RATE)

    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str:
        """The recognised words of a float waveform (``[samples]`` or ``[samples, channels]``), normalised."""
        import librosa

        audio = np.asarray(wav, np.float32)
        audio = audio.mean(axis=1) if audio.ndim == 2 else audio.reshape(-1)  # [samples]
        if sample_rate != RECOGNISER_RATE:
            audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=RECOGNISER_RATE)
        pad = np.zeros(int(PADDING_SECONDS * RECOGNISER_RATE), np.float32)
        pcm = (np.clip(np.concatenate([pad, audio, pad]), -1.0, 1.0) * 32767).astype(np.int16)
        # The front-end's running cepstral mean carries over from one utterance to the next: without this
        # reset a recording was heard as "alan and handy" after one model's audio and "i'll get a candy"
        # after another's. Reset, what is heard is a function of the audio alone, as a cache by content needs.
        self._decoder.reinit_feat()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hypothesis = self._decoder.hyp()
        return normalise(hypothesis.hypstr) if hypothesis is not None else ""

    def score(self, wav: np.ndarray, sample_rate: int, text: str) -> Heard:
        return heard_against(text, self.transcribe(wav, sample_rate))


def heard_against(text: str, hypothesis: str) -> Heard:
    """What was heard (normalised) scored against the text meant, whether just heard or remembered."""
    reference = normalise(text)
    return Heard(reference, hypothesis, *utterance_rates(reference, hypothesis))


@functools.lru_cache(maxsize=1)
def shared_recogniser() -> Recogniser:
    """The process's recogniser, loaded on first use."""
    return Recogniser()


def utterance_rates(reference: str, hypothesis: str) -> tuple[float, float]:
    """(WER, CER) of one normalised utterance; an empty reference scores 0 if nothing was heard, else 1."""
    import jiwer

    if not reference:
        return (0.0, 0.0) if not hypothesis else (1.0, 1.0)
    return float(jiwer.wer(reference, hypothesis)), float(jiwer.cer(reference, hypothesis))


BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def corpus_rates(pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """WER and CER of (reference, heard) pairs together (errors / reference length, summed), as ASR papers
    report, with the CER's bootstrap 95% interval over sentences (``cer_low``, ``cer_high``)."""
    import jiwer

    kept = [(reference, heard) for reference, heard in pairs if reference]
    if not kept:
        return {"wer": float("nan"), "cer": float("nan"), "cer_low": float("nan"), "cer_high": float("nan")}
    references, hypotheses = map(list, zip(*kept))
    low, high = bootstrap_interval(*character_errors(kept))
    return {"wer": float(jiwer.wer(references, hypotheses)), "cer": float(jiwer.cer(references, hypotheses)),
            "cer_low": low, "cer_high": high}


def character_errors(pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: character edits (substitutions + deletions + insertions) and reference length."""
    import jiwer

    errors, lengths = [], []
    for reference, heard in pairs:
        out = jiwer.process_characters(reference, heard)
        errors.append(out.substitutions + out.deletions + out.insertions)
        lengths.append(out.substitutions + out.deletions + out.hits)
    return np.asarray(errors, np.float64), np.asarray(lengths, np.float64)


def bootstrap_interval(errors: np.ndarray, lengths: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap of the corpus rate sum(errors) / sum(lengths), resampling whole sentences.

    Why sentences: errors cluster within a sentence (one misheard word costs several characters),
    so the sentence is the independent unit; with 10 sentences the interval is wide, and says so."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(errors), size=(resamples, len(errors)))  # [resamples, sentences]
    rates = errors[picks].sum(1) / np.maximum(lengths[picks].sum(1), 1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)


def intervals_separate(a: dict[str, float], b: dict[str, float]) -> bool:
    """True when two rates' 95% intervals do not overlap: a difference the sentences can tell."""
    return a["cer_high"] < b["cer_low"] or b["cer_high"] < a["cer_low"]


def understood_sentence(wer: float, ceilings: dict[str, float] | None = None) -> str:
    """'The recogniser understood 78% of the words (90% on the recordings).': what a person reads first."""
    said = f"The recogniser understood {_share(wer)} of the words"
    extra = [f"{_share(value)} on {what}" for what, value in (ceilings or {}).items() if value == value]
    return said + (f" ({'; '.join(extra)})" if extra else "") + "."


def _share(wer: float) -> str:
    return f"{max(0.0, 1.0 - wer):.0%}"
