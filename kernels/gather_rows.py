"""Gathering rows by index into the output, on every core (CPU).

A bootstrap (``RandomOverSampler``) copies drawn rows of X into their slice of
the output: ``out[i] = src[index[i]]``. NumPy's ``take`` does it on one
thread; here the rows are spread over the cores, so the first-touch page
faults of a fresh output run side by side, as in ``kernels/copy_rows.py``.

A gather moves bytes, whatever they mean: rows are copied as machine words
(``uint64`` where the row size and addresses allow, else ``uint32``, ``uint16``
or bytes), so four compiled builds serve every dtype that holds no Python
objects (floats, ints, bools, fixed-width strings, datetimes). Object arrays
take NumPy's ``take``, which keeps their reference counts. On a GPU the same
gather is CuPy's own ``take``, so this kernel has no CUDA twin.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

#: Word sizes rows are moved in, widest first.
WORDS = (np.dtype(np.uint64), np.dtype(np.uint32), np.dtype(np.uint16), np.dtype(np.uint8))
#: Below this many bytes of output, threads cost more than they save.
MIN_PARALLEL_BYTES = 1 << 18


@parallel_cpu_kernel(nogil=True)
def _gather_rows_kernel(out, src, index):
    for i in prange(index.shape[0]):
        row = index[i]
        for w in range(src.shape[1]):
            out[i, w] = src[row, w]


def _as_words(out: np.ndarray, src: np.ndarray):
    """``(out, src)`` viewed as rows of the widest word that divides the row
    size and both addresses, or None where the kernel does not apply."""
    if not (
        isinstance(out, np.ndarray)
        and isinstance(src, np.ndarray)
        and out.dtype == src.dtype
        and not src.dtype.hasobject
        and src.ndim == out.ndim == 2
        and src.flags.c_contiguous
        and out.flags.c_contiguous
        and out.nbytes >= MIN_PARALLEL_BYTES
    ):
        return None
    row_bytes = src.shape[1] * src.dtype.itemsize
    for word in WORDS:
        if row_bytes % word.itemsize == 0 and (out.ctypes.data | src.ctypes.data) % word.itemsize == 0:
            # through bytes: NumPy views a dtype only as a divisor or multiple of it
            return out.view(np.uint8).view(word), src.view(np.uint8).view(word)
    return None


def gather_rows(out, src, index) -> None:
    """``out[:] = src[index]``, in parallel when it pays, without a temporary.

    Parameters
    ----------
    out : array of shape (len(index), n_features)
        Destination (a slice of the output). Anything but a NumPy array (a
        CuPy array) takes its own array module's ``take``.
    src : array of shape (n_rows, n_features)
        Rows to gather, of ``out``'s dtype, in ``out``'s memory.
    index : array of shape (n,), integers
        Rows of ``src``, each in ``[0, n_rows)``: they are not checked (the
        caller draws them from ``src``'s own rows).
    """
    words = _as_words(out, src)
    if words is not None:
        _gather_rows_kernel(*words, np.ascontiguousarray(index, dtype=np.int64))
    elif isinstance(out, np.ndarray):
        # mode='clip' writes straight into out ('raise' would buffer a copy)
        np.take(src, index, axis=0, out=out, mode="clip")
    else:
        import cupy

        cupy.take(src, index, axis=0, out=out)
