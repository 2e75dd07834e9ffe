"""What a page of memory costs the first time it is touched, against rewriting it.

On the virtual machines this project is measured on, memory the process (and often
the machine) has not touched before is backed page by page on first write, and that
costs far more than the writing itself. `screen()`'s findings table is gigabytes of
fresh memory, so bytes not written a finding are time saved
(benchmarks/README.md, "fresh memory is time"). This prints, in one process:

1. numpy: a 1 GiB array of ones made fresh, then the same array rewritten;
2. Arrow: 250 takes of a 27-text category column by 170,000 codes (one dense-district
   block's worth), each output dropped (its memory reused by the next), then kept (the
   process grows by every output, as the findings' columns do).

    .venv/bin/python benchmarks/fresh_memory.py
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

GIB = 1 << 30
TAKES = 250
ROWS = 170_000


def main() -> None:
    t = time.perf_counter()
    ones = np.ones(GIB // 8)
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    ones[:] = 2.0
    rewritten = time.perf_counter() - t
    del ones
    print(f"numpy, 1 GiB: made fresh {fresh:.2f} s, rewritten {rewritten:.2f} s")

    texts = pa.array([f"category_{i}" for i in range(27)], pa.large_string())
    codes = pa.array(np.random.default_rng(1).integers(0, 27, ROWS).astype(np.int8))
    t = time.perf_counter()
    for _ in range(TAKES):
        out = texts.take(codes)
    dropped = time.perf_counter() - t
    kept = []
    t = time.perf_counter()
    for _ in range(TAKES):
        kept.append(texts.take(codes))
    held = time.perf_counter() - t
    mib = sum(a.nbytes for a in kept) / (1 << 20)
    del out
    print(
        f"Arrow, {TAKES} takes of {ROWS:,} texts: outputs dropped {dropped:.2f} s, "
        f"kept {held:.2f} s ({mib:,.0f} MiB kept)"
    )


if __name__ == "__main__":
    main()
