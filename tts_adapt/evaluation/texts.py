"""Score sentences that have no recordings: synthesise each, per speaker, and have the recogniser hear it.

Why: the question a pretrained model must answer is whether its voices can be understood on
text they never saw, and recordings of such text do not exist. Only the synthesis is scored
(intelligibility, attention, whether the stop token ended it); there is no ceiling to compare.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from tts_adapt.errors import UserError
from tts_adapt.evaluation import intelligibility
from tts_adapt.evaluation.evaluate import Evaluation, intelligibility_plan
from tts_adapt.evaluation.heard_cache import HeardCache
from tts_adapt.evaluation.results import Intelligibility, SentenceScore, SpeakerRates, TextsReport
from tts_adapt.model.alignment_metrics import alignment_metrics
from tts_adapt.speakers import file_stem

ATTENTION_KEYS = ("focus", "monotonicity", "coverage", "reached_end")


@dataclass(frozen=True)
class Sentence:
    text: str
    where: str  # "FILE, line N": what a message about it names
    label: str | None = None  # the id of an "id|text" line: what its outputs are named after


def read_texts(path: str | os.PathLike, option: str = "--texts") -> list[Sentence]:
    """One sentence a line (blank lines and lines starting with '#' skipped); ``id|text`` lines take the text.

    Lines are split at newlines only, as editors number them (``splitlines`` also splits at form
    feeds and U+2028, which would make every later line number wrong)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{option} {path}: cannot read ({exc})") from None
    sentences = [Sentence(line.split("|")[-1].strip(), f"{option} {path}, line {number}",
                          line.split("|")[0].strip() or None if "|" in line else None)
                 for number, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    sentences = [sentence for sentence in sentences if sentence.text]
    if not sentences:
        raise UserError(f"{option} {path}: no sentences (one a line)")
    return sentences


def file_stems(sentences: Sequence[Sentence]) -> list[str]:
    """Each sentence's output name: its id made a safe file name, else its number (``001``); two may not meet."""
    stems = [file_stem(s.label) if s.label else f"{number:03d}" for number, s in enumerate(sentences, 1)]
    seen: dict[str, int] = {}
    for index, stem in enumerate(stems):
        key = stem.casefold()  # a file system that ignores case would put both in one file
        if key in seen:
            raise UserError(f"{sentences[index].where} and {sentences[seen[key]].where.split(', ')[-1]} "
                            f"would both be written as {stem}.wav; give each line its own id")
        seen[key] = index
    return stems


def check_speakable(sentences: Sequence[Sentence], loaded) -> None:
    """Every sentence encodes to at least one symbol of the model, checked before any is spoken.

    Why: one bad line found halfway would end the run after minutes of work, with part of the audio written."""
    from tts_adapt.symbols.frontend import text_to_ids

    for sentence in sentences:
        try:
            ids = text_to_ids(sentence.text, loaded.table, loaded.cleaners)
        except UserError as exc:
            raise UserError(f"{sentence.where}: {exc}") from None
        if not ids:
            raise UserError(f"{sentence.where}: {sentence.text!r} is empty after cleaning "
                            f"({', '.join(loaded.cleaners)}); remove the line or write it out in words")


def evaluate_texts(checkpoint: str | os.PathLike, sentences: Sequence[Sentence],
                   speakers: Sequence[str] | None = None, seed: int = 0, audio_dir: str | os.PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None, vocoder: str | None = None,
                   heard: HeardCache | None = None) -> Evaluation:
    """Every sentence in every requested speaker's voice (default: all of the model's), heard by the recogniser.

    ``vocoder``: ``griffin-lim`` or a vocoder folder (None: the model's default). Audio goes to
    ``audio_dir/<speaker>_<n>.wav``, the speaker's name made a safe file name. ``heard``: where the
    hearing runs (with workers, while the next sentences are spoken)."""
    from tts_adapt.audio.io import save_wav
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import speaker_of, synthesize
    from tts_adapt.vocoder.render import load_renderer

    loaded = load_model(checkpoint)
    listening = intelligibility_plan(True, loaded.cleaners)
    if not listening["scored"]:
        raise UserError(f"--texts scores intelligibility only, and {listening['reason']}")
    render = load_renderer(vocoder, loaded.audio, str(checkpoint), loaded.directory, checkpoint)
    listening |= {"vocoder": render.name, "vocoder_note": render.note}
    names = [speaker_of(loaded.speakers, value)[1] for value in speakers] if speakers else \
        list(loaded.speakers or [None])
    check_speakable(sentences, loaded)
    heard = heard or HeardCache()
    spoken_records: list[tuple[dict[str, Any], Any]] = []  # the record's other fields, and its hearing
    steps = 2 * len(names) * len(sentences)  # each sentence spoken, then heard
    for name in names:
        for number, text in enumerate((sentence.text for sentence in sentences), 1):
            spoken = synthesize(loaded, text, speaker=name, seed=seed, render=render)
            utterance_id = f"{file_stem(name)}_{number:03d}" if name else f"{number:03d}"
            if audio_dir is not None:
                save_wav(Path(audio_dir) / f"{utterance_id}.wav", spoken.wav, spoken.sample_rate)
            scores = alignment_metrics(spoken.alignment)
            spoken_records.append((
                {"id": utterance_id, "speaker": name, "text": text, "seconds": round(spoken.seconds, 3),
                 "stopped": spoken.stop_fired, **{key: scores[key] for key in ATTENTION_KEYS}},
                heard.hear_waveform(spoken.wav, spoken.sample_rate)))
            if progress:
                progress(len(spoken_records), steps)
    records: list[SentenceScore] = []
    for fields, hearing in spoken_records:
        said = intelligibility.heard_against(fields["text"], hearing.result().heard)
        records.append(SentenceScore(**fields, reference=said.reference, heard=said.hypothesis, wer=said.wer,
                                     cer=said.cer))
        if progress:
            progress(len(spoken_records) + len(records), steps)
    report = TextsReport(checkpoint=str(checkpoint), seed=seed, speakers=tuple(names), items=len(records),
                         intelligibility=Intelligibility(**listening, **summarise_by_speaker(records)),
                         utterances=tuple(records))
    return Evaluation(report)


def summarise_by_speaker(records: list[SentenceScore]) -> dict[str, Any]:
    """The :class:`Intelligibility` fields: corpus WER/CER over everything and per speaker, and the sentence a
    person reads."""
    def rates(chosen: list[SentenceScore]) -> dict[str, float]:
        return intelligibility.corpus_rates([(r.reference, r.heard) for r in chosen])

    overall = rates(records)
    by_speaker = {}
    for name in dict.fromkeys(r.speaker for r in records):
        mine = [r for r in records if r.speaker == name]
        by_speaker[name or "-"] = SpeakerRates(**rates(mine), stopped=sum(r.stopped for r in mine), items=len(mine))
    return {**overall, "by_speaker": by_speaker, "sentence": intelligibility.understood_sentence(overall["wer"])}
