"""k-NN kernels: candidate selection from a GEMM block, then an exact re-rank.

The search is split in two so that the heavy part runs in float32 on a BLAS
GEMM while the answer stays exact:

1. ``block_candidates`` computes approximate squared distances
   (``|b|^2 - 2 a.b``, float32) tile by tile with a BLAS GEMM and keeps the
   ``m`` smallest per query row (``select_candidates``).
2. ``rerank_exact`` recomputes those ``m`` candidates in float64 directly from
   the data, keeps the ``k`` nearest by (distance, index), and proves the result
   with an error bound on the float32 stage; a row whose proof fails is searched
   again exhaustively in float64. The output is therefore the exact float64
   k-NN with ties broken by the lower index, whatever the GEMM's rounding.

The kernels are serial and release the GIL: the caller runs one block of
queries per core in threads, each with a single-threaded GEMM, so BLAS and
Numba never compete for the cores (OpenBLAS's idle threads spin and starve
Numba's).
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


#: Values per tile whose minimum is checked before any element is looked at.
_TILE = 16


@njit(cache=True, nogil=True, inline="always")
def _worst_position(vals):
    worst_pos = 0
    for c in range(1, vals.shape[0]):
        if vals[c] > vals[worst_pos]:
            worst_pos = c
    return worst_pos


# fastmath only lets LLVM reorder this minimum, which is exact in any order.
@njit(cache=True, nogil=True, fastmath=True, inline="always")
def _tile_min(row, t0):
    lowest = row[t0]
    for t in range(t0 + 1, t0 + _TILE):
        lowest = min(lowest, row[t])
    return lowest


@njit(cache=True, nogil=True)
def select_candidates(values, point_offset, query_offset, cand_vals, cand_idx):
    """Merge one tile of approximate distances into each query's candidates.

    Parameters
    ----------
    values : float32 array of shape (n_queries, n_tile_points)
        Approximate ``|b|^2 - 2 a.b`` of the block's queries against points
        ``point_offset .. point_offset + n_tile_points``.
    point_offset, query_offset : int
        Index of the tile's first point and of the block's first query, among
        the points; query ``q`` is point ``query_offset + q`` and is never its
        own candidate.
    cand_vals : float32 array of shape (n_queries, m)
        Running candidates' values, updated in place (start at +inf).
    cand_idx : int64 array of shape (n_queries, m)
        Running candidates' point indices, updated in place (start at -1).
    """
    n_queries, n_tile = values.shape
    full = n_tile - n_tile % _TILE
    for q in range(n_queries):
        row = values[q]
        vals = cand_vals[q]
        idx = cand_idx[q]
        self_t = query_offset + q - point_offset
        worst_pos = _worst_position(vals)
        worst = vals[worst_pos]
        for t0 in range(0, n_tile, _TILE):
            # Most tiles cannot beat the current worst: one minimum skips them.
            if t0 < full and not _tile_min(row, t0) < worst:
                continue
            for t in range(t0, min(t0 + _TILE, n_tile)):
                v = row[t]
                if v < worst and t != self_t:
                    vals[worst_pos] = v
                    idx[worst_pos] = point_offset + t
                    worst_pos = _worst_position(vals)
                    worst = vals[worst_pos]


@njit(cache=True, nogil=True)
def block_candidates(queries, points, query_offset, point_tile, cand_idx, cand_bound):
    """The ``m`` approximate nearest points of a block of queries.

    ``queries`` is ``[a, 1]`` and ``points`` is ``[-2 b, |b|^2]`` (float32,
    one extra column), so one GEMM gives ``|b|^2 - 2 a.b`` directly. Points are
    taken ``point_tile`` at a time so each GEMM result stays in cache while it
    is scanned.

    Parameters
    ----------
    queries : float32 array of shape (n_queries, n_features + 1)
    points : float32 array of shape (n_points, n_features + 1)
    query_offset : int
        Index of the first query among the points (a query skips itself).
    point_tile : int
        Points per GEMM.
    cand_idx : int64 array of shape (n_queries, m)
        Output: candidate indices, in no particular order.
    cand_bound : float64 array of shape (n_queries,)
        Output: the largest kept approximate value; every point left out has an
        approximate value at least this large.
    """
    n_queries = queries.shape[0]
    n_points = points.shape[0]
    m = cand_idx.shape[1]
    cand_vals = np.full((n_queries, m), np.inf, dtype=np.float32)
    cand_idx[:] = -1
    tile_values = np.empty((n_queries, point_tile), dtype=np.float32)
    for p0 in range(0, n_points, point_tile):
        p1 = min(n_points, p0 + point_tile)
        if p1 - p0 == point_tile:
            values = tile_values
        else:
            values = np.empty((n_queries, p1 - p0), dtype=np.float32)
        np.dot(queries, points[p0:p1].T, values)
        select_candidates(values, p0, query_offset, cand_vals, cand_idx)
    for q in range(n_queries):
        cand_bound[q] = cand_vals[q].max()


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
        complete = True
        for c in range(m):
            j = cand_idx[q, c]
            if j < 0:
                complete = False
            else:
                _insert_sorted(best_d, best_j, _sqdist(data, i, j), j)
        if not (exhaustive and complete):
            # Every point left out has true squared distance >= lower (the
            # float32 stage's error is at most error_bounds[q]). If that is
            # beyond the k-th exact distance, the candidates hold the answer.
            lower = query_sq_norms[q] + cand_bound[q] - error_bounds[q]
            if not (complete and lower > best_d[k - 1] * (1.0 + 1e-9)):
                fell_back[q] = 1
                best_d[:] = np.inf
                best_j[:] = np.iinfo(np.int64).max
                for j in range(n_points):
                    if j != i:
                        _insert_sorted(best_d, best_j, _sqdist(data, i, j), j)
        for c in range(k):
            out[q, c] = best_j[c]
    return fell_back.sum()
