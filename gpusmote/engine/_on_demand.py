"""Synthetic rows on demand: the neighbour tables of a resample, computed once.

``SMOTE(rng="philox").fit_resample`` lays its output out as the original rows,
then each over-sampled class's synthetic block. A :class:`SyntheticTable` holds
what it takes to produce any row of that output by its index, without
producing the others: which class block an index falls in, the class's rows
and neighbour table (O(n_minority x k) memory), and the stream's key. The
rows themselves are made by ``gpusmote.kernels.synthesize``.
"""

from __future__ import annotations

import numbers
import operator
from dataclasses import dataclass

import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.utils.multiclass import check_classification_targets

from gpusmote.devices._resolve import resolve_device
from gpusmote.engine._draws import philox_seed
from gpusmote.engine._labels import sorted_labels
from gpusmote.engine._resample import plan_classes


@dataclass(frozen=True)
class Locations:
    """Where each requested output row comes from (inputs of ``fill_rows``)."""

    source: np.ndarray
    js: np.ndarray
    cls: np.ndarray


@dataclass(frozen=True)
class SyntheticTable:
    """Everything needed to make any row of a counter-based SMOTE resample.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64
        The validated input rows (not copied when already valid).
    y : ndarray of shape (n_rows,)
        The validated labels.
    sampling_strategy : dict
        Synthetic rows per over-sampled class, in label order.
    seed : int
        Key of the counter-based stream.
    class_positions, offsets, sizes : ndarray of shape (n_classes,), int64
        Per over-sampled class: position among y's sorted labels, first row in
        the stacked tables, number of rows.
    labels : ndarray of shape (n_classes,)
        The over-sampled classes' labels, y's dtype.
    block_starts : ndarray of shape (n_classes,), int64
        Output index of each class's first synthetic row.
    n_synthetic : ndarray of shape (n_classes,), int64
        Synthetic rows per class.
    class_rows : ndarray of shape (n_minority,), int64
        Indices in X of each over-sampled class's rows, stacked.
    nn_table : ndarray of shape (n_minority, k), int64
        Each of those rows' neighbours, as indices into its class's rows.
    """

    X: np.ndarray
    y: np.ndarray
    sampling_strategy: dict
    seed: int
    class_positions: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray
    labels: np.ndarray
    block_starts: np.ndarray
    n_synthetic: np.ndarray
    class_rows: np.ndarray
    nn_table: np.ndarray

    def __len__(self) -> int:
        """Rows of the resampled output: originals plus synthetic rows."""
        return len(self.X) + int(self.n_synthetic.sum())

    def kernel_tables(self) -> tuple:
        """The per-class arrays ``fill_rows`` takes after ``cls``, in its order."""
        return (self.class_positions, self.offsets, self.sizes, self.labels, self.class_rows,
                self.nn_table)

    def locate(self, indices) -> Locations:
        """Map output indices (negative ones count from the end) to their origin.

        Raises
        ------
        TypeError
            If the indices are not integers (a float would be truncated).
        IndexError
            If an index is out of range.
        """
        n_total, n_rows = len(self), len(self.X)
        indices = _positions(indices, n_total)
        synthetic = indices >= n_rows
        cls = np.searchsorted(self.block_starts, indices, side="right") - 1
        cls = np.where(synthetic, cls, 0)
        starts = self.block_starts[cls] if len(self.block_starts) else np.zeros_like(cls)
        js = np.where(synthetic, indices - starts, 0)
        source = np.where(synthetic, -1, indices)
        return Locations(source=source, js=js, cls=cls)


