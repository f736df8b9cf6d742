"""Fault a fresh output's new rows in on a background thread while the
calling thread works.

Faulting pages in (``kernels/_populate.py``) runs on a background thread of
its own while the calling thread copies the original rows and does the
serial parts of a call (the k-NN, the random draws); the rows written later
then find their pages resident. Its own thread, not the shared pool's: a
search queued behind it there waited for it (the card-fraud shape's 492-row
k-NN: 15-21 ms instead of 3). Card-fraud shape (284,807 x 30 float32), first
full-size call in fresh processes, 12 alternating pairs: 38.5 ms without,
32.8 ms with. SMOTE faults each class's rows in when that class's turn comes,
not all classes' at once: the later classes' searches would otherwise run on
top of the whole output (multiclass, 500,000 x 64, five classes: peak 1.18x
the output against 1.05x).
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


class BackgroundFaults:
    """Ranges of fresh outputs faulted in on the background thread, one
    :meth:`start` at a time as the caller reaches them, waited for together
    (see :func:`faulting_in`)."""

    def __init__(self):
        self._pending: list[Future] = []

    def start(self, *arrays) -> None:
        """:func:`populate_in_background` for ``arrays`` (queued behind the
        ranges started before)."""
        future = populate_in_background(*arrays)
        if future is not None:
            self._pending.append(future)

    def wait(self) -> None:
        """Until every range started is resident."""
        while self._pending:
            self._pending.pop(0).result()


@contextmanager
def faulting_in(*arrays) -> Iterator[BackgroundFaults]:
    """A :class:`BackgroundFaults` for the ``with`` block, started on
    ``arrays`` (if any) and waited for on its way out (an exception in the
    block too), so no task outlives the call that made the arrays."""
    faults = BackgroundFaults()
    if arrays:
        faults.start(*arrays)
    try:
        yield faults
    finally:
        faults.wait()
