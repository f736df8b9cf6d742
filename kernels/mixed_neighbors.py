"""SMOTENC's exact k-NN from continuous columns and categorical codes, never
one-hot rows.

imbalanced-learn searches a class's rows as ``[continuous | one-hot * s]``
(``s``: the class's ``median_std / sqrt(2)``). Between two rows, a categorical
feature whose levels match adds nothing to that squared distance and one
whose levels differ adds ``s^2`` twice (its two one-hot columns). The element
here sums the same float64 terms in the same column order as the dense
kernel's exact stage (:mod:`gpusmote.kernels.neighbors`: differences times the
power of two ``scale``, multiply and add each rounded on its own), so each
distance, and with ties to the lower index each row's neighbour list, is the
dense search's bit for bit, at ``n_continuous + n_categorical`` operations a
pair instead of ``n_continuous + n_levels``.

The search is a brute force, one query per thread, its ``width`` nearest kept
in place in the output rows: the work is ``n_class^2`` distances, for the
classes SMOTENC over-samples (minorities). Written once, compiled for the CPU
(``numba.njit``, parallel over queries) and for CUDA (``numba.cuda.jit``).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda, rounding
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel
from gpusmote.kernels.neighbors import _cpu as _dense_cpu, _make_functions as _dense_functions

_NO_INDEX = np.int64(np.iinfo(np.int64).max)


def _make_functions(jit, insert_sorted, mul_rn, add_rn):
    """The per-query search with the target's ``jit``, insertion and rounding."""

    @jit
    def mixed_sqdist(continuous, codes, a, b, scale, mismatch_sq):
        acc = 0.0
        for f in range(continuous.shape[1]):
            diff = mul_rn(np.float64(continuous[a, f]) - np.float64(continuous[b, f]), scale)
            acc = add_rn(acc, mul_rn(diff, diff))
        for f in range(codes.shape[1]):
            if codes[a, f] != codes[b, f]:
                # the two one-hot columns that differ, in column order
                acc = add_rn(acc, mismatch_sq)
                acc = add_rn(acc, mismatch_sq)
        return acc

    @jit
    def search_query(continuous, codes, scale, mismatch_sq, q, best_d, best_j):
        width = best_d.shape[0]
        for c in range(width):
            best_d[c] = np.inf
            best_j[c] = _NO_INDEX
        for j in range(continuous.shape[0]):
            if j != q:
                insert_sorted(best_d, best_j, width, mixed_sqdist(continuous, codes, q, j, scale, mismatch_sq), j)

    return search_query


_search_query_cpu = _make_functions(njit(inline="always"), _dense_cpu.insert_sorted, rounding.mul_rn,
                                    rounding.add_rn)


@parallel_cpu_kernel(nogil=True)
def _search_kernel(continuous, codes, scale, mismatch_sq, out_d, out_j):
    for q in prange(out_j.shape[0]):
        _search_query_cpu(continuous, codes, scale, mismatch_sq, q, out_d[q], out_j[q])


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_search_kernel():
    """The CUDA twin (compiled on first use): one thread per query, grid-stride."""
    _cuda.bind(globals())
    mul_rn, add_rn = rounding.cuda_rounding()
    device = _dense_functions(cuda.jit(device=True), cuda.jit(device=True), mul_rn, add_rn)
    search_query = _make_functions(cuda.jit(device=True), device.insert_sorted, mul_rn, add_rn)

    @cuda.jit
    def search_cuda(continuous, codes, scale, mismatch_sq, out_d, out_j):
        for q in range(cuda.grid(1), out_j.shape[0], cuda.gridsize(1)):
            search_query(continuous, codes, scale, mismatch_sq, q, out_d[q], out_j[q])

    return search_cuda


def mixed_kneighbors(continuous, codes, scale: float, mismatch_sq: float, out_d, out_j,
                     on_cuda: bool = False) -> None:
    """Each row's ``width`` nearest other rows, written into ``out_j`` in place.

    Parameters
    ----------
    continuous : array of shape (n_rows, n_continuous), float
        The class's continuous columns.
    codes : array of shape (n_rows, n_categorical), int64
        The class's levels.
    scale : float
        Power of two the differences are multiplied by (the dense search's,
        from the one-hot rows' column ranges).
    mismatch_sq : float
        ``(s * scale)**2`` rounded to float64: one differing one-hot column's term.
    out_d : float64 array of shape (n_rows, width)
        Scratch: the kept distances.
    out_j : int64 array of shape (n_rows, width)
        Output: neighbours, nearest first, ties by lower index.
    on_cuda : bool
        Run the CUDA twin (device arrays; NumPy arrays under the simulator).
    """
    if out_j.shape[0] == 0 or out_j.shape[1] == 0:
        return
    if on_cuda:
        threads = 128
        cuda_search_kernel()[_cuda.grid_blocks(out_j.shape[0], threads), threads](
            continuous, codes, scale, mismatch_sq, out_d, out_j)
    else:
        _search_kernel(continuous, codes, scale, mismatch_sq, out_d, out_j)
