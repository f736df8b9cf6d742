"""Properties that must hold on any input, checked with hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gpusmote import SMOTE
from test_knn import reference_kneighbors


@st.composite
def imbalanced_data(draw):
    k = draw(st.integers(1, 5))
    n_features = draw(st.integers(1, 6))
    counts = [draw(st.integers(k + 1, 40)) for _ in range(draw(st.integers(2, 4)))]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(sum(counts), n_features)) * draw(st.sampled_from([1e-3, 1.0, 1e4]))
    if draw(st.booleans()):
        X = np.round(X, 0)  # coarse grid: many duplicate rows and distance ties
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    strategy = draw(st.sampled_from(["auto", "all", "minority", "not minority"]))
    return X, y, k, strategy, seed


def _on_some_segment(point, base_rows, neighbor_rows, tol):
    """Is point = a + t (b - a), t in [0, 1], for one of the (a, b) pairs?"""
    d = neighbor_rows - base_rows
    dd = np.einsum("ij,ij->i", d, d)
    t = np.where(dd > 0, np.einsum("ij,ij->i", point - base_rows, d) / np.where(dd > 0, dd, 1), 0.0)
    ok_t = (t >= -1e-9) & (t <= 1 + 1e-9)
    residual = np.abs(base_rows + np.clip(t, 0, 1)[:, None] * d - point).max(axis=1)
    return bool(np.any(ok_t & (residual <= tol)))


@settings(max_examples=60, deadline=None)
@given(imbalanced_data())
def test_synthetic_rows_lie_on_neighbour_segments(data):
    X, y, k, strategy, seed = data
    # the index tie rule, the reference's (the default follows scikit-learn's order on ties)
    sampler = SMOTE(k_neighbors=k, sampling_strategy=strategy, random_state=seed % 1000, ties="index")
    X_res, y_res = sampler.fit_resample(X, y)

    # Counts: originals untouched and first; every class reaches its target.
    np.testing.assert_array_equal(X_res[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    labels, before = np.unique(y, return_counts=True)
    after = np.array([np.sum(y_res == c) for c in labels])
    np.testing.assert_array_equal(after - before, [sampler.sampling_strategy_.get(c, 0) for c in labels])
    # Synthetic blocks come class by class, in label order.
    new_labels = y_res[len(y) :]
    assert np.all(np.diff(np.searchsorted(labels, new_labels)) >= 0)

    tol = 1e-9 * (1 + np.abs(X).max())
    for label in np.unique(new_labels):
        X_class = X[y == label]
        nn = reference_kneighbors(X_class, k)  # same tie rule as gpusmote
        base = np.repeat(X_class, k, axis=0)
        neighbors = X_class[nn.ravel()]
        for point in X_res[len(y) :][new_labels == label]:
            assert _on_some_segment(point, base, neighbors, tol)
