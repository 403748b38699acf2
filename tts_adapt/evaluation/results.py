"""What ``tts-adapt evaluate`` finds, as typed run documents (``--format json`` prints them, the report reads them).

Two documents: :class:`EvaluationReport` scores recordings (``--data``), :class:`TextsReport` scores
sentences that have none (``--texts``). Rates the recogniser could not measure are NaN, fields that
do not apply (intelligibility not scored) are null.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_adapt.corpus.skipped import SkippedItem
from tts_adapt.documents import Document


@dataclass(frozen=True)
class Rates:
    """Word and character error rates over many sentences; the CER's bootstrap 95% interval when measured."""

    wer: float
    cer: float
    cer_low: float | None = None
    cer_high: float | None = None

    def separates_from(self, other: Rates) -> bool:
        """The two 95% intervals do not overlap: a difference these sentences can tell (never, unmeasured)."""
        from tts_adapt.evaluation.intelligibility import intervals_separate

        if None in (self.cer_low, self.cer_high, other.cer_low, other.cer_high):
            return False
        return intervals_separate(vars(self), vars(other))


@dataclass(frozen=True)
class SpeakerRates(Rates):
    stopped: int = 0  # sentences the stop token ended
    items: int = 0


@dataclass(frozen=True)
class Intelligibility:
    """The recogniser's verdict over all utterances, beside its ceilings; or why it did not listen."""

    scored: bool
    reason: str | None = None  # why not scored
    recogniser: str | None = None
    vocoder: str | None = None  # what rendered the mels it heard
    vocoder_note: str | None = None
    wer: float | None = None
    cer: float | None = None
    cer_low: float | None = None
    cer_high: float | None = None
    f0_rmse: float | None = None  # Hz, over frames voiced in both (None: no such frame)
    voicing_error: float | None = None
    ceilings: dict[str, Rates] = field(default_factory=dict)  # "recording", "vocoded"
    by_speaker: dict[str, SpeakerRates] = field(default_factory=dict)
    sentence: str | None = None  # what a person reads first

    @property
    def rates(self) -> Rates | None:
        if not self.scored or self.wer is None or self.cer is None:
            return None
        return Rates(self.wer, self.cer, self.cer_low, self.cer_high)


@dataclass(frozen=True)
class HeardScore:
    heard: str  # what the recogniser heard, normalised
    wer: float
    cer: float


@dataclass(frozen=True)
class UtteranceScore:
    """One recording against the model's free-running rendering of its text."""

    id: str
    speaker: str
    text: str
    frames: int  # the recording's
    predicted_frames: int
    stopped: bool  # the stop token ended it before the length guard
    mel_l1: float  # teacher-forced
    mcd: float  # dB, after dynamic time warping
    path_length: int
    focus: float
    monotonicity: float
    coverage: float
    reached_end: bool
    length_ratio: float
    reference: str | None = None  # the text as the recogniser's scoring normalises it
    heard: str | None = None
    wer: float | None = None
    cer: float | None = None
    f0_rmse: float | None = None
    voicing_error: float | None = None
    ceilings: dict[str, HeardScore] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricMeans:
    mel_l1: float
    mcd: float
    focus: float
    monotonicity: float
    coverage: float
    reached_end: float  # the share that did
    length_ratio: float
    stopped: int
    items: int


@dataclass(frozen=True)
class EvaluationReport(Document):
    """``evaluate --data``: every scored utterance, their means and what the recogniser understood."""

    KIND = "tts-adapt-evaluation"

    checkpoint: str
    data: str
    split: str
    seed: int
    speaker: str | None
    items: int
    skipped: tuple[SkippedItem, ...]
    summary: MetricMeans
    intelligibility: Intelligibility
    utterances: tuple[UtteranceScore, ...]
    html: str | None = None  # the page written beside it


@dataclass(frozen=True)
class SentenceScore:
    """One sentence without a recording, spoken by one voice and heard by the recogniser."""

    id: str
    speaker: str | None
    text: str
    reference: str
    heard: str
    wer: float
    cer: float
    seconds: float
    stopped: bool
    focus: float
    monotonicity: float
    coverage: float
    reached_end: bool


@dataclass(frozen=True)
class TextsReport(Document):
    """``evaluate --texts``: every sentence in every voice asked for, and the rates per voice."""

    KIND = "tts-adapt-evaluation-texts"

    checkpoint: str
    seed: int
    speakers: tuple[str | None, ...]
    items: int
    intelligibility: Intelligibility
    utterances: tuple[SentenceScore, ...]
    mode: str = "texts"
    html: str | None = None
