"""Print the speaker that ``tts-adapt suggest-speaker --format json`` ranked first (its ``best``).

    python recipes/common/best_speaker.py exp/allison/suggest/speakers.json
"""

from __future__ import annotations

import sys

from tts_adapt.errors import UserError
from tts_adapt.scoring.speaker_ranking import SpeakerRanking

if __name__ == "__main__":
    try:
        print(SpeakerRanking.read(sys.argv[1]).best)
    except UserError as exc:
        raise SystemExit(str(exc)) from None
