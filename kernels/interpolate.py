"""Sample generation: one synthetic row per (base row, neighbour, step).

The arithmetic is imbalanced-learn's, element for element::

    diff = neighbour - base            # in the data's dtype (float32 stays float32)
    new  = base + step * diff          # step is float64, so this is float64 math
    out  = new cast to the data's dtype (round to nearest / truncate for ints)

Numba compiles without fast-math, so ``base + step * diff`` is a multiply then an
add, each rounded: no fused multiply-add, which would change float64 results in
the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# dtypes whose Numba arithmetic matches NumPy's exactly for ``nb - base`` (same
# result dtype, same wrap-around). Narrower ints promote to int64 in Numba, so
# they take the NumPy path below.
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


@njit(parallel=True, cache=True, nogil=True)
def _interpolate_kernel(out, base_data, nn_data, nn_idx, rows, cols, steps):
    n_new = rows.shape[0]
    n_features = base_data.shape[1]
    for j in prange(n_new):
        r = rows[j]
        nb = nn_idx[r, cols[j]]
        s = steps[j]
        for f in range(n_features):
            base = base_data[r, f]
            diff = nn_data[nb, f] - base
            out[j, f] = base + s * diff


def _interpolate_numpy(out, base_data, nn_data, nn_idx, rows, cols, steps):
    # The reference expression, applied to one chunk (used for dtypes the kernel
    # does not cover, e.g. float16, int32, uint8).
    base = base_data[rows]
    diffs = nn_data[nn_idx[rows, cols]] - base
    out[...] = (base + steps[:, np.newaxis] * diffs).astype(out.dtype)


def interpolate_rows(
    out: np.ndarray,
    base_data: np.ndarray,
    nn_data: np.ndarray,
    nn_idx: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    steps: np.ndarray,
) -> None:
    """Write ``len(rows)`` synthetic rows into ``out`` in place.

    Parameters
    ----------
    out : ndarray of shape (n_new, n_features)
        Destination, usually a slice of the preallocated output; same dtype as
        ``base_data``.
    base_data : ndarray of shape (n_base, n_features)
        Rows the samples start from.
    nn_data : ndarray of shape (n_nn, n_features)
        Rows the neighbour indices point into (``base_data`` itself for SMOTE).
    nn_idx : ndarray of shape (n_base, k), int
        Neighbour table: ``nn_idx[r, c]`` is the c-th neighbour of base row r.
    rows, cols : ndarray of shape (n_new,), int
        Base row and neighbour column of each synthetic row.
    steps : ndarray of shape (n_new,), float64
        Position on the segment, in [0, 1) for SMOTE.
    """
    dtype = base_data.dtype
    if dtype in KERNEL_DTYPES and nn_data.dtype == dtype and out.dtype == dtype:
        _interpolate_kernel(out, base_data, nn_data, nn_idx, rows, cols, steps)
    else:
        _interpolate_numpy(out, base_data, nn_data, nn_idx, rows, cols, steps)
