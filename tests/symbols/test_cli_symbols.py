"""`tts-adapt symbols compare|suggest` end to end through the real entry point."""

import json
import subprocess
import sys

import pytest

from tts_adapt.cli.main import main
from tts_adapt.manifest import Manifest, write_manifest
from tts_adapt.manifest import load_symbol_table
from tts_adapt.symbols.compare import Comparison
from tts_adapt.symbols.suggest import Suggestion

from tests.symbols.symbols_testdata import NEW, OLD, write_lines


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    assert "Traceback" not in err and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err


def test_compare_prints_the_report(capsys, tables):
    code, out, err = run(capsys, "symbols", "compare", *map(str, tables))
    assert code == 0 and err == ""
    assert "moved" in out and "alias of E (upper case)" in out
    assert out.rstrip().splitlines()[-1].startswith("summary: 2 kept, 3 moved, 4 added")


def test_compare_reads_a_checkpoint_manifest(capsys, tmp_path, tables):
    write_manifest(tmp_path / "ckpt", Manifest(symbols=tuple(OLD)))
    code, out, _ = run(capsys, "symbols", "compare", str(tmp_path / "ckpt"), str(tables[1]), "--format", "json")
    assert code == 0
    assert Comparison.from_json(json.loads(out), "symbols compare --format json").summary()["removed"] == 2


def test_strict_exits_1_after_printing_the_report(capsys, tables, ljspeech):
    code, out, err = run(capsys, "symbols", "compare", *map(str, tables), "--transcripts", str(ljspeech),
                         "--format", "json", "--strict")
    assert code == 1
    assert Comparison.from_json(json.loads(out), "symbols compare --format json").transcripts.oov[0].char == "q"
    assert "strict" in err and "q s y x" in err


def test_strict_passes_when_every_character_is_encodable(capsys, tmp_path, tables):
    clean = write_lines(tmp_path / "ok.csv", ["u1|Abc cab", "u2|Shab"])
    code, out, _ = run(capsys, "symbols", "compare", *map(str, tables), "--transcripts", str(clean), "--strict")
    assert code == 0 and "100.0% of 2 utterances encodable" in out


def test_output_file_is_written_and_stdout_left_empty(capsys, tmp_path, tables, multispeaker):
    target = tmp_path / "report" / "r.html"
    code, out, err = run(capsys, "symbols", "compare", *map(str, tables), "--transcripts", str(multispeaker),
                         "--format", "html", "--output", str(target))
    assert code == 0 and out == "" and "wrote html report" in err
    page = target.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "wavs/s2_001.wav" in page
    assert [p.name for p in target.parent.iterdir()] == ["r.html"]  # no temporary file left


def test_output_over_an_input_is_refused(capsys, tables):
    before = tables[1].read_bytes()
    code, _, err = run(capsys, "symbols", "compare", *map(str, tables), "--output", str(tables[1]))
    assert_one_line_error(code, err, "would write into the input")
    assert tables[1].read_bytes() == before


@pytest.mark.parametrize(
    ("new_bytes", "fragment"),
    [
        (b"a\nb\na\n", "new.txt:3: duplicate symbol a"),
        (b"a\n\nb\n", "new.txt:2: empty line"),
        (b"a\n\xc3\n", "new.txt:2: not valid UTF-8"),
    ],
)
def test_bad_tables_exit_2_with_one_line(capsys, tables, new_bytes, fragment):
    tables[1].write_bytes(new_bytes)
    code, _, err = run(capsys, "symbols", "compare", *map(str, tables))
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--cleaners", "english,klingon"], "unknown cleaner 'klingon'"),
        (["--transcripts", "missing.csv"], "no such transcripts file"),
        (["--aliases", "ALIASES"], "not in the new table"),
    ],
)
def test_bad_options_exit_2_with_one_line(capsys, tmp_path, tables, extra, fragment):
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("q: a\n", encoding="utf-8")
    extra = [str(aliases) if e == "ALIASES" else e for e in extra]
    code, _, err = run(capsys, "symbols", "compare", *map(str, tables), *extra)
    assert_one_line_error(code, err, fragment)


def test_bad_transcripts_exit_2_with_the_line(capsys, tmp_path, tables):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a|b\nc|d|e\n")
    code, _, err = run(capsys, "symbols", "compare", *map(str, tables), "--transcripts", str(bad))
    assert_one_line_error(code, err, "bad.csv:2:")


