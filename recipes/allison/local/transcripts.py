"""Allison's prompt transcripts (asterisk-core-sounds-en) turned into text a TTS model can learn from.

The file ``core-sounds-en.txt.gz`` holds ``name: text`` lines written for people, not for TTS:
notes in brackets (``[ascending tones]``, ``(10 seconds of silence)``, ``<beep>``), digits
(``press 1``), keypad symbols (``*``, ``#``), acronyms read letter by letter (``PBX``, ``A.M.``),
prompts that are a single letter (``letters/b: b``) and ellipses marking where other prompts join.
:func:`normalize_transcript` writes all of that out as words, or returns None when nothing
speakable is left.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from tts_adapt.symbols.frontend import clean_text

LETTER_NAMES = {
    "a": "ay", "b": "bee", "c": "see", "d": "dee", "e": "ee", "f": "eff", "g": "gee", "h": "aitch",
    "i": "eye", "j": "jay", "k": "kay", "l": "el", "m": "em", "n": "en", "o": "oh", "p": "pee",
    "q": "cue", "r": "ar", "s": "ess", "t": "tee", "u": "you", "v": "vee", "w": "double you",
    "x": "ex", "y": "why", "z": "zee",
}
# Acronyms this speaker reads as words, not letter by letter.
SPOKEN_AS_WORDS = {"SIP": "sip", "DAHDI": "dahdee"}
KEYPAD = {"*": " star ", "#": " pound "}
# The voice's symbol table has no ";" or ":"; both are short pauses, as is ",".
PAUSES = {";": ",", ":": ","}

_NOTES = re.compile(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_ELLIPSIS = re.compile(r"\.\.\.|…")
_DOTTED_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_WEB_ADDRESS = re.compile(r"\b(?:www\.)?[a-z0-9-]+(?:\.[a-z]{2,})+\b", re.IGNORECASE)
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[A-Za-z])|(?<=[A-Za-z])\.?(?=\d)")
_SPELLED_OUT = re.compile(r"\b[A-Z](?: [A-Z]\b)+")  # "M I S D N"
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
_SINGLE_CAPITAL = re.compile(r"(?<![\w'])([B-HJ-Z])(?![\w'])")
_ALLOWED = re.compile(r"[a-z' .,?!\"-]+")


def spell(letters: str) -> str:
    return " ".join(LETTER_NAMES[ch] for ch in letters.lower() if ch in LETTER_NAMES)


def _web_address(match: re.Match[str]) -> str:
    host = match.group(0)
    parts = host.split(".")
    words = [spell(p) if p.lower() == "www" else p for p in parts]
    return " dot ".join(words)


def normalize_transcript(text: str) -> str | None:
    """Speakable, lowercase text for one prompt, or None when the prompt holds no words."""
    text = _NOTES.sub(" ", text)
    text = _ELLIPSIS.sub(" ", text)
    text = _WEB_ADDRESS.sub(_web_address, text)
    text = _DOTTED_ACRONYM.sub(lambda m: " " + spell(m.group(0)) + " ", text)
    for symbol, words in KEYPAD.items():
        text = text.replace(symbol, words)
    text = _DIGIT_LETTER.sub(" ", text)  # "3D" -> "3 D", "H.323" -> "H 323"
    text = _SPELLED_OUT.sub(lambda m: spell(m.group(0)), text)
    text = _ACRONYM.sub(lambda m: SPOKEN_AS_WORDS.get(m.group(0)) or spell(m.group(0)), text)
    text = _SINGLE_CAPITAL.sub(lambda m: spell(m.group(1)), text)
    stripped = text.strip(" .,;:!?\"'")
    if len(stripped) == 1 and stripped.isalpha():
        text = spell(stripped)  # a prompt that is one letter says the letter's name
    for mark, pause in PAUSES.items():
        text = text.replace(mark, pause)
    text = clean_text(text, ["english"])  # numbers to words, abbreviations, lowercase, spaces
    text = re.sub(r"\s+([.,?!])", r"\1", text)
    text = re.sub(r"([.,?!])[.,?!]+", r"\1", text).strip(" ,")
    if not re.search(r"[a-z]", text):
        return None
    if not _ALLOWED.fullmatch(text):
        odd = sorted(set(_ALLOWED.sub("", text)))
        raise ValueError(f"characters outside the voice's table left in {text!r}: {''.join(odd)}")
    return text


def read_transcripts(path: str | Path) -> list[tuple[str, str]]:
    """``(prompt name, raw text)`` pairs of a ``name: text`` file (gzip or plain); ``;`` starts a comment."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    pairs = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        name, sep, text = line.partition(":")
        if sep:
            pairs.append((name.strip(), text.strip()))
    return pairs


def utterance_id(name: str) -> str:
    """A file-name-safe id for a prompt name: ``digits/h-1`` -> ``digits_h-1``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")
