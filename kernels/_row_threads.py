"""Row ranges of a NumPy copy spread over the cores, on plain Python threads.

Copying rows into a fresh output is mostly first-touch page faults, not
bandwidth; NumPy's copies and ``take`` release the GIL, so a few threads run
the faults and the writes side by side. Plain threads rather than a Numba
``prange`` kernel: loading Numba's first kernel costs a fresh process about
0.25 s (LLVM and the dispatcher), more than a bootstrap of 1M rows takes.
The threads are kept (starting one took ~18 ms on a loaded 2-core machine)
in one pool per process: a forked child makes its own, never the parent's.
"""

from __future__ import annotations

import os
import threading
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


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
#: Name prefix of the pools' threads (see :func:`in_pool_thread`).
THREAD_PREFIX = "gpusmote"


def shared_pool(max_workers: int | None = None) -> ThreadPoolExecutor:
    """This process's worker threads: ``max_workers`` of them (default one
    per core), started on first use and kept, one pool per size.

    Fresh threads per call cost every call their start (a CPU k-NN of
    2,000 x 32 rows took 7.4 ms with its own new threads, 6.9 ms on these;
    more on a loaded machine), and a malloc arena each.
    Tasks run on them must not wait on other tasks of a pool (they may all
    be taken by the waiting ones): check :func:`in_pool_thread` first."""
    key = (os.getpid(), max_workers or n_threads())
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if any(pid != key[0] for pid, _ in _pools):
                _pools.clear()  # a parent's pools (after fork) have no threads here
            pool = _pools[key] = ThreadPoolExecutor(max_workers=key[1], thread_name_prefix=THREAD_PREFIX)
        return pool


#: The background thread's pool, by the process that started it.
_background: dict[int, ThreadPoolExecutor] = {}


def background_pool() -> ThreadPoolExecutor:
    """This process's one background thread, apart from :func:`shared_pool`'s
    workers, for work that overlaps the calling thread's (faulting an output's
    pages in ahead of its writes): a task queued on the shared pool would hold
    up the searches and copies that wait on that pool's workers."""
    pid = os.getpid()
    with _pools_lock:
        pool = _background.get(pid)
        if pool is None:
            _background.clear()  # a parent's thread (after fork) does not exist here
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{THREAD_PREFIX}-background")
            _background[pid] = pool
        return pool


def in_pool_thread() -> bool:
    """True on a thread of one of the pools (which runs nested work in place)."""
    return threading.current_thread().name.startswith(THREAD_PREFIX)


def over_row_ranges(n_rows: int, n_bytes: int, work: Callable[[int, int], None]) -> None:
    """``work(start, stop)`` over contiguous ranges covering ``[0, n_rows)``:
    one range on the calling thread when ``n_bytes`` is small, else one per core
    (the last on the calling thread)."""
    parts = min(n_threads(), n_rows, max(1, n_bytes // MIN_THREAD_BYTES))
    if parts <= 1 or in_pool_thread():
        work(0, n_rows)  # (a task of the pool itself does its ranges in place)
        return
    bounds = [n_rows * p // parts for p in range(parts + 1)]
    futures = [shared_pool().submit(work, start, stop) for start, stop in zip(bounds[:-2], bounds[1:-1])]
    work(bounds[-2], bounds[-1])
    for future in futures:
        future.result()  # re-raises a worker's exception here
