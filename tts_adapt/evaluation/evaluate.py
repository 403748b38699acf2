"""Score a checkpoint on held-out recordings: teacher-forced error, then free-running synthesis.

Teacher forcing says how well the model predicts the next frames; only free-running
decoding shows whether it can speak on its own: attention that reads the text
once, in order, and a stop token that ends the utterance on time. Each utterance
is decoded alone (so its mel is what ``synthesize --seed`` gives, whatever else is
scored) and cut at twice its recording's length (or the model's
``max_decoder_steps``): a stop token that never fires shows as a length ratio of 2
and ``stopped: false``.

Where the model reads English, each free-running mel is also rendered (by the chosen vocoder,
see :mod:`tts_adapt.vocoder.render`) and heard by an offline recogniser
(:mod:`tts_adapt.evaluation.intelligibility`), beside two ceilings on the same sentences: the
recording itself, and the recording's own mel through the same vocoder. The
two vocoded waveforms also give the pitch error (F0 RMSE along the DTW path).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tts_adapt.corpus.items import Item, batches, pad_batch
from tts_adapt.errors import UserError
from tts_adapt.evaluation import intelligibility, metrics
from tts_adapt.evaluation.heard_cache import HeardCache
from tts_adapt.evaluation.results import (EvaluationReport, HeardScore, Intelligibility, MetricMeans, Rates,
                                          TextsReport, UtteranceScore)
from tts_adapt.model.alignment_metrics import alignment_metrics
from tts_adapt.model.teacher_forcing import masked_l1
from tts_adapt.scoring.inputs import model_items

if TYPE_CHECKING:
    from tts_adapt.evaluation.samples import SampleRequest

BATCH_SIZE = 8
METRIC_KEYS = ("mel_l1", "mcd", "focus", "monotonicity", "coverage", "reached_end", "length_ratio")


@dataclass
class Evaluation:
    report: EvaluationReport | TextsReport
    plots: list[dict[str, Any]] = field(default_factory=list)  # id; reference / synthesized mel, alignment
    samples_from_scoring: int = 0  # samples written from the scored audio (the rest were spoken anew)


def resolve_speakers(items: list[Item], names: list[str], n_speakers: int, speaker: str | None) -> list[int]:
    """The speaker id per item: --speaker for all, else each item's own speaker (multi-speaker models)."""
    from tts_adapt.speakers import resolve_speaker

    if not n_speakers:
        if speaker is not None:
            raise UserError("a single-speaker model has no speakers to choose; drop --speaker")
        return [0] * len(items)
    if speaker is not None:
        return [resolve_speaker(speaker, names, n_speakers)] * len(items)
    unknown = sorted({item.speaker for item in items} - set(names))
    if unknown:
        raise UserError(f"speaker(s) {', '.join(unknown)} of the data are not the model's "
                        f"({', '.join(names)}); choose one with --speaker")
    return [names.index(item.speaker) for item in items]


