"""Atomic writes and output locks: a killed command never leaves a half-written output behind,
and two commands never write into one output at once."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Iterator

from tts_adapt.errors import UserError

LOCK_NAME = ".tts-adapt.lock"  # inside a locked output folder while a command writes there


def is_disk_full(exc: BaseException) -> bool:
    """True for a write that failed for want of space or quota.

    TensorFlow's file writers (SaveV2, summaries) report it as ``ResourceExhaustedError``, the
    type it also uses for running out of memory; only the OS's words tell the two apart."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return type(exc).__name__ == "ResourceExhaustedError" and "No space left on device" in str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _default_mode(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; outputs get the usual umask-based mode."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def sync(path: str | os.PathLike, tree: bool = False) -> None:
    """Flush a file, or a folder's entries (``tree``: and everything below it), to the disk.

    Why: a rename is what publishes an output; after a power loss a file renamed before its
    data reached the disk can be empty. So the data is synced first, the rename after, then
    the folder holding the new name.
    """
    path = Path(path)
    directory = path.is_dir()
    if directory and tree:
        for child in path.iterdir():
            sync(child, tree=True)
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so writers pick the format);
    it is renamed onto ``path`` only when the block succeeds.

    ``durable=False`` skips the syncs, for the many files of a cache that a later, durable
    write publishes (prepare's features: ``prepared.json`` is written last, after a sync)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _default_mode(Path(tmp), directory=False)
        if durable:
            sync(tmp)
        os.replace(tmp, path)
        if durable:
            sync(path.parent)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and is_disk_full(exc):  # a write() names no file: say which one it was
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_output_file(path: str | os.PathLike, option: str = "--output") -> Path:
    """Before any work: an output file may not be a folder, and its folder must be one (or creatable)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option} {path} is a directory; give a file name")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UserError(f"{option} {path}: {parent} is not a directory")
    return path


def check_outputs_apart(outputs: dict[str, str | os.PathLike | None], inputs: list[str | os.PathLike]) -> None:
    """Before any work: no output may be an input file, sit inside an input folder, or be another output.

    Why: a command that writes over what it reads (``--mel-output model/manifest.json``) destroys
    the user's model and still exits 0; two outputs on one path leave one format under another's name."""
    given = {option: Path(path).resolve() for option, path in outputs.items() if path}
    seen: dict[Path, str] = {}
    for option, target in given.items():
        if target in seen:
            raise UserError(f"{option} and {seen[target]} are the same file ({target.name}); give each its own path")
        seen[target] = option
        for source in map(Path, inputs):
            if target == source.resolve():
                raise UserError(f"{option} {outputs[option]} is the input {source}; write it elsewhere")
            if source.is_dir() and source.resolve() in target.parents:
                raise UserError(f"{option} {outputs[option]} is inside the input {source}; write it elsewhere")


def check_fresh_output_dir(path: str | os.PathLike, option: str = "output") -> Path:
    """An output directory must not exist yet, or be empty: nothing of the user's is overwritten."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise UserError(f"{option} {path} exists and is not a directory")
        if any(p.name != LOCK_NAME for p in path.iterdir()):
            raise UserError(f"{option} directory {path} is not empty; choose a new path")
    return path


@contextlib.contextmanager
def atomic_output_dir(path: str | os.PathLike, option: str = "output") -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; rename it into place only on success.

    The temporary's name says which process on which machine owns it: a killed command's
    ``.NAME.partial-PID@HOST-*`` is removed by the next command writing ``path`` on that machine.
    """
    path = check_fresh_output_dir(path, option)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-{os.getpid()}@{_host()}-", dir=path.parent))
    try:
        yield tmp
        _default_mode(tmp, directory=True)
        sync(tmp, tree=True)
        if path.exists():
            path.rmdir()  # empty, checked above
        os.replace(tmp, path)
        sync(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise



def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname())[:64]


def _remove_stale_partials(path: Path) -> None:
    """Partials of ``path`` whose owner (a process on this machine) is gone: nothing else would remove them."""
    owned = re.compile(re.escape(f".{path.name}.partial-") + r"(\d+)@" + re.escape(_host()) + r"-[^-]+")
    for entry in path.parent.iterdir():
        match = owned.fullmatch(entry.name)
        if match and entry.is_dir() and not _alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextlib.contextmanager
def output_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold an advisory lock (``flock``) on an output folder while a command writes there.

    Why: two prepares or two trains into one folder would each succeed and leave it corrupt;
    the second gets a UserError naming the first's process instead. The kernel drops a dead
    process's lock, so a lock left by a killed command is simply taken over. A folder made
    here and still empty at the end is removed: a refused command leaves nothing behind.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"output {folder} exists and is not a directory")
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    try:
        fd = _acquire(lock, folder)
    except BaseException:
        _remove_if_made(folder, created)
        raise
    try:
        yield folder
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()  # before the release: whoever opens the name next gets a fresh file
        os.close(fd)
        _remove_if_made(folder, created)


def _remove_if_made(folder: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _acquire(lock: Path, folder: Path) -> int:
    """Lock ``lock`` and write our pid into it; retry when a finishing holder unlinked it meanwhile."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise UserError(f"output {folder} is in use by process {holder or '(unknown)'}; "
                            "wait for it to finish or choose another path") from None
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                except OSError:  # a full disk: give the lock up and leave no lock file behind
                    os.unlink(lock)
                    os.close(fd)
                    raise
                return fd
        os.close(fd)
