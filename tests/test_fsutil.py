"""Atomic outputs: nothing half-written, and the usual permissions once in place."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import pytest

from tests.cli_testing import hold_output_lock
from tts_adapt.errors import UserError
from tts_adapt.fsutil import LOCK_NAME, atomic_output_dir, output_lock, write_text_atomic


def test_atomic_dir_appears_only_on_success_with_umask_mode(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out) as tmp:
            (tmp / "half").write_text("x")
            raise RuntimeError("killed")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_output_dir(out) as tmp:
        write_text_atomic(tmp / "manifest.json", "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((out / "manifest.json").stat().st_mode) == 0o666 & ~umask


def test_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine").write_text("keep")
    with pytest.raises(UserError, match="not empty"):
        with atomic_output_dir(tmp_path / "out"):
            pass
    assert (tmp_path / "out" / "mine").read_text() == "keep"


def test_data_reaches_the_disk_before_the_rename_that_publishes_it(tmp_path, monkeypatch):
    """fsync of the new file, then the rename, then fsync of its folder (a power loss never publishes an empty file)."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
                        or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: events.append(("replace", str(b))) or real_replace(a, b))
    target = tmp_path / "out.txt"
    write_text_atomic(target, "complete")
    assert [kind for kind, _ in events] == ["fsync", "replace", "fsync"]
    assert events[0][1] != str(target) and events[1][1] == str(target) and events[2][1] == str(tmp_path)
    events.clear()
    with atomic_output_dir(tmp_path / "folder") as folder:
        (folder / "a.npy").write_bytes(b"x")
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "fsync", "replace", "fsync"]  # its file, itself, the rename, the parent
    assert events[0][1].endswith("a.npy") and events[3][1] == str(tmp_path)


def test_a_locked_output_refuses_a_second_writer_naming_the_first(tmp_path):
    holder = hold_output_lock(tmp_path / "out")
    try:
        with pytest.raises(UserError, match=f"in use by process {holder.pid};"):
            with output_lock(tmp_path / "out"):
                pass
    finally:
        holder.communicate("")
    with output_lock(tmp_path / "out"):  # released when its holder ends
        assert (tmp_path / "out" / LOCK_NAME).read_text() == f"{os.getpid()}\n"
    assert not (tmp_path / "out").exists()  # made for the lock, still empty: removed again


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    holder = hold_output_lock(tmp_path / "out")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "out" / LOCK_NAME).read_text() == f"{holder.pid}\n"  # left behind, stale
    with output_lock(tmp_path / "out"):
        (tmp_path / "out" / "work").write_text("x")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["work"]


WRITE_AND_WAIT = ("import sys\nfrom tts_adapt.fsutil import atomic_output_dir\n"
                  "with atomic_output_dir(sys.argv[1]) as tmp:\n    print(tmp, flush=True)\n    sys.stdin.read()\n")


def test_a_killed_writers_partial_is_removed_by_the_next_and_a_live_ones_is_not(tmp_path):
    out = tmp_path / "out"
    writers = [subprocess.Popen([sys.executable, "-c", WRITE_AND_WAIT, str(out)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    killed, live = writers
    partials = [tmp_path / w.stdout.readline().strip() for w in writers]
    assert all(p.is_dir() and p.name.startswith(".out.partial-") for p in partials)
    killed.kill()
    killed.wait()
    try:
        with atomic_output_dir(out) as tmp:
            assert not partials[0].exists() and partials[1].is_dir()
            (tmp / "done").write_text("x")
    finally:
        live.communicate("")
    assert (out / "done").is_file() and not partials[1].exists()  # its owner cleaned up after itself
