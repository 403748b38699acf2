"""prepare --jobs 2 killed by SIGTERM: its worker processes end with it (they used to run on for minutes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.corpus.corpus_testdata import good_items


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (the forkserver, the pool's workers, the resource tracker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie has ended (a container's init may never reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def test_sigterm_during_prepare_with_two_jobs_leaves_no_worker_running(tmp_path):
    root = tmp_path / "corpus"
    (root / "metadata.csv").write_text("\n".join(good_items(root, count=60)) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "tts_adapt", "prepare", "--metadata", str(root / "metadata.csv"),
               "--output", str(tmp_path / "out"), "--jobs", "2", "--format", "json"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 3:  # the forkserver and its two workers, at least
            assert process.poll() is None and time.monotonic() < deadline, "prepare ended before it could be killed"
            workers = descendants(process.pid)
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "worker processes outlived a prepare killed by SIGTERM"
    finally:
        for pid in workers | ({process.pid} if process.poll() is None else set()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()
