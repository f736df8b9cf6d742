"""Fault a fresh output's pages in from a background thread.

A new array's pages are mapped on first touch, one fault per 4 KiB page; on
the 2-core development VM that costs about 2 us a page (0.12 s for 242 MiB),
more than writing the rows. ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+)
maps a range in the kernel without a fault per page, and it releases the GIL,
so the serial work between the allocation and the writes (validation, the
RandomState draws, the k-NN set-up) overlaps it. The contents are unchanged:
a page written meanwhile is simply skipped. Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: ``MADV_POPULATE_WRITE`` from <linux/mman.h>.
MADV_POPULATE_WRITE = 23
#: Arrays smaller than this are left to fault as they are written.
PREFAULT_MIN_BYTES = 16 * 2**20
_PAGE = 4096


@functools.cache
def _madvise():
    """libc's ``madvise``, or None where there is none to call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


_threads: dict[int, ThreadPoolExecutor] = {}


def _thread() -> ThreadPoolExecutor:
    """This process's prefault thread: its own, as the row-copy pool's threads
    are busy writing meanwhile; a forked child starts its own."""
    pid = os.getpid()
    if pid not in _threads:
        _threads.clear()
        _threads[pid] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpusmote-prefault")
    return _threads[pid]


def prefault_async(array: np.ndarray) -> None:
    """Start mapping ``array``'s pages in the background (host NumPy arrays of
    at least :data:`PREFAULT_MIN_BYTES`; errors, e.g. an older kernel, are
    ignored: the pages then fault as they are written)."""
    madvise = _madvise()
    if madvise is None or not isinstance(array, np.ndarray) or array.nbytes < PREFAULT_MIN_BYTES:
        return
    start = -(-array.ctypes.data // _PAGE) * _PAGE
    length = (array.ctypes.data + array.nbytes - start) // _PAGE * _PAGE
    if length > 0:
        _thread().submit(madvise, start, length, MADV_POPULATE_WRITE)
