"""Copying the original rows into the output, on every core (CPU).

The output is a fresh allocation, so copying the original rows into it is
mostly first-touch page faults, not bandwidth: the copy is split into row
ranges, one per core (``kernels/_row_threads.py``). On a GPU the same copy is
CuPy's own device-to-device copy.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._row_threads import over_row_ranges


def copy_rows(out, src) -> None:
    """``out[:len(src)] = src``, in parallel when it pays.

    Parameters
    ----------
    out : array of shape (n_out, n_features)
        Destination; ``n_out >= len(src)``. Anything but a NumPy array (a
        CuPy array) takes its own array module's copy.
    src : array of shape (n_rows, n_features)
        Rows to copy (any memory layout), in ``out``'s memory.
    """
    if not (isinstance(out, np.ndarray) and isinstance(src, np.ndarray)) or src.dtype.hasobject:
        out[: len(src)] = src  # object arrays: one thread keeps reference counting simple
        return

    def copy(start: int, stop: int) -> None:
        out[start:stop] = src[start:stop]

    over_row_ranges(len(src), src.size * out.itemsize, copy)
