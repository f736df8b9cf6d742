"""Built-in synthetic data: fraud-like, imbalanced, float32, without ties."""

from __future__ import annotations

import numpy as np


def make_fraud_like(
    n_samples: int = 1_000_000,
    n_features: int = 32,
    minority_fraction: float = 0.01,
    *,
    n_classes: int = 2,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded, fraud-shaped classification data set.

    Every class is a mixture of a few Gaussian clusters with random centres, so
    the classes overlap (not trivially separable) and, drawn from continuous
    distributions, no two rows coincide. Class 0 is the majority; the other
    classes share ``minority_fraction`` of the rows, class 1 taking the most.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    minority_fraction : float
        Fraction of rows outside class 0, in (0, 1).
    n_classes : int, default=2
        Number of classes; minority classes get geometrically fewer rows.
    random_state : int, default=0
        Seed; the same seed gives the same arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), int64
        Rows are shuffled, so each class is spread through ``X``.
    """
    if not 0 < minority_fraction < 1:
        raise ValueError(f"minority_fraction must be in (0, 1), got {minority_fraction}.")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
    rng = np.random.default_rng(random_state)
    shares = 0.5 ** np.arange(n_classes - 1)
    minority_counts = np.floor(shares / shares.sum() * minority_fraction * n_samples).astype(int)
    minority_counts = np.maximum(minority_counts, 6)
    counts = np.concatenate([[n_samples - minority_counts.sum()], minority_counts])
    X = np.empty((n_samples, n_features), dtype=np.float32)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    start = 0
    for label, count in enumerate(counts):
        n_clusters = 4
        centres = rng.normal(scale=1.5, size=(n_clusters, n_features))
        which = rng.integers(n_clusters, size=count)
        block = rng.standard_normal(size=(count, n_features), dtype=np.float32)
        block += centres[which].astype(np.float32)
        X[start : start + count] = block
        start += count
    order = rng.permutation(n_samples)
    return X[order], y[order]
