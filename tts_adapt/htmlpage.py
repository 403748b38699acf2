"""One look for every HTML page the toolkit writes (evaluation, symbol report, recipe report).

Pages are standalone (inline CSS, images as data URIs), so a report folder can be zipped and
opened anywhere: paths are shown relative to the working folder, never as this machine's
absolute paths. Each page opens with its verdict, and may add the few rules only it needs.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222;
       overflow-wrap: break-word; }
code { overflow-wrap: anywhere; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; } figure { margin: 1.5em 0; } figcaption { font-size: 0.9em; color: #444; }
.scroll { overflow-x: auto; max-width: 100%; } .verdict { font-size: 1.05em; }
.meta, .note { color: #666; } .note { font-style: italic; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; }
"""


def page(title: str, body: str, meta: str = "", extra_style: str = "", verdict: str = "", heading: str = "") -> str:
    """The whole page: ``body``, ``verdict`` and ``heading`` are HTML, ``title`` and ``meta`` are text (escaped here).

    ``heading`` replaces the title as the page shows it (paths in it as code); the verdict (what a
    person came to learn) comes first, right under it."""
    from tts_adapt import __version__

    stamp = f"tts-adapt {__version__}, {datetime.now(timezone.utc).isoformat(timespec='seconds')}"
    line = f"{meta}; {stamp}" if meta else stamp
    first = f'<section class="verdict">{verdict}</section>\n' if verdict else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}{extra_style}</style></head>\n<body>\n"
            f'<h1>{heading or html.escape(title)}</h1>\n{first}<p class="meta">{html.escape(line)}</p>\n'
            f"{body}\n</body></html>\n")


def esc(value: Any) -> str:
    return html.escape(str(value))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def note(text: str) -> str:
    """A line that says why a part of the page is missing."""
    return f'<p class="note">{esc(text)}</p>'


def table(rows: Iterable[Iterable[Any]], header: Iterable[str], numeric: Iterable[int] = (),
          names: Iterable[int] = ()) -> str:
    """Text cells (escaped) under a header; ``numeric`` columns are right-aligned, ``names`` columns hold
    identifiers (speaker names, ids) shown as code. Scrolls inside itself on a phone."""
    right, code = set(numeric), set(names)

    def cell(index: int, value: Any) -> str:
        shown = f"<code>{esc(value)}</code>" if index in code else esc(value)
        return f'<td class="num">{shown}</td>' if index in right else f"<td>{shown}</td>"

    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def image(png: bytes, alt: str) -> str:
    """The one way a page shows a picture: inline (the page stays one file), with words for what it shows."""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def figure_text(text: str) -> str:
    """``text`` (a speaker name, a symbol, a sentence) as a figure's label shows it, letter for letter.

    Why: matplotlib reads what stands between two ``$`` as math, and raises on what it cannot parse."""
    return text.replace("$", r"\$")


def figure_image(figure, alt: str, dpi: int = 90) -> str:
    """A matplotlib figure as an inline picture (see :func:`image`)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return image(buffer.getvalue(), alt)


def shown_path(path: str | os.PathLike) -> str:
    """A path as a page shows it: relative to the working folder; outside it, only its last two parts.

    Why: a page is shared as a folder or a zip; this machine's absolute paths mean nothing elsewhere."""
    given = Path(path)
    if not given.is_absolute():
        return str(given)
    try:
        return str(given.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return "…/" + "/".join(given.parts[-2:])


def code_path(path: str | os.PathLike) -> str:
    """A path as shown (:func:`shown_path`), set as code: a name on disk, not words."""
    return f"<code>{esc(shown_path(path))}</code>"
