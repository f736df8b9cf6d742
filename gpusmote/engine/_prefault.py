"""Fault a fresh output's new rows in on a background thread while the
calling thread works.

Faulting pages in (``kernels/_populate.py``) runs on a background thread of
its own while the calling thread copies the original rows and does the
serial parts of a call (the k-NN, the random draws); the rows written later
then find their pages resident. Its own thread, not the shared pool's: a
search queued behind it there waited for it (the card-fraud shape's 492-row
k-NN: 15-21 ms instead of 3). Card-fraud shape (284,807 x 30 float32), first
full-size call in fresh processes, 12 alternating pairs: 38.5 ms without,
32.8 ms with.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

import numpy as np

from gpusmote.kernels._populate import can_populate, populate
from gpusmote.kernels._row_threads import background_pool, in_pool_thread, n_threads

#: Below this many bytes faulting in ahead saves less than the task costs.
MIN_POPULATE_BYTES = 1 << 22


def populate_in_background(*arrays) -> Future | None:
    """Start faulting ``arrays`` (fresh NumPy outputs, each contiguous) in,
    in order, on the process's background thread; None when there is nothing
    worth doing (under :data:`MIN_POPULATE_BYTES`, one core, not NumPy
    memory, no ``madvise``, or called from one of gpusmote's threads).

    The caller waits for the future before handing the arrays out, so no
    task outlives the call that made them.
    """
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.flags.c_contiguous]
    if (n_threads() < 2 or in_pool_thread() or not can_populate()
            or sum(a.nbytes for a in arrays) < MIN_POPULATE_BYTES):
        return None
    return background_pool().submit(lambda: [populate(a) for a in arrays])


@contextmanager
def faulted_in_background(*arrays) -> Iterator[None]:
    """:func:`populate_in_background` for the ``with`` block, waited for on
    its way out (an exception in the block too)."""
    future = populate_in_background(*arrays)
    try:
        yield
    finally:
        if future is not None:
            future.result()
