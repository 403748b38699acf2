"""Renderers of a :class:`Comparison`: text (terminal), markdown, csv, json and one standalone html page.

Every renderer returns a string, so the CLI can print it or write it atomically.
Symbols are shown escaped (space as ␠, tab as \\t, invisible characters as \\uXXXX)
everywhere people read them; JSON and CSV also carry the raw symbol.
"""

from __future__ import annotations

import csv
import html
import io
import re
import warnings
from typing import Callable

from tts_adapt.htmlpage import code_path, figure_image, figure_text, page, shown_path
from tts_adapt.symbols.compare import Comparison, SymbolRow
from tts_adapt.symbols.table import escape_symbol

_STATUS_COLOURS = {"kept": "green", "moved": "yellow", "added": "cyan", "removed": "red"}


def _count(row: SymbolRow) -> str:
    return "" if row.count is None else str(row.count)


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


# --- text ---------------------------------------------------------------------

def render_text(comparison: Comparison, terminal: bool = False, width: int = 100) -> str:
    """A rich table: coloured with box lines on a terminal, plain ASCII otherwise (files, pipes)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, no_color=not terminal, width=width,
                      highlight=False, emoji=False, markup=False)
    has_counts = comparison.transcripts is not None
    table = Table(title=f"{comparison.old_source} -> {comparison.new_source}",
                  box=box.SIMPLE_HEAD if terminal else box.ASCII2, title_justify="left")
    for name, justify in (("new id", "right"), ("old id", "right"), ("symbol", "left"), ("status", "left"),
                          ("init", "left")) + ((("count", "right"),) if has_counts else ()):
        table.add_column(name, justify=justify)
    for row in comparison.rows:
        cells = [_id(row.new_id), _id(row.old_id), row.display, row.status, row.describe_init()]
        if has_counts:
            cells.append(_count(row))
        table.add_row(*cells, style=_STATUS_COLOURS[row.status] if terminal else None)
    console.print(table)
    stats = comparison.transcripts
    if stats is not None:
        if stats.oov:
            oov = Table(title="characters the new table cannot encode", box=table.box, title_justify="left")
            for name in ("char", "count", "examples"):
                oov.add_column(name, justify="right" if name == "count" else "left")
            for item in stats.oov:
                oov.add_row(escape_symbol(item.char), str(item.count), ", ".join(item.examples))
            console.print(oov)
        if stats.unused:
            console.print("symbols no transcript uses (fine-tuning will not train their rows): "
                          + " ".join(escape_symbol(s) for s in stats.unused), soft_wrap=True)
    console.print(f"summary: {comparison.summary_line()}", soft_wrap=True)
    return buffer.getvalue()


# --- markdown -------------------------------------------------------------------

def _md(text: str) -> str:
    """Backslash-escape the punctuation markdown would act on inside a table cell."""
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", text)


def render_markdown(comparison: Comparison) -> str:
    has_counts = comparison.transcripts is not None
    head = ["new id", "old id", "symbol", "status", "init"] + (["count"] if has_counts else [])
    lines = [f"# Symbol tables: {_md(comparison.old_source)} -> {_md(comparison.new_source)}", "",
             "| " + " | ".join(head) + " |", "|" + "|".join("---:" if h in ("new id", "old id", "count") else "---"
                                                           for h in head) + "|"]
    for row in comparison.rows:
        cells = [_id(row.new_id), _id(row.old_id), _md(row.display), row.status, _md(row.describe_init())]
        if has_counts:
            cells.append(_count(row))
        lines.append("| " + " | ".join(cells) + " |")
    stats = comparison.transcripts
    if stats is not None:
        lines += ["", f"## Transcripts ({_md(stats.path)})", ""]
        if stats.oov:
            lines += ["| char | count | examples |", "|---|---:|---|"]
            lines += [f"| {_md(escape_symbol(o.char))} | {o.count} | {_md(', '.join(o.examples))} |" for o in stats.oov]
        else:
            lines.append("Every transcript character is encodable.")
        if stats.unused:
            lines += ["", "Unused symbols: " + " ".join(_md(escape_symbol(s)) for s in stats.unused)]
    lines += ["", f"**Summary:** {_md(comparison.summary_line())}", ""]
    return "\n".join(lines)


# --- csv / json ------------------------------------------------------------------

CSV_COLUMNS = ("symbol", "display", "status", "old_id", "new_id", "init", "alias", "alias_reason", "count")


def render_csv(comparison: Comparison) -> str:
    """One row per symbol (the raw symbol and its escaped display); transcript details are in json/html."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        writer.writerow(["" if getattr(row, c) is None else getattr(row, c) for c in CSV_COLUMNS])
    return buffer.getvalue()


