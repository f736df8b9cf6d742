"""Splitting flat neighbour-table indices into (row, column), on every core (CPU).

imbalanced-learn draws one integer in ``[0, n_rows * k)`` per synthetic row and
splits it with ``divmod(flat, k)``. NumPy's ``divmod`` divides twice without
libdivide and wants two fresh output arrays, each a run of first-touch page
faults: 1.9 ms per 262,144 draws on a 2-core VM. Here the rows come from
``floor_divide`` (libdivide for a scalar divisor), the columns are written over
the flat indices themselves (``flat - rows * k``), cache-sized piece by piece,
and the row ranges run on the process's threads (``kernels/_row_threads.py``;
NumPy releases the GIL). Not a Numba kernel: loading one costs a fresh process
~0.3 s, and a 100,000-row SMOTE that needed no other kernel paid it here. On a
GPU the draws are copied to the device already split.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._row_threads import over_row_ranges

#: Elements per piece: the product's scratch (128 KiB) and the piece of each
#: array stay in the core's cache.
PIECE_ELEMENTS = 1 << 14


def split_flat_index(flat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.divmod(flat, k)`` for non-negative integer ``flat``, in parallel
    when it pays; the columns are written over ``flat``.

    Parameters
    ----------
    flat : int64 ndarray of shape (n,)
        Flat indices into an ``(n_rows, k)`` table, all ``>= 0``; overwritten
        (it becomes the returned ``cols``).
    k : int
        Columns of the table (``>= 1``).

    Returns
    -------
    rows, cols : ndarrays of shape (n,), ``flat``'s dtype
        ``cols`` is ``flat`` itself.
    """
    rows = np.empty_like(flat)

    def split(start: int, stop: int) -> None:
        scratch = np.empty(min(PIECE_ELEMENTS, stop - start), dtype=flat.dtype)
        for low in range(start, stop, PIECE_ELEMENTS):
            high = min(stop, low + PIECE_ELEMENTS)
            piece, piece_rows, product = flat[low:high], rows[low:high], scratch[: high - low]
            np.floor_divide(piece, k, out=piece_rows)
            np.multiply(piece_rows, k, out=product)
            np.subtract(piece, product, out=piece)

    over_row_ranges(len(flat), 2 * flat.nbytes, split)
    return rows, flat
