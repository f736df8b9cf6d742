"""Built-in synthetic data: fraud-like, imbalanced, float32, without ties."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def make_imbalanced(
    class_counts: Sequence[int],
    n_features: int,
    *,
    n_clusters: int = 4,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded classification data set with exact class counts.

    Every class is a mixture of ``n_clusters`` Gaussian clusters with random
    centres, so the classes overlap (not trivially separable) and, drawn from
    continuous distributions, no two rows coincide.

    Parameters
    ----------
    class_counts : sequence of int
        Rows of class 0, 1, ...; every count must be positive.
    n_features : int
        Columns of ``X``.
    n_clusters : int, default=4
        Gaussian clusters per class.
    random_state : int, default=0
        Seed; the same seed gives the same arrays.

    Returns
    -------
    X : ndarray of shape (sum(class_counts), n_features), float32
    y : ndarray of shape (sum(class_counts),), int64
        Rows are shuffled, so each class is spread through ``X``.
    """
    counts = np.asarray(class_counts, dtype=np.int64)
    if counts.ndim != 1 or len(counts) < 2 or (counts <= 0).any():
        raise ValueError(f"class_counts must list at least 2 positive counts, got {class_counts!r}.")
    rng = np.random.default_rng(random_state)
    n_samples = int(counts.sum())
    order = rng.permutation(n_samples)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    y = np.empty(n_samples, dtype=np.int64)
    start = 0
    for label, count in enumerate(counts):
        centres = rng.normal(scale=1.5, size=(n_clusters, n_features)).astype(np.float32)
        which = rng.integers(n_clusters, size=count)
        block = rng.standard_normal(size=(count, n_features), dtype=np.float32)
        block += centres[which]
        # Scatter the class to its shuffled positions directly: no second copy of X.
        positions = order[start : start + count]
        X[positions] = block
        y[positions] = label
        start += count
    return X, y


def make_fraud_like(
    n_samples: int = 1_000_000,
    n_features: int = 32,
    minority_fraction: float = 0.01,
    *,
    n_classes: int = 2,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded, fraud-shaped classification data set (see :func:`make_imbalanced`).

    Class 0 is the majority; the other classes share ``minority_fraction`` of the
    rows, each minority class having half as many rows as the one before (at
    least 6, so the default ``k_neighbors=5`` applies).

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``.
    minority_fraction : float
        Fraction of rows outside class 0, in (0, 1).
    n_classes : int, default=2
        Number of classes.
    random_state : int, default=0
        Seed; the same seed gives the same arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), int64
    """
    if not 0 < minority_fraction < 1:
        raise ValueError(f"minority_fraction must be in (0, 1), got {minority_fraction}.")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
    shares = 0.5 ** np.arange(n_classes - 1)
    minority_counts = np.floor(shares / shares.sum() * minority_fraction * n_samples).astype(int)
    minority_counts = np.maximum(minority_counts, 6)
    counts = [n_samples - int(minority_counts.sum()), *minority_counts.tolist()]
    return make_imbalanced(counts, n_features, random_state=random_state)
