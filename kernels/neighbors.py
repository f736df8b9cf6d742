"""k-NN kernels: candidate selection from a GEMM block, then an exact re-rank.

The search is split in two so that the heavy part runs in float32 on a BLAS
GEMM while the answer stays exact:

1. ``select_candidates`` scans one block of approximate squared distances
   (``|b|^2 - 2 a.b``, float32) and keeps the ``m`` smallest per query row.
2. ``rerank_exact`` recomputes those ``m`` candidates in float64 directly from
   the data, keeps the ``k`` nearest by (distance, index), and proves the result
   with an error bound on the float32 stage; a row whose proof fails is searched
   again exhaustively in float64. The output is therefore the exact float64
   k-NN with ties broken by the lower index, whatever the GEMM's rounding.

Both kernels are serial and release the GIL: the caller runs one block per
core in threads, each with a single-threaded GEMM, so BLAS and Numba never
compete for the cores (OpenBLAS's idle threads spin and starve Numba's).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _sqdist(data, i, j):
    acc = 0.0
    for f in range(data.shape[1]):
        diff = np.float64(data[i, f]) - np.float64(data[j, f])
        acc += diff * diff
    return acc


@njit(cache=True, nogil=True, inline="always")
def _insert_sorted(best_d, best_j, dist, j):
    """Insert (dist, j) into the ascending lists if it beats the last entry."""
    k = best_d.shape[0]
    last = k - 1
    if dist > best_d[last] or (dist == best_d[last] and j > best_j[last]):
        return
    pos = last
    while pos > 0 and (
        dist < best_d[pos - 1] or (dist == best_d[pos - 1] and j < best_j[pos - 1])
    ):
        best_d[pos] = best_d[pos - 1]
        best_j[pos] = best_j[pos - 1]
        pos -= 1
    best_d[pos] = dist
    best_j[pos] = j


@njit(cache=True, nogil=True, inline="always")
def _worst_position(vals):
    worst_pos = 0
    for c in range(1, vals.shape[0]):
        if vals[c] > vals[worst_pos]:
            worst_pos = c
    return worst_pos


@njit(cache=True, nogil=True)
def select_candidates(gram, sq_norms, query_offset, cand_idx, cand_bound):
    """Keep the ``m`` smallest approximate distances of each query row.

    Parameters
    ----------
    gram : float32 array of shape (n_queries, n_points)
        ``a . b`` for the queries of this block against every point.
    sq_norms : float32 array of shape (n_points,)
        ``|b|^2`` of every point.
    query_offset : int
        Index (into the points) of the block's first query; query ``q`` is point
        ``query_offset + q`` and is never its own candidate.
    cand_idx : int64 array of shape (n_queries, m)
        Output: candidate point indices, in no particular order.
    cand_bound : float64 array of shape (n_queries,)
        Output: the largest kept approximate value; every point left out has an
        approximate value at least this large.
    """
    n_queries, n_points = gram.shape
    m = cand_idx.shape[1]
    for q in range(n_queries):
        self_j = query_offset + q
        vals = np.empty(m, dtype=np.float32)
        idx = np.empty(m, dtype=np.int64)
        count = 0
        worst = np.float32(np.inf)
        worst_pos = 0
        for j in range(n_points):
            if j == self_j:
                continue
            v = sq_norms[j] - np.float32(2.0) * gram[q, j]
            if count < m:
                vals[count] = v
                idx[count] = j
                count += 1
                if count == m:
                    worst_pos = _worst_position(vals)
                    worst = vals[worst_pos]
            elif v < worst:
                vals[worst_pos] = v
                idx[worst_pos] = j
                worst_pos = _worst_position(vals)
                worst = vals[worst_pos]
        for c in range(m):
            cand_idx[q, c] = idx[c]
        cand_bound[q] = worst


@njit(cache=True, nogil=True)
def rerank_exact(
    data, cand_idx, cand_bound, query_sq_norms, error_bounds, query_offset, exhaustive, out
):
    """Exact float64 k-NN of each query row from its candidates.

    Parameters
    ----------
    data : array of shape (n_points, n_features)
        The points in their own dtype; distances are computed in float64.
    cand_idx, cand_bound : outputs of :func:`select_candidates` for this block.
    query_sq_norms : float64 array of shape (n_queries,)
        ``|a|^2`` of each query in the (centred) float32 coordinates used by
        the GEMM.
    error_bounds : float64 array of shape (n_queries,)
        Upper bound on the error of any approximate distance of that query.
    query_offset : int
        Index of the block's first query among the points.
    exhaustive : bool
        True when the candidates are all the other points (no proof needed).
    out : int64 array of shape (n_queries, k)
        Output: neighbour indices, nearest first, ties by lower index.

    Returns
    -------
    n_fallback : int
        How many query rows needed the exhaustive float64 search.
    """
    n_queries, m = cand_idx.shape
    k = out.shape[1]
    n_points = data.shape[0]
    fell_back = np.zeros(n_queries, dtype=np.int64)
    for q in range(n_queries):
        i = query_offset + q
        best_d = np.full(k, np.inf)
        best_j = np.full(k, np.iinfo(np.int64).max)
        for c in range(m):
            j = cand_idx[q, c]
            _insert_sorted(best_d, best_j, _sqdist(data, i, j), j)
        if not exhaustive:
            # Every point left out has true squared distance >= lower (the
            # float32 stage's error is at most error_bounds[q]). If that is
            # beyond the k-th exact distance, the candidates hold the answer.
            lower = query_sq_norms[q] + cand_bound[q] - error_bounds[q]
            if not (lower > best_d[k - 1] * (1.0 + 1e-9)):
                fell_back[q] = 1
                best_d[:] = np.inf
                best_j[:] = np.iinfo(np.int64).max
                for j in range(n_points):
                    if j != i:
                        _insert_sorted(best_d, best_j, _sqdist(data, i, j), j)
        for c in range(k):
            out[q, c] = best_j[c]
    return fell_back.sum()
