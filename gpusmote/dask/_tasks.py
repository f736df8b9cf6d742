"""The functions Dask runs as tasks: NumPy, CuPy or pandas in, the same out.

Nothing here imports Dask, so a worker runs them with gpusmote alone, and each
is pure: a task that is retried (a worker lost mid-computation) gives the same
bytes. Every value a task computes is the in-memory engine's own code on the
same inputs: validation by scikit-learn's ``check_array`` (for CuPy chunks,
the device-input checks of in-memory CuPy input), neighbour tables by
:class:`~gpusmote.neighbors._query.NeighborQuery`, synthetic rows by the
Philox kernel and ``synthetic_chunks``.

The rows' chunk kind (``"numpy"`` or ``"cupy"``) is a task argument: a class's
rows stay in the chunks' memory, the neighbour tables are small host arrays,
and synthetic rows come back in the input's kind, computed by whichever
backend the task's worker resolves (a CPU worker copies CuPy rows to the host
and back).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _assert_all_finite

from gpusmote.devices._backend import Backend, array_module, for_size
from gpusmote.devices._input import check_device_X, to_host
from gpusmote.devices._resolve import resolve_device
from gpusmote.engine._draws import DRAW_CHUNK_ROWS, DrawChunk
from gpusmote.engine._labels import plain_dtype
from gpusmote.engine._resample import synthetic_chunks


class _Size:
    """Stands in for X in :func:`for_size`: only its element count matters."""

    def __init__(self, size: int) -> None:
        self.size = size


def backend_for(device: str, n_elements: int, ties: str) -> Backend:
    """The backend in-memory ``fit_resample`` picks for ``device``, ``ties``
    and an X of ``n_elements`` elements (the small-data CPU backend included),
    resolved where the task runs (a GPU worker resolves ``'auto'`` to CUDA)."""
    return for_size(resolve_device(device), _Size(n_elements), ties)


# -- validation -------------------------------------------------------------

def as_chunk(array, kind: str):
    """``array`` (NumPy, or CuPy from a GPU backend) as a chunk of ``kind``
    (``"numpy"`` or ``"cupy"``): moved only if it is not there already."""
    if kind == "cupy":
        import cupy

        return cupy.asarray(array)
    return to_host(array)


def chunk_module(kind: str):
    """The array module of chunks of ``kind``."""
    if kind == "cupy":
        import cupy

        return cupy
    return np


def checked_block(block, estimator_name: str, kind: str = "numpy"):
    """One row block of X validated as ``fit_resample`` validates all of X
    (numeric dtype, finite, 2-D): the same array, dtype and error message.
    A CuPy block is checked where it lives, as in-memory CuPy input is."""
    if kind == "cupy":
        xp = array_module(block)
        check_device_X(block, xp, estimator_name, min_samples=0)
        return xp.ascontiguousarray(block, dtype=plain_dtype(block.dtype))
    array = check_array(block, dtype="numeric", ensure_min_samples=0, input_name="X",
                        estimator=estimator_name)
    return np.ascontiguousarray(array, dtype=plain_dtype(array.dtype))


def label_stats(y_block) -> tuple[int, np.ndarray, np.ndarray]:
    """``(rows, sorted labels, counts)`` of one block of y (NaN refused as in memory)."""
    y = to_host(y_block)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D class labels; a block of y has shape {y.shape}.")
    if y.dtype.kind == "f":
        _assert_all_finite(y, input_name="y")
    labels, counts = np.unique(y, return_counts=True)
    return len(y), labels, counts


def split_classes(X_block, y_block, labels: list) -> dict:
    """The rows of ``X_block`` of each label of ``labels``, in block order
    (in X_block's memory; y's labels are compared on the host)."""
    y, xp = to_host(y_block), array_module(X_block)
    return {label: X_block[xp.asarray(np.flatnonzero(y == label))] for label in labels}


def class_rows(label, *parts: dict):
    """One class's rows from every block's :func:`split_classes`, in row order:
    the ``X[y == label]`` of the in-memory engine."""
    rows = [part[label] for part in parts]
    xp = array_module(rows[0])
    return xp.ascontiguousarray(xp.concatenate(rows))


def _in_backend(backend: Backend, rows):
    """``rows`` in ``backend``'s memory (CuPy rows copied to the host for a CPU backend)."""
    return to_host(rows) if backend.xp is np else backend.to_device(rows)


# -- neighbour tables -------------------------------------------------------

def neighbor_block(X_class: np.ndarray, start: int, stop: int, k: int, ties: str, device: str,
                   n_elements: int):
    """The neighbour rows of class rows ``start .. stop`` among all the class's
    rows, each row excluded by its index: rows of the table
    ``NeighborQuery.within`` gives, or None where ``ties='imblearn'`` finds
    that ties could order them differently (the class then takes
    scikit-learn's table, :func:`neighbor_table`)."""
    from gpusmote.neighbors._query import NeighborQuery

    backend = backend_for(device, n_elements, ties)
    query = NeighborQuery("k_neighbors", k, backend, ties)
    table = query.among(_in_backend(backend, X_class), np.arange(start, stop), fallback=False)
    return None if table is None else backend.to_host(table)