def test_suggest_keeps_base_order_and_appends_by_frequency(capsys, tmp_path, tables, ljspeech):
    target = tmp_path / "suggested.txt"
    code, out, err = run(capsys, "symbols", "suggest", "--transcripts", str(ljspeech), "--base", str(tables[1]),
                         "--output", str(target))
    assert code == 0 and out == ""
    assert load_symbol_table(target).to_list() == NEW + ["q", "s", "y", "x"]
    assert "# appended q (used 7 times)" in err
    assert "# unused base symbol _" in err and "# unused base symbol é" in err


def test_suggest_json_and_no_base(capsys, tmp_path):
    transcripts = write_lines(tmp_path / "t.csv", ["a|ba ab", "b|b\tb"])
    code, out, _ = run(capsys, "symbols", "suggest", "--transcripts", str(transcripts), "--cleaners", "lowercase",
                       "--format", "json")
    assert code == 0
    found = Suggestion.from_json(json.loads(out), "symbols suggest --format json")
    assert found.to_json() == json.loads(out)  # nothing printed that the reader drops
    assert found.symbols == ("b", "a", " ", "\t")
    assert [a.count for a in found.appended] == [4, 2, 1, 1] and found.unused == ()
    assert json.loads(out)["appended"][3] == {"symbol": "\t", "display": "\\t", "count": 1}


def test_symbols_without_subcommand_shows_help_and_exits_2(capsys):
    code, _, err = run(capsys, "symbols")
    assert code == 2 and "compare" in err and "suggest" in err


def test_help_teaches_with_examples(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["symbols", "compare", "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "examples:" in out and "--strict" in out and "audio|speaker|text" in out


def test_symbols_commands_never_import_tensorflow(tables):
    """The report is pure Python; TensorFlow's multi-second import would make it feel broken."""
    script = ("import sys; from tts_adapt.cli.main import main; "
              f"code = main(['symbols', 'compare', {str(tables[0])!r}, {str(tables[1])!r}, '--format', 'json']); "
              "sys.exit(10 if 'tensorflow' in sys.modules else code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(__import__("shutil").which("espeak-ng") is None, reason="needs espeak-ng (Debian package)")
def test_a_phoneme_model_given_as_table_brings_its_front_end(capsys, tmp_path):
    """Transcripts are read the way the model reads them: a phoneme model's table is checked on phonemes."""
    from tts_adapt.symbols.frontend import clean_text

    transcripts = write_lines(tmp_path / "t.csv", ["a|The cat sat.", "b|Those cats."])
    phonemes = sorted(set(clean_text("The cat sat. Those cats.", ["phonemes"])))
    write_manifest(tmp_path / "model", Manifest(symbols=tuple(phonemes), cleaners=("phonemes",)))
    code, out, _ = run(capsys, "symbols", "suggest", "--transcripts", str(transcripts), "--base",
                       str(tmp_path / "model"), "--format", "json")
    assert code == 0
    suggested = Suggestion.from_json(json.loads(out), "symbols suggest --format json")
    assert list(suggested.symbols) == phonemes and suggested.appended == ()  # every phoneme is there
    code, out, _ = run(capsys, "symbols", "compare", str(tmp_path / "model"), str(tmp_path / "model" / "manifest.json"),
                       "--transcripts", str(transcripts), "--format", "json", "--strict")
    assert code == 0
    code, out, _ = run(capsys, "symbols", "suggest", "--transcripts", str(transcripts), "--base",
                       str(tmp_path / "model"), "--cleaners", "english", "--format", "json")
    assert code == 0
    spelled = Suggestion.from_json(json.loads(out), "symbols suggest --format json")
    assert "c" in spelled.symbols  # told otherwise, it reads spelling


def test_an_os_error_is_one_line_naming_the_path(capsys, tmp_path):
    """A folder the system will not let us write (here /proc) is the user's to fix, not a traceback."""
    transcripts = write_lines(tmp_path / "t.csv", ["a|hello"])
    code, out, err = run(capsys, "symbols", "suggest", "--transcripts", str(transcripts), "--output",
                         "/proc/tts-adapt-test.txt")
    assert code == 2 and out == "" and err.count("\n") == 1 and "/proc/" in err and "Traceback" not in err
