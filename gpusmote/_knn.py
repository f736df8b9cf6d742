"""Exact k nearest neighbours of every row among the other rows (CPU path).

Tie rule (shared by every device): the neighbours of row ``i`` are the ``k``
rows ``j != i`` with the smallest squared Euclidean distance computed in float64,
ties broken by the lower row index. The row itself is excluded by index, never by
distance, so a duplicate of row ``i`` is a genuine neighbour at distance 0 (its
synthetic samples are copies of the row). imbalanced-learn instead queries
``k + 1`` neighbours and drops column 0, assuming it is the row itself; on data
without distance ties the two rules give the same lists.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from gpusmote.kernels.neighbors import block_candidates, rerank_exact

#: Queries per block; one block is one task for a thread.
QUERY_BLOCK_ROWS = 128
#: Bytes of one GEMM result tile (sized to stay in a core's L2 while scanned).
TILE_BYTES = 512 * 2**10
_TILE_MIN_POINTS = 64
#: Bytes of float64 scratch used while centring the rows.
CENTRE_CHUNK_BYTES = 8 * 2**20

_UNIT_ROUNDOFF_F32 = 2.0**-24


def n_candidates(k: int, n_points: int) -> int:
    """How many float32 candidates to keep per query before the exact re-rank.

    Four beyond ``k`` leave the float32 proof enough room on real data (no
    fallback on the benchmark workloads) while keeping the selection cheap.
    """
    return min(n_points - 1, k + 4)


def _exact_view(data: np.ndarray) -> np.ndarray:
    # The re-rank reads the data in its own dtype when Numba handles it exactly
    # (float32/float64/int64); other dtypes are widened to float64 (exact for
    # every int up to 2**53 and every float16/float32).
    if data.dtype in (np.float32, np.float64, np.int64):
        return np.ascontiguousarray(data)
    return np.ascontiguousarray(data, dtype=np.float64)


def kneighbors_excluding_self(
    data: np.ndarray, k: int, *, block_bytes: int | None = None
) -> np.ndarray:
    """Indices of the ``k`` nearest other rows of every row of ``data``.

    Parameters
    ----------
    data : ndarray of shape (n_points, n_features)
        Finite numeric rows.
    k : int
        Neighbours per row; requires ``n_points > k``.
    block_bytes : int, optional
        Bytes of one float32 GEMM result tile (default :data:`TILE_BYTES`).
        Changes speed and memory, never the result.

    Returns
    -------
    ndarray of shape (n_points, k), int64
        Row ``i`` lists its neighbours nearest first (see the module docstring
        for the tie rule).
    """
    n_points, n_features = data.shape
    if not 1 <= k < n_points:
        raise ValueError(f"k={k} neighbours need more than k rows, got {n_points}.")
    exact = _exact_view(data)

    # Centre before rounding to float32: distances do not change, but the norms
    # (and so the float32 error bound) shrink. One extra column folds |b|^2 into
    # the GEMM: [a, 1] . [-2b, |b|^2]. Only the points matrix is kept (each
    # block's queries are rebuilt from it, -1/2 * -2b being exact), and it is
    # filled in chunks: no n x d float64 or float32 copy of the class.
    mean = data.mean(axis=0, dtype=np.float64)
    points = np.empty((n_points, n_features + 1), dtype=np.float32)
    sq_norms = np.empty(n_points, dtype=np.float64)  # |a|^2 of the float32 rows
    norms = np.empty(n_points, dtype=np.float64)
    chunk = max(1, CENTRE_CHUNK_BYTES // (8 * n_features))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: the proof fails
        for start in range(0, n_points, chunk):
            stop = min(n_points, start + chunk)
            part64 = data[start:stop] - mean
            part32 = part64.astype(np.float32)
            sq32 = np.einsum("ij,ij->i", part32, part32, dtype=np.float64)
            sq_norms[start:stop] = sq32
            norms[start:stop] = np.sqrt(np.maximum(sq32, np.einsum("ij,ij->i", part64, part64)))
            np.multiply(part32, np.float32(-2.0), out=points[start:stop, :n_features])
            points[start:stop, n_features] = sq32
    # |fl(|b|^2 - 2a.b) - (|b|^2 - 2a.b)| plus the float32 rounding of the
    # coordinates is at most about (d + 6) u (|a| + |b|)^2 (u = 2**-24); we use
    # twice that bound with the largest |b|.
    error_bounds = (2.0 * (n_features + 8) * _UNIT_ROUNDOFF_F32) * (norms + norms.max()) ** 2
    del norms

    m = n_candidates(k, n_points)
    exhaustive = m >= n_points - 1
    n_threads = max(1, numba.get_num_threads())
    block = max(1, min(QUERY_BLOCK_ROWS, -(-n_points // n_threads)))
    point_tile = max(_TILE_MIN_POINTS, (block_bytes or TILE_BYTES) // (4 * block))
    point_tile = min(point_tile, n_points)
    out = np.empty((n_points, k), dtype=np.int64)

    def search_block(start: int) -> int:
        stop = min(n_points, start + block)
        queries = np.empty((stop - start, n_features + 1), dtype=np.float32)
        np.multiply(points[start:stop, :n_features], np.float32(-0.5), out=queries[:, :n_features])
        queries[:, n_features] = 1.0
        cand_idx = np.empty((stop - start, m), dtype=np.int64)
        cand_bound = np.empty(stop - start, dtype=np.float64)
        block_candidates(queries, points, start, point_tile, cand_idx, cand_bound)
        return rerank_exact(
            exact,
            cand_idx,
            cand_bound,
            sq_norms[start:stop],
            error_bounds[start:stop],
            start,
            exhaustive,
            out[start:stop],
        )

    starts = range(0, n_points, block)
    with threadpool_limits(limits=1, user_api="blas"):
        if n_threads == 1 or len(starts) == 1:
            n_fallback = sum(map(search_block, starts))
        else:
            with ThreadPoolExecutor(max_workers=n_threads) as pool:
                n_fallback = sum(pool.map(search_block, starts))
    kneighbors_excluding_self.last_fallback_rows = int(n_fallback)
    return out


#: Rows of the last call that needed the exhaustive float64 search (diagnostic).
kneighbors_excluding_self.last_fallback_rows = 0
