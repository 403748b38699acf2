"""tts-adapt report: one page from the documents the commands wrote, verdict first, readable by a person."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import soundfile as sf
from tests.cli_testing import run_cli
from tests.tiny_run import HELD_OUT

NUMBER_TOO_LONG = re.compile(r"\d+\.\d{5,}")


def text_of(page: str) -> str:
    """What a person reads: tags and inline pictures out."""
    return re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]+"', "", page))


def test_the_report_of_a_whole_run(tiny_run, tmp_path, capsys):
    out = tmp_path / "report"
    code, printed, err = run_cli(["report", tiny_run, "--output", out, "--about", "Voice: tones, CC0 <really>"], capsys)
    assert code == 0, err
    assert f"report: {out / 'index.html'}" in printed
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.index("Can it be understood?") < page.index("<h2>Data")  # the verdict first
    assert "Of the words of the held-out sentences, the recogniser (pocketsphinx en-us) understood" in page
    assert "CC0 &lt;really&gt;" in page
    assert "<td>recordings for training and validation</td><td class=\"num\">7</td>" in page
    assert "<code>v04</code>: unencodable text" in page  # 'dig a hedge': h is not the voice's
    assert "5 kept, 5 moved, 1 added (0 from an alias, 1 mean), 1 removed" in page
    assert 'href="symbols.html"' in page and "<img alt=\"Bar chart" in (out / "symbols.html").read_text()
    assert "is the one folded" in page and "variables of the pretrained checkpoint" in page
    assert "speaker rows dropped" in page and "slot m" not in page  # optimizer slots follow their weight, unlisted
    assert "The adapted model computes the same outputs as the pretrained model speaking as speaker" in page
    assert "Fine-tuning curves over the steps: loss" in page and "validation loss" in page
    assert "mel cepstral distortion (dB)" in page
    for uid, sentence in HELD_OUT.items():
        for model in ("reference", "before", "after"):
            copied = out / "samples" / f"{uid}.{model}.wav"
            assert copied.read_bytes() == (tiny_run / "samples" / model / f"{uid}.wav").read_bytes()
            assert f'src="samples/{uid}.{model}.wav"' in page and sf.info(copied).duration > 0.5
        assert f": {sentence}\"></audio>" in page  # each player says which sentence it speaks
    shown = text_of(page)
    assert str(tmp_path) not in page and not NUMBER_TOO_LONG.search(shown)
    assert 'class="note"' not in page  # every document was there and read


def test_a_partial_run_gives_notes_not_errors(tmp_path, capsys):
    exp = tmp_path / "exp" / "voice"
    exp.mkdir(parents=True)
    (exp / "verify.json").write_text('{"ok": "yes"}', encoding="utf-8")
    code, _, err = run_cli(["report", exp], capsys)
    assert code == 0, err
    page = (exp / "report" / "index.html").read_text(encoding="utf-8")
    assert page.count('class="note"') == 9 and "not yet: the prepare stage has not run" in page
    assert "unreadable (…/voice/verify.json: missing notes); run the verify stage again" in page
    assert str(tmp_path) not in page


def test_an_existing_report_is_never_overwritten(tiny_run, tmp_path, capsys):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "mine.txt").write_text("keep me", encoding="utf-8")
    code, _, err = run_cli(["report", tiny_run, "--output", tmp_path / "report"], capsys)
    assert code == 2 and "report" in err and (tmp_path / "report" / "mine.txt").read_text() == "keep me"
    shutil.rmtree(tmp_path / "report")
    code, _, err = run_cli(["report", tmp_path / "absent"], capsys)
    assert code == 2 and "no such folder" in err


def test_the_report_never_imports_tensorflow(tiny_run, tmp_path):
    """The report reads JSON and writes HTML; TensorFlow's import would double its time and memory."""
    script = ("import sys; from tts_adapt.cli.main import main; "
              f"code = main(['report', {str(tiny_run)!r}, '--output', {str(tmp_path / 'report')!r}]); "
              "sys.exit(10 if 'tensorflow' in sys.modules else code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "report" / "index.html").is_file()


def test_samples_are_found_by_the_names_synthesize_gave_them(tmp_path, capsys):
    """synthesize --texts names a line without an id by its number (001.wav) and an unsafe id by its safe
    form; the report looks for the same files, so every player has its audio. A recording the recipe copied
    keeps its own file name ('letters b.wav'), which the report finds too."""
    import numpy as np

    from tts_adapt.speakers import file_stem

    exp = tmp_path / "voice"
    (exp / "samples" / "before").mkdir(parents=True)
    stems = ["001", file_stem("letters/b")]
    for stem in stems:
        sf.write(exp / "samples" / "before" / f"{stem}.wav", np.zeros(1600, np.float32), 16000)
    (exp / "samples" / "reference").mkdir()
    sf.write(exp / "samples" / "reference" / "letters b.wav", np.zeros(1600, np.float32), 16000)  # as recorded
    (exp / "samples" / "texts.csv").write_text("a bad bee\nletters/b|bee\nletters b|bee\n", encoding="utf-8")
    code, _, err = run_cli(["report", exp], capsys)
    assert code == 0, err
    for stem in stems:
        assert (exp / "report" / "samples" / f"{stem}.before.wav").is_file()
    assert (exp / "report" / "samples" / f"{file_stem('letters b')}.reference.wav").is_file()


def test_a_damaged_sample_mel_or_manifest_leaves_its_picture_out(tmp_path, capsys):
    """A truncated .npy, a mel of the wrong shape and an unreadable manifest each cost a panel, not the page."""
    import numpy as np

    exp = tmp_path / "voice"
    for model in ("reference", "before", "after"):
        (exp / "samples" / model).mkdir(parents=True)
        sf.write(exp / "samples" / model / "a.wav", np.zeros(1600, np.float32), 16000)
    (exp / "samples" / "texts.csv").write_text("a|a bad bee\n", encoding="utf-8")
    np.save(exp / "samples" / "before" / "a.npy", np.zeros((20, 8), np.float32))
    (exp / "samples" / "before" / "a.npy").write_bytes((exp / "samples" / "before" / "a.npy").read_bytes()[:90])
    np.save(exp / "samples" / "after" / "a.npy", np.zeros(8, np.float32))
    (exp / "adapted").mkdir()
    (exp / "adapted" / "manifest.json").write_text("{", encoding="utf-8")
    code, _, err = run_cli(["report", exp], capsys)
    assert code == 0, err
    assert "no mel from" in err and "[frames, n_mels]" in err and "manifest.json" in err
    assert (exp / "report" / "samples" / "a.after.wav").is_file()


def test_a_ranking_of_no_speakers_is_a_note(tmp_path, capsys):
    """The page reads the nearest speaker as the ranking's first: a document with none is unreadable, not a crash."""
    exp = tmp_path / "voice"
    (exp / "suggest").mkdir(parents=True)
    (exp / "suggest" / "speakers.json").write_text(
        '{"schema": "tts-adapt-speaker-ranking", "checkpoint": "pre", "data": "prepared", "items": [], '
        '"items_skipped": [], "ranking": []}', encoding="utf-8")
    code, _, err = run_cli(["report", exp], capsys)
    assert code == 0, err
    page = (exp / "report" / "index.html").read_text(encoding="utf-8")
    assert "speakers.json: ranking must be at least one speaker, got []); run the speaker stage again" in page
