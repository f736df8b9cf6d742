"""Sample generation: one synthetic row per (base row, neighbour, step).

The arithmetic is imbalanced-learn's, element for element::

    diff = neighbour - base            # in the data's dtype (float32 stays float32)
    new  = base + step * diff          # step is float64, so this is float64 math
    out  = new cast to the data's dtype (round to nearest / truncate for ints)

The element is written once (:func:`_make_element`) and compiled for the CPU
(``numba.njit``) and for CUDA (``numba.cuda.jit``). The multiply and the add are
separate, each rounded to nearest: a fused multiply-add would change float64
results in the last bit (see :mod:`gpusmote.kernels.rounding`).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda, rounding
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

# dtypes whose Numba arithmetic matches NumPy's exactly for ``nb - base`` (same
# result dtype, same wrap-around). Narrower ints promote to int64 in Numba, so
# they take the array-expression path below.
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


def _make_element(jit, mul_rn, add_rn):
    """Compile the per-element algorithm with the target's rounding primitives."""

    @jit
    def interpolate_element(out, base_data, nn_data, nn_idx, rows, cols, steps, j, f):
        r = rows[j]
        base = base_data[r, f]
        diff = nn_data[nn_idx[r, cols[j]], f] - base
        out[j, f] = add_rn(base, mul_rn(steps[j], diff))

    return interpolate_element


_element_cpu = _make_element(njit(inline="always"), rounding.mul_rn, rounding.add_rn)


@parallel_cpu_kernel(nogil=True)
def _interpolate_kernel(out, base_data, nn_data, nn_idx, rows, cols, steps):
    n_new, n_features = out.shape
    for j in prange(n_new):
        for f in range(n_features):
            _element_cpu(out, base_data, nn_data, nn_idx, rows, cols, steps, j, f)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_interpolate_kernel():
    """The CUDA twin of the CPU kernel (compiled on first use): one thread per
    output element, grid-stride, coalesced writes."""
    _cuda.bind(globals())
    element = _make_element(cuda.jit(device=True), *rounding.cuda_rounding())

    @cuda.jit
    def interpolate_cuda(out, base_data, nn_data, nn_idx, rows, cols, steps):
        n_new, n_features = out.shape
        for e in range(cuda.grid(1), n_new * n_features, cuda.gridsize(1)):
            j = e // n_features
            element(out, base_data, nn_data, nn_idx, rows, cols, steps, j, e - j * n_features)

    return interpolate_cuda


def _interpolate_array_expr(out, base_data, nn_data, nn_idx, rows, cols, steps):
    # The reference expression on one chunk, for dtypes the kernels do not
    # cover (float16, int32, uint8, ...). Works for NumPy and CuPy arrays alike
    # (CuPy runs each operator as its own kernel, so nothing is fused).
    base = base_data[rows]
    diffs = nn_data[nn_idx[rows, cols]] - base
    out[...] = (base + steps[:, None] * diffs).astype(out.dtype)


#: Elements of one chunk of the NumPy expression: its float64 temporaries
#: (64 KiB each) stay in cache and in malloc's free lists. Whole, they are
#: fresh mappings past malloc's mmap threshold, page-faulted on every call:
#: 2,940 x 32 new rows took 0.99 ms whole and 0.28 ms in chunks (2-core VM).
NUMPY_CHUNK_ELEMENTS = 1 << 13


def interpolate_rows_numpy(out, base_data, nn_data, nn_idx, rows, cols, steps) -> None:
    """The reference expression as a backend's ``interpolate`` (small data: no
    kernel is loaded), a cache-sized chunk of rows at a time (the expression
    is elementwise per row, so the values are the same); the tests compare it
    with the kernels."""
    step = max(1, NUMPY_CHUNK_ELEMENTS // max(1, out.shape[1]))
    for start in range(0, len(rows), step):
        stop = start + step
        _interpolate_array_expr(out[start:stop], base_data, nn_data, nn_idx, rows[start:stop],
                                cols[start:stop], steps[start:stop])


_interpolate_numpy = interpolate_rows_numpy


def _kernel_applies(out, base_data, nn_data) -> bool:
    dtype = base_data.dtype
    return dtype in KERNEL_DTYPES and nn_data.dtype == dtype and out.dtype == dtype


def interpolate_rows(out, base_data, nn_data, nn_idx, rows, cols, steps) -> None:
    """Write ``len(rows)`` synthetic rows into ``out`` in place (CPU).

    Parameters
    ----------
    out : ndarray of shape (n_new, n_features)
        Destination, usually a slice of the preallocated output; same dtype as
        ``base_data``.
    base_data : ndarray of shape (n_base, n_features)
        Rows the samples start from.
    nn_data : ndarray of shape (n_nn, n_features)
        Rows the neighbour indices point into (``base_data`` itself for SMOTE).
    nn_idx : ndarray of shape (n_base, k), int
        Neighbour table: ``nn_idx[r, c]`` is the c-th neighbour of base row r.
    rows, cols : ndarray of shape (n_new,), int
        Base row and neighbour column of each synthetic row.
    steps : ndarray of shape (n_new,), float64
        Position on the segment, in [0, 1) for SMOTE.
    """
    if _kernel_applies(out, base_data, nn_data):
        _interpolate_kernel(out, base_data, nn_data, nn_idx, rows, cols, steps)
    else:
        _interpolate_array_expr(out, base_data, nn_data, nn_idx, rows, cols, steps)


def interpolate_rows_cuda(out, base_data, nn_data, nn_idx, rows, cols, steps) -> None:
    """:func:`interpolate_rows` on a CUDA device (device arrays in, ``out``
    written in place). Under Numba's CUDA simulator NumPy arrays are accepted."""
    if not _kernel_applies(out, base_data, nn_data):
        _interpolate_array_expr(out, base_data, nn_data, nn_idx, rows, cols, steps)
        return
    _cuda.launch_over_elements(cuda_interpolate_kernel(), out, base_data, nn_data, nn_idx, rows, cols, steps)
