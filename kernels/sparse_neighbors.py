"""Exact re-rank of k-NN candidates for sparse (CSR) rows (CPU).

The sparse twin of ``rerank_exact`` in :mod:`gpusmote.kernels.neighbors`: the
same float64 distance, the same (distance, index) order and the same proof,
but each distance is a merge of two rows' sorted column indices instead of a
loop over every feature. A feature that is zero in both rows adds ``+0.0`` to
the dense sum, which leaves it unchanged, so with the dense search's scale (the
caller's) the distance is bit for bit the dense kernel's and sparse input gets
the dense path's neighbour table.

Sparse input runs on the CPU only (no CUDA twin): its work is index merging,
not the dense arithmetic a GPU is for.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gpusmote.kernels import rounding
from gpusmote.kernels._cpu_jit import cpu_kernel
from gpusmote.kernels.neighbors import _UNDERFLOW_F64, _cpu

_insert_sorted = _cpu.insert_sorted
_NO_INDEX = np.int64(np.iinfo(np.int64).max)


@njit(inline="always")
def sparse_sqdist(indptr, indices, data, a, b, scale):
    """Squared distance of CSR rows ``a`` and ``b`` in float64, their
    differences times the power of two ``scale``, summed in column order with
    separately rounded multiply and add (as the dense kernel)."""
    i, i_end = indptr[a], indptr[a + 1]
    j, j_end = indptr[b], indptr[b + 1]
    acc = 0.0
    while i < i_end or j < j_end:
        if j >= j_end or (i < i_end and indices[i] < indices[j]):
            diff = np.float64(data[i])
            i += 1
        elif i >= i_end or indices[j] < indices[i]:
            diff = -np.float64(data[j])
            j += 1
        else:
            diff = np.float64(data[i]) - np.float64(data[j])
            i += 1
            j += 1
        diff = rounding.mul_rn(diff, scale)
        acc = rounding.add_rn(acc, rounding.mul_rn(diff, diff))
    return acc


@cpu_kernel(nogil=True)
def sparse_rerank(indptr, indices, data, scale, query_offset, cand_idx, cand_bound, error_bounds,
                  max_terms, exhaustive, out):
    """Exact float64 k-NN of CSR rows ``query_offset ..`` from their candidates.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the points (sorted column indices,
        no duplicates); the queries are points ``query_offset + q``.
    scale : float
        Power of two the differences are multiplied by (as the dense kernel's):
        distances in the units of ``cand_bound`` and ``error_bounds``.
    cand_idx : int64 array of shape (n_queries, m)
        Candidates (the query itself excluded).
    cand_bound : float64 array of shape (n_queries,)
        The largest approximate distance among the candidates: every point left
        out has an approximate distance at least this large.
    error_bounds : float64 array of shape (n_queries,)
        Bound on the error of any approximate distance of that query.
    max_terms : int
        The most squares one exact distance sums (twice the largest row's
        nonzeros), for the float64 underflow term of the proof.
    exhaustive : bool
        True when the candidates are all the other points.
    out : int64 array of shape (n_queries, k)
        Output: neighbours, nearest first, ties by lower index.

    Returns
    -------
    n_fallback : int
        Queries whose proof failed and were searched exhaustively.
    """
    n_queries, m = cand_idx.shape
    n_points = indptr.shape[0] - 1
    k = out.shape[1]
    best_d = np.empty(k)
    best_j = np.empty(k, dtype=np.int64)
    n_fallback = 0
    for q in range(n_queries):
        qi = query_offset + q
        best_d[:] = np.inf
        best_j[:] = _NO_INDEX
        for c in range(m):
            j = cand_idx[q, c]
            if j != qi:  # only when every distance overflowed to inf: the proof then fails
                _insert_sorted(best_d, best_j, k, sparse_sqdist(indptr, indices, data, qi, j, scale), j)
        # As the dense proof, with float64 underflow: each of a distance's
        # (nonzeros of both rows) squares may lose up to 2**-1075.
        lower = cand_bound[q] - error_bounds[q] - max_terms * _UNDERFLOW_F64
        proven = exhaustive or lower > best_d[k - 1] * (1.0 + 1e-9)
        if not proven:
            n_fallback += 1
            best_d[:] = np.inf
            best_j[:] = _NO_INDEX
            for j in range(n_points):
                if j != qi:
                    _insert_sorted(best_d, best_j, k, sparse_sqdist(indptr, indices, data, qi, j, scale), j)
        for c in range(k):
            out[q, c] = best_j[c]
    return n_fallback
