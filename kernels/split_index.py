"""Splitting flat neighbour-table indices into (row, column), on every core (CPU).

imbalanced-learn draws one integer in ``[0, n_rows * k)`` per synthetic row and
splits it with ``divmod(flat, k)``; NumPy's int64 division runs on one core and
took 4 ms per 284,000 draws on a 2-core VM, so the draws are split in row
ranges on the process's threads (``kernels/_row_threads.py``; NumPy releases
the GIL). Not a Numba kernel: loading one costs a fresh process ~0.3 s, and a
100,000-row SMOTE that needed no other kernel paid it here. On a GPU the
draws are copied to the device already split.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._row_threads import over_row_ranges


def split_flat_index(flat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.divmod(flat, k)`` for non-negative ``flat``, in parallel when it pays.

    Parameters
    ----------
    flat : int64 ndarray of shape (n,)
        Flat indices into an ``(n_rows, k)`` table, all ``>= 0``.
    k : int
        Columns of the table (``>= 1``).

    Returns
    -------
    rows, cols : ndarrays of shape (n,), ``flat``'s dtype
    """
    rows, cols = np.empty_like(flat), np.empty_like(flat)

    def split(start: int, stop: int) -> None:
        np.divmod(flat[start:stop], k, out=(rows[start:stop], cols[start:stop]))

    over_row_ranges(len(flat), 3 * flat.nbytes, split)
    return rows, cols
