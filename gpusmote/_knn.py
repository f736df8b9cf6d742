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

from gpusmote.kernels.neighbors import rerank_exact, select_candidates

#: Bytes of float32 distance block per GEMM call; bounds the k-NN's memory.
GEMM_BLOCK_BYTES = 16 * 2**20

_UNIT_ROUNDOFF_F32 = 2.0**-24


def n_candidates(k: int, n_points: int) -> int:
    """How many float32 candidates to keep per query before the exact re-rank."""
    return min(n_points - 1, 2 * k + 8)


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
        Size of the float32 distance block per GEMM (default
        :data:`GEMM_BLOCK_BYTES`). Changes speed and memory, never the result.

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
    # (and so the float32 error bound) shrink.
    centred64 = data - data.mean(axis=0, dtype=np.float64)
    sq_norms64 = np.einsum("ij,ij->i", centred64, centred64)
    centred = centred64.astype(np.float32)
    del centred64
    sq_norms = np.einsum("ij,ij->i", centred, centred, dtype=np.float64)
    norms = np.sqrt(np.maximum(sq_norms, sq_norms64))
    # |fl(|b|^2 - 2a.b) - (|b|^2 - 2a.b)| plus the float32 rounding of the
    # coordinates is at most about (d + 6) u (|a| + |b|)^2 (u = 2**-24); we use
    # twice that bound with the largest |b|.
    error_bounds = (2.0 * (n_features + 8) * _UNIT_ROUNDOFF_F32) * (norms + norms.max()) ** 2
    sq_norms32 = sq_norms.astype(np.float32)

    m = n_candidates(k, n_points)
    exhaustive = m >= n_points - 1
    n_threads = max(1, numba.get_num_threads())
    budget = (block_bytes or GEMM_BLOCK_BYTES) // n_threads
    block = max(1, min(n_points, budget // (4 * n_points)))
    out = np.empty((n_points, k), dtype=np.int64)

    def search_block(start: int) -> int:
        stop = min(n_points, start + block)
        gram = np.matmul(centred[start:stop], centred.T)
        cand_idx = np.empty((stop - start, m), dtype=np.int64)
        cand_bound = np.empty(stop - start, dtype=np.float64)
        select_candidates(gram, sq_norms32, start, cand_idx, cand_bound)
        del gram
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
