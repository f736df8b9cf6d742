"""Dask input as row blocks, and the output as the same kind of collection.

Both kinds of input, dask arrays and dask DataFrames/Series, are seen by the
resampler as one list of aligned row blocks: ``X_blocks[i]`` (a task giving
block ``i`` of X validated as in memory, a NumPy array) and ``y_blocks[i]``.
Each kind then assembles its output, lazily, from the original blocks and the
synthetic ones: a dask array for array input, a dask DataFrame (and Series)
with known divisions and the in-memory output's index ``0 .. n - 1`` for
frame input (with any passthrough columns after the features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
from sklearn.utils import check_array

from gpusmote.dask import _tasks
from gpusmote.devices._input import device_kind, to_host
from gpusmote.engine._labels import plain_dtype

_task = dask.delayed(pure=True)


def inconsistent_lengths(n_x: int, n_y: int) -> ValueError:
    """scikit-learn's message for X and y of different lengths."""
    return ValueError(f"Found input variables with inconsistent numbers of samples: [{n_x}, {n_y}]")


def _validated_dtype(dtype, n_features: int, estimator_name: str) -> np.dtype:
    """The dtype ``check_array`` gives X of this dtype (object becomes float64)."""
    empty = np.empty((0, n_features), dtype=dtype)
    return plain_dtype(check_array(empty, dtype="numeric", ensure_min_samples=0,
                                   estimator=estimator_name).dtype)


def chunk_kind(meta) -> str:
    """``"numpy"`` or ``"cupy"``: the kind of a dask array's chunks, from its
    ``_meta``; other chunks (sparse, masked) are refused."""
    if device_kind(meta) == "cupy":
        return "cupy"
    if type(meta) is np.ndarray:
        return "numpy"
    raise TypeError(f"dask arrays of {type(meta).__name__} chunks are not supported; "
                    f"NumPy and CuPy chunks are (map the chunks to one of them first).")


def check_pandas_backed(meta) -> None:
    """Refuse dask DataFrames whose partitions are not pandas (cuDF's)."""
    module = type(meta).__module__
    if not module.startswith("pandas"):
        raise TypeError(f"dask DataFrames of {module.split('.')[0]} partitions are not supported; "
                        f"pass pandas partitions (X.to_backend('pandas')) or a dask array "
                        f"(X.to_dask_array(lengths=True): CuPy chunks stay on the GPU).")


@dataclass
class ArrayInput:
    """A dask array X (NumPy or CuPy chunks) and y (dask or in-memory array)."""

    X: da.Array
    y: da.Array
    estimator_name: str
    X_checked: da.Array = field(init=False)

    @classmethod
    def from_collections(cls, X, y, estimator_name: str) -> ArrayInput:
        if X.ndim != 2:
            raise ValueError(f"Expected 2D array, got {X.ndim}D array instead (a dask array "
                             f"of shape {X.shape}).")
        chunk_kind(X._meta)
        if not is_dask_array(y):
            y = to_host(y) if device_kind(y) is not None else np.asarray(y)
            if y.ndim == 1 and y.shape[0] != X.shape[0]:
                raise inconsistent_lengths(X.shape[0], y.shape[0])
            y = da.from_array(y, chunks=(X.chunks[0],) + y.shape[1:])
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D class labels; got shape {y.shape} (one-hot y is "
                             f"not supported on Dask).")
        X = X.rechunk({1: -1})  # a block holds whole rows
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        if any(np.isnan(c) for c in y.chunks[0]):
            y = y.compute_chunk_sizes()
        if X.shape[0] != y.shape[0]:
            raise inconsistent_lengths(X.shape[0], y.shape[0])
        return cls(X, y.rechunk((X.chunks[0],)), estimator_name)

    def __post_init__(self) -> None:
        n_features = self.X.shape[1]
        #: the kinds of X's and y's chunks: each output keeps its input's
        self.chunk_kind, self.y_kind = chunk_kind(self.X._meta), chunk_kind(self.y._meta)
        self.dtype = _validated_dtype(self.X.dtype, n_features, self.estimator_name)
        self.X_checked = self.X.map_blocks(_tasks.checked_block, self.estimator_name, self.chunk_kind,
                                           dtype=self.dtype, meta=self._X_meta())

    def _X_meta(self):
        return _tasks.chunk_module(self.chunk_kind).empty((0, self.n_features), self.dtype)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def feature_names(self):
        return None

    @property
    def y_dtype(self) -> np.dtype:
        return plain_dtype(self.y.dtype)

    def y_blocks(self) -> list:
        """One task per row block: y's labels (a NumPy array)."""
        return list(self.y.to_delayed().ravel())

    def X_blocks(self) -> list:
        """One task per row block: X's rows, validated (a NumPy or CuPy array)."""
        return list(self.X_checked.to_delayed().ravel())

    def assemble(self, lengths: list[int], synthetic: list[tuple]):
        """``synthetic``: (label, start, delayed rows, n_rows) per block, in output order."""
        n_features = self.n_features
        y_meta = _tasks.chunk_module(self.y_kind).empty((0,), self.y_dtype)
        X_parts, y_parts = [self.X_checked], [self.y.astype(self.y_dtype)]
        for label, _, rows, n_rows in synthetic:
            X_parts.append(da.from_delayed(rows, shape=(n_rows, n_features), dtype=self.dtype,
                                           meta=self._X_meta()))
            labels = _task(_tasks.label_block)(label, n_rows, self.y_dtype, self.y_kind)
            y_parts.append(da.from_delayed(labels, shape=(n_rows,), dtype=self.y_dtype, meta=y_meta))
        return da.concatenate(X_parts, axis=0), da.concatenate(y_parts, axis=0)


