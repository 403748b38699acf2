"""Worker processes for CPU-bound work Python runs on one core: feature extraction, recognition, pitch.

Two rules every pool here follows. The pool is a forkserver's: forking a process that already runs
TensorFlow's threads is unsafe. And each worker ends with the process that made it, however that
one ends: the forkserver outlives its children by design, and a prepare killed by SIGTERM or SIGKILL
once left its workers extracting features for minutes (700 MB). Each worker runs BLAS on one thread:
its matrices are small, and on a loaded machine OpenBLAS's own threads only wait for each other.

A pool shut down (and waited for) also ends the forkserver and waits for it: the workers' CPU time then
counts as this process's children's, as the recipes' stages.tsv reads it (a server left to exit with
this process was reaped by init, and the stage that did the work seemed to cost a fifth of its CPU).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def worker_pool(workers: int, preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that import ``preload`` once (in the forkserver) and die with us."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return _Pool(max_workers=workers, mp_context=context, initializer=_init_worker)


class _Pool(ProcessPoolExecutor):
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            _stop_forkserver()


def _stop_forkserver() -> None:
    """Ends the forkserver (it has reaped the workers) and reaps it; the next pool starts another.

    ``ForkServer._stop`` is CPython's own (3.8 on), private: where it is missing the server still ends
    with this process, only its children's CPU time goes uncounted."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


def _init_worker() -> None:
    import multiprocessing
    import threading

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    parent = multiprocessing.parent_process()  # joinable: its sentinel closes when the parent ends
    threading.Thread(target=_exit_after, args=(parent,), daemon=True, name="exit-with-parent").start()


def _exit_after(parent) -> None:
    parent.join()
    os._exit(1)
