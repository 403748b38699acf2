"""The evaluation as one standalone HTML page: the verdict, the summary, per-utterance table, plots inlined."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from tts_adapt.evaluation.results import EvaluationReport, Intelligibility, TextsReport, UtteranceScore
from tts_adapt.htmlpage import code_path, figure_image, figure_text, page, shown_path

COLUMNS = (  # (key, header, format, what it means)
    ("mel_l1", "mel L1", "{:.3f}", "teacher-forced post-net mel error (normalised units, lower is better)"),
    ("mcd", "MCD dB", "{:.2f}", "mel cepstral distortion after DTW, free-running vs recording (lower is better)"),
    ("focus", "focus", "{:.2f}", "mean largest attention weight per decoder step (1 = sharp)"),
    ("monotonicity", "monotonic", "{:.2f}", "share of steps whose attended symbol moves back by at most one"),
    ("coverage", "coverage", "{:.2f}", "share of input symbols that received attention (total >= 0.5)"),
    ("reached_end", "end", "{:.2f}", "the last step attends to one of the last three symbols (mean: share that did)"),
    ("length_ratio", "length", "{:.2f}", "free-running frames / recording frames (1 = stop token on time)"),
)

EXTRA_STYLE = """
td { text-align: right; } td.text { text-align: left; max-width: 28em; } tr.bad td { background: #fff1f0; }
"""
SCROLL = '<div class="scroll">{}</div>'  # a wide table scrolls inside itself on a phone, never the page


def format_value(value, fmt: str) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else fmt.format(value)


def overview_figure(records: tuple[UtteranceScore, ...]) -> str:
    """MCD and attention focus/coverage per utterance, to spot the outliers."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4.5))
    mcd_axes, attention_axes = figure.subplots(2, 1, sharex=True)
    x = np.arange(len(records))
    mcd_axes.bar(x, [r.mcd for r in records], color="#4c72b0")
    mcd_axes.set_ylabel("MCD (dB)")
    for key, color in (("focus", "#dd8452"), ("coverage", "#55a868")):
        attention_axes.plot(x, [getattr(r, key) for r in records], "o-", color=color, label=key)
    attention_axes.set_ylim(0, 1.05)
    attention_axes.legend(loc="lower right")
    attention_axes.set_xticks(x, [r.id for r in records], rotation=90, fontsize=7)
    return figure_image(figure, "Bar chart of the mel cepstral distortion of each utterance, above the attention "
                                "focus and coverage of each")


def utterance_figure(plot: dict[str, Any], text: str) -> str:
    """Recording and free-running mel side by side, and the free-running alignment."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3))
    axes = figure.subplots(1, 3)
    for ax, key, title in ((axes[0], "reference", "recording"), (axes[1], "synthesized", "free-running")):
        ax.imshow(plot[key].T, origin="lower", aspect="auto", vmin=-4, vmax=4, interpolation="none")
        ax.set_title(f"{title} mel ({len(plot[key])} frames)", fontsize=9)
        ax.set_xlabel("frame")
    axes[2].imshow(plot["alignment"].T, origin="lower", aspect="auto", vmin=0, vmax=1, interpolation="none")
    axes[2].set_title("attention", fontsize=9)
    axes[2].set_xlabel("decoder step")
    axes[2].set_ylabel("input symbol")
    return figure_image(figure, f"Mel spectrograms of the recording and of the free-running synthesis, and the "
                                f"attention alignment, for: {text}")


HEARD_COLUMNS = (("wer", "WER", "{:.2f}"), ("cer", "CER", "{:.2f}"))


def _heard_cells(record: UtteranceScore) -> str:
    """What the recogniser heard, and its error rates (absent when intelligibility was not scored)."""
    if record.heard is None:
        return ""
    cells = [f'<td class="text">{html.escape(record.heard or "(nothing)")}</td>']
    return "".join(cells + [f"<td>{fmt.format(getattr(record, key))}</td>" for key, _, fmt in HEARD_COLUMNS])


def _row(record: UtteranceScore, css: str = "") -> str:
    cells = [f"<td><code>{html.escape(record.id)}</code></td>", f'<td class="text">{html.escape(record.text)}</td>',
             f"<td>{record.frames}</td>", f"<td>{record.predicted_frames}</td>",
             f"<td>{'yes' if record.stopped else 'no'}</td>"]
    cells += [f"<td>{format_value(getattr(record, key), fmt)}</td>" for key, _, fmt, _ in COLUMNS]
    return f'<tr class="{css}">' + "".join(cells) + _heard_cells(record) + "</tr>"


def verdict_html(listening: Intelligibility) -> str:
    """The recogniser's verdict in one sentence: what the page opens with."""
    if not listening.scored:
        return f"<p>Intelligibility not scored: {html.escape(listening.reason or '')}.</p>"
    return f"<p><strong>{html.escape(listening.sentence or '')}</strong></p>"


def intelligibility_html(listening: Intelligibility) -> str:
    """The rates beside their ceilings (and per speaker)."""
    esc = html.escape
    if not listening.scored:
        return ""
    from tts_adapt.evaluation.intelligibility import CEILING_LABELS

    rows = [("this model", listening.rates)] + [(CEILING_LABELS[name], value)
                                                for name, value in listening.ceilings.items()]
    rows += [(f"speaker {name}", value) for name, value in listening.by_speaker.items()]
    table = "".join(f"<tr><td class='text'>{esc(name)}</td><td>{value.wer:.2f}</td><td>{value.cer:.2f}</td></tr>"
                    for name, value in rows)
    return (f"<h2>Intelligibility</h2>"
            + SCROLL.format(f"<table><tr><th>audio</th><th>WER</th><th>CER</th></tr>{table}</table>")
            + f"<p class='meta'>Recogniser: {esc(listening.recogniser or '')}, offline; word and character error "
            "rates over all utterances, text normalised alike on both sides (spoken words, lower case, letters "
            "only). The ceilings are the same sentences as recorded, and the recordings' own mels through the same "
            "vocoder: what a perfect acoustic model could reach.</p>")


def speaker_cer_figure(by_speaker) -> str:
    """Character error rate per speaker, one bar each: which voices can be understood."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(4.0, 0.7 * len(by_speaker) + 1.5), 3))
    axes = figure.subplots()
    names = list(by_speaker)
    axes.bar([figure_text(n) for n in names], [by_speaker[n].cer for n in names], color="#4c72b0")
    axes.set_ylabel("character error rate")
    axes.set_ylim(0, max(1.0, max(by_speaker[n].cer for n in names)))
    axes.tick_params(axis="x", labelrotation=45)
    return figure_image(figure, "Bar chart of the character error rate of each speaker")


def render_texts_html(report: TextsReport) -> str:
    """The --texts evaluation: the verdict, per speaker, and every sentence with what was heard."""
    esc = html.escape
    head = "".join(f"<th>{h}</th>" for h in ("id", "speaker", "text", "heard", "WER", "CER", "seconds", "stopped",
                                              "focus", "coverage"))
    body = "".join(
        f'<tr class="{"bad" if r.cer > 0.5 else ""}"><td><code>{esc(r.id)}</code></td><td>{esc(r.speaker or "-")}'
        f'</td><td class="text">{esc(r.text)}</td><td class="text">{esc(r.heard or "(nothing)")}</td>'
        f'<td>{r.wer:.2f}</td><td>{r.cer:.2f}</td><td>{r.seconds:.2f}</td>'
        f'<td>{"yes" if r.stopped else "no"}</td><td>{r.focus:.2f}</td><td>{r.coverage:.2f}</td></tr>'
        for r in report.utterances)
    meta = f"{report.items} sentences without recordings, seed {report.seed}"
    by_speaker = report.intelligibility.by_speaker
    chart = speaker_cer_figure(by_speaker) if len(by_speaker) > 1 else ""
    return page(f"Intelligibility of {shown_path(report.checkpoint)}",
                intelligibility_html(report.intelligibility) + chart
                + "<h2>Per sentence</h2>" + SCROLL.format(f"<table><tr>{head}</tr>{body}</table>")
                + "<p class='meta'>Highlighted: character error rate above 0.5.</p>", meta, EXTRA_STYLE,
                verdict=verdict_html(report.intelligibility),
                heading=f"Intelligibility of {code_path(report.checkpoint)}")


def render_html(report: EvaluationReport, plots: list[dict[str, Any]]) -> str:
    """The page; flags utterances whose stop token never fired or whose attention lost focus."""
    summary, records = report.summary, report.utterances
    esc = html.escape
    summary_rows = "".join(
        f"<tr><td>{esc(header)}</td><td>{fmt.format(getattr(summary, key))}</td>"
        f"<td class='text'>{esc(meaning)}</td></tr>" for key, header, fmt, meaning in COLUMNS)
    summary_rows += (f"<tr><td>stopped</td><td>{summary.stopped} / {summary.items}</td>"
                     "<td class='text'>utterances the stop token ended before the length guard</td></tr>")
    heard = ("heard", *(c[1] for c in HEARD_COLUMNS)) if report.intelligibility.scored else ()
    head = "".join(f"<th>{h}</th>" for h in ("id", "text", "frames", "predicted", "stopped",
                                              *(c[1] for c in COLUMNS), *heard))
    body = "".join(_row(r, "bad" if not r.stopped or r.focus < 0.5 else "") for r in records)
    text_of = {r.id: r.text for r in records}
    figures = "".join(
        f"<figure>{utterance_figure(p, text_of[p['id']])}<figcaption><code>{esc(p['id'])}</code>: "
        f"{esc(text_of[p['id']])}</figcaption></figure>" for p in plots)
    skipped = ""
    if report.skipped:
        skipped = "<h2>Skipped</h2><ul>" + "".join(
            f"<li><code>{esc(s.id)}</code>: {esc(s.reason)}</li>" for s in report.skipped) + "</ul>"
    meta = f"split {report.split}, {report.items} utterances, seed {report.seed}"
    return page(f"Evaluation of {shown_path(report.checkpoint)}", f"""
<p>The recordings of {code_path(report.data)}, spoken by the model.</p>
{intelligibility_html(report.intelligibility)}
<h2>Summary (means)</h2>
{SCROLL.format(f"<table><tr><th>metric</th><th>value</th><th>meaning</th></tr>{summary_rows}</table>")}
<h2>Per utterance</h2>
{overview_figure(records)}
{SCROLL.format(f"<table><tr>{head}</tr>{body}</table>")}
<p class="meta">Highlighted: the stop token never fired, or attention focus below 0.5.</p>
<h2>Mels and attention</h2>
{figures}
{skipped}""", meta, EXTRA_STYLE, verdict=verdict_html(report.intelligibility),
                heading=f"Evaluation of {code_path(report.checkpoint)}")
