"""evaluate: teacher-forced error, free-running metrics, the stop token's timing, the HTML page."""

from __future__ import annotations

import dataclasses
import json
import shutil
from html import escape
from html.parser import HTMLParser

import numpy as np
import pytest
from tests.cli_testing import run_cli
from tests.tiny_checkpoints import NEW_VOICE_TEXTS, SPEAKERS, make_source, save_model, spoken_by, write_prepared

from tts_adapt.evaluation.results import EvaluationReport, TextsReport
from tts_adapt.manifest import read_manifest, write_manifest

TRUE_SPEAKER = 2
SPLITS = ["val", "val", "train", "val", "train", "val"]
METRICS = ("mel_l1", "mcd", "focus", "monotonicity", "coverage", "reached_end", "length_ratio")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Recordings the model itself says (teacher-forced) as speaker 'cy', and models whose stop
    token always / never fires."""
    root = tmp_path_factory.mktemp("evaluate")
    model = make_source(root / "src", seed=11, frame_independent=True)
    mels = spoken_by(model, TRUE_SPEAKER, NEW_VOICE_TEXTS)
    write_prepared(root / "prepared", NEW_VOICE_TEXTS, mels, speaker=SPEAKERS[TRUE_SPEAKER], splits=SPLITS)
    write_prepared(root / "stranger", NEW_VOICE_TEXTS, mels, speaker="stranger", splits=SPLITS)
    # texts of <= 3 symbols: attention is always "on one of the last three", so the stop token alone decides
    short = ["ab", "cab", "j", "bad"]
    write_prepared(root / "short", short, spoken_by(model, TRUE_SPEAKER, short), speaker=SPEAKERS[TRUE_SPEAKER],
                   splits=["train"] * len(short))
    for name, bias in (("stops_at_once", 50.0), ("never_stops", -50.0)):
        model.decoder.stop_projection.bias.assign(np.full([model.config.reduction], bias, np.float32))
        save_model(root / name, model)
    return root


def evaluate(capsys, *args):
    code, out, err = run_cli(["evaluate", *args, "--format", "json"], capsys)
    assert code == 0, err
    return read_report(out, TextsReport if "--texts" in args else EvaluationReport)


def read_report(out, document):
    """The printed JSON as the report and recipes read it, checked to hold nothing the reader drops."""
    printed = json.loads(out)
    report = document.from_json(printed, "evaluate --format json")
    assert report.to_json() == printed
    return report


def test_json_report_of_the_val_split(world, capsys, tmp_path):
    html = tmp_path / "report.html"
    doc = evaluate(capsys, world / "src", "--data", world / "prepared", "--output", html)
    val_ids = [f"utt{i:03d}" for i, s in enumerate(SPLITS) if s == "val"]
    assert doc.split == "val" and [u.id for u in doc.utterances] == val_ids
    for u in doc.utterances:
        assert u.mel_l1 < 1e-4  # the model reproduces its own teacher-forced output, per item's speaker
        assert 0 < u.focus <= 1 and 0 <= u.monotonicity <= 1 and 0 <= u.coverage <= 1
        assert u.mcd >= 0 and u.length_ratio == u.predicted_frames / u.frames
    for key in METRICS:
        assert getattr(doc.summary, key) == pytest.approx(np.mean([getattr(u, key) for u in doc.utterances]))
    assert doc.html == str(html)
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and all(i in page for i in val_ids)
    assert page.count("<img") == 1 + len(val_ids)  # overview + one figure per plotted utterance
    assert "http://" not in page and "https://" not in page  # standalone
    HTMLParser().feed(page)


def test_an_utterance_scores_the_same_whatever_else_is_scored(world, capsys):
    alone = evaluate(capsys, world / "src", "--data", world / "prepared", "--split", "val")
    together = evaluate(capsys, world / "src", "--data", world / "prepared", "--split", "all")
    by_id = {u.id: u for u in together.utterances}
    assert len(by_id) == len(SPLITS) > alone.items
    for u in alone.utterances:
        assert by_id[u.id].ceilings == u.ceilings  # what the recogniser heard, too
        scores, scored_alone = dataclasses.asdict(by_id[u.id]), dataclasses.asdict(u)
        del scores["ceilings"], scored_alone["ceilings"]
        assert scores == pytest.approx(scored_alone)


def test_another_speaker_predicts_worse(world, capsys):
    doc = evaluate(capsys, world / "src", "--data", world / "prepared", "--speaker", "ann", "--split", "all",
                   "--max-items", "4")
    assert doc.items == 4 and doc.summary.mel_l1 > 1e-2


def test_stop_token_timing_is_measured(world, capsys):
    at_once = evaluate(capsys, world / "stops_at_once", "--data", world / "short", "--split", "train")
    assert all(u.stopped and u.predicted_frames == 1 for u in at_once.utterances)
    assert at_once.summary.stopped == 4
    never = evaluate(capsys, world / "never_stops", "--data", world / "short", "--split", "train")
    assert all(not u.stopped and u.predicted_frames == 2 * u.frames for u in never.utterances)
    assert never.summary.stopped == 0 and never.summary.length_ratio == 2.0


def test_intelligibility_is_scored_beside_the_vocoded_recordings(world, capsys, tmp_path):
    """A random tiny model speaks noise: the report says what was heard, per item and over all of them."""
    import jiwer

    html = tmp_path / "heard.html"
    doc = evaluate(capsys, world / "src", "--data", world / "prepared", "--output", html)
    listening = doc.intelligibility
    assert listening.scored and listening.recogniser.startswith("pocketsphinx")
    records = doc.utterances
    for u in records:
        assert None not in (u.heard, u.wer, u.cer) and set(u.ceilings) == {"vocoded"}  # no audio column here
        assert u.reference == " ".join(u.text.split())
    references, heard = [u.reference for u in records], [u.heard for u in records]
    assert listening.wer == pytest.approx(jiwer.wer(references, heard))
    assert listening.sentence.startswith("The recogniser understood ")
    page = html.read_text(encoding="utf-8")
    assert "Intelligibility" in page and escape(listening.sentence) in page


def test_cache_hears_each_audio_once(world, capsys, tmp_path):
    """A repeat recalls every audio and scores the same; another model recalls the ceilings, hears its own."""
    def scored(model):
        code, out, err = run_cli(["evaluate", model, "--data", world / "prepared", "--cache", tmp_path / "cache",
                                  "--format", "json"], capsys)
        assert code == 0, err
        return read_report(out, EvaluationReport), " ".join(err.split())

    first, said = scored(world / "src")
    items = first.items  # each heard twice: the synthesis and the recording's own mel through the vocoder
    assert f"heard {2 * items} audio anew and recalled 0 from" in said
    again, said = scored(world / "src")
    assert again == first and f"heard 0 audio anew and recalled {2 * items} from" in said
    make_source(tmp_path / "other", seed=12, frame_independent=True)  # other weights, the same audio settings
    other, said = scored(tmp_path / "other")
    assert f"heard {items} audio anew and recalled {items} from" in said
    assert [u.ceilings for u in other.utterances] == [u.ceilings for u in first.utterances]


def test_no_listen_and_non_english_models_skip_the_recogniser(world, capsys, tmp_path):
    doc = evaluate(capsys, world / "src", "--data", world / "prepared", "--no-listen")
    listening = doc.intelligibility
    assert (listening.scored, listening.reason, listening.wer) == (False, "not requested (--no-listen)", None)
    assert all(u.wer is None and u.heard is None for u in doc.utterances)
    other = model_with(world, tmp_path / "welsh", cleaners=["basic"])
    doc = evaluate(capsys, other, "--data", world / "prepared")
    assert not doc.intelligibility.scored and "not English" in doc.intelligibility.reason
    assert doc.summary.items == 4  # everything else is still measured


def test_no_listen_starts_no_worker_processes(world, capsys, monkeypatch):
    """Workers only hear; with --no-listen nothing is heard, so none is started (each loads the recogniser)."""
    import tts_adapt.workers

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started for --no-listen")

    monkeypatch.setattr(tts_adapt.workers, "worker_pool", no_pool)
    doc = evaluate(capsys, world / "src", "--data", world / "prepared", "--no-listen", "--jobs", "2")
    assert not doc.intelligibility.scored


def test_a_non_english_model_ends_the_hearing_workers_once_it_is_loaded(world, tmp_path):
    """They start with the cache (to load the recogniser while the model loads); nothing will be heard."""
    from tts_adapt.evaluation.evaluate import evaluate as evaluate_checkpoint
    from tts_adapt.evaluation.heard_cache import HeardCache

    other = model_with(world, tmp_path / "welsh", cleaners=["basic"])
    with HeardCache(workers=2) as heard:
        workers = list(heard._pool._processes.values())
        evaluate_checkpoint(other, world / "prepared", heard=heard)
        assert heard._pool is None and all(not worker.is_alive() for worker in workers)


def test_texts_mode_speaks_every_sentence_in_every_voice(world, capsys, tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("# sentences\nbad cab\n\n1|a jab\n", encoding="utf-8")
    doc = evaluate(capsys, world / "src", "--texts", texts)
    assert doc.mode == "texts" and list(doc.speakers) == SPEAKERS and doc.items == 2 * len(SPEAKERS)
    assert [u.text for u in doc.utterances[:2]] == ["bad cab", "a jab"]
    assert set(doc.intelligibility.by_speaker) == set(SPEAKERS)
    audio, html = tmp_path / "audio", tmp_path / "texts.html"
    doc = evaluate(capsys, world / "src", "--texts", texts, "--speaker", "cy,ann", "--save-audio", audio,
                   "--output", html)
    assert doc.speakers == ("cy", "ann")
    assert sorted(p.name for p in audio.iterdir()) == ["ann_001.wav", "ann_002.wav", "cy_001.wav", "cy_002.wav"]
    assert escape(doc.intelligibility.sentence) in html.read_text(encoding="utf-8")


def test_samples_are_the_audio_scored_and_what_synthesize_writes(world, capsys, tmp_path):
    """A sample that is a scored sentence is written from the scoring; a changed text or a plain line is spoken
    anew; every file is the same bytes as synthesize --texts writes for the same lines."""
    samples = tmp_path / "samples.csv"
    samples.write_text(f"utt001|{NEW_VOICE_TEXTS[1]}\nutt004|a bee\nutt003|{NEW_VOICE_TEXTS[3]}\nfed a cab\n",
                       encoding="utf-8")
    stems, taken = ["utt001", "utt004", "utt003", "004"], ("utt001", "utt003")  # utt004 is scored with its own text
    checked = set()
    for model in ("src", "stops_at_once", "never_stops"):
        written, spoken = tmp_path / f"{model}_written", tmp_path / f"{model}_spoken"
        code, out, err = run_cli(["evaluate", world / model, "--data", world / "prepared", "--split", "all",
                                  "--speaker", "cy", "--samples", samples, "--samples-dir", written,
                                  "--format", "json"], capsys)
        assert code == 0, err
        doc = read_report(out, EvaluationReport)
        assert f"wrote 4 samples to {written} (2 of them the audio scored)" in " ".join(err.split())
        assert sorted(p.name for p in written.iterdir()) == sorted(f"{s}.{x}" for s in stems for x in ("wav", "npy", "png"))
        code, _, err = run_cli(["synthesize", world / model, "--texts", samples, "--output-dir", spoken, "--speaker",
                                "cy", "--mels", "--alignments"], capsys)
        assert code == 0, err
        scored = {u.id: u for u in doc.utterances}
        for stem in stems:
            mel = np.load(written / f"{stem}.npy")
            if stem in taken and not scored[stem].stopped:  # the length guard: cut where it was heard
                assert mel.shape[0] == scored[stem].predicted_frames == 2 * scored[stem].frames
                continue
            assert (written / f"{stem}.wav").read_bytes() == (spoken / f"{stem}.wav").read_bytes(), (model, stem)
            assert np.array_equal(mel, np.load(spoken / f"{stem}.npy")), (model, stem)
        checked.update(f"{stem} stopped" if scored[stem].stopped else f"{stem} cut" for stem in taken)
    assert {kind.split()[1] for kind in checked} == {"stopped", "cut"}  # both kinds were compared


def test_samples_are_published_only_when_the_evaluation_succeeds(world, capsys, tmp_path):
    samples = tmp_path / "samples.csv"
    samples.write_text(f"utt001|{NEW_VOICE_TEXTS[1]}\n", encoding="utf-8")
    code, out, err = run_cli(["evaluate", world / "src", "--data", world / "stranger", "--samples", samples,
                              "--samples-dir", tmp_path / "written"], capsys)
    assert code == 2 and "--speaker" in err
    assert not (tmp_path / "written").exists() and list(tmp_path.iterdir()) == [samples]  # no partial folder left


def model_with(world, folder, **manifest_changes):
    """A copy of the 'src' model whose manifest.json says something else (speaker names, cleaners)."""
    shutil.copytree(world / "src", folder)
    changes = {key: tuple(value) for key, value in manifest_changes.items()}  # every change here is a list
    write_manifest(folder, read_manifest(folder).replace(**changes))
    return folder


def test_save_audio_never_writes_into_a_folder_holding_files(world, capsys, tmp_path):
    texts, audio = tmp_path / "texts.txt", tmp_path / "audio"
    texts.write_text("bad cab\n", encoding="utf-8")
    audio.mkdir()
    (audio / "cy_001.wav").write_bytes(b"the user's own recording")
    code, out, err = run_cli(["evaluate", world / "src", "--texts", texts, "--speaker", "cy", "--save-audio", audio],
                             capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"--save-audio directory {audio} is not empty" in err
    assert [p.name for p in audio.iterdir()] == ["cy_001.wav"]
    assert (audio / "cy_001.wav").read_bytes() == b"the user's own recording"


@pytest.mark.parametrize("cleaners, text, says", [
    (["english"], "xyz", "cannot encode"),
    pytest.param(["phonemes"], "---", "is empty after cleaning", marks=pytest.mark.skipif(
        shutil.which("espeak-ng") is None, reason="needs espeak-ng (Debian package)")),
])
def test_a_sentence_that_cannot_be_spoken_is_named_before_any_is(world, capsys, tmp_path, cleaners, text, says):
    model = model_with(world, tmp_path / "model", cleaners=cleaners)
    texts, audio = tmp_path / "texts.txt", tmp_path / "audio"
    good = "bad cab\na jab" if cleaners == ["english"] else "# comment\n"  # phonemes: no line of ours encodes
    texts.write_text(f"{good}\n{text}\n", encoding="utf-8")
    code, out, err = run_cli(["evaluate", model, "--texts", texts, "--save-audio", audio], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"--texts {texts}, line 3: " in err and says in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "texts.txt"]  # no audio, not even a partial


def test_speaker_names_become_safe_file_names(world, capsys, tmp_path):
    names = ["../../escaped", "a/b", "a_b"]
    model = model_with(world, tmp_path / "deep" / "er" / "model", speakers=names)
    texts, audio = tmp_path / "texts.txt", tmp_path / "deep" / "er" / "audio"
    texts.write_text("bad cab\n", encoding="utf-8")
    doc = evaluate(capsys, model, "--texts", texts, "--save-audio", audio)
    written = sorted(p.name for p in audio.iterdir())
    assert len(written) == 3 and [u.speaker for u in doc.utterances] == names
    assert sorted(f"{u.id}.wav" for u in doc.utterances) == written
    assert "a_b_001.wav" in written and all("/" not in name and not name.startswith(".") for name in written)
    assert [p for p in tmp_path.rglob("*.wav") if p.parent != audio] == []  # nothing outside the folder


def test_human_table(world, capsys):
    code, out, _ = run_cli(["evaluate", world / "src", "--data", world / "prepared", "--plots", "0"], capsys)
    assert code == 0 and "MCD dB" in out and "mean" in out and "utt000" in out


BAD_INPUTS = {  # case: what the one line must say
    "unknown_speaker": "--speaker", "output_inside_input": "inside", "empty_split": "val",
    "empty_texts": "no sentences", "texts_unknown_speaker": "unknown speaker", "texts_no_listen": "--no-listen",
    "save_audio_without_texts": "--save-audio", "output_is_a_directory": "is a directory",
    "output_under_a_file": "is not a directory", "cache_with_texts": "--cache",
    "samples_without_dir": "go together", "samples_with_texts": "--samples applies to --data",
    "samples_dir_not_empty": "--samples-dir directory", "samples_unspeakable": "--samples",
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_exit_2(world, capsys, tmp_path, case):
    texts = tmp_path / "texts.txt"
    texts.write_text("bad cab\n" if case != "empty_texts" else "# nothing\n\n", encoding="utf-8")
    unspeakable = tmp_path / "unspeakable.txt"
    unspeakable.write_text("bad cab\n\n1|!!!\n", encoding="utf-8")
    args = {
        "unknown_speaker": ["--data", world / "stranger"],
        "output_inside_input": ["--data", world / "prepared", "--output", world / "prepared" / "r.html"],
        "empty_split": ["--data", write_prepared(tmp_path / "p", ["a"], [np.zeros((3, 8))], splits=["train"])],
        "empty_texts": ["--texts", texts],
        "texts_unknown_speaker": ["--texts", texts, "--speaker", "ann,zed"],
        "texts_no_listen": ["--texts", texts, "--no-listen"],
        "save_audio_without_texts": ["--data", world / "prepared", "--save-audio", tmp_path / "a"],
        "output_is_a_directory": ["--data", world / "prepared", "--output", tmp_path],
        "output_under_a_file": ["--data", world / "prepared", "--output", texts / "report.html"],
        "cache_with_texts": ["--texts", texts, "--cache", tmp_path / "cache"],
        "samples_without_dir": ["--data", world / "prepared", "--samples", texts],
        "samples_with_texts": ["--texts", texts, "--samples", texts, "--samples-dir", tmp_path / "s"],
        "samples_dir_not_empty": ["--data", world / "prepared", "--samples", texts, "--samples-dir", tmp_path],
        "samples_unspeakable": ["--data", world / "prepared", "--samples", unspeakable, "--samples-dir", tmp_path / "s"],
    }[case]
    code, out, err = run_cli(["evaluate", world / "src", *args], capsys)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert BAD_INPUTS[case] in err


def test_a_fresh_recogniser_hears_as_one_that_has_heard_before(world):
    """What is heard is a function of the audio alone: a worker's first clip is heard as its later ones are."""
    from tts_adapt.evaluation.intelligibility import Recogniser
    from tts_adapt.model.loading import load_model
    from tts_adapt.model.synthesis import synthesize
    from tts_adapt.vocoder.render import load_renderer

    loaded = load_model(world / "src")
    render = load_renderer("griffin-lim", loaded.audio)
    clips = [synthesize(loaded, text, "cy", 0, max_seconds=0.5, render=render).wav for text in NEW_VOICE_TEXTS]
    used = Recogniser()
    used.transcribe(clips[-1], loaded.audio.sample_rate)
    fresh = [Recogniser().transcribe(clip, loaded.audio.sample_rate) for clip in clips]
    assert fresh == [used.transcribe(clip, loaded.audio.sample_rate) for clip in clips]
