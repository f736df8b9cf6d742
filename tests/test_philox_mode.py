"""SMOTE(rng="philox"): the counter-based stream, end to end."""

from __future__ import annotations

import numpy as np
import pytest

import gpusmote.engine._draws as random_module
from gpusmote import SMOTE
from helpers import assert_same_resample, make_classes
from test_knn import reference_kneighbors
from test_properties import _on_some_segment


def philox(**params):
    return SMOTE(rng="philox", **params)


def test_int_seed_reproducible_and_seed_sensitive():
    X, y = make_classes([90, 25, 14], n_features=4, dtype=np.float32, seed=41)
    first = philox(random_state=7).fit_resample(X, y)
    assert_same_resample(first, philox(random_state=7).fit_resample(X, y))
    other = philox(random_state=8).fit_resample(X, y)
    assert not np.array_equal(first[0][len(X):], other[0][len(X):])
    # a different stream than imbalanced-learn's
    assert not np.array_equal(first[0][len(X):], SMOTE(random_state=7).fit_resample(X, y)[0][len(X):])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_cpu_and_cuda_give_identical_rows(dtype):
    X, y = make_classes([60, 20, 12], n_features=3, dtype=dtype, seed=42)
    assert_same_resample(
        philox(random_state=3, device="cuda").fit_resample(X, y),
        philox(random_state=3, device="cpu").fit_resample(X, y),
    )


def test_chunking_never_changes_rows(monkeypatch):
    X, y = make_classes([200, 30, 20], n_features=5, seed=43)
    whole = philox(random_state=1).fit_resample(X, y)
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 17)
    assert_same_resample(philox(random_state=1).fit_resample(X, y), whole)


def test_a_class_rows_do_not_depend_on_which_other_classes_are_resampled():
    X, y = make_classes([100, 30, 20], n_features=4, seed=44)
    everything = philox(random_state=5, sampling_strategy="all").fit_resample(X, y)
    only_two = philox(random_state=5, sampling_strategy={2: 100}).fit_resample(X, y)
    rows_of_2 = lambda res: res[0][len(X):][res[1][len(X):] == 2]
    np.testing.assert_array_equal(rows_of_2(everything), rows_of_2(only_two))


def test_random_state_instance_gives_a_reproducible_key():
    X, y = make_classes([80, 20], n_features=3, seed=45)
    a = philox(random_state=np.random.RandomState(0)).fit_resample(X, y)
    b = philox(random_state=np.random.RandomState(0)).fit_resample(X, y)
    assert_same_resample(a, b)


def test_rows_lie_on_neighbour_segments_and_counts_match():
    X, y = make_classes([150, 40, 25], n_features=4, seed=46)
    sampler = philox(random_state=9, k_neighbors=3)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [150, 150, 150]
    for label in (1, 2):
        X_class = X[y == label]
        nn = reference_kneighbors(X_class, 3)
        base, neighbors = np.repeat(X_class, 3, axis=0), X_class[nn.ravel()]
        for point in X_res[len(X):][y_res[len(X):] == label]:
            assert _on_some_segment(point, base, neighbors, 1e-9)
