"""Print the speaker that ``tts-adapt suggest-speaker --format json`` ranked first (its ``best``).

    python recipes/common/best_speaker.py exp/allison/suggest/speakers.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def best_speaker(document: dict) -> str:
    best = document.get("best") if isinstance(document, dict) else None
    if best in (None, ""):
        raise SystemExit("the speaker ranking names no best speaker")
    return str(best)


if __name__ == "__main__":
    print(best_speaker(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
