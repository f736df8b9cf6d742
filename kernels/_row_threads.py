"""Row ranges of a NumPy copy spread over the cores, on plain Python threads.

Copying rows into a fresh output is mostly first-touch page faults, not
bandwidth; NumPy's copies and ``take`` release the GIL, so a few threads run
the faults and the writes side by side. Plain threads rather than a Numba
``prange`` kernel: loading Numba's first kernel costs a fresh process about
0.25 s (LLVM and the dispatcher), more than a bootstrap of 1M rows takes,
and threads need no fork guard (a pool is made per call, never inherited).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Below this many bytes of output a thread costs more than it saves.
MIN_THREAD_BYTES = 1 << 22


def n_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def over_row_ranges(n_rows: int, n_bytes: int, work: Callable[[int, int], None]) -> None:
    """``work(start, stop)`` over contiguous ranges covering ``[0, n_rows)``:
    one range on the calling thread when ``n_bytes`` is small, else one per core."""
    parts = min(n_threads(), n_rows, max(1, n_bytes // MIN_THREAD_BYTES))
    if parts <= 1:
        work(0, n_rows)
        return
    bounds = [n_rows * p // parts for p in range(parts + 1)]
    with ThreadPoolExecutor(max_workers=parts) as pool:
        # list() re-raises a worker's exception here
        list(pool.map(work, bounds[:-1], bounds[1:]))
