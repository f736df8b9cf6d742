"""Gathering rows by index into the output, on every core (CPU).

A bootstrap (``RandomOverSampler``) copies drawn rows of X into their slice of
the output: ``out[i] = src[index[i]]``. NumPy's ``take`` writes straight
into the output (no temporary) and releases the GIL, so the rows are split
into ranges, one per core (``kernels/_row_threads.py``), and the first-touch
page faults of a fresh output run side by side. Object arrays take one
``take`` on the calling thread. On a GPU the gather is CuPy's own ``take``.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._row_threads import over_row_ranges


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
    if not isinstance(out, np.ndarray):
        import cupy

        cupy.take(src, index, axis=0, out=out)
        return

    def gather(start: int, stop: int) -> None:
        # mode='clip' writes straight into out ('raise' would buffer a copy)
        np.take(src, index[start:stop], axis=0, out=out[start:stop], mode="clip")

    n_bytes = 0 if src.dtype.hasobject else out.nbytes
    over_row_ranges(len(index), n_bytes, gather)
