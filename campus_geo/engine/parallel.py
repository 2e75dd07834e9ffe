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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["available_workers", "collector_paused", "run_chunks"]

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
