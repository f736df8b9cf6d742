"""Exact k nearest neighbours of every row of a sparse matrix (CPU).

The same answer as :func:`gpusmote.neighbors._cpu.kneighbors_excluding_self` on the
densified rows (same float64 distance, same tie rule), without densifying
them: memory is the rows' nonzeros plus one block of approximate distances.

1. Approximate squared distances ``|a|^2 + |b|^2 - 2 a.b`` in float64, a block
   of queries at a time, from a sparse product; each query keeps its ``m``
   smallest (itself excluded).
2. ``sparse_rerank`` recomputes those candidates exactly by merging the rows'
   column indices, and proves the result with the float64 stage's error bound;
   a query whose proof fails is searched exhaustively.

Both stages scale the rows by the dense search's power of two (from the
columns' ranges, implicit zeros included: the same scale as for the densified
rows), so neither under- nor overflows at 1e-300 or 1e300.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from scipy import sparse

from gpusmote.kernels.sparse_neighbors import sparse_rerank
from gpusmote.neighbors._cpu import check_k, n_candidates, scale_from_ranges

#: Bytes of one block of approximate distances (queries x points, float64).
BLOCK_BYTES = 8 * 2**20

_UNIT_ROUNDOFF_F64 = 2.0**-53


def canonical_csr(data) -> sparse.csr_matrix:
    """``data`` as CSR with sorted column indices and no duplicates: ``data``
    itself when it already is, else a copy (the input is never modified)."""
    if isinstance(data, sparse.csr_matrix) and data.has_canonical_format:
        return data
    rows = sparse.csr_matrix(data, copy=True)
    rows.sum_duplicates()
    rows.sort_indices()
    return rows


def _column_ranges(rows: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Every column's minimum and maximum as float64, implicit zeros included
    (as the densified rows' columns), from canonical CSR ``rows`` in one pass
    over the nonzeros (SciPy's ``min(axis=0)`` copies them to CSC first)."""
    n_rows, n_features = rows.shape
    full = np.bincount(rows.indices, minlength=n_features) == n_rows  # no implicit zero
    lowest, highest = np.where(full, np.inf, 0.0), np.where(full, -np.inf, 0.0)
    np.minimum.at(lowest, rows.indices, rows.data)
    np.maximum.at(highest, rows.indices, rows.data)
    return lowest, highest


def sparse_kneighbors_excluding_self(data, k: int, *, block_bytes: int | None = None) -> np.ndarray:
    """Indices of the ``k`` nearest other rows of every row of sparse ``data``.

    Parameters
    ----------
    data : sparse matrix of shape (n_points, n_features)
        Finite numeric rows (any SciPy sparse format).
    k : int
        Neighbours per row; requires ``n_points > k``.
    block_bytes : int, optional
        Bytes of one block of approximate distances (default
        :data:`BLOCK_BYTES`); changes speed and memory, never the result.

    Returns
    -------
    ndarray of shape (n_points, k), int64
        Row ``i``'s neighbours, nearest first, ties by lower index: the table
        the dense search gives for ``data.toarray()``.
    """
    n_points = data.shape[0]
    check_k(k, n_points)
    rows = canonical_csr(data)
    scale = scale_from_ranges(*_column_ranges(rows))
    # The approximate stage's rows, scaled (exact); float64 is exact for every
    # numeric dtype up to 2**53. A new data array; the indices are shared.
    rows64 = sparse.csr_matrix((rows.data.astype(np.float64) * scale, rows.indices, rows.indptr),
                               shape=rows.shape)
    sq_norms = np.asarray(rows64.multiply(rows64).sum(axis=1)).ravel()
    # Each sum has at most (row nonzeros) terms: the float32 bound's form with
    # float64's unit roundoff, twice over, with the largest norm for |b|.
    terms = int(np.diff(rows.indptr).max(initial=0))
    norms = np.sqrt(sq_norms)
    error_bounds = (2.0 * (terms + 8) * _UNIT_ROUNDOFF_F64) * (norms + norms.max(initial=0.0)) ** 2
    m = n_candidates(k, n_points)
    exhaustive = m >= n_points - 1
    block = max(1, min(n_points, (block_bytes or BLOCK_BYTES) // (8 * n_points)))
    points_t = rows64.T.tocsr()
    out = np.empty((n_points, k), dtype=np.int64)

    def search_block(q0: int) -> int:
        q1 = min(n_points, q0 + block)
        if exhaustive:  # every other row, by index: no approximation to trust
            others = np.arange(n_points - 1)[None, :]
            cand_idx = others + (others >= np.arange(q0, q1)[:, None])
            no_bound = np.full(q1 - q0, np.inf)
            return sparse_rerank(rows.indptr, rows.indices, rows.data, scale, q0, cand_idx, no_bound,
                                 no_bound, 2 * terms, True, out[q0:q1])
        approx = (rows64[q0:q1] @ points_t).toarray()
        approx *= -2.0
        approx += sq_norms[q0:q1, None]
        approx += sq_norms[None, :]
        own = np.arange(q1 - q0)
        approx[own, q0 + own] = np.inf  # never its own neighbour
        cand_idx = np.argpartition(approx, m - 1, axis=1)[:, :m]
        cand_bound = np.take_along_axis(approx, cand_idx, axis=1).max(axis=1)
        return sparse_rerank(rows.indptr, rows.indices, rows.data, scale, q0,
                             np.ascontiguousarray(cand_idx, dtype=np.int64), cand_bound,
                             error_bounds[q0:q1], 2 * terms, False, out[q0:q1])

    starts = range(0, n_points, block)
    n_threads = min(numba.get_num_threads(), len(starts))
    if n_threads <= 1:
        n_fallback = sum(map(search_block, starts))
    else:  # SciPy's sparse product, NumPy's selection and the re-rank release the GIL
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            n_fallback = sum(pool.map(search_block, starts))
    sparse_kneighbors_excluding_self.last_fallback_rows = int(n_fallback)
    return out


#: Rows of the last call that needed the exhaustive float64 search (diagnostic).
sparse_kneighbors_excluding_self.last_fallback_rows = 0
