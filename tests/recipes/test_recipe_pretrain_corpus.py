"""The pretraining corpus: sentence sources, the filter, the split, and synthesis with Debian voices."""

from __future__ import annotations

import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.recipes.recipe_modules import debian_installed, load

sentences = load("pretrain_multispeaker/local/sentences.py")
make_corpus = load("pretrain_multispeaker/local/make_corpus.py")


@pytest.mark.parametrize("raw, expected", [
    ("he was romancing the old bag for her money", "He was romancing the old bag for her money."),
    ("Some people are  still\nnot disabused of the old idea!", "Some people are still not disabused of the old idea!"),
    ("It's a long-forgotten loved one, they said; sadly.", "It's a long-forgotten loved one, they said; sadly."),
])
def test_usable_sentences_are_tidied(raw, expected):
    assert sentences.usable_sentence(raw) == expected


@pytest.mark.parametrize("raw", [
    "Too short to keep.",                                      # 4 words
    " ".join(["word"] * 21),                                   # 21 words
    "The 3 little pigs built houses of straw.",               # digits
    'He said "hello" to the whole room at once.',              # quotes
    "The NASA mission was launched into deep space.",          # acronym
    "Use tools, e.g. hammers, for driving the nails.",         # abbreviation
    "Q: What's the difference between these two things?",     # riddle label
    "A day for firm decisions!!!!! Or is it now?",              # repeated punctuation
    "We went -- all of us -- to the little town.",             # dashes
    "Café owners open their doors early in the morning.",      # non-ASCII letter
    "This is the end of the story, my friend,",                # trailing comma
])
def test_unusable_sentences_are_skipped(raw):
    assert sentences.usable_sentence(raw) is None


CLEAN_WORDS = ["the", "Cat", "sat", "on", "a", "mat", "I'm", "well-known", "river", "slowly", "green", "dog"]
WORDS = st.sampled_from(CLEAN_WORDS * 5 + ["NASA", "3", "e.g", "café"])  # mostly usable words
ENDINGS = st.sampled_from([""] * 30 + [",", ".", "?", "!", ";", "--", "'", '"'])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, ENDINGS), max_size=25))
def test_kept_sentences_meet_the_filter_and_stay_as_they_are(pieces):
    kept = sentences.usable_sentence(" ".join(word + ending for word, ending in pieces))
    if kept is None:
        return
    assert 5 <= len(kept.split()) <= 20 and sentences.ALLOWED.match(kept) and kept[-1] in ".?!"
    assert kept[0].isupper() and sentences.usable_sentence(kept) == kept


def test_wordnet_examples_are_the_quoted_parts_of_glosses(tmp_path):
    data = tmp_path / "data.noun"
    data.write_text(
        "  1 This software and database is being provided to you, the LICENSEE, by \"Princeton\"\n"
        "00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived; \"it was an entity\"\n"
        "00002137 04 v 01 run 0 | move fast; \"he ran to the store\"; \"the children ran down the hill\"  \n",
        encoding="latin-1")
    assert list(sentences.wordnet_examples([data])) == [
        "it was an entity", "he ran to the store", "the children ran down the hill"]


def test_fortunes_drop_attributions_and_offensive_files(tmp_path):
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "rude").write_text("Something rude that nobody should hear today.\n%\n")
    (tmp_path / "fortunes").write_text(
        "A gift of a flower will soon be made to you.\n%\n"
        "Never put off till tomorrow what you can do today.\n\t\t-- Benjamin Franklin\n%\n"
        "First sentence is here. Second sentence is over there.\n%\n")
    (tmp_path / "fortunes.dat").write_bytes(b"\x00\x01")
    files = sentences.fortune_files(tmp_path)
    assert files == [tmp_path / "fortunes"]
    found = list(sentences.fortunes(files))
    assert "Never put off till tomorrow what you can do today." in found
    assert not any("Franklin" in f for f in found)
    assert {"First sentence is here.", "Second sentence is over there."} <= set(found)


def test_split_is_deterministic_disjoint_and_holds_out():
    pool = [f"Sentence number {word} goes right here." for word in
            "one two three four five six seven eight nine ten eleven twelve".split()]
    pool += [p.upper().lower() for p in pool]  # case variants are duplicates
    dealt, held = sentences.split_sentences(pool, ["a", "b", "c"], per_speaker=3, heldout=2, seed=7)
    again = sentences.split_sentences(list(reversed(pool)), ["a", "b", "c"], per_speaker=3, heldout=2, seed=7)
    assert (dealt, held) == again
    used = [s for speaker in dealt.values() for s in speaker]
    assert len(used) == len(set(used)) == 9 and len(held) == 2
    assert not set(held) & set(used)
    other_seed = sentences.split_sentences(pool, ["a", "b", "c"], per_speaker=3, heldout=2, seed=8)
    assert other_seed != (dealt, held)
    # a pool too small for disjoint slices is shared, still never with the held-out sentences
    shared, held_small = sentences.split_sentences(pool, ["a", "b", "c"], per_speaker=8, heldout=2, seed=7)
    assert all(len(v) == 8 for v in shared.values())
    assert not set(held_small) & {s for v in shared.values() for s in v}


