"""The output DataFrame, built as imbalanced-learn's without its two copies.

imbalanced-learn turns the resampled array back into the input's container
with ``pd.DataFrame(array, columns=...)`` (a copy of the whole array) and then
``astype(dtypes)`` (a second, per column): on fraud-1M with float32, int64 and
bool columns that was most of the time of a fast sampler. Here each group of
columns of one dtype is cast once, straight from the resampled array into the
layout pandas keeps (one 2-D block per dtype, columns as rows), in row ranges
on every core; the frame wraps the largest block without a copy. Casting is
NumPy's unsafe cast, as ``astype`` is, so the values, dtypes, column index and
(range) index are imbalanced-learn's. Frames this does not cover (extension
dtypes, object, datetime, duplicate or multi-level column names) take
imbalanced-learn's own path.

A sampler that only selects rows (RandomOverSampler without shrinkage) takes
them from the frame itself instead (:func:`frame_rows`): imbalanced-learn
stacks its frame's rows into one array (an object array when the dtypes mix,
bool beside numbers included) and casts every column back, which gives each
column's own values again; a take of the rows gives them without the round
trip.
"""

from __future__ import annotations

import numpy as np
from imblearn.utils._validation import ArraysTransformer

from gpusmote.kernels._row_threads import over_row_ranges

#: Bytes of resampled rows transposed at a time (within a core's L2).
_CACHE_BYTES = 256 * 2**10


class FrameTransformer(ArraysTransformer):
    """imbalanced-learn's ``ArraysTransformer`` with a fast dense DataFrame rebuild."""

    def _transfrom_one(self, array, props):  # (sic: imbalanced-learn's name)
        if props["type"].lower() == "dataframe" and is_frame(array):
            return array  # already the output frame (frame_rows)
        if props["type"].lower() == "dataframe" and isinstance(array, np.ndarray):
            frame = frame_from_array(array, props["columns"], props["dtypes"])
            if frame is not None:
                return frame
        return super()._transfrom_one(array, props)


def _plain_dtypes(columns, dtypes) -> list[np.dtype] | None:
    """The columns' dtypes when every one is a NumPy number or bool and the
    names are unique and flat; else None."""
    import pandas as pd

    if isinstance(columns, pd.MultiIndex) or not columns.is_unique or len(columns) == 0:
        return None
    plain = []
    for dtype in dtypes:
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
            return None
        plain.append(dtype)
    return plain


def frame_from_array(array: np.ndarray, columns, dtypes):
    """``pd.DataFrame(array, columns=columns).astype(dtypes)``, or None where
    this module does not apply (see the module docstring)."""
    import pandas as pd

    if array.ndim != 2 or array.dtype.kind not in "biuf" or array.shape[1] != len(columns):
        return None
    plain = _plain_dtypes(columns, dtypes)
    if plain is None:
        return None
    groups: dict[np.dtype, list[int]] = {}
    for position, dtype in enumerate(plain):
        groups.setdefault(dtype, []).append(position)
    n_rows = array.shape[0]
    # pandas keeps a block as (columns, rows): a transposed C array is its layout.
    blocks = {dtype: np.empty((len(positions), n_rows), dtype=dtype) for dtype, positions in groups.items()}

    # Rows a sub-range at a time, so the transposing reads stay in cache.
    step = max(1, _CACHE_BYTES // max(1, array.shape[1] * array.itemsize))

    def cast(start: int, stop: int) -> None:
        for low in range(start, stop, step):
            high = min(stop, low + step)
            rows = array[low:high]
            for dtype, positions in groups.items():
                selected = rows[:, positions[0] : positions[-1] + 1] if _is_range(positions) else rows[:, positions]
                blocks[dtype][:, low:high] = selected.T

    over_row_ranges(n_rows, array.nbytes, cast)
    largest = max(groups, key=lambda dtype: len(groups[dtype]))
    frame = pd.DataFrame(blocks[largest].T, columns=columns[groups[largest]], copy=False)
    others = sorted((position, dtype, i) for dtype, positions in groups.items() if dtype != largest
                    for i, position in enumerate(positions))
    for position, dtype, i in others:  # increasing positions: each lands where it was
        frame.insert(position, columns[position], blocks[dtype][i])
    frame.columns = columns  # the input's own Index object, as imbalanced-learn's frame has
    return frame


def _is_range(positions: list[int]) -> bool:
    return positions[-1] - positions[0] + 1 == len(positions)


def is_frame(X) -> bool:
    """True for a pandas DataFrame (pandas imported only if X could be one)."""
    return type(X).__name__ == "DataFrame" and type(X).__module__.startswith("pandas")


def takes_frame_rows(X) -> bool:
    """True for a DataFrame :func:`frame_rows` answers as imbalanced-learn's
    rebuild does: unique, flat column names (others take its own path)."""
    if not is_frame(X):
        return False
    import pandas as pd

    return not isinstance(X.columns, pd.MultiIndex) and X.columns.is_unique


def frame_rows(frame, indices: np.ndarray):
    """The rows of ``frame`` at ``indices`` as imbalanced-learn's output frame
    holds them: every column in its own dtype, the input's column index, a
    range index ``0 .. len(indices) - 1`` and no ``attrs`` (a new frame)."""
    import pandas as pd

    rows = frame.take(indices)
    rows.columns = frame.columns  # the input's own Index object, as imbalanced-learn's frame has
    rows.index = pd.RangeIndex(len(indices))
    rows.attrs = {}
    return rows
