"""Checking a neighbour table that came from outside gpusmote's own search.

A user's neighbours estimator (``k_neighbors=<object>``) returns whatever its
``kneighbors`` returns; the kernels index rows with it unchecked, so a table
with out-of-range indices (row ids of the whole data set instead of positions
within the class is an easy mistake) would write garbage or read outside
memory. It is checked once, on the host, before any kernel reads it.
"""

from __future__ import annotations

import numpy as np


def checked_neighbor_table(table, n_rows: int, source: str = "k_neighbors",
                           n_points: int | None = None) -> np.ndarray:
    """``table`` as a C-contiguous int64 array after checking its shape, dtype
    and range.

    Parameters
    ----------
    table : array-like of shape (n_rows, k)
        Neighbour indices: row ``i`` lists positions (``0 .. n_rows - 1``)
        among the rows the estimator was fitted on.
    n_rows : int
        Rows the estimator was queried with.
    source : str
        The parameter the estimator came from, for the messages.
    n_points : int, optional
        Rows the estimator was fitted on (default: ``n_rows``, the same rows).

    Returns
    -------
    ndarray of shape (n_rows, k), int64

    Raises
    ------
    ValueError
        If the table is not 2-D with one row per fitted row and at least one
        column.
    IndexError
        If its values are not integers or not valid positions (imbalanced-learn
        fails with an IndexError, from NumPy, on both).
    """
    n_points = n_rows if n_points is None else n_points
    table = np.asarray(table)
    if table.ndim != 2 or table.shape[0] != n_rows or table.shape[1] < 1:
        raise ValueError(
            f"{source}: kneighbors returned a neighbour table of shape {table.shape} for "
            f"{n_rows} rows; expected ({n_rows}, n_neighbors - 1) after dropping column 0."
        )
    if table.dtype.kind not in "iu":
        raise IndexError(
            f"{source}: kneighbors returned neighbour indices of dtype {table.dtype}; "
            f"they must be integers (arrays used as indices must be of integer type)."
        )
    lowest, highest = table.min(), table.max()
    if lowest < 0 or highest >= n_points:
        bad = lowest if lowest < 0 else highest
        raise IndexError(
            f"{source}: kneighbors returned neighbour index {bad}, out of bounds for the "
            f"{n_points} rows it was fitted on (indices must be positions 0..{n_points - 1} "
            f"among the rows it was fitted on, not row numbers of the whole data set)."
        )
    return np.ascontiguousarray(table, dtype=np.int64)