def _tiny_sources(tmp_path):
    wordnet = tmp_path / "wordnet"
    wordnet.mkdir()
    examples = ["the cat sat quietly on the warm mat", "she walked slowly to the station",
                "they painted the old fence bright green", "we heard the birds singing at dawn",
                "he forgot his umbrella on the bus", "the river flooded the lower fields"]
    (wordnet / "data.verb").write_text(
        "".join(f"0000000{i} 00 v 01 x 0 | gloss; \"{e}\"\n" for i, e in enumerate(examples)), encoding="latin-1")
    fortunes = tmp_path / "fortunes"
    fortunes.mkdir()
    (fortunes / "fortunes").write_text("You will have a pleasant surprise very soon.\n%\n")
    return {"wordnet": str(wordnet), "fortunes": str(fortunes)}


@pytest.mark.skipif(not debian_installed("flite", "espeak-ng", "festival", "festvox-kdlpc16k"),
                    reason="needs the Debian packages flite, espeak-ng, festival, festvox-kdlpc16k")
def test_corpus_is_synthesised_by_every_engine(tmp_path):
    config = {"sentences_per_speaker": 2, "heldout_sentences": 1, "seed": 0, "min_words": 5, "max_words": 20,
              "jobs": 2, "sources": _tiny_sources(tmp_path),
              "speakers": {"slt": {"engine": "flite", "voice": "slt"},
                           "ked": {"engine": "festival", "voice": "ked_diphone"},
                           "us_m3": {"engine": "espeak-ng", "voice": "en-us+m3"}}}
    summary = make_corpus.make_corpus(config, tmp_path / "corpus")

    corpus = tmp_path / "corpus"
    rows = [line.split("|") for line in (corpus / "metadata.csv").read_text().splitlines()]
    assert len(rows) == summary["utterances"] == 6
    assert {speaker for _, speaker, _ in rows} == {"slt", "ked", "us_m3"}
    held = (corpus / "heldout.txt").read_text().splitlines()
    assert len(held) == 1 and held[0] not in {text for _, _, text in rows}
    rates = {}
    for audio, speaker, text in rows:
        info = sf.info(corpus / audio)
        assert 0.8 < info.duration < 6, (audio, text, info.duration)
        rates[speaker] = info.samplerate
    assert rates == {"slt": 16000, "ked": 16000, "us_m3": 22050}  # left as made: prepare normalises


def test_unknown_engine_is_refused(tmp_path):
    config = {"speakers": {"x": {"engine": "sam", "voice": "v"}}, "sources": _tiny_sources(tmp_path)}
    with pytest.raises(SystemExit, match="unknown engine"):
        make_corpus.make_corpus(config, tmp_path / "corpus")


bundle = load("pretrain_multispeaker/local/bundle.py")


def _fake_run(folder, steps=(250, 500)):
    folder.mkdir()
    for step in steps:
        (folder / f"ckpt-{step}.index").write_bytes(b"i" * 10)
        (folder / f"ckpt-{step}.data-00000-of-00001").write_bytes(b"d" * 1000)
    names = "".join(f'all_model_checkpoint_paths: "ckpt-{s}"\n' for s in steps)
    (folder / "checkpoint").write_text(f'model_checkpoint_path: "ckpt-{steps[-1]}"\n{names}')
    (folder / "manifest.json").write_text("{}")
    (folder / "metrics.csv").write_text("step,loss\n")
    (folder / "logs").mkdir()


def test_bundle_keeps_only_the_newest_checkpoint(tmp_path):
    _fake_run(tmp_path / "train")
    check = tmp_path / "check"
    check.mkdir()
    (check / "evaluate.json").write_text("{}")
    summary = bundle.bundle(tmp_path / "train", tmp_path / "bundle", check)
    assert summary["checkpoint"] == "ckpt-500"
    assert summary["files"] == ["checkpoint", "ckpt-500.data-00000-of-00001", "ckpt-500.index", "evaluate.json",
                                "manifest.json", "metrics.csv"]
    assert (tmp_path / "bundle" / "checkpoint").read_text() == (
        'model_checkpoint_path: "ckpt-500"\nall_model_checkpoint_paths: "ckpt-500"\n')


def test_bundle_over_the_limit_is_refused(tmp_path):
    _fake_run(tmp_path / "train")
    with pytest.raises(SystemExit, match="over the"):
        bundle.bundle(tmp_path / "train", tmp_path / "bundle", limit_mb=0.0005)
    assert not (tmp_path / "bundle").exists()
