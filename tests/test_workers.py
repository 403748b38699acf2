"""The worker pools (tts_adapt.workers): their work is counted where the recipes count a stage's CPU."""

from __future__ import annotations

import resource
import time

from tts_adapt.workers import worker_pool


def _burn(seconds: float) -> float:
    """CPU work in a worker: spins until it has used ``seconds`` of CPU time."""
    began = time.process_time()
    while time.process_time() - began < seconds:
        pass
    return seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_a_pools_work_is_this_processs_childrens_cpu_once_it_is_shut_down():
    """stages.tsv counts a stage's CPU from its processes' children: the workers (children of a forkserver)
    went uncounted while the server outlived the pool."""
    before = _children_cpu()
    pool = worker_pool(2)
    assert list(pool.map(_burn, [0.4, 0.4])) == [0.4, 0.4]
    pool.shutdown()
    assert _children_cpu() - before >= 0.7
    again = worker_pool(1)  # the next pool starts its own server
    assert again.submit(_burn, 0.1).result() == 0.1
    again.shutdown()