def _positions(indices, n_total: int) -> np.ndarray:
    """Integer indices as int64 positions in ``[0, n_total)``, negative ones
    counted from the end; range-checked before any cast, so an unsigned or
    Python int beyond int64 (which a cast would wrap to -1) is an IndexError."""
    array = np.asarray(indices)
    if array.dtype == object or array.dtype.kind == "f":
        # Python ints beyond 64 bits (NumPy makes [0, 2**64 - 1] float64), or
        # not integers at all: element by element.
        array = np.asarray(indices, dtype=object)
        try:
            values = [operator.index(value) for value in array.reshape(-1)]
        except TypeError:
            raise TypeError(f"indices must be integers, got {array.dtype}") from None
        out_of_range = [value for value in values if not -n_total <= value < n_total]
        if out_of_range:
            raise IndexError(f"index {out_of_range[0]} is out of range for {n_total} rows")
        return np.array(values, dtype=np.int64)
    if array.size and array.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, got {array.dtype}")
    array = array.reshape(-1)
    if array.dtype.kind == "u":
        bad = array >= n_total
    else:
        array = array.astype(np.int64, copy=False)
        bad = (array < -n_total) | (array >= n_total)
    if bad.any():
        raise IndexError(f"index {array[bad][0]} is out of range for {n_total} rows")
    array = array.astype(np.int64, copy=False)
    return np.where(array < 0, array + n_total, array)


def build_table(X, y, *, sampling_strategy="auto", k_neighbors: int = 5,
                random_state=None, device: str = "cpu") -> SyntheticTable:
    """Validate (X, y) as ``SMOTE.fit_resample`` does and compute the tables.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features), float32 or float64
    y : array-like of shape (n_rows,)
    sampling_strategy, k_neighbors, random_state
        As for :class:`gpusmote.SMOTE` with ``rng="philox"``; ``k_neighbors``
        must be an int here.
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where the k-NN runs (the tables are returned in host memory).

    Raises
    ------
    TypeError, ValueError
        The exceptions ``fit_resample`` raises for the same input, and a
        ValueError for features that are not float32 or float64.
    """
    from gpusmote.over_sampling._smote import SMOTE, neighbor_finder

    if not isinstance(k_neighbors, numbers.Integral) or isinstance(k_neighbors, bool):
        raise TypeError(f"k_neighbors must be an int here, got {type(k_neighbors).__name__}.")
    sampler = SMOTE(sampling_strategy=sampling_strategy, random_state=random_state,
                    k_neighbors=k_neighbors, rng="philox", device="cpu")
    sampler._validate_params()
    check_classification_targets(y)
    X, y, binarized = sampler._check_X_y(X, y, accept_sparse=False)
    if binarized:
        raise ValueError("y must be 1-D class labels, not a one-hot matrix.")
    if X.dtype not in (np.float32, np.float64):
        raise ValueError(f"X must hold float32 or float64 features, got {X.dtype}.")
    strategy = dict(check_sampling_strategy(sampler.sampling_strategy, y, sampler._sampling_type))
    backend = resolve_device(device)
    find_neighbors = neighbor_finder(sampler.k_neighbors, backend)[0]
    plans = plan_classes(len(X), strategy, sorted_labels(y))
    rows, tables = [], []
    for plan in plans:
        class_rows = np.flatnonzero(y == plan.label)
        rows.append(class_rows)
        X_class = backend.to_device(np.ascontiguousarray(X[class_rows]))
        tables.append(backend.to_host(find_neighbors(X_class)).astype(np.int64, copy=False))
    sizes = np.array([len(r) for r in rows], dtype=np.int64)
    k = int(k_neighbors)
    return SyntheticTable(
        X=X, y=y, sampling_strategy=strategy, seed=philox_seed(random_state),
        class_positions=np.array([p.position for p in plans], dtype=np.int64),
        offsets=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        sizes=sizes,
        labels=np.array([p.label for p in plans], dtype=y.dtype),
        block_starts=np.array([p.offset for p in plans], dtype=np.int64),
        n_synthetic=np.array([p.n_samples for p in plans], dtype=np.int64),
        class_rows=np.concatenate(rows) if rows else np.empty(0, dtype=np.int64),
        nn_table=np.concatenate(tables) if tables else np.empty((0, k), dtype=np.int64),
    )
