"""Print the speaker that ``tts-adapt suggest-speaker --format json`` ranked first.

    python recipes/common/best_speaker.py exp/allison/suggest/speakers.json

The ranking is a list of ``{"speaker": NAME, "loss": ...}`` entries, best first, either the
document itself or under its ``"ranking"`` key; a ``"best"`` key, when present, wins.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def best_speaker(document: dict | list) -> str:
    if isinstance(document, dict) and document.get("best"):
        best = document["best"]
        return best["speaker"] if isinstance(best, dict) else str(best)
    ranking = document["ranking"] if isinstance(document, dict) else document
    if not ranking:
        raise SystemExit("suggest-speaker ranked no speakers")
    return str(ranking[0]["speaker"])


if __name__ == "__main__":
    print(best_speaker(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
