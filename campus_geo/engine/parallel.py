"""Run the chunks of a screening on several cores.

The measurement of candidate pairs runs in libraries that release Python's
GIL over their arrays: numpy, pyproj's transformations and GeographicLib
(pyproj 3.7 and later), GEOS through shapely 2, Arrow. So the chunks run on
threads of this process: they read the layers the screening has prepared (the
spatial index, coordinate arrays, outlines) where they are, and their results
need no copying back. Measured on the dense district of the scale benchmark
(10,000 schools, 1,000,000 venues, 7.2 million pairs), two threads measure in
0.55 of the time of one; the forked worker processes this module used before
were no faster than one, the pickling of their results back to the parent
eating the gain. dask, for clusters and data larger than memory, is
campus_geo.scale.

With ``workers=1`` the chunks run on the calling thread, in order, with the
same results.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

__all__ = [
    "arrow_system_pool",
    "available_workers",
    "collector_paused",
    "give_back_arrow_memory",
    "run_chunks",
]

#: Chunks started ahead of the one being consumed, per worker: enough to keep every
#: worker busy while the caller handles a result, few enough to bound the memory.
AHEAD_PER_WORKER = 2


def available_workers() -> int:
    """CPU cores this process may use (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (as it was, after).

    A screening creates hundreds of thousands of shapely objects, and every few
    hundred thousand allocations the collector walks every object of the
    process: five full collections cost 0.4 s of a 10 s province run (50,000
    schools), holding the GIL that the measuring threads need now and then.
    The screening makes no reference cycles that need collecting meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_POOL_LOCK = threading.Lock()
_POOL_DEPTH = 0  # nested or concurrent screenings: the first in sets, the last out restores
_POOL_SAVED: pa.MemoryPool | None = None


@contextmanager
def arrow_system_pool() -> Iterator[None]:
    """Arrow allocates from the C library's malloc for the duration (its default pool after).

    pyarrow's wheels allocate from mimalloc, which gives freed memory back to the
    system after a short delay. The stream encodes and writes a part block after
    block, and the pages of the buffers it frees are faulted in afresh for the next,
    as system time on this project's virtual machines: with the system pool the
    stream took 0.97x the wall time and 0.98x the CPU on the dense district (system
    time 0.85 against 1.09 s; paired whole-process runs, medians of 8), 0.96x and
    0.95x on the province (1.1 against 1.8 s; 6 pairs). malloc keeps what it frees
    in its threads' arenas, so the peak moves by tens of MiB (the province's stream:
    1,250 against 1,170 MiB) and varies from run to run: ``screen()``, whose
    province run is held to 1.5 GB, keeps Arrow's pool (given the paths at 50,000 x
    5,000,000 it peaked at up to 1,590 MiB with the system pool, 1,492 without, for
    0.96x the time). The default pool is set for the duration
    (``pa.set_memory_pool``) and restored when the last call running ends; buffers
    remember the pool they came from. An ``ARROW_DEFAULT_MEMORY_POOL`` the user set
    is left alone.
    """
    global _POOL_DEPTH, _POOL_SAVED  # noqa: PLW0603 (one process-wide Arrow setting)
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    with _POOL_LOCK:
        if _POOL_DEPTH == 0:
            _POOL_SAVED = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
        _POOL_DEPTH += 1
    try:
        yield
    finally:
        with _POOL_LOCK:
            _POOL_DEPTH -= 1
            if _POOL_DEPTH == 0 and _POOL_SAVED is not None:
                pa.set_memory_pool(_POOL_SAVED)
                _POOL_SAVED = None


def give_back_arrow_memory() -> None:
    """Give the memory Arrow's pool holds free back to the system (after a file is read).

    Within :func:`arrow_system_pool`, what decoding a file freed stays with malloc:
    after reading the province's five million venues with the system pool, a
    screening held 1,158 MiB when its blocks started, against 981 with mimalloc;
    ``release_unused`` (``malloc_trim``) brought it to 931.
    """
    pa.default_memory_pool().release_unused()


def run_chunks(task: Callable[[int], Any], n: int, *, workers: int) -> Iterator[Any]:
    """``task(0), task(1), ... task(n - 1)``, in order, on up to `workers` threads.

    At most ``AHEAD_PER_WORKER * workers`` chunks are in flight: results are yielded
    in order as they complete, and a slow consumer holds back the workers.
    """
    workers = min(workers, n)
    if workers <= 1:
        yield from map(task, range(n))
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="campus_geo-chunk") as pool:
        pending: deque[Future[Any]] = deque()
        submitted = 0
        try:
            while submitted < n or pending:
                while submitted < n and len(pending) < AHEAD_PER_WORKER * workers:
                    pending.append(pool.submit(task, submitted))
                    submitted += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
