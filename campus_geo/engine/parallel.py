"""Run the chunks of a screening on several cores.

The measurement of candidate pairs holds Python's GIL in the libraries that
do it (pyproj's transformations and GeographicLib, GEOS geometry creation), so
threads do not help; processes do. The chunks read the layers the screening
has already prepared (the spatial index, coordinate arrays, outlines), so the
worker processes are forked after that preparation and inherit it
copy-on-write: nothing is pickled to them but a chunk number, and they send
back numpy arrays. multiprocessing's own pool is used (no extra dependency);
dask, for clusters and data larger than memory, is campus_geo.scale.

Where fork is not available or not safe (Windows, macOS), inside a daemonic
process (a dask worker) or with ``workers=1``, the chunks run in this process,
in the same order, with the same results.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["available_workers", "can_fork", "collector_paused", "run_chunks"]

#: The task of the current parallel run, inherited by the forked workers.
_TASK: Callable[[int], Any] | None = None


def available_workers() -> int:
    """CPU cores this process may use (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether worker processes can be forked from here.

    Linux only: macOS offers fork but its system libraries are not safe in a forked
    child, and Windows has none.
    """
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (as it was, after).

    A screening creates hundreds of thousands of shapely objects, and every few
    hundred thousand allocations the collector walks every object of the
    process: five full collections cost 0.4 s of a 10 s province run (50,000
    schools), holding the GIL. Forked workers inherit the pause, so no
    collection in them writes to the parent's objects and copies their pages.
    The screening makes no reference cycles that need collecting meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(i: int) -> Any:
    assert _TASK is not None
    return _TASK(i)


def run_chunks(task: Callable[[int], Any], n: int, *, workers: int) -> Iterator[Any]:
    """``task(0), task(1), ... task(n - 1)``, in order, on up to `workers` processes."""
    global _TASK  # noqa: PLW0603 (the forked workers find the task here)
    workers = min(workers, n)
    if workers <= 1 or not can_fork():
        yield from map(task, range(n))
        return
    _TASK = task
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run, range(n))
    finally:
        _TASK = None
