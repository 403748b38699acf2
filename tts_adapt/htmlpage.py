"""One look for every HTML page the toolkit writes (evaluation, symbol report, recipe report).

Pages are standalone (inline CSS, images as data URIs), so a report folder can be zipped and
opened anywhere. Each page may add the few rules only it needs.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } figure { margin: 1.5em 0; } figcaption { font-size: 0.9em; color: #444; }
.meta, .note { color: #666; } .note { font-style: italic; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; }
"""


def page(title: str, body: str, meta: str = "", extra_style: str = "") -> str:
    """The whole page: ``body`` is HTML, ``title`` and ``meta`` are text (escaped here)."""
    from tts_adapt import __version__

    stamp = f"tts-adapt {__version__}, {datetime.now(timezone.utc).isoformat(timespec='seconds')}"
    line = f"{meta}; {stamp}" if meta else stamp
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}{extra_style}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
            f'<p class="meta">{html.escape(line)}</p>\n{body}\n</body></html>\n')
