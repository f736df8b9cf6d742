"""Exact k-NN of small sets in NumPy: the kernels' answer without loading them.

A fresh process pays about a quarter of a second to load its first Numba
kernel, and threads and GEMM tiles cost more than they save on a few thousand
rows: imbalanced-learn answered a 1,484 x 8 set in 6 ms. Small sets therefore
get this search, with the kernels' arithmetic and tie rule (see
``gpusmote/neighbors/_cpu.py``): the squared distance is the sequential sum
over features of ``(scale * (a_f - b_f))**2`` in float64, each operation
rounded on its own (NumPy's ufuncs fuse nothing), with the same power-of-two
``scale``; ties go to the lower index, and a query that is a point skips
itself by index. Memory is one (query chunk x points) float64 block.
"""

from __future__ import annotations

import numpy as np

from gpusmote.neighbors._cpu import check_k, power_of_two_scale

#: float64 values of one block of distances: 512 KiB, so a block's passes
#: stay in a core's cache (150 x 150 x 8: 0.84 ms a search with 2^21, 0.54 ms).
_BLOCK_VALUES = 1 << 16


def _nearest(points: np.ndarray, queries: np.ndarray, k: int, self_offset: int | None) -> np.ndarray:
    n_points = points.shape[0]
    scale = power_of_two_scale(points, queries)
    points64 = points.astype(np.float64)
    queries64 = queries.astype(np.float64)
    out = np.empty((len(queries), k), dtype=np.int64)
    n_features = points.shape[1]
    # Small sets: every feature's squared differences in one block (one ufunc
    # call each, not one per feature), summed feature by feature as below.
    whole = 0 < len(queries) * n_points * n_features <= _BLOCK_VALUES
    chunk = len(queries) if whole else max(1, _BLOCK_VALUES // max(1, n_points))
    for start in range(0, len(queries), chunk):
        stop = min(len(queries), start + chunk)
        if whole:
            terms = queries64[start:stop, None, :] - points64[None, :, :]
            terms *= scale
            terms *= terms
            dist = terms[:, :, 0].copy()  # 0 + t = t: the same sums as from zeros
            for f in range(1, n_features):
                dist += terms[:, :, f]
        else:
            dist = np.zeros((stop - start, n_points))
            for f in range(n_features):
                diff = np.subtract.outer(queries64[start:stop, f], points64[:, f])
                diff *= scale
                diff *= diff
                dist += diff
        if self_offset is not None:
            # a query skips itself: NaN sorts after every distance
            dist[np.arange(stop - start), np.arange(start, stop) + self_offset] = np.nan
        out[start:stop] = _k_smallest(dist, k)
    return out


def _k_smallest(dist: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the ``k`` smallest values in (value, column)
    order: ``np.argsort(dist, axis=1, kind="stable")[:, :k]`` (NaN last).

    A partition finds each row's k smallest; only rows where the k-th value
    ties with a value left out are sorted in full (tied data), the others sort
    their k by value then column (a full stable sort of every row had been
    most of a small search: 60 of 74 ms for 1,000 x 8 rows).
    """
    n_columns = dist.shape[1]
    if k >= n_columns:
        return np.argsort(dist, axis=1, kind="stable")[:, :k]
    chosen = np.sort(np.argpartition(dist, k - 1, axis=1)[:, :k], axis=1)
    values = np.take_along_axis(dist, chosen, axis=1)
    # a row whose k smallest hold a NaN has a NaN k-th value: no value compares
    # below it, so it counts as tied and is sorted in full too
    kth = values.max(axis=1)
    tied = (dist <= kth[:, None]).sum(axis=1) != k
    table = np.take_along_axis(chosen, np.argsort(values, axis=1, kind="stable"), axis=1)
    if tied.any():
        table[tied] = np.argsort(dist[tied], axis=1, kind="stable")[:, :k]
    return table


def kneighbors_excluding_self_numpy(data: np.ndarray, k: int) -> np.ndarray:
    """:func:`gpusmote.neighbors._cpu.kneighbors_excluding_self`, in NumPy."""
    check_k(k, len(data))
    return _nearest(data, data, k, 0)


def kneighbors_of_queries_numpy(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """:func:`gpusmote.neighbors._cpu.kneighbors_of_queries`, in NumPy."""
    check_k(k, len(data), excluding_self=False)
    return _nearest(data, queries, k, None)
