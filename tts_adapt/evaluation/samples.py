"""Listening samples written by the evaluation that scores them: ``evaluate --samples FILE --samples-dir DIR``.

Why here and not in a second ``synthesize`` process: a sample that is one of the scored utterances
(same id, same encoded text) is then the very audio the recogniser heard, decoded once, and the
model and TensorFlow load once for both. A sentence that is not scored is spoken after the
scoring, the way ``synthesize --texts`` speaks it. The files are named and written as
``synthesize --texts --mels --alignments`` names and writes them: ``DIR/<id>.wav``, ``.npy``, ``.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_adapt.evaluation.texts import Sentence, check_speakable, file_stems


@dataclass(frozen=True)
class SampleRequest:
    """What ``--samples FILE --samples-dir DIR`` asks for: these sentences, written into this (temporary) folder."""

    sentences: tuple[Sentence, ...]
    folder: Path


class SampleWriter:
    """Writes each sentence of a samples file once: from the scoring where it was scored, else spoken anew."""

    def __init__(self, request: SampleRequest, loaded) -> None:
        from tts_adapt.symbols.frontend import text_to_ids

        check_speakable(request.sentences, loaded)  # a bad line is refused before any scoring work
        self.folder = request.folder
        self.loaded = loaded
        self._pending = {stem: (sentence, text_to_ids(sentence.text, loaded.table, loaded.cleaners))
                         for sentence, stem in zip(request.sentences, file_stems(request.sentences))}
        self._by_label = {sentence.label: stem for stem, (sentence, _) in self._pending.items() if sentence.label}
        self.from_scoring = 0

    def wanted(self, item_id: str, ids: np.ndarray) -> str | None:
        """The file stem a scored utterance is written under, when it is one of the samples (None: it is not)."""
        stem = self._by_label.get(item_id)
        if stem is None or stem not in self._pending:
            return None
        return stem if list(self._pending[stem][1]) == [int(i) for i in ids] else None

    def write(self, stem: str, synthesis) -> None:
        """One sample's files (a :class:`tts_adapt.model.synthesis.Synthesis` with its audio)."""
        from tts_adapt.model.synthesis import write_synthesis

        sentence, _ = self._pending.pop(stem)
        write_synthesis(synthesis, sentence.text, *(self.folder / f"{stem}.{suffix}" for suffix in ("wav", "npy", "png")))

    def write_scored(self, stem: str, mel: np.ndarray, alignment: np.ndarray, stopped: bool, ids: np.ndarray,
                     speaker: str | None, render) -> None:
        """A scored utterance's free-running mel [frames, n_mels] and alignment [steps, symbols], rendered."""
        from tts_adapt.model.synthesis import Synthesis

        symbols = [self.loaded.table.symbols[int(i)] for i in ids]
        self.write(stem, Synthesis(mel, alignment, render(mel), self.loaded.audio.sample_rate, stopped, speaker,
                                   symbols))
        self.from_scoring += 1

    def speak_rest(self, speaker: str | None, seed: int, render) -> None:
        """The sentences no scored utterance was: spoken now, one at a time, as ``synthesize --texts`` would."""
        from tts_adapt.model.synthesis import synthesize

        for stem in list(self._pending):
            sentence, _ = self._pending[stem]
            self.write(stem, synthesize(self.loaded, sentence.text, speaker, seed, render=render))
