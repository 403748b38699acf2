"""Helpers tests import by name (a module, not conftest: several conftest.py files would collide)."""

from __future__ import annotations

from pathlib import Path

OLD_SYMBOLS = list("abcdefghij")  # 10 rows in the source embedding
NEW_SYMBOLS = ["b", "a", "c", "d", "é", "F", " ", "j", "x"]  # moved, kept, aliased, added, removed
N_SPEAKERS = 3


def write_table(path: Path, symbols: list[str]) -> Path:
    path.write_text("".join(f"{s}\n" for s in symbols), encoding="utf-8")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``tts-adapt`` in-process; returns (exit code, stdout, stderr)."""
    from tts_adapt.cli.main import main

    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def printed_document(cls, out: str, source: str = "--format json"):
    """A command's printed JSON read as its class reads it (as recipes and the report do), and nothing in it
    that the reader drops: a key renamed on either side fails here."""
    import json

    printed = json.loads(out)
    document = cls.from_json(printed, source)
    assert document.to_json() == printed, "printed keys the reader drops"
    return document


_HOLD = ("import sys\nfrom tts_adapt.fsutil import output_lock\n"
         "with output_lock(sys.argv[1]):\n    print('locked', flush=True)\n    sys.stdin.read()\n")


def hold_output_lock(folder: Path):
    """Another process (a real one) that holds ``folder``'s output lock until its stdin closes or it is killed."""
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    return holder