def evaluate(checkpoint: str | os.PathLike, prepared_dir: str | os.PathLike, split: str | None = "val",
             max_items: int | None = None, speaker: str | None = None, seed: int = 0, plots: int = 6,
             listen: bool = True, progress: Callable[[int, int], None] | None = None,
             vocoder: str | None = None, heard: HeardCache | None = None,
             samples: SampleRequest | None = None) -> Evaluation:
    """Metrics per utterance and their means; ``plots`` utterances keep their arrays for the report.

    ``listen``: score intelligibility with the recogniser where it applies (an English front-end);
    the report says why when it does not. ``vocoder``: ``griffin-lim`` or a vocoder folder (None:
    the model's default, see :func:`tts_adapt.vocoder.render.default_vocoder`). ``heard``: where
    what the recogniser heard is remembered (the ceilings repeat from model to model). ``samples``:
    sentences also written as audio, mel and alignment (:mod:`tts_adapt.evaluation.samples`).
    """
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.teacher_forcing import teacher_forced_graph

    if max_items is not None and max_items < 1:
        raise UserError(f"--max-items must be at least 1, got {max_items}")
    loaded = load_model(checkpoint)
    model, config, audio = loaded.model, loaded.model.config, loaded.audio
    items, skipped = model_items(loaded, prepared_dir, split, max_items, seed)
    speaker_of = dict(zip((item.id for item in items),
                          resolve_speakers(items, list(loaded.speakers), model.n_speakers, speaker)))
    listening = intelligibility_plan(listen, loaded.cleaners)
    if heard is not None and not listening["scored"]:
        heard.close()  # its workers have nothing to hear
    writer = None
    if samples is not None:
        from tts_adapt.evaluation.samples import SampleWriter

        writer = SampleWriter(samples, loaded)
    listener = renderer = None
    if listening["scored"] or writer is not None:
        from tts_adapt.vocoder.render import load_renderer

        renderer = load_renderer(vocoder, audio, str(checkpoint), loaded.directory, checkpoint)
    if listening["scored"]:
        listener = _Listener(renderer, heard)
        listening |= {"vocoder": renderer.name, "vocoder_note": renderer.note}
    forward = teacher_forced_graph(model)
    records: dict[str, UtteranceScore] = {}
    hearing: dict[str, Callable[[], dict[str, Any]]] = {}  # by id: the heard fields, once heard
    kept_plots: dict[str, dict] = {}
    plot_ids = {item.id for item in items[:plots]}
    steps = len(items) * (2 if listener else 1)  # each utterance decoded, then heard
    for group in batches(items, BATCH_SIZE):
        batch = pad_batch(group, config.reduction, [speaker_of[item.id] for item in group])
        taught = forward(batch)["mel_post"].numpy()
        l1 = masked_l1(taught, batch["mel"], batch["mel_len"])
        for row, item in enumerate(group):
            records[item.id], arrays = _score(model, item, speaker_of[item.id], float(l1[row]), seed, audio)
            if listener is not None:  # heard while the next utterances decode, where there are workers
                hearing[item.id] = listener.hear(item, arrays["synthesized"])
            if item.id in plot_ids:
                kept_plots[item.id] = arrays
            stem = writer and writer.wanted(item.id, item.ids)
            if stem:
                writer.write_scored(stem, arrays["synthesized"], arrays["alignment"], records[item.id].stopped,
                                    item.ids, loaded.speakers[speaker_of[item.id]] if loaded.speakers else None,
                                    renderer)
            if progress:
                progress(len(records), steps)
    if writer is not None:  # spoken while the workers still hear
        writer.speak_rest(speaker, seed, renderer)
    for done, (item_id, fields) in enumerate(hearing.items(), len(records) + 1):
        records[item_id] = replace(records[item_id], **fields())
        if progress:
            progress(done, steps)
    ordered = [records[item.id] for item in items]
    report = EvaluationReport(
        checkpoint=str(checkpoint), data=str(prepared_dir), split=split or "all", seed=seed, speaker=speaker,
        items=len(ordered), skipped=skipped,
        summary=summarise(ordered),
        intelligibility=Intelligibility(**listening, **(summarise_intelligibility(ordered) if listener else {})),
        utterances=tuple(ordered))
    return Evaluation(report, [kept_plots[item.id] | {"id": item.id} for item in items if item.id in kept_plots],
                      writer.from_scoring if writer else 0)


def _score(model, item: Item, speaker: int, mel_l1: float, seed: int, audio) -> tuple[UtteranceScore, dict]:
    """Decode one utterance free-running (as ``synthesize --seed`` would) and measure it.

    One at a time, because the seeded prenet dropout mask of a row depends on the batch it sits in.
    """
    from tts_adapt.model.loading import decoder_step_limit

    r = model.config.reduction
    max_steps = decoder_step_limit(model.config, reference_frames=item.mel.shape[0])
    free = model.infer(item.ids[None], [len(item.ids)], [speaker], max_steps=max_steps, seed=seed)
    decoded = int(free["mel_len"][0])  # max_steps * r when the decoder never stopped
    length = max(min(decoded, 2 * item.mel.shape[0]), 1)
    synthesized = free["mel_post"].numpy()[0, :length]  # [frames, n_mels]
    alignment = free["alignment"].numpy()[0, : math.ceil(length / r)]  # [steps, text]
    record = UtteranceScore(
        id=item.id, speaker=item.speaker, text=item.text, frames=int(item.mel.shape[0]), predicted_frames=length,
        stopped=decoded < max_steps * r and decoded <= 2 * item.mel.shape[0], mel_l1=mel_l1,
        **metrics.mcd_dtw(item.mel, synthesized, audio), **alignment_metrics(alignment),
        length_ratio=metrics.length_ratio(length, item.mel.shape[0]))
    return record, {"reference": item.mel, "synthesized": synthesized, "alignment": alignment}


