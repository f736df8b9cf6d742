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

#: float64 values of one block of distances.
_BLOCK_VALUES = 1 << 21


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
        order = np.argsort(dist, axis=1, kind="stable")  # stable: ties by lower index
        if self_offset is not None:
            own = np.arange(start, stop)[:, None] + self_offset
            order = order[order != own].reshape(stop - start, n_points - 1)
        out[start:stop] = order[:, :k]
    return out


def kneighbors_excluding_self_numpy(data: np.ndarray, k: int) -> np.ndarray:
    """:func:`gpusmote.neighbors._cpu.kneighbors_excluding_self`, in NumPy."""
    check_k(k, len(data))
    return _nearest(data, data, k, 0)


def kneighbors_of_queries_numpy(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """:func:`gpusmote.neighbors._cpu.kneighbors_of_queries`, in NumPy."""
    check_k(k, len(data), excluding_self=False)
    return _nearest(data, queries, k, None)