def neighbor_table(X_class, k: int, *blocks) -> np.ndarray:
    """The class's table from its query blocks, in order; if any block may be
    ordered differently by ties, scikit-learn's own table for the whole class
    (one task: what ``within`` falls back to, called the same way)."""
    from gpusmote.neighbors._ties import sklearn_table

    if any(block is None for block in blocks):
        return sklearn_table(to_host(X_class), k)
    return np.ascontiguousarray(np.concatenate(blocks))


def estimator_table(X_class, k_neighbors) -> np.ndarray:
    """The table of a user's neighbours estimator: cloned, fitted and queried
    on the whole class in one task, as in memory."""
    from gpusmote.devices._backend import CPU
    from gpusmote.over_sampling._smote import neighbor_finder

    return np.asarray(neighbor_finder(k_neighbors, CPU)[0](to_host(X_class)))


# -- synthetic rows ---------------------------------------------------------

def _philox_draws(backend: Backend, seed: int, position: int, n_base: int, k: int,
                  start: int, stop: int):
    """Draws for synthetic rows ``start .. stop`` of one class: each row's
    draws depend on (seed, class, row) only, so any range gives the rows the
    whole class's stream gives there. ``DrawChunk.start`` is relative to
    ``start``."""
    xp = backend.xp
    for low in range(start, stop, DRAW_CHUNK_ROWS):
        size = min(DRAW_CHUNK_ROWS, stop - low)
        rows, cols = xp.empty(size, dtype=np.int64), xp.empty(size, dtype=np.int64)
        steps = xp.empty(size, dtype=np.float64)
        backend.philox_draws(seed, position, 0, low, n_base, k, rows, cols, steps)
        yield DrawChunk(start=low - start, rows=rows, cols=cols, steps=steps)


def synthetic_rows(X_class, table: np.ndarray, seed: int, position: int, start: int, stop: int,
                   device: str, n_elements: int, ties: str, kind: str = "numpy"):
    """Synthetic rows ``start .. stop`` of one class, a chunk of ``kind``."""
    backend = backend_for(device, n_elements, ties)
    base, nn_idx = _in_backend(backend, X_class), backend.to_device(table)
    out = backend.xp.empty((stop - start, X_class.shape[1]), dtype=X_class.dtype)
    draws = _philox_draws(backend, seed, position, len(X_class), table.shape[1], start, stop)
    for _ in synthetic_chunks(backend, base, base, nn_idx, draws, out=out):
        pass
    backend.synchronize()
    return as_chunk(out, kind)


# -- DataFrame partitions ---------------------------------------------------

def frame_of(array: np.ndarray, start: int, columns, dtypes):
    """Rows as the in-memory DataFrame output holds them: each column cast
    back to its input dtype, index ``start ..`` (positions in the output)."""
    import pandas as pd

    from gpusmote.over_sampling._frames import frame_from_array

    frame = frame_from_array(array, columns, dtypes)
    if frame is None:  # imbalanced-learn's own rebuild
        frame = pd.DataFrame(array, columns=columns).astype(dict(zip(columns, dtypes)))
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def nullable_dtype(dtype):
    """The dtype a passthrough column takes: ``dtype`` if it holds missing
    values (float, datetime, string, object), else its pandas nullable
    counterpart (int64 -> Int64, bool -> boolean)."""
    import pandas as pd

    if not isinstance(dtype, np.dtype) or dtype.kind not in "iub":
        return dtype
    if dtype.kind == "b":
        return pd.BooleanDtype()
    return pd.api.types.pandas_dtype(f"{'UInt' if dtype.kind == 'u' else 'Int'}{dtype.itemsize * 8}")


def with_passthrough(frame, values, names: list, dtypes: list):
    """``frame`` with the passthrough columns appended: ``values``'s (the
    original rows' partition), or missing values (synthetic rows: None)."""
    import pandas as pd

    for name, dtype in zip(names, dtypes):
        if values is None:
            frame[name] = pd.Series(index=frame.index, dtype=dtype)
        else:
            column = values[name].astype(dtype)
            column.index = frame.index
            frame[name] = column
    return frame


def series_of(values, start: int, name, dtype):
    """Labels as the in-memory Series output holds them, index ``start ..``."""
    import pandas as pd

    values = np.asarray(values)
    return pd.Series(values, dtype=dtype, name=name,
                     index=pd.RangeIndex(start, start + len(values)))


def column_of(frame, name):
    """One column of a partition (a Series)."""
    return frame[name]


def columns_of(frame, names: list):
    """Some columns of a partition (a DataFrame)."""
    return frame[names]


def label_block(label, n: int, dtype, kind: str = "numpy"):
    """``n`` copies of ``label`` (a synthetic block's y), a chunk of ``kind``;
    object for a pandas dtype (strings), which :func:`series_of` then applies."""
    if kind == "cupy":
        return chunk_module(kind).full(n, label, dtype=dtype)
    return np.full(n, label, dtype=dtype if isinstance(dtype, np.dtype) else object)
