"""Copying the original rows into the output, on every core (CPU).

The output is a fresh allocation, so copying the original rows into it is
mostly first-touch page faults, not bandwidth: the copy is split into row
ranges, one per core (``kernels/_row_threads.py``), and each range faults a
piece of its destination in with one system call (``kernels/_populate.py``)
before copying into it, cheaper than a trap per page. The card-fraud shape's
SMOTE, medians of fresh-process pairs on the 2-core VM: first full-size call
42.2 -> 35.9 ms (16 pairs, a busy hour) and 29.6 -> 30.0 ms (12 pairs, a
quiet one); warm calls 34.3 -> 29.2 and 27.9 -> 26.6 ms; fraud-1M 185.8 ->
184.3 ms. On a GPU the same copy is CuPy's own device-to-device copy.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._populate import POPULATE_PIECE_BYTES, populate
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

    piece_rows = max(1, POPULATE_PIECE_BYTES // max(1, out.strides[0]))

    def copy(start: int, stop: int) -> None:
        for low in range(start, stop, piece_rows):
            high = min(stop, low + piece_rows)
            populate(out[low:high])  # (nothing for a destination that is no block of memory)
            out[low:high] = src[low:high]

    over_row_ranges(len(src), src.size * out.itemsize, copy)
