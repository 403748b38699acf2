"""Every command, odd arguments: exit 0 or 2, at most one line on stderr, never a traceback.

The arguments come from each command's own parser (so a new option is fuzzed without a change
here): paths from a small world of real and broken inputs, numbers past what the libraries hold,
non-ASCII digits, strings that look like console markup or plot math. The CLI runs in-process.
Training commands never get usable data: a real run would take the whole time budget.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.tiny_checkpoints import NEW_SYMBOLS, NEW_VOICE_TEXTS, make_source, spoken_by, write_prepared, write_table

from tts_adapt.cli.main import build_parser, main

from tests.audio.audio_testdata import write_voice

ODD_WORDS = ["[/x]", "[bold]x", "$\\frac{$", "$x$", "²", "#²", "١٢", "#١", "-1", "0", "2147483648", "9" * 30,
             "9" * 5000, "nan", "inf", "1e999", "", " ", "é", "@NAME@", "%s{}", "a|b", "\u2028", "\x7f"]
odd_text = st.one_of(st.sampled_from(ODD_WORDS), st.text(st.characters(blacklist_characters="\x00"), max_size=10))
# a path the fuzz may create: relative (the test runs in a scratch folder), never climbing out of it
safe_relative = st.text(st.characters(blacklist_characters="\x00/\\"), min_size=1, max_size=10).filter(
    lambda s: s not in (".", "..") and not s.startswith(("~", "-")))
NUMBERS = ["0", "1", "-1", "2147483648", "18446744073709551616", "9" * 30, "9" * 5000, "١", "²", "+1", " 2",
           "0x10", "1_000"]
FLOATS = ["nan", "inf", "-inf", "1e309", "-0", "1e-320", "0.5", "x", "١.٥"]
OUTPUTS = {"output", "save_audio", "mel_output", "alignment_output"}
TRAINING = {"train", "finetune", "vocoder train"}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, list[str]]:
    """Inputs a command may be given: real ones (a tiny model, its data, texts, a table, a corpus) and broken ones."""
    root = tmp_path_factory.mktemp("fuzz_world")
    model = make_source(root / "model", seed=3)
    write_prepared(root / "prepared", NEW_VOICE_TEXTS[:3], spoken_by(model, 0, NEW_VOICE_TEXTS[:3]), speaker="ann")
    (root / "texts.txt").write_text("bad cab\n", encoding="utf-8")
    write_table(root / "table.txt", NEW_SYMBOLS)
    for i in range(2):
        write_voice(root / "wavs" / f"u{i}.wav", 16000, seconds=0.6, seed=i)
    (root / "metadata.csv").write_text("u0|bad cab\nu1|a jab\n", encoding="utf-8")
    (root / "garbage").write_bytes(b"\xff\x00[/x]$\x85" * 8)
    (root / "empty.txt").touch()
    (root / "empty_dir").mkdir()
    shutil.copy(root / "texts.txt", root / "[bold]$x$.txt")
    broken = [str(root / name) for name in ("missing", "garbage", "empty.txt", "empty_dir", "[bold]$x$.txt")]
    usable = [str(root / name) for name in ("model", "prepared", "texts.txt", "table.txt", "metadata.csv", "wavs")]
    return {"broken": broken, "usable": usable, "root": [str(root)]}


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = subcommands(sub, f"{prefix}{name} ")
                found.update(nested or {f"{prefix}{name}": sub})
    return found


COMMANDS = subcommands(build_parser())


ORDINARY = {  # a value each argument may take that gets a command past it, by the argument's name
    **dict.fromkeys(("checkpoint", "source", "adapted", "old", "base", "teacher", "diff"), "model"),
    **dict.fromkeys(("new", "symbols"), "table.txt"),
    "data": "prepared", "texts": "texts.txt", "metadata": "metadata.csv", "transcripts": "metadata.csv",
    "wavs": "wavs",
}
ORDINARY_WORDS = {"vocoder": "griffin-lim", "name": "voice", "speaker": "ann", "fold_speaker": "ann",
                  "text": "bad cab", "cleaners": "english", "freeze": "encoder", "tolerance": "0.001"}


def odd_value(action: argparse.Action, world: dict[str, list[str]]):
    """A strategy for an argument's text that is odd for what the argument takes."""
    kind = getattr(action.type, "__name__", "")
    if action.type is int or kind == "parse":  # int, or tts_adapt.cli._output.whole_number
        return st.sampled_from(NUMBERS)
    if kind == "finite_float":
        return st.sampled_from(FLOATS)
    if action.dest in OUTPUTS:
        return st.one_of(st.sampled_from(["[/x]out", "$x$.wav", *world["broken"][1:4]]), safe_relative)
    return st.one_of(st.sampled_from(world["broken"]), odd_text)


