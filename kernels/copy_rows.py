"""Copying the original rows into the output, on every core (CPU).

The output is a fresh allocation, so copying the original rows into it is
mostly first-touch page faults, not bandwidth: on a 2-core VM, a single-threaded
``out[:n] = X`` of 33 MiB into a fresh array took 17-20 ms; spread over the
cores, the faults and the writes run side by side. On a GPU the same copy is
CuPy's own device-to-device copy, so this kernel has no CUDA twin.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

#: dtypes the kernel is compiled for; others take NumPy's copy.
COPY_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))
#: Below this many elements, threads cost more than they save.
MIN_PARALLEL_ELEMENTS = 1 << 16


@parallel_cpu_kernel(nogil=True)
def _copy_rows_kernel(out, src):
    for i in prange(src.shape[0]):
        for f in range(src.shape[1]):
            out[i, f] = src[i, f]


def copy_rows(out: np.ndarray, src: np.ndarray) -> None:
    """``out[:len(src)] = src``, in parallel when it pays.

    Parameters
    ----------
    out : array of shape (n_out, n_features)
        Destination; ``n_out >= len(src)``. Anything but a NumPy array (a
        CuPy array) takes its own array module's copy.
    src : array of shape (n_rows, n_features)
        Rows to copy, of ``out``'s dtype (any memory layout), in ``out``'s memory.
    """
    if (
        isinstance(out, np.ndarray)
        and isinstance(src, np.ndarray)
        and src.dtype == out.dtype
        and src.dtype in COPY_DTYPES
        and src.ndim == out.ndim == 2
        and src.size >= MIN_PARALLEL_ELEMENTS
    ):
        _copy_rows_kernel(out[: len(src)], src)
    else:
        out[: len(src)] = src
