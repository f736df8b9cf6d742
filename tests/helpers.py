"""Test helpers: seeded data without distance ties, and result comparison."""

from __future__ import annotations

import numpy as np


def make_classes(counts, n_features=4, dtype=np.float64, seed=0, scale=1.0):
    """Rows of len(counts) overlapping Gaussian classes, shuffled.

    Integer dtypes are drawn from a wide range, so distance ties stay absent.
    """
    rng = np.random.default_rng(seed)
    n = sum(counts)
    y = np.repeat(np.arange(len(counts)), counts)
    X = rng.normal(size=(n, n_features)) * scale + y[:, None] * 0.5
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        # Signed ints use a quarter of their range, so base + step * diff never
        # overflows; unsigned ints use all of it (differences wrap around in
        # imbalanced-learn, and must wrap the same way here).
        info = np.iinfo(dtype)
        lo, hi = (info.min, info.max) if dtype.kind == "u" else (info.min // 4, info.max // 4)
        lo, hi = max(lo, -(2**40)), min(hi, 2**40)
        X = rng.integers(lo, hi, size=(n, n_features), endpoint=True).astype(dtype)
    else:
        X = X.astype(dtype)
    order = rng.permutation(n)
    return X[order], y[order]


def assert_same_resample(ours, reference):
    """Bit-identical arrays (or frames / sparse matrices), same dtypes."""
    import pandas as pd
    from scipy import sparse

    (X_a, y_a), (X_b, y_b) = ours, reference
    assert type(X_a) is type(X_b)
    assert type(y_a) is type(y_b)
    if isinstance(X_b, pd.DataFrame):
        pd.testing.assert_frame_equal(X_a, X_b, check_exact=True)
    elif sparse.issparse(X_b):
        assert X_a.format == X_b.format and X_a.dtype == X_b.dtype
        assert X_a.shape == X_b.shape
        assert np.array_equal(X_a.toarray(), X_b.toarray())
    elif isinstance(X_b, list):
        assert X_a == X_b
    else:
        assert X_a.dtype == X_b.dtype and X_a.shape == X_b.shape
        np.testing.assert_array_equal(X_a, X_b, strict=True)
    if isinstance(y_b, (pd.Series, pd.DataFrame)):
        (pd.testing.assert_series_equal if isinstance(y_b, pd.Series) else pd.testing.assert_frame_equal)(
            y_a, y_b, check_exact=True
        )
    elif isinstance(y_b, list):
        assert y_a == y_b
    else:
        np.testing.assert_array_equal(y_a, y_b, strict=True)
