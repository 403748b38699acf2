"""pYIN's pitch: ``librosa.pyin`` beside :func:`tts_adapt.evaluation.pitch.pyin_f0` (its Viterbi pass over the band).

Each audio is tracked by both, alternately, in one process (the banded pass compiled first); the pitch must
be the same to the bit, and the ratio of their CPU times is the speedup. evaluate tracks the pitch of every
rendered mel (two per scored utterance), so this was a fifth of a voice recipe's scoring.

    .venv/bin/python benchmarks/pitch.py --audio exp/allison/data/heldout [--limit 40] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import librosa
import numpy as np

from tts_adapt.evaluation.metrics import pitch_track  # evaluate's settings
from tts_adapt.audio.config import AudioConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, required=True, help="a folder of .wav files (speech)")
    parser.add_argument("--limit", type=int, default=40, help="at most this many files")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    audio = AudioConfig()  # 16 kHz, hop 200: the bundled model's
    files = sorted(args.audio.glob("*.wav"))[: args.limit]
    wavs = [librosa.load(path, sr=audio.sample_rate)[0] for path in files]
    pitch_track(wavs[0], audio)  # compiled (or loaded from __pycache__) before timing
    dense = banded = 0.0
    identical = 0
    for wav in wavs:
        began = time.process_time()
        expected = librosa.pyin(wav, fmin=50.0, fmax=500.0, sr=audio.sample_rate, frame_length=audio.n_fft,
                                hop_length=audio.hop_length)[0]
        dense += time.process_time() - began
        began = time.process_time()
        got = pitch_track(wav, audio)
        banded += time.process_time() - began
        identical += bool(np.array_equal(got, expected, equal_nan=True))
    seconds = sum(len(wav) for wav in wavs) / audio.sample_rate
    result = {"cpu_count": os.cpu_count(), "files": len(wavs), "audio_seconds": seconds, "identical": identical,
              "librosa_s": dense / len(wavs), "banded_s": banded / len(wavs), "ratio": dense / banded}
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def markdown(result: dict) -> str:
    """The run as markdown (docs/benchmarks.md renders the committed JSON with this)."""
    return (f"{result['cpu_count']} CPUs, {result['files']} recordings ({result['audio_seconds']:.0f} s of speech), "
            f"50-500 Hz at 16 kHz, hop 200 (the bundled model's audio): `librosa.pyin` {result['librosa_s']:.3f} s of CPU a recording, "
            f"the banded pass {result['banded_s']:.3f} s: **{result['ratio']:.2f}x**; the same pitch to the bit "
            f"for {result['identical']} of {result['files']}.")


if __name__ == "__main__":
    main()
