"""Splitting flat neighbour-table indices into (row, column), on every core (CPU).

imbalanced-learn draws one integer in ``[0, n_rows * k)`` per synthetic row and
splits it with ``divmod(flat, k)``; NumPy's int64 division runs on one core and
took 4 ms per 284,000 draws on a 2-core VM. On a GPU the draws are copied to
the device already split, so this kernel has no CUDA twin.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

#: Below this many draws, threads cost more than they save.
MIN_PARALLEL_DRAWS = 1 << 15


@parallel_cpu_kernel(nogil=True)
def _split_kernel(flat, k, rows, cols):
    for i in prange(flat.shape[0]):
        row = flat[i] // k
        rows[i] = row
        cols[i] = flat[i] - row * k


def split_flat_index(flat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.divmod(flat, k)`` for non-negative int64 ``flat``, in parallel when it pays.

    Parameters
    ----------
    flat : int64 ndarray of shape (n,)
        Flat indices into an ``(n_rows, k)`` table, all ``>= 0``.
    k : int
        Columns of the table (``>= 1``).

    Returns
    -------
    rows, cols : int64 ndarrays of shape (n,)
    """
    if flat.dtype != np.int64 or flat.size < MIN_PARALLEL_DRAWS:
        return np.divmod(flat, k)
    rows, cols = np.empty_like(flat), np.empty_like(flat)
    _split_kernel(flat, np.int64(k), rows, cols)
    return rows, cols
