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
from dataclasses import dataclass
from types import ModuleType

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


def exact_view(data, xp: ModuleType = np):
    """The rows the float64 re-rank reads: their own dtype when Numba handles it
    exactly (float32/float64/int64), else widened to float64 (exact for every
    int up to 2**53 and every float16/float32)."""
    if data.dtype in (np.float32, np.float64, np.int64):
        return xp.ascontiguousarray(data)
    return xp.ascontiguousarray(data, dtype=np.float64)


@dataclass(frozen=True)
class PreparedPoints:
    """What both devices' searches need, computed once per class.

    ``points`` is ``[-2b, |b|^2]`` in float32 over the centred rows (a query
    block's ``[a, 1]`` is rebuilt from it: -1/2 * -2b is exact); ``sq_norms`` is
    ``|a|^2`` of the float32 rows in float64; ``error_bounds`` bounds, per row,
    the error of any of its approximate distances.
    """

    points: object
    sq_norms: object
    error_bounds: object


def prepare_points(data, xp: ModuleType = np) -> PreparedPoints:
    """Centre, round to float32 and bound the error, in chunks of rows.

    Centring does not change distances but shrinks the norms, and so the
    float32 error bound. One extra column folds |b|^2 into the GEMM:
    [a, 1] . [-2b, |b|^2] = |b|^2 - 2 a.b. No n x d float64 copy is made.
    """
    n_points, n_features = data.shape
    mean = data.mean(axis=0, dtype=np.float64)
    points = xp.empty((n_points, n_features + 1), dtype=np.float32)
    sq_norms = xp.empty(n_points, dtype=np.float64)
    norms = xp.empty(n_points, dtype=np.float64)
    chunk = max(1, CENTRE_CHUNK_BYTES // (8 * n_features))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: the proof fails
        for start in range(0, n_points, chunk):
            stop = min(n_points, start + chunk)
            part64 = data[start:stop] - mean
            part32 = part64.astype(np.float32)
            sq32 = (part32.astype(np.float64) ** 2).sum(axis=1)
            sq_norms[start:stop] = sq32
            norms[start:stop] = xp.sqrt(xp.maximum(sq32, (part64**2).sum(axis=1)))
            points[start:stop, :n_features] = part32 * np.float32(-2.0)
            points[start:stop, n_features] = sq32
    # |fl(|b|^2 - 2a.b) - (|b|^2 - 2a.b)| plus the float32 rounding of the
    # coordinates is at most about (d + 6) u (|a| + |b|)^2 (u = 2**-24); we use
    # twice that bound with the largest |b|.
    error_bounds = (2.0 * (n_features + 8) * _UNIT_ROUNDOFF_F32) * (norms + norms.max()) ** 2
    return PreparedPoints(points, sq_norms, error_bounds)


def query_block(points, start: int, stop: int, xp: ModuleType = np):
    """``[a, 1]`` for queries ``start .. stop`` from the ``[-2b, |b|^2]`` points."""
    n_features = points.shape[1] - 1
    queries = xp.empty((stop - start, n_features + 1), dtype=np.float32)
    queries[:, :n_features] = points[start:stop, :n_features] * np.float32(-0.5)
    queries[:, n_features] = 1.0
    return queries


def check_k(k: int, n_points: int) -> None:
    if not 1 <= k < n_points:
        raise ValueError(f"k={k} neighbours need more than k rows, got {n_points}.")


def kneighbors_excluding_self(
    data: np.ndarray, k: int, *, block_bytes: int | None = None
) -> np.ndarray:
    """Indices of the ``k`` nearest other rows of every row of ``data`` (CPU).

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
    n_points = len(data)
    check_k(k, n_points)
    exact = exact_view(data)
    prepared = prepare_points(data)
    points = prepared.points

    m = n_candidates(k, n_points)
    exhaustive = m >= n_points - 1
    n_threads = max(1, numba.get_num_threads())
    block = max(1, min(QUERY_BLOCK_ROWS, -(-n_points // n_threads)))
    point_tile = max(_TILE_MIN_POINTS, (block_bytes or TILE_BYTES) // (4 * block))
    point_tile = min(point_tile, n_points)
    out = np.empty((n_points, k), dtype=np.int64)

    def search_block(start: int) -> int:
        stop = min(n_points, start + block)
        cand_idx = np.empty((stop - start, m), dtype=np.int64)
        cand_bound = np.empty(stop - start, dtype=np.float64)
        block_candidates(query_block(points, start, stop), points, start, point_tile, cand_idx, cand_bound)
        return rerank_exact(
            exact,
            cand_idx,
            cand_bound,
            prepared.sq_norms[start:stop],
            prepared.error_bounds[start:stop],
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
