"""SMOTEN's generation: each new row takes, feature by feature, the most
frequent code among its base row's neighbours.

imbalanced-learn computes ``scipy.stats.mode(X_class[nn[samples]], axis=1)``:
per (new row, feature) the most frequent value among the ``K`` neighbours'
codes (the base row included), ties going to the smallest value. The element
is written once (:func:`_make_element`) and compiled for the CPU
(``numba.njit``) and for CUDA (``numba.cuda.jit``). It counts in place
(O(K^2) comparisons, no scratch memory): K is the neighbour count, small.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel


def _make_element(jit):
    """Compile the per-element mode with the target's ``jit``."""

    @jit
    def mode_element(out, codes, table, samples, j, f):
        s = samples[j]
        n_neighbors = table.shape[1]
        best = codes[table[s, 0], f]
        best_count = 0
        for a in range(n_neighbors):
            value = codes[table[s, a], f]
            count = 0
            for b in range(n_neighbors):
                if codes[table[s, b], f] == value:
                    count += 1
            # scipy.stats.mode: the most frequent, then the smallest
            if count > best_count or (count == best_count and value < best):
                best = value
                best_count = count
        out[j, f] = best

    return mode_element


_element_cpu = _make_element(njit(inline="always"))


@parallel_cpu_kernel(nogil=True)
def _mode_kernel(out, codes, table, samples):
    n_new, n_features = out.shape
    for j in prange(n_new):
        for f in range(n_features):
            _element_cpu(out, codes, table, samples, j, f)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_mode_kernel():
    """The CUDA twin of the CPU kernel (compiled on first use): one thread per
    output element, grid-stride."""
    _cuda.bind(globals())
    element = _make_element(cuda.jit(device=True))

    @cuda.jit
    def mode_cuda(out, codes, table, samples):
        n_new, n_features = out.shape
        for e in range(cuda.grid(1), n_new * n_features, cuda.gridsize(1)):
            j = e // n_features
            element(out, codes, table, samples, j, e - j * n_features)

    return mode_cuda


def kernel_applies(codes) -> bool:
    """Whether the kernels take these codes (numbers; object codes from a
    custom encoder go through SciPy instead)."""
    return codes.dtype.kind in "biuf"


def mode_rows(out, codes, table, samples) -> None:
    """Write ``len(samples)`` new rows of codes into ``out`` in place (CPU).

    Parameters
    ----------
    out : ndarray of shape (n_new, n_features)
        Destination, same dtype as ``codes``.
    codes : ndarray of shape (n_class, n_features)
        The class's encoded rows.
    table : ndarray of shape (n_class, K), int64
        Each class row's K nearest class rows (itself included).
    samples : ndarray of shape (n_new,), int64
        The base row of each new row.
    """
    _mode_kernel(out, codes, table, samples)


def mode_rows_cuda(out, codes, table, samples) -> None:
    """:func:`mode_rows` on a CUDA device (device arrays; NumPy arrays under
    Numba's CUDA simulator)."""
    _cuda.launch_over_elements(cuda_mode_kernel(), out, codes, table, samples)


def mode_rows_reference(codes, table, samples) -> np.ndarray:
    """imbalanced-learn's expression (SciPy), for codes the kernels do not take."""
    from scipy.stats import mode

    return np.squeeze(mode(codes[table[samples]], axis=1, keepdims=True).mode, axis=1)
