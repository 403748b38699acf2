"""The sentence pool for the synthetic multi-speaker corpus: WordNet examples and fortunes.

Only sentences every synthesiser reads the same way are kept: 5-20 words of letters and basic
punctuation (no digits, quotes or symbols that a voice might spell out or skip). Each speaker gets
its own slice of the shuffled pool (more distinct sentences fight overfitting), and a few sentences
are held out of training altogether for the alignment check.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable, Iterator

ALLOWED = re.compile(r"^[A-Za-z][A-Za-z ,.;:?!'-]*$")
_QUOTED = re.compile(r'"([^"]+)"')
_ATTRIBUTION = re.compile(r"^\s*(--|―|—)")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")
_OFFENSIVE_PARTS = ("off", "offensive")


def wordnet_examples(paths: Iterable[Path]) -> Iterator[str]:
    """Quoted example sentences from WordNet ``data.*`` files (the gloss after ``|``)."""
    for path in paths:
        with open(path, encoding="latin-1") as handle:
            for line in handle:
                if line.startswith("  ") or "|" not in line:
                    continue  # the licence header, or a line without a gloss
                yield from _QUOTED.findall(line.split("|", 1)[1])


def fortune_files(root: Path) -> list[Path]:
    """Fortune text files under ``root`` (no ``.dat`` index, no ``.u8`` link, nothing offensive)."""
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix in (".dat", ".u8"):
            continue
        if any(part in _OFFENSIVE_PARTS for part in path.relative_to(root).parts):
            continue
        files.append(path)
    return files


def fortunes(paths: Iterable[Path]) -> Iterator[str]:
    """Each fortune (``%``-separated) without its attribution line; long ones also by sentence."""
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        for entry in text.split("\n%\n"):
            lines = [ln for ln in entry.strip("%\n").splitlines() if not _ATTRIBUTION.match(ln)]
            joined = " ".join(ln.strip() for ln in lines if ln.strip())
            if not joined:
                continue
            yield joined
            pieces = _SENTENCE_END.split(joined)
            if len(pieces) > 1:
                yield from pieces


def usable_sentence(text: str, min_words: int = 5, max_words: int = 20) -> str | None:
    """The sentence tidied (one space, capital first letter, final punctuation), or None to skip it."""
    text = re.sub(r"\s+", " ", text).strip()
    if not ALLOWED.match(text):
        return None
    if re.match(r"[A-Za-z]+:", text):
        return None  # "Q: ...", "A: ..." riddles and "Note: ..." labels
    if re.search(r"--|\s[-'.,;:?!]|'\s|'$|[,;:]$|[.,;:?!]{2,}|[A-Z]{2,}|[.?!;:,][A-Za-z]", text):
        return None  # dashes, stray or repeated punctuation, acronyms, "e.g."-like abbreviations
    words = text.split(" ")
    if not min_words <= len(words) <= max_words:
        return None
    if text[-1] not in ".?!":
        text += "."
    return text[0].upper() + text[1:]


def _key(sentence: str) -> str:
    """Sentences differing only in case or punctuation are duplicates."""
    return re.sub(r"[^a-z ]", "", sentence.lower())


def _shuffle_rank(sentence: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{sentence}".encode()).hexdigest()


def split_sentences(
    candidates: Iterable[str],
    speakers: list[str],
    per_speaker: int,
    heldout: int,
    seed: int = 0,
    min_words: int = 5,
    max_words: int = 20,
) -> tuple[dict[str, list[str]], list[str]]:
    """Filter, deduplicate and deal the pool: ``({speaker: sentences}, held-out sentences)``.

    Deterministic for a given pool and seed. Speakers get disjoint slices while the pool lasts;
    when it runs short they share sentences (never the held-out ones).
    """
    unique: dict[str, str] = {}
    for raw in candidates:
        sentence = usable_sentence(raw, min_words, max_words)
        if sentence is not None:
            unique.setdefault(_key(sentence), sentence)
    pool = sorted(unique.values(), key=lambda s: _shuffle_rank(s, seed))
    if len(pool) <= heldout:
        raise ValueError(f"only {len(pool)} usable sentences; need more than the {heldout} held out")
    held, train = pool[:heldout], pool[heldout:]
    per_speaker = min(per_speaker, len(train))
    dealt = {
        name: [train[(i * per_speaker + j) % len(train)] for j in range(per_speaker)]
        for i, name in enumerate(speakers)
    }
    return dealt, held