def ordinary_value(action: argparse.Action, command: str, world: dict[str, list[str]]) -> str | None:
    """A value that gets the command past this argument (None: leave an optional one out)."""
    root = Path(world["root"][0])
    kind = getattr(action.type, "__name__", "")
    if action.choices:
        return sorted(action.choices)[0]
    if action.type is int or kind == "parse":
        return "1"
    if kind == "finite_float":
        return "0.5"
    if action.dest in OUTPUTS:
        return f"out_{action.dest}"
    if action.dest in ORDINARY and not (command in TRAINING and action.dest == "data"):
        return str(root / ORDINARY[action.dest])  # training commands never get data: a real run is too slow
    if action.dest in ORDINARY_WORDS:
        return ORDINARY_WORDS[action.dest]
    return str(root / "missing") if action.required or not action.option_strings else None


@st.composite
def argv_for(draw, command: str, world: dict[str, list[str]]) -> list[str]:
    """One argument odd, the others ordinary or left out: each example takes its odd value as deep as it goes."""
    parser = COMMANDS[command]
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    odd = draw(st.sampled_from([a for a in actions if a.nargs != 0]))
    # of each group of options that exclude each other (--data or --texts), one may be given
    chosen = [draw(st.sampled_from(group._group_actions)) for group in parser._mutually_exclusive_groups]
    excluded = {a for group in parser._mutually_exclusive_groups for a in group._group_actions} - set(chosen)
    argv = command.split()
    for action in actions:
        if action in excluded and action is not odd:
            continue
        if action is odd:
            value = draw(odd_value(action, world))
        elif action.nargs == 0:
            if draw(st.booleans()):
                argv.append(action.option_strings[0])
            continue
        else:
            given = action.required or not action.option_strings or draw(st.booleans()) or any(
                action in group._group_actions for group in parser._mutually_exclusive_groups if group.required) or (
                command == "new-voice" and action.dest == "output")  # never into the toolkit's recipes/
            value = ordinary_value(action, command, world) if given else None
        if value is None:
            continue
        # options glued to their value: one starting with '-' is a value, not an option (as the recipes pass them)
        argv.append(f"{action.option_strings[0]}={value}" if action.option_strings else value)
    return argv


def run(argv: list[str], capsys) -> tuple[int, str]:
    """``tts-adapt ARGV`` in-process: (exit code, stderr); argparse's refusals exit through SystemExit."""
    from tts_adapt.training.distribute import set_precision

    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        set_precision("float32")  # the precision policy is process-wide
    return code, capsys.readouterr().err