#: y's column in the frame X and y are read as one (see :class:`FrameInput`).
_Y_COLUMN = "__gpusmote_y__"


@dataclass
class FrameInput:
    """A dask DataFrame X and a dask Series y aligned with it (a column of the
    same frame).

    X and y are read as one frame, ``X.assign(y)``: optimized apart, Dask may
    partition them differently (a Parquet read of few columns fuses several
    files into one partition), so only one frame's partitions pair X's rows
    with y's. y's counts therefore read X's partitions too (one extra pass).
    """

    X: dd.DataFrame
    y: dd.Series
    estimator_name: str
    #: Other columns of X's frame, carried beside the features (see ``assemble``).
    passthrough: dd.DataFrame | None = None
    #: The kind of array a partition's rows become.
    chunk_kind = "numpy"

    @classmethod
    def from_collections(cls, X, y, estimator_name: str, passthrough=None) -> FrameInput:
        check_pandas_backed(X._meta)
        if passthrough is not None:
            clash = [name for name in passthrough.columns if name in X.columns]
            if clash:
                raise ValueError(f"passthrough column {clash[0]!r} is also a feature column")
        if not isinstance(y, dd.Series):
            raise TypeError(f"with a dask DataFrame X, y must be a dask Series with the same "
                            f"partitions (a column of the same frame); got {type(y).__name__}.")
        if X.npartitions != y.npartitions:
            raise ValueError(f"X and y must have the same partitions (a frame and one of its "
                             f"columns); X has {X.npartitions}, y {y.npartitions}.")
        return cls(X, y, estimator_name, passthrough)

    def __post_init__(self) -> None:
        meta = self.X._meta
        self.columns, self.dtypes = meta.columns, list(meta.dtypes)
        if _Y_COLUMN in self.columns:
            raise ValueError(f"X has a column named {_Y_COLUMN!r}, which gpusmote uses for y")
        # check_array on the empty frame: the dtype of X's array in memory.
        self.dtype = plain_dtype(check_array(meta, dtype="numeric", ensure_min_samples=0,
                                             estimator=self.estimator_name).dtype)
        extra = self.passthrough
        self.extra_names = [] if extra is None else list(extra.columns)
        self.extra_dtypes = [] if extra is None else [_tasks.nullable_dtype(d)
                                                      for d in extra._meta.dtypes]
        columns = {_Y_COLUMN: self.y, **{name: extra[name] for name in self.extra_names}}
        parts = self.X.assign(**columns).to_delayed()
        self._y_parts = [_task(_tasks.column_of)(part, _Y_COLUMN) for part in parts]
        self._X_parts = [_task(_tasks.columns_of)(part, list(self.columns)) for part in parts]
        self._extra_parts = parts if self.extra_names else [None] * len(parts)
        self._checked = None

    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def feature_names(self):
        names = np.asarray(self.columns, dtype=object)
        return names if all(isinstance(name, str) for name in names) else None

    @property
    def y_dtype(self):
        return self.y._meta.dtype

    def y_blocks(self) -> list:
        """One task per partition: y's labels (a pandas Series)."""
        return self._y_parts

    def X_blocks(self) -> list:
        """One task per partition: X's rows, validated (a NumPy array)."""
        if self._checked is None:
            self._checked = [_task(_tasks.checked_block)(part, self.estimator_name)
                             for part in self._X_parts]
        return self._checked

    def assemble(self, lengths: list[int], synthetic: list[tuple]):
        """``synthetic``: (label, start, delayed rows, n_rows) per block, in
        output order; ``lengths``: the rows of each partition. Passthrough
        columns follow the features: the original rows' values, missing in
        synthetic rows."""
        starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int).tolist()
        X_parts, y_parts, divisions = [], [], []
        for block, y_part, extra, start, n_rows in zip(self.X_blocks(), self._y_parts,
                                                       self._extra_parts, starts, lengths):
            if n_rows == 0:  # divisions cannot hold an empty partition
                continue
            X_parts.append(self._with_extra(
                _task(_tasks.frame_of)(block, start, self.columns, self.dtypes), extra))
            y_parts.append(_task(_tasks.series_of)(y_part, start, self.y.name, self.y_dtype))
            divisions.append(start)
        for label, start, rows, n_rows in synthetic:
            X_parts.append(self._with_extra(
                _task(_tasks.frame_of)(rows, start, self.columns, self.dtypes), None))
            y_parts.append(_task(_tasks.series_of)(
                _task(_tasks.label_block)(label, n_rows, self.y_dtype), start, self.y.name,
                self.y_dtype))
            divisions.append(start)
        last = (synthetic[-1][1] + synthetic[-1][3]) if synthetic else starts[-1]
        divisions.append(last - 1)
        X_meta = _tasks.with_passthrough(
            _tasks.frame_of(np.empty((0, self.n_features), self.dtype), 0, self.columns,
                            self.dtypes), None, self.extra_names, self.extra_dtypes)
        y_meta = _tasks.series_of(np.empty(0, dtype=object), 0, self.y.name, self.y_dtype)
        return (dd.from_delayed(X_parts, meta=X_meta, divisions=tuple(divisions),
                                verify_meta=False),
                dd.from_delayed(y_parts, meta=y_meta, divisions=tuple(divisions),
                                verify_meta=False))


    def _with_extra(self, frame, values):
        if not self.extra_names:
            return frame
        return _task(_tasks.with_passthrough)(frame, values, self.extra_names, self.extra_dtypes)


def is_dask_array(obj) -> bool:
    """True for a dask array."""
    return isinstance(obj, da.Array)


def as_input(X, y, estimator_name: str, passthrough=None):
    """The :class:`ArrayInput` or :class:`FrameInput` for ``X`` and ``y``
    (``passthrough``: DataFrame X only)."""
    if isinstance(X, dd.DataFrame):
        return FrameInput.from_collections(X, y, estimator_name, passthrough)
    if passthrough is not None:
        raise TypeError("passthrough columns need a dask DataFrame X")
    if isinstance(y, da.Array) and isinstance(X, np.ndarray) and X.ndim == 2:
        X = da.from_array(X, chunks=(y.chunks[0], -1) if len(X) == y.shape[0] else (-1, -1))
    if isinstance(X, da.Array):
        return ArrayInput.from_collections(X, y, estimator_name)
    raise TypeError(f"X must be a dask array or a dask DataFrame (with y a dask array or a "
                    f"dask Series of the same frame); got X of type {type(X).__name__} and y "
                    f"of type {type(y).__name__}.")
