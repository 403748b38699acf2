"""Allison's transcript normaliser and stage 0 (G.722 prompts -> LJSpeech layout)."""

from __future__ import annotations

import gzip
import string

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.recipes.recipe_modules import RECIPES, load

from tts_adapt.symbols.frontend import clean_text, unencodable_chars
from tts_adapt.manifest import load_symbol_table

transcripts = load("allison/local/transcripts.py")
make_data = load("allison/local/make_data.py")

ALLISON_TABLE = load_symbol_table(RECIPES / "allison/conf/symbols.txt")  # phonemes, as the bundled model reads
NORMALISED_CHARACTERS = set(string.ascii_lowercase + "' .,?!\"-")  # what the normaliser promises to leave


@pytest.mark.parametrize("raw, expected", [
    ("Please enter your password followed by the pound key.",
     "please enter your password followed by the pound key."),
    ("Press 1 to enter an extension, press 2 to use the directory",
     "press one to enter an extension, press two to use the directory"),
    ("... letters of your party's last name.", "letters of your party's last name."),
    ("Press ...", "press"),
    ("at [@]", "at"),
    ("IAX (note: does not say \"2\")", "eye ay ex"),
    ("Please leave your message after the tone. (simple tone sound plays)",
     "please leave your message after the tone."),
    ("Use the 7 key for Q, and the 9 key for Z.", "use the seven key for cue, and the nine key for zee."),
    ("3D audio enabled", "three dee audio enabled"),
    ("A.M.", "ay em"),
    ("M I S D N", "em eye ess dee en"),
    ("Thank you for trying out the Asterisk Open Source PBX.",
     "thank you for trying out the asterisk open source pee bee ex."),
    ("SIP", "sip"),
    ("press * to toggle pause, press # to enter a new dictation filename",
     "press star to toggle pause, press pound to enter a new dictation filename"),
    ("the person you are calling is not at their desk; I will try to locate them for you",
     "the person you are calling is not at their desk, i will try to locate them for you"),
    ("Dial 4 to send this caller to a polite \"don't call\" menu.",
     "dial four to send this caller to a polite \"don't call\" menu."),
    ("at least a 28.8 kilobit modem", "at least a twenty eight point eight kilobit modem"),
    ("visit www.asterisk.org.", "visit double you double you double you dot asterisk dot org."),
])
def test_normalised_prompts(raw, expected):
    assert transcripts.normalize_transcript(raw) == expected


@pytest.mark.parametrize("letter, name", [("a", "ay"), ("b", "bee"), ("w", "double you"), ("Z", "zee")])
def test_a_prompt_that_is_one_letter_says_its_name(letter, name):
    assert transcripts.normalize_transcript(letter) == name
    # inside a sentence, lowercase words are left alone: "a" is the article
    assert transcripts.normalize_transcript(f"{letter.lower()} cat") == f"{letter.lower()} cat"


@pytest.mark.parametrize("raw", ["[ascending tones]", "(10 seconds of silence)", "<beep ascending>", "...", "  "])
def test_prompts_without_words_are_dropped(raw):
    assert transcripts.normalize_transcript(raw) is None


def test_normalised_text_fits_the_voice_table():
    lines = ["Sorry you're having problems.", "H.323", "Call-Forward on No Answer.", "folder 5",
             "Currently, there are more than ...", "Login incorrect.  Mailbox?"]
    for line in lines:
        normalised = transcripts.normalize_transcript(line)
        assert set(normalised) <= NORMALISED_CHARACTERS, line
        assert not unencodable_chars(clean_text(normalised, ["phonemes"]), ALLISON_TABLE), line


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.printable + "…é", max_size=60))
def test_any_prompt_gives_table_text_none_or_a_named_error(raw):
    try:
        normalized = transcripts.normalize_transcript(raw)
    except ValueError as exc:
        assert "characters outside the voice's table" in str(exc)
        return
    assert normalized is None or (set(normalized) <= NORMALISED_CHARACTERS and normalized == normalized.strip())


def test_read_transcripts(tmp_path):
    path = tmp_path / "core-sounds-en.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("; Core Asterisk Sounds in English\n\nactivated: Activated.\n"
                     "digits/h-1: first\ndir-multi2: ... for ...\nconf-errormenu: Invalid Choice\n")
    assert transcripts.read_transcripts(path) == [
        ("activated", "Activated."), ("digits/h-1", "first"), ("dir-multi2", "... for ..."),
        ("conf-errormenu", "Invalid Choice")]
    assert transcripts.utterance_id("digits/h-1") == "digits_h-1"


def _write_g722(path, seconds, frequency):
    import G722

    t = np.arange(int(16000 * seconds)) / 16000
    samples = (np.sin(2 * np.pi * frequency * t) * 8000).astype(np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(G722.G722(16000, 64000).encode(samples)))


def test_stage0_decodes_normalises_and_holds_out(tmp_path):
    sounds = tmp_path / "sounds"
    lines = ["; comment", "hello: Hello there, how are you today?", "digits/5: 5", "beep: [beep]", "eq: x = y",
             "gone: This prompt has no recording at all.", "vm-next: Press 6 to play the next message.",
             "menu: Press 1 for sales or 2 for support, thank you."]
    for i, name in enumerate(["hello", "digits/5", "beep", "vm-next", "menu"]):
        _write_g722(sounds / f"{name}.g722", 0.5 + 0.25 * i, 300 + 100 * i)
    listing = tmp_path / "core-sounds-en.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {"transcripts": str(listing), "sounds": str(sounds), "heldout": 1, "heldout_words": [5, 14], "seed": 0}

    summary = make_data.make_data(config, tmp_path / "data")

    data = tmp_path / "data"
    metadata = (data / "metadata.csv").read_text(encoding="utf-8").splitlines()
    heldout = (data / "heldout.csv").read_text(encoding="utf-8").splitlines()
    skipped = (data / "skipped.csv").read_text(encoding="utf-8")
    assert summary["utterances"] == len(metadata) == 3 and summary["heldout"] == len(heldout) == 1
    assert "beep|no speakable text" in skipped and "gone|no recording gone.g722" in skipped
    assert "eq|characters outside the voice's table" in skipped
    assert "digits_5|5|five" in metadata
    held_id = heldout[0].split("|")[0]
    assert held_id in {"hello", "vm-next", "menu"} and not any(row.startswith(held_id + "|") for row in metadata)
    assert (data / "heldout" / f"{held_id}.wav").is_file() and not (data / "wavs" / f"{held_id}.wav").exists()
    wav, rate = sf.read(data / "wavs" / "digits_5.wav", dtype="int16")
    assert rate == 16000 and len(wav) == int(16000 * 0.75)
    spectrum = np.abs(np.fft.rfft(wav.astype(float)))
    assert abs(np.argmax(spectrum) * rate / len(wav) - 400) < 5  # the tone survives the codec
    # the same config and data give the same split
    make_data.make_data(config, tmp_path / "again")
    assert (tmp_path / "again" / "heldout.csv").read_text() == (data / "heldout.csv").read_text()


def test_held_out_prompts_are_whole_unique_sentences():
    items = [{"id": f"p{i}", "normalized": text} for i, text in enumerate([
        "press one.", "this is a whole sentence of words.", "this is a whole sentence of words.",
        "another complete sentence right here!", "a fragment without an end"])]
    chosen = make_data.choose_heldout(items, 5, (5, 14), seed=0)
    assert chosen == {"p3"}
