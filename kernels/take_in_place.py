"""Selecting rows of an array into its own first rows, without a second array (CPU).

A cleaner's output is ``X[indices]``: a new array as large as what it keeps.
When X is an intermediate nobody else holds (SMOTE's output inside SMOTEENN or
SMOTETomek), the kept rows can instead be moved into X's own first rows: the
``indices`` followed by the dropped rows make a permutation of the rows, applied
cycle by cycle with one row of scratch (a row is moved once, to its place).
Rows are moved as raw bytes, so one compiled kernel serves every dtype.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._cpu_jit import cpu_kernel


@cpu_kernel(nogil=True)
def _permute_rows(rows, order):
    """``rows[:] = rows[order]`` in place, for a permutation ``order``."""
    n_rows, n_bytes = rows.shape
    placed = np.zeros(n_rows, dtype=np.bool_)
    scratch = np.empty(n_bytes, dtype=np.uint8)
    for start in range(n_rows):
        if placed[start] or order[start] == start:
            continue
        scratch[:] = rows[start]
        target = start
        while True:
            placed[target] = True
            source = order[target]
            if source == start:
                rows[target] = scratch
                break
            rows[target] = rows[source]
            target = source


def take_rows_in_place(rows: np.ndarray, indices: np.ndarray) -> None:
    """``rows[:len(indices)] = rows[indices]``, in place; the later rows are
    left holding the rows not taken, in no particular order.

    Parameters
    ----------
    rows : C-contiguous, writeable ndarray of shape (n_rows, ...)
        Any dtype without Python objects.
    indices : integer array of shape (n_taken,)
        Distinct rows of ``rows``, in the order wanted (not checked: the
        caller's own selection).
    """
    n_rows = len(rows)
    order = np.empty(n_rows, dtype=np.int64)
    order[: len(indices)] = indices
    left = np.ones(n_rows, dtype=np.bool_)
    left[indices] = False
    order[len(indices):] = np.flatnonzero(left)
    del left
    _permute_rows(rows.reshape(n_rows, -1).view(np.uint8), order)
