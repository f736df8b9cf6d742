"""Fault a fresh output's pages in ahead of the writes, on the spare core.

A fresh output is mostly page faults: on the 2-core VM the benchmarks run on,
writing 68 MiB of new 4 KiB pages took 27-32 ms, 1.6-1.9 us a page, against
~3 ms of memory traffic. Linux's ``MADV_POPULATE_WRITE`` (5.14+) faults a
range in from one system call: 22 ms for those 68 MiB on one thread, 12 ms on
two, and the writes after it 3 ms. It never changes the memory's contents,
so it runs on a background thread of its own while the calling thread copies
the original rows and does the serial parts of a call (the k-NN, the random
draws); a write that gets to a page first only makes that page's populate a
no-op. Its own thread, not the shared pool's: a search queued behind it there
waited for it (the card-fraud shape's 492-row k-NN: 15-21 ms instead of 3).
Card-fraud shape (284,807 x 30 float32), first full-size call in fresh
processes, 12 alternating pairs: 38.5 ms without, 32.8 ms with.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import sys
from concurrent.futures import Future

import numpy as np

from gpusmote.kernels._row_threads import background_pool, in_pool_thread, n_threads

#: ``madvise`` advice (linux/mman.h): fault the range in, writable.
MADV_POPULATE_WRITE = 23

#: Bytes faulted in per system call: the call holds the process's memory-map
#: lock, which every other thread's mmap and munmap waits for.
POPULATE_PIECE_BYTES = 1 << 21

#: Below this many bytes faulting in ahead saves less than the task costs.
MIN_POPULATE_BYTES = 1 << 22


@functools.cache
def _madvise():
    """libc's ``madvise`` (Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL("libc.so.6", use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


def _page_range(array: np.ndarray) -> tuple[int, int]:
    """The whole pages inside ``array``'s buffer, as (start address, length)."""
    page = mmap.PAGESIZE
    first = array.ctypes.data
    start = -(-first // page) * page
    stop = (first + array.nbytes) // page * page
    return start, max(0, stop - start)


def populate(array: np.ndarray) -> bool:
    """Fault ``array``'s whole pages in for writing, without writing them.

    Returns False where the system cannot (not Linux, a kernel before 5.14):
    the pages then fault in on first write, as they would have anyway.
    """
    madvise = _madvise()
    start, length = _page_range(array)
    if madvise is None or length == 0:
        return False
    piece = POPULATE_PIECE_BYTES
    for offset in range(0, length, piece):
        if madvise(start + offset, min(piece, length - offset), MADV_POPULATE_WRITE) != 0:
            return False
    return True


def populate_in_background(*arrays) -> Future | None:
    """Start faulting ``arrays`` (fresh NumPy outputs, each contiguous) in,
    in order, on the process's background thread; None when there is nothing
    worth doing (under :data:`MIN_POPULATE_BYTES`, one core, not NumPy
    memory, no ``madvise``, or called from one of gpusmote's threads).

    The caller waits for the future before handing the arrays out, so no
    task outlives the call that made them.
    """
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.flags.c_contiguous]
    if (n_threads() < 2 or in_pool_thread() or _madvise() is None
            or sum(a.nbytes for a in arrays) < MIN_POPULATE_BYTES):
        return None
    return background_pool().submit(lambda: [populate(a) for a in arrays])