def render_json(comparison: Comparison) -> str:
    return comparison.to_text()


# --- html -------------------------------------------------------------------------

_CSS = """
td.sym { font-family: ui-monospace, monospace; }
tr.kept td.status { color: #2a7d2a; } tr.moved td.status { color: #a06a00; }
tr.added td.status { color: #1a6fa0; } tr.removed td.status { color: #b02020; }
p.summary { font-weight: bold; }
"""


def _chart_label(symbol: str) -> str:
    """Escaped like everywhere else, but with a glyph every matplotlib font has for the space."""
    return figure_text(escape_symbol(symbol).replace("␠", "SP"))


def _chart(comparison: Comparison) -> str:
    """Occurrences per symbol (with transcripts) or symbols per status (without), as an inline picture."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    stats = comparison.transcripts
    if stats is not None:
        counted = sorted((r for r in comparison.rows if r.new_id is not None), key=lambda r: -(r.count or 0))
        labels = [_chart_label(r.symbol) for r in counted] + [_chart_label(o.char) for o in stats.oov]
        values = [r.count or 0 for r in counted] + [o.count for o in stats.oov]
        colours = ["#4a7fb0"] * len(counted) + ["#c03030"] * len(stats.oov)
        title = "occurrences in the transcripts (red: not encodable)"
        alt = "Bar chart: how often each symbol occurs in the transcripts, characters the table cannot encode in red"
    else:
        summary = comparison.summary()
        labels = ["kept", "moved", "added", "removed"]
        values = [summary[s] for s in labels]
        colours = ["#2a7d2a", "#a06a00", "#1a6fa0", "#b02020"]
        title = "symbols per status"
        alt = "Bar chart: how many symbols are kept, moved, added and removed"
    figure = Figure(figsize=(max(6.0, 0.22 * len(labels)), 3.5), dpi=100)
    axes = figure.add_subplot()
    axes.bar(range(len(values)), values, color=colours)
    axes.set_xticks(range(len(labels)), labels, fontsize=8, fontfamily="monospace")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.set_xlim(-0.6, len(values) - 0.4)
    with warnings.catch_warnings():  # a symbol outside the font still gets its bar, drawn as a box
        warnings.simplefilter("ignore", UserWarning)
        figure.tight_layout()
        return figure_image(figure, alt, dpi=100)


def render_html(comparison: Comparison) -> str:
    """One standalone page: inline CSS, the chart as an inline PNG, and the tables."""
    esc: Callable[[str], str] = html.escape
    has_counts = comparison.transcripts is not None
    head = ["new id", "old id", "symbol", "status", "init"] + (["count"] if has_counts else [])
    rows = []
    for row in comparison.rows:
        cells = [f'<td class="num">{_id(row.new_id)}</td>', f'<td class="num">{_id(row.old_id)}</td>',
                 f'<td class="sym">{esc(row.display)}</td>', f'<td class="status">{row.status}</td>',
                 f"<td>{esc(row.describe_init())}</td>"]
        if has_counts:
            cells.append(f'<td class="num">{_count(row)}</td>')
        rows.append(f'<tr class="{row.status}">{"".join(cells)}</tr>')
    title = f"Symbol tables: {shown_path(comparison.old_source)} -> {shown_path(comparison.new_source)}"
    parts = [
        _chart(comparison),
        '<div class="scroll"><table><thead><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>",
        *rows, "</tbody></table></div>",
    ]
    stats = comparison.transcripts
    if stats is not None:
        parts.append(f"<h2>Transcripts: {code_path(stats.path)}</h2>")
        if stats.oov:
            parts.append('<div class="scroll"><table><thead><tr><th>character</th><th>count</th><th>examples</th>'
                         "</tr></thead><tbody>")
            parts += [f'<tr><td class="sym">{esc(escape_symbol(o.char))}</td><td class="num">{o.count}</td>'
                      f"<td>{esc(', '.join(o.examples))}</td></tr>" for o in stats.oov]
            parts.append("</tbody></table></div>")
        else:
            parts.append("<p>Every transcript character is encodable.</p>")
        if stats.unused:
            parts.append("<p>Symbols no transcript uses: <code>"
                         + esc(" ".join(escape_symbol(s) for s in stats.unused)) + "</code></p>")
    verdict = f'<p class="summary">{esc(comparison.summary_line())}</p>'
    heading = f"Symbol tables: {code_path(comparison.old_source)} -> {code_path(comparison.new_source)}"
    return page(title, "\n".join(parts), extra_style=_CSS, verdict=verdict, heading=heading)


RENDERERS: dict[str, Callable[[Comparison], str]] = {
    "markdown": render_markdown, "csv": render_csv, "json": render_json, "html": render_html,
}
