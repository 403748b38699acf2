"""How well the voice is understood before and after fine-tuning, beside the ceilings: what the page opens with."""

from __future__ import annotations

from pathlib import Path

from tts_adapt.evaluation.results import EvaluationReport, Intelligibility, Rates
from tts_adapt.htmlpage import esc, note, plural, table
from tts_adapt.report.reading import read

# The pretrained model as the folded speaker is not scored: verify proves the adapted model computes the same.
EVALUATED = (("before", "before fine-tuning"), ("after", "after fine-tuning"))
METRICS = (("mel_l1", "teacher-forced mel error", "lower"), ("mcd", "mel cepstral distortion (dB)", "lower"),
           ("focus", "attention focus", "higher"), ("monotonicity", "monotonic attention", "higher"),
           ("coverage", "symbols attended", "higher"), ("length_ratio", "length / recording's", "1"))


def evaluations(exp: Path) -> tuple[dict[str, EvaluationReport], list[str]]:
    """``evaluate``'s documents of the samples stage by model ("before", "after"), and why any is missing."""
    found = {model: read(EvaluationReport, exp / "samples" / f"evaluate_{model}.json", "samples")
             for model, _ in EVALUATED}
    notes = list(dict.fromkeys(reading.note for reading in found.values() if reading.note))
    return {model: reading.document for model, reading in found.items() if reading.document is not None}, notes


def rate(value: Rates) -> str:
    """'0.12 (0.09-0.15)': the CER with its bootstrap 95% interval when the run has one."""
    if value.cer_low is None or value.cer_high is None:
        return f"{value.cer:.2f}"
    return f"{value.cer:.2f} ({value.cer_low:.2f}-{value.cer_high:.2f})"


def understood(value: Rates) -> str:
    return f"{max(0.0, 1 - value.wer):.0%}"


def separation(before: Rates, after: Rates) -> str:
    """Whether fine-tuning changed intelligibility by more than the sentences can tell."""
    if None in (before.cer_low, after.cer_low):
        return ""
    if not before.separates_from(after):
        return "The 95% intervals before and after fine-tuning overlap: these sentences cannot tell the two apart."
    better = after.cer < before.cer
    return f"Fine-tuning made the voice {'more' if better else 'less'} intelligible: the 95% intervals separate."


def verdict_section(exp: Path) -> str:
    """The recogniser's rates before and after fine-tuning, and on the recordings themselves."""
    runs, missing = evaluations(exp)
    heard: dict[str, Intelligibility] = {model: report.intelligibility for model, report in runs.items()}
    scored = {model: value for model, value in heard.items() if value.rates is not None}
    title = "<h2>Can it be understood?</h2>"
    if not scored:
        reasons = sorted({value.reason for value in heard.values() if value.reason}) + missing
        return title + note("not scored: " + "; ".join(reasons))
    labels = dict(EVALUATED)
    said = " and ".join(f"{understood(value.rates)} {labels[model]}" for model, value in scored.items())
    rows = [[labels[model], value.vocoder or "Griffin-Lim", f"{value.wer:.2f}", rate(value.rates)]
            for model, value in scored.items()]
    recording = next((value.ceilings["recording"] for value in scored.values() if "recording" in value.ceilings), None)
    if recording is not None:
        rows.append(["the recordings themselves", "-", f"{recording.wer:.2f}", rate(recording)])
    for model, value in scored.items():  # each renderer on the recordings' own mels: what it can carry
        if "vocoded" in value.ceilings:
            vocoded = value.ceilings["vocoded"]
            rows.append([f"the recordings' own mels ({labels[model]}'s renderer)", value.vocoder or "Griffin-Lim",
                         f"{vocoded.wer:.2f}", rate(vocoded)])
    limit = f" ({understood(recording)} on the recordings themselves)" if recording is not None else ""
    verdict = separation(scored["before"].rates, scored["after"].rates) if len(scored) == 2 else ""
    recogniser = next(iter(scored.values())).recogniser or "an offline recogniser"
    items = next(iter(runs.values())).items
    return (f"{title}<p><strong>Of the words of the held-out sentences, the recogniser ({esc(recogniser)}) "
            f"understood {esc(said)}{esc(limit)}.</strong> {esc(verdict)}</p>"
            + table(rows, ("audio", "rendered by", "word error rate", "character error rate (95% interval)"),
                    numeric=(2,))
            + f'<p class="meta">The same {plural(items, "sentence")} in every row, never trained on by the acoustic '
              "model or the vocoder. Intervals: bootstrap over sentences. The rows on the recordings' own mels show "
              "what a perfect acoustic model could reach with each renderer.</p>")


def metrics_section(exp: Path) -> str:
    """``evaluate``'s means for the model before and after fine-tuning."""
    runs, missing = evaluations(exp)
    if not runs:
        return note("; ".join(missing))
    rows = [[label] + [f"{getattr(runs[model].summary, key):.3f}" if model in runs else "-" for model, _ in EVALUATED]
            + [better] for key, label, better in METRICS]
    items = next(iter(runs.values())).items
    return (f"<p>{plural(items, 'recording')} that no model trained on (<code>tts-adapt evaluate</code>).</p>"
            + table(rows, ("metric", *(label for _, label in EVALUATED), "better"), numeric=(1, 2)))
