"""The stages before fine-tuning, each told from its run document: data, symbols, speaker, surgery, verify."""

from __future__ import annotations

import re
from pathlib import Path

from tts_adapt.corpus.prepared import INFO_NAME, PreparedRecord
from tts_adapt.htmlpage import code_path, esc, note, table
from tts_adapt.report.reading import read
from tts_adapt.scoring.equivalence import EquivalenceResult
from tts_adapt.scoring.speaker_ranking import SpeakerRanking
from tts_adapt.surgery.plan_document import AdaptReport
from tts_adapt.symbols.compare import Comparison
from tts_adapt.symbols.render import render_html
from tts_adapt.symbols.table import escape_symbol

SYMBOL_REPORT = "symbols.html"  # the full symbol report, written beside the page
ACTION_WORDS = {"copy": "copied unchanged", "remap_rows": "with rows that follow their symbols",
                "drop_rows": "without their speaker rows", "fold": "with the folded speaker added to their bias",
                "delete": "deleted", "rewrite": "rewritten"}
ACTION_NAMES = {"copy": "copy", "remap_rows": "rows follow symbols", "drop_rows": "speaker rows dropped",
                "fold": "speaker folded in", "delete": "deleted", "rewrite": "rewritten"}
OUTPUT_WORDS = {"mel": "mel", "mel_post": "mel after the post-net", "stop_logits": "stop token",
                "alignment": "attention"}
IDENTIFIER = re.compile(r"[\w.-]+(?:/[\w.-]+)+|\w+_\w+")  # a variable's name, in a sentence about it


def data_section(exp: Path) -> str:
    """What prepare kept and skipped, of the voice's recordings and of the held-out ones."""
    kept = read(PreparedRecord, exp / "prepared" / INFO_NAME, "prepare")
    if kept.document is None:
        return note(kept.note)
    heldout = read(PreparedRecord, exp / "prepared_heldout" / INFO_NAME, "prepare")
    rows = [("recordings for training and validation", kept.document.items, _minutes(kept.document))]
    if heldout.document is not None:
        rows.append(("held-out recordings (never trained on)", heldout.document.items, _minutes(heldout.document)))
    skipped = kept.document.skipped + (heldout.document.skipped if heldout.document else ())
    rows.append(("skipped by prepare", len(skipped), "-"))
    listed = ""
    if skipped:
        items = "".join(f"<li><code>{esc(s.id)}</code>: {esc(s.reason)}</li>" for s in skipped)
        listed = f"<details><summary>the recordings prepare skipped, and why</summary><ul>{items}</ul></details>"
    return table(rows, ("", "recordings", "minutes"), numeric=(1, 2)) + listed


def _minutes(record: PreparedRecord) -> str:
    return "-" if record.hours is None else f"{record.hours * 60:.1f}"


def symbols_section(exp: Path, out: Path) -> str:
    """The comparison's summary and its added and removed symbols; the full report is written beside the page."""
    reading = read(Comparison, exp / "symbols" / "compare.json", "symbols")
    comparison = reading.document
    if comparison is None:
        return note(reading.note)
    (out / SYMBOL_REPORT).write_text(render_html(comparison), encoding="utf-8")
    changed = [row for row in comparison.rows if row.status in ("added", "removed")]
    rows = [(escape_symbol(row.symbol), row.status, row.describe_init(), "-" if row.count is None else row.count)
            for row in changed]
    listed = table(rows, ("symbol", "status", "row initialised from", "occurrences"), numeric=(3,)) if rows else ""
    return (f"<p>{code_path(comparison.new_source)} against the pretrained model's table: "
            f"{esc(comparison.summary_line())}.</p>{listed}"
            f'<p><a href="{SYMBOL_REPORT}">The full symbol report</a>: every symbol, its row and its occurrences.</p>')


def speaker_section(exp: Path) -> str:
    reading = read(SpeakerRanking, exp / "suggest" / "speakers.json", "speaker")
    ranking = reading.document
    if ranking is None:
        return note(reading.note)
    best = ranking.ranking[0].loss
    rows = [(entry.rank, entry.label, f"{entry.loss:.3f}", f"+{entry.loss - best:.3f}" if entry.rank > 1 else "")
            for entry in ranking.ranking]
    return (f"<p>Each pretrained speaker's teacher-forced loss on {ranking.items_scored} recordings of this voice; "
            f"the nearest, <strong><code>{esc(ranking.best)}</code></strong>, is the one folded.</p>"
            + table(rows, ("rank", "speaker", "loss", "more than the nearest"), numeric=(0, 2, 3), names=(1,)))


def plan_section(exp: Path) -> str:
    """The plan ``adapt --plan-output`` (or ``--format json``) saved, said in sentences; the changed weights in a
    table."""
    reading = read(AdaptReport, exp / "adapt_plan.json", "adapt")
    if reading.document is None:
        return note(reading.note)
    plan = reading.document.plan
    summary = plan.summary
    said = "; ".join(f"{n} {ACTION_WORDS.get(op, op)}" for op, n in summary.variables_by_action.items())
    parts = [f"<p>Of the {summary.variables} variables of the pretrained checkpoint ({esc(plan.dialect)} dialect, "
             f"{summary.tensors} tensors with their optimizer slots): {esc(said)}.</p>"]
    if plan.speaker is not None:
        parts.append(f"<p>The folded voice: {_names_as_code(plan.speaker.vector_source)}. The adapted model "
                     "computes, without a speaker input, what the multi-speaker model computed for it.</p>")
    else:
        parts.append("<p>No speaker was folded: the speaker rows were dropped and no voice is kept.</p>")
    changed = [a for a in plan.actions if a.op != "copy" and a.role == "weight"]
    rows = [(f"<code>{esc(a.variable)}</code>", esc(ACTION_NAMES.get(a.op, a.op)),
             esc(_shapes(a.shape_before, a.shape_after)), _names_as_code(a.reason)) for a in changed]
    if rows:
        head = "".join(f"<th>{h}</th>" for h in ("variable", "action", "shape", "why"))
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
        parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
    return "".join(parts)


def _names_as_code(text: str) -> str:
    """Escaped, with the variable names it mentions shown as code, not as words."""
    return IDENTIFIER.sub(lambda found: f"<code>{found.group()}</code>", esc(text))


def _shapes(before: tuple[int, ...], after: tuple[int, ...] | None) -> str:
    shown = " x ".join(map(str, before))
    if after is None:
        return f"{shown} (removed)"
    return shown if after == before else f"{shown} -> {' x '.join(map(str, after))}"


def verify_section(exp: Path) -> str:
    """verify's verdict in a sentence, the differences per output rounded."""
    reading = read(EquivalenceResult, exp / "verify.json", "verify")
    result = reading.document
    if result is None:
        return note(reading.note)
    who = "the folded speaker" if result.speaker is None else result.speaker.describe()
    verdict = "computes the same outputs as" if result.ok else "does NOT compute the same outputs as"
    said = (f"The adapted model {verdict} the pretrained model speaking as {who}: the largest relative difference "
            f"over every output is {result.max_rel_diff:.1e} (tolerance {result.tolerance:.0e}).")
    said = _names_as_code(said)  # the speaker's name, as the data has it
    rows = [(OUTPUT_WORDS.get(name, name), f"{d.max_abs_diff:.1e}", f"{d.max_rel_diff:.1e}")
            for name, d in result.outputs.items()]
    return (f"<p><strong>{said}</strong></p>"
            + table(rows, ("output", "largest difference", "relative to the largest output"), numeric=(1, 2)))
