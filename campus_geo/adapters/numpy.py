"""numpy's transparent huge pages, turned off while a screening allocates its arrays.

On Linux numpy asks the kernel for transparent huge pages (``madvise``) for every
array of 4 MiB or more. A screening of millions of pairs allocates gigabytes of
such arrays once each (chunk results, the findings' columns), and on the virtual
machines this project is measured on the kernel's work to back a fresh huge page
costs far more than the fewer TLB misses save: on the benchmark's dense district
(7.2 million findings) the screening spent 6.0 s of system time with huge pages
and 2.6 s without, 18 % of its wall time.

numpy offers the switch only as ``numpy._core.multiarray._set_madvise_hugepage``
(the environment variable ``NUMPY_MADVISE_HUGEPAGE`` is read once, at import):
:func:`huge_pages_off` uses it for the duration of a call and restores the
setting after; ``tests/test_adapters.py`` pins it. ``CAMPUS_GEO_HUGE_PAGES=1``
leaves numpy's setting alone (on machines where huge pages pay).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from numpy._core import multiarray

__all__ = ["huge_pages_off"]

_LOCK = threading.Lock()
_DEPTH = 0  # nested or concurrent screenings: the first in turns off, the last out restores
_SAVED = True


@contextmanager
def huge_pages_off() -> Iterator[None]:
    """Numpy's huge-page advice off for the duration (as it was, after)."""
    global _DEPTH, _SAVED  # noqa: PLW0603 (one process-wide numpy setting)
    if os.environ.get("CAMPUS_GEO_HUGE_PAGES") == "1":
        yield
        return
    with _LOCK:
        if _DEPTH == 0:
            _SAVED = bool(multiarray._set_madvise_hugepage(False))  # type: ignore[attr-defined]
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                multiarray._set_madvise_hugepage(_SAVED)  # type: ignore[attr-defined]
