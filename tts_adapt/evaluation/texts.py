"""Score sentences that have no recordings: synthesise each, per speaker, and have the recogniser hear it.

Why: the question a pretrained model must answer is whether its voices can be understood on
text they never saw, and recordings of such text do not exist. Only the synthesis is scored
(intelligibility, attention, whether the stop token ended it); there is no ceiling to compare.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from tts_adapt.errors import UserError
from tts_adapt.evaluation import intelligibility
from tts_adapt.evaluation.evaluate import Evaluation, intelligibility_plan
from tts_adapt.model.alignment_metrics import alignment_metrics

ATTENTION_KEYS = ("focus", "monotonicity", "coverage", "reached_end")


def read_texts(path: str | os.PathLike) -> list[str]:
    """One sentence a line (blank lines and lines starting with '#' skipped); ``id|text`` lines take the text."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--texts {path}: cannot read ({exc})") from None
    texts = [line.split("|")[-1].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    texts = [text for text in texts if text]
    if not texts:
        raise UserError(f"--texts {path}: no sentences (one a line)")
    return texts


def evaluate_texts(checkpoint: str | os.PathLike, texts: Sequence[str], speakers: Sequence[str] | None = None,
                   seed: int = 0, audio_dir: str | os.PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None, vocoder: str | None = None) -> Evaluation:
    """Every sentence in every requested speaker's voice (default: all of the model's), heard by the recogniser.

    ``vocoder``: ``griffin-lim`` or a vocoder folder (None: the model's default)."""
    from tts_adapt.audio.config import AudioConfig
    from tts_adapt.audio.io import save_wav
    from tts_adapt.checkpoint.paths import resolve_checkpoint
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import speaker_of, synthesize
    from tts_adapt.vocoder.render import load_renderer

    model, manifest = load_model(checkpoint)
    listening = intelligibility_plan(True, manifest.get("cleaners"))
    if not listening["scored"]:
        raise UserError(f"--texts scores intelligibility only, and {listening['reason']}")
    render = load_renderer(vocoder, AudioConfig.from_dict(manifest["audio"]), str(checkpoint),
                           resolve_checkpoint(checkpoint)[1])
    listening |= {"vocoder": render.name, "vocoder_note": render.note}
    names = [speaker_of(manifest, value)[1] for value in speakers] if speakers else \
        list(manifest.get("speakers") or [None])
    recogniser = intelligibility.shared_recogniser()
    records: list[dict[str, Any]] = []
    total = len(names) * len(texts)
    for name in names:
        for number, text in enumerate(texts, 1):
            spoken = synthesize(model, manifest, text, speaker=name, seed=seed, render=render)
            heard = recogniser.score(spoken.wav, spoken.sample_rate, text)
            utterance_id = f"{name}_{number:03d}" if name else f"{number:03d}"
            if audio_dir is not None:
                save_wav(Path(audio_dir) / f"{utterance_id}.wav", spoken.wav, spoken.sample_rate)
            scores = alignment_metrics(spoken.alignment)
            records.append({"id": utterance_id, "speaker": name, "text": text, "reference": heard.reference,
                            **heard.to_json(), "seconds": round(spoken.seconds, 3), "stopped": spoken.stop_fired,
                            **{key: scores[key] for key in ATTENTION_KEYS}})
            if progress:
                progress(len(records), total)
    report = {
        "checkpoint": str(checkpoint),
        "mode": "texts",
        "seed": seed,
        "speakers": names,
        "items": len(records),
        "intelligibility": listening | summarise_by_speaker(records),
        "utterances": records,
    }
    return Evaluation(report)


def summarise_by_speaker(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Corpus WER/CER over everything and per speaker, with the sentence a person reads."""
    def rates(chosen: list[dict]) -> dict[str, float]:
        return intelligibility.corpus_rates([(r["reference"], r["heard"]) for r in chosen])

    overall = rates(records)
    by_speaker = {}
    for name in dict.fromkeys(r["speaker"] for r in records):
        mine = [r for r in records if r["speaker"] == name]
        by_speaker[name or "-"] = rates(mine) | {"stopped": sum(r["stopped"] for r in mine), "items": len(mine)}
    return {**overall, "by_speaker": by_speaker, "sentence": intelligibility.understood_sentence(overall["wer"])}
