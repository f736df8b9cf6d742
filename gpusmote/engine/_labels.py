"""y's sorted labels, found once per resample instead of once per check.

scikit-learn's and imbalanced-learn's target checks each call ``np.unique(y)``
(4-5 ms apiece for 285,000 int64 labels). scikit-learn can cache the result in
a *view* of y (``attach_unique``: the labels ride in the view's dtype metadata),
which its own checks read back; we attach it once at the start of
``fit_resample`` and read it back in the engine. The view never leaves the
call: outputs are built with the plain dtype.
"""

from __future__ import annotations

import numpy as np
from imblearn.utils import check_sampling_strategy

try:  # scikit-learn >= 1.6
    from sklearn.utils._unique import attach_unique, cached_unique

    LABEL_CACHE = True
except ImportError:  # pragma: no cover - older scikit-learn: no caching
    def attach_unique(y):
        return y

    def cached_unique(y):
        return np.unique(y)

    LABEL_CACHE = False


#: Widest label range (max - min) counted with ``np.bincount`` instead of
#: ``np.unique`` (a hash or a sort: 3.8 ms for 285,000 int64 labels, against
#: 0.4 ms for the counts on the 2-core VM).
COUNTED_LABEL_RANGE = 1 << 16


def with_cached_labels(y):
    """A view of numeric NumPy label arrays with their sorted labels attached;
    anything else (lists, pandas, object or string labels) unchanged."""
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biuf"):
        return y
    counted = _counted_labels(y) if LABEL_CACHE else None
    if counted is None:
        return attach_unique(y)
    labels, counts = counted
    # scikit-learn's attach_unique (its checks read "unique"), with the labels
    # found by counting and the counts kept for the sampling strategy
    return y.view(dtype=np.dtype(y.dtype, metadata={"unique": labels, "counts": counts}))


def _counted_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``np.unique(y, return_counts=True)`` for integers in a narrow range
    (class labels), by counting; None for anything else."""
    if y.dtype.kind not in "iu" or y.size == 0 or y.dtype.metadata:
        return None
    low, high = int(y.min()), int(y.max())
    if high - low > COUNTED_LABEL_RANGE:
        return None
    # offsets in int64 (bincount takes no uint64); exact: the range is narrow.
    # int64 labels from 0 are counted as they are (a copy of 285,000 took 1 ms).
    offsets = y.astype(np.int64, copy=False) if low == 0 else y.astype(np.int64) - low
    counts = np.bincount(offsets, minlength=high - low + 1)
    present = np.flatnonzero(counts)
    return (present + low).astype(y.dtype), counts[present]


class _KnownLabels(np.ndarray):
    """A view of y that answers ``np.unique(y[, return_counts=True])`` from
    the labels and counts cached in its dtype; every other function runs as
    on y."""

    def __array_function__(self, func, types, args, kwargs):
        if (func is np.unique and len(args) == 1 and args[0] is self
                and set(kwargs) <= {"return_counts"}):
            metadata = self.dtype.metadata
            labels = metadata["unique"].copy()
            return (labels, metadata["counts"].copy()) if kwargs.get("return_counts") else labels
        return super().__array_function__(func, types, args, kwargs)


def checked_sampling_strategy(sampling_strategy, y, sampling_type: str):
    """imbalanced-learn's ``check_sampling_strategy`` (same rules, results
    and errors), with its ``np.unique(y)`` calls (a hash and a sort: 5.6 ms
    for 285,000 int64 labels on the 2-core VM) answered from the labels and
    counts :func:`with_cached_labels` found. A callable strategy gets y
    itself."""
    metadata = y.dtype.metadata if isinstance(y, np.ndarray) else None
    if callable(sampling_strategy) or not metadata or "counts" not in metadata:
        return check_sampling_strategy(sampling_strategy, y, sampling_type)
    return check_sampling_strategy(sampling_strategy, y.view(_KnownLabels), sampling_type)


def sorted_labels(y: np.ndarray) -> np.ndarray:
    """``np.unique(y)``, from the cache when y carries one."""
    return np.asarray(cached_unique(y))


def plain_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` for arrays that are returned: without the cached labels, in
    native byte order (as imbalanced-learn's outputs come out)."""
    return np.dtype(dtype.str).newbyteorder("=")