def intelligibility_plan(listen: bool, cleaners) -> dict[str, Any]:
    """Whether the recogniser scores this model, and if not, the reason the report gives."""
    if not listen:
        return {"scored": False, "reason": "not requested (--no-listen)"}
    if not intelligibility.applies_to(cleaners):
        return {"scored": False, "reason": f"the recogniser is {intelligibility.LANGUAGE}; this model's front-end "
                                           f"({', '.join(cleaners or [])}) is not English"}
    return {"scored": True, "recogniser": f"pocketsphinx {intelligibility.LANGUAGE}"}


class _Listener:
    """Has the recogniser hear the free-running mel and the recording's own, both rendered, and the recording
    itself; ``heard`` remembers each audio by content, so ceilings another model was scored beside are not
    heard again, and may hear in worker processes."""

    def __init__(self, renderer, heard: HeardCache | None = None) -> None:
        self.render = renderer  # a tts_adapt.vocoder.render.Renderer
        self.audio = renderer.audio
        self.heard = heard or HeardCache()

    def hear(self, item: Item, synthesized: np.ndarray) -> Callable[[], dict[str, Any]]:
        """Starts hearing ``item``; what it returns gives the :class:`UtteranceScore` fields of what was heard."""
        spoken = self.heard.hear_rendered(synthesized, self.render)
        vocoded = self.heard.hear_rendered(item.mel, self.render)
        recording = self.heard.hear_recording(item.audio) if item.audio and os.path.isfile(item.audio) else None

        def fields() -> dict[str, Any]:
            said, own = spoken.result(), vocoded.result()
            heard = intelligibility.heard_against(item.text, said.heard)
            ceilings = {"vocoded": intelligibility.heard_against(item.text, own.heard)}
            if recording is not None:
                ceilings["recording"] = intelligibility.heard_against(item.text, recording.result().heard)
            return {"heard": heard.hypothesis, "wer": heard.wer, "cer": heard.cer, "reference": heard.reference,
                    **metrics.f0_rmse(item.mel, synthesized, own.pitch, said.pitch, self.audio),
                    "ceilings": {name: HeardScore(h.hypothesis, h.wer, h.cer) for name, h in ceilings.items()}}

        return fields


def summarise_intelligibility(records: list[UtteranceScore]) -> dict[str, Any]:
    """The :class:`Intelligibility` fields: corpus WER/CER of the synthesis and of each ceiling, the pitch
    error, and the sentence a person reads."""
    def rates(pairs) -> dict[str, float]:
        return intelligibility.corpus_rates([(reference, heard) for reference, heard in pairs])

    synthesis = rates((r.reference, r.heard) for r in records)
    ceilings = {name: Rates(**rates((r.reference, r.ceilings[name].heard) for r in records if name in r.ceilings))
                for name in intelligibility.CEILING_LABELS if any(name in r.ceilings for r in records)}
    voiced = [r.f0_rmse for r in records if r.f0_rmse is not None]
    pitch = {"f0_rmse": float(np.mean(voiced)) if voiced else None,
             "voicing_error": float(np.mean([r.voicing_error for r in records]))}
    said = intelligibility.understood_sentence(
        synthesis["wer"], {intelligibility.CEILING_LABELS[name]: value.wer for name, value in ceilings.items()})
    return {**synthesis, **pitch, "ceilings": ceilings, "sentence": said}


def summarise(records: list[UtteranceScore]) -> MetricMeans:
    """Means of every metric (``reached_end``: the share that did), and how many utterances the stop token ended."""
    means = {key: float(np.mean([getattr(r, key) for r in records])) for key in METRIC_KEYS}
    return MetricMeans(**means, stopped=sum(r.stopped for r in records), items=len(records))