def assert_one_clean_line(code, err: str, argv: list[str]) -> None:
    assert code in (0, 2), (code, argv, err[-2000:])
    assert "Traceback" not in err, (argv, err[-2000:])
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and re.match(r"tts-adapt[ \w-]*: error: ", lines[0]), (argv, err[-2000:])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_odd_arguments_are_one_line_or_a_result(command, world, tmp_path, capsys):
    @settings(max_examples=4 if command == "evaluate" else 8, deadline=None, derandomize=True,  # evaluate: ~2 s each
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(argv=argv_for(command, world))
    def check(argv):
        scratch = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        scratch.mkdir()
        with contextlib.chdir(scratch):
            code, err = run(argv, capsys)
        assert_one_clean_line(code, err, argv)

    check()


@pytest.mark.parametrize("argv", [
    ["synthesize", "{model}", "--text=bad", "--output=o.wav", "--seed=18446744073709551616"],
    ["adapt", "{model}", "--output=o", "--seed=-1", "--new-rows=normal", "--fold-speaker=ann"],
    ["evaluate", "{model}", "--data={prepared}", "--seed=99999999999999999999999", "--no-listen"],
    ["evaluate", "{model}", "--data={prepared}", "--plots=2147483648", "--no-listen"],
    ["synthesize", "{model}", "--text=bad", "--output=o.wav", "--speaker=²"],
    ["adapt", "{model}", "--output=o", "--fold-speaker=#²"],
    ["prepare", "--metadata={metadata}", "--wavs={wavs}", "--output=o", "--speaker=[/x]"],
    ["prepare", "--metadata={metadata}", "--wavs={wavs}", "--output=[/x]o"],
])
def test_values_that_reached_the_libraries_are_refused_in_one_line(argv, world, tmp_path, capsys):
    """Each of these was a traceback: a seed numpy or TensorFlow cannot take, a non-ASCII digit read as a
    speaker row, a path or name rich read as markup."""
    root = Path(world["root"][0])
    places = {"model": root / "model", "prepared": root / "prepared", "metadata": root / "metadata.csv",
              "wavs": root / "wavs"}
    argv = [a.format(**places) for a in argv]
    with contextlib.chdir(tmp_path):
        code, err = run(argv, capsys)
    assert_one_clean_line(code, err, argv)


def test_a_speaker_named_like_plot_math_or_markup_is_drawn_and_printed_as_written(world, tmp_path, capsys):
    from tts_adapt.manifest import read_manifest, write_manifest

    model = tmp_path / "model"
    shutil.copytree(Path(world["root"][0]) / "model", model)
    write_manifest(model, read_manifest(model).replace(speakers=("$\\frac{$", "[/x]", "b")))
    texts = Path(world["root"][0]) / "texts.txt"
    for argv in (["evaluate", model, "--texts", texts, "--output", tmp_path / "page.html"],
                 ["synthesize", model, "--text", "bad", "--speaker", "[/x]", "--output", tmp_path / "s.wav",
                  "--alignment-output", tmp_path / "s.png"],
                 ["suggest-speaker", model, "--data", Path(world["root"][0]) / "prepared"]):
        code, err = run([str(a) for a in argv], capsys)
        assert code == 0, err[-2000:]
    assert (tmp_path / "page.html").is_file() and (tmp_path / "s.png").is_file()


def test_tensorflow_out_of_memory_is_one_line(monkeypatch, capsys):
    import tensorflow as tf

    from tts_adapt.cli import inspect

    def allocate(args):
        raise tf.errors.ResourceExhaustedError(None, None, "{{function_node x}} OOM when allocating tensor\nmore")

    monkeypatch.setattr(inspect, "run", allocate)
    code, err = run(["inspect", "anything"], capsys)
    assert code == 2 and err == "tts-adapt inspect: error: out of memory (OOM when allocating tensor); a smaller " \
                                "model, batch or input would fit\n"


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.text(st.characters(exclude_characters="\x00"), max_size=60),  # no environment holds a NUL
                 st.sampled_from(["[" * 100_000, '{"cluster": {"worker": ["h:1"]}, "task": '
                                                        '{"type": "worker", "index": 0}}'])),
       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["cluster", "task", "worker", "chief", "ps", "type", "index"]), inner,
                        max_size=3), max_leaves=10))
@example(raw="", shape={"cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 1}})
def test_tf_config_of_any_shape_is_a_cluster_or_one_line(raw, shape):
    import json

    from tts_adapt.errors import UserError
    from tts_adapt.training.distribute import _tf_config

    for value in (raw, json.dumps(shape)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TF_CONFIG", value)
            try:
                cluster, (job, index) = _tf_config()
            except UserError as exc:
                assert "\n" not in str(exc) and str(exc).startswith(("TF_CONFIG", "--strategy"))
                continue
        assert set(cluster) <= {"chief", "worker"} and 0 <= index < len(cluster[job])
        assert all(isinstance(host, str) and host for hosts in cluster.values() for host in hosts)

