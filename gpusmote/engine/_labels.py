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

try:  # scikit-learn >= 1.6
    from sklearn.utils._unique import attach_unique, cached_unique
except ImportError:  # pragma: no cover - older scikit-learn: no caching
    def attach_unique(y):
        return y

    def cached_unique(y):
        return np.unique(y)


def with_cached_labels(y):
    """A view of numeric NumPy label arrays with their sorted labels attached;
    anything else (lists, pandas, object or string labels) unchanged."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biuf":
        return attach_unique(y)
    return y


def sorted_labels(y: np.ndarray) -> np.ndarray:
    """``np.unique(y)``, from the cache when y carries one."""
    return np.asarray(cached_unique(y))


def plain_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` for arrays that are returned: without the cached labels, in
    native byte order (as imbalanced-learn's outputs come out)."""
    return np.dtype(dtype.str).newbyteorder("=")
