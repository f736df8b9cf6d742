"""gpusmote.NearestNeighbors: exact, scikit-learn-shaped, accepted by imbalanced-learn."""

from __future__ import annotations

import re

import numpy as np
import pytest
from imblearn.over_sampling import ADASYN, SMOTE as ReferenceSMOTE, BorderlineSMOTE
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors as SklearnNearestNeighbors

import gpusmote.neighbors._cuda as knn_cuda
from gpusmote import SMOTE, NearestNeighbors
from helpers import assert_same_resample, make_classes
from test_knn import reference_kneighbors, sequential_sqdist


def reference_queries(points, queries, k):
    dist = sequential_sqdist(queries, points)
    index = np.broadcast_to(np.arange(len(points)), dist.shape)
    return np.lexsort((index, dist), axis=1)[:, :k]


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_kneighbors_three_ways(device, monkeypatch):
    monkeypatch.setattr(knn_cuda, "CUDA_QUERY_BLOCK_ROWS", 16)
    rng = np.random.default_rng(0)
    points = np.round(rng.normal(size=(80, 3)), 1)  # coarse: duplicates and ties
    queries = np.vstack([points[:10], rng.normal(size=(25, 3))])
    nn = NearestNeighbors(n_neighbors=4, device=device, ties="index").fit(points)
    np.testing.assert_array_equal(nn.kneighbors(return_distance=False), reference_kneighbors(points, 4))
    np.testing.assert_array_equal(nn.kneighbors(queries, return_distance=False), reference_queries(points, queries, 4))
    own = nn.kneighbors(points, return_distance=False)  # the fitted array itself: each row first
    np.testing.assert_array_equal(own[:, 0], np.arange(len(points)))
    np.testing.assert_array_equal(own[:, 1:], reference_kneighbors(points, 3))


def test_distances_are_exact_and_keep_float32():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(60, 5)).astype(np.float32)
    queries = rng.normal(size=(9, 5)).astype(np.float32)
    distances, indices = NearestNeighbors(n_neighbors=3).fit(points).kneighbors(queries)
    expected = np.linalg.norm(queries[:, None].astype(np.float64) - points[indices].astype(np.float64), axis=2)
    assert distances.dtype == np.float32
    np.testing.assert_array_equal(distances, expected.astype(np.float32))


@pytest.mark.parametrize("mode", ["connectivity", "distance"])
def test_graph_matches_scikit_learn_on_untied_data(mode):
    rng = np.random.default_rng(2)
    points, queries = rng.normal(size=(70, 4)), rng.normal(size=(12, 4))
    ours = NearestNeighbors(n_neighbors=5).fit(points).kneighbors_graph(queries, mode=mode)
    theirs = SklearnNearestNeighbors(n_neighbors=5).fit(points).kneighbors_graph(queries, mode=mode)
    assert ours.shape == theirs.shape and (ours != 0).nnz == (theirs != 0).nnz
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-12)


def test_imblearn_smote_with_our_neighbours_is_our_smote_even_with_duplicates():
    X, y = make_classes([120, 30, 20], n_features=3, seed=5)
    X = np.round(X, 1)  # many duplicate rows and distance ties
    theirs = ReferenceSMOTE(random_state=4, k_neighbors=NearestNeighbors(n_neighbors=6, ties="index")).fit_resample(X, y)
    assert_same_resample(theirs, SMOTE(random_state=4, ties="index").fit_resample(X, y))


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_tied_queries_get_scikit_learns_answer(device):
    rng = np.random.default_rng(0)
    points = np.round(rng.normal(size=(80, 3)), 1)  # coarse: duplicates and ties
    queries = np.vstack([points[:10], np.round(rng.normal(size=(25, 3)), 1)])
    ours = NearestNeighbors(n_neighbors=4, device=device).fit(points)
    theirs = SklearnNearestNeighbors(n_neighbors=4).fit(points)
    for X in (None, points, queries):
        for got, expected in zip(ours.kneighbors(X), theirs.kneighbors(X)):
            np.testing.assert_array_equal(got, expected, strict=True)


def test_imblearn_samplers_given_it_match_their_defaults_on_tied_data():
    """The issue's case: imbalanced-learn's ADASYN given gpusmote's estimator
    returned another row count on duplicated data."""
    X, y = make_classes([150, 40], n_features=3, seed=6)
    X = np.round(X, 0)
    assert_same_resample(
        ADASYN(random_state=1, n_neighbors=NearestNeighbors(n_neighbors=6)).fit_resample(X, y),
        ADASYN(random_state=1).fit_resample(X, y),
    )
    assert_same_resample(
        ReferenceSMOTE(random_state=1, k_neighbors=NearestNeighbors(n_neighbors=6)).fit_resample(X, y),
        ReferenceSMOTE(random_state=1).fit_resample(X, y),
    )


def test_imblearn_samplers_accept_it_and_match_their_defaults_on_untied_data():
    X, y = make_classes([150, 40], n_features=4, seed=6)
    assert_same_resample(
        ADASYN(random_state=1, n_neighbors=NearestNeighbors(n_neighbors=6)).fit_resample(X, y),
        ADASYN(random_state=1).fit_resample(X, y),
    )
    assert_same_resample(
        BorderlineSMOTE(random_state=1, k_neighbors=NearestNeighbors(n_neighbors=6),
                        m_neighbors=NearestNeighbors(n_neighbors=11)).fit_resample(X, y),
        BorderlineSMOTE(random_state=1).fit_resample(X, y),
    )


def test_errors_and_params():
    nn = NearestNeighbors(n_neighbors=3, device="cpu")
    assert clone(nn).get_params() == {"n_neighbors": 3, "device": "cpu", "ties": "imblearn"}
    nn.fit(np.zeros((4, 2)) + np.arange(4)[:, None])
    with pytest.raises(ValueError, match="n_neighbors < n_samples_fit, but n_neighbors = 4, n_samples_fit = 4"):
        nn.kneighbors(n_neighbors=4)
    with pytest.raises(ValueError, match="n_neighbors = 5, n_samples_fit = 4"):
        nn.kneighbors(np.zeros((2, 2)), n_neighbors=5)
    with pytest.raises(ValueError, match="X has 3 features"):
        nn.kneighbors(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="Unsupported mode"):
        nn.kneighbors_graph(mode="weird")


_FITTED = np.arange(8.0).reshape(4, 2) ** 2


@pytest.mark.parametrize(("X", "n_neighbors"), [
    (None, 2.7), (None, 2.0), (None, np.float64(3.0)), (None, "3"),  # not an integer: TypeError
    (None, 0), (None, -1), (None, -0.5), (_FITTED[:2] + 0.5, 0),  # not positive: ValueError
    (None, 4), (None, 5), (_FITTED, 5), (_FITTED[:3] + 0.5, 5),  # more than the fitted rows
])
def test_kneighbors_argument_errors_are_scikit_learn_s(X, n_neighbors):
    """The same exception type and message as scikit-learn's estimator, in the
    same order of checks (with ``X=None`` each row is not its own neighbour, so
    ``n_neighbors`` must stay below the full ``n_samples_fit``)."""
    theirs = SklearnNearestNeighbors(n_neighbors=2).fit(_FITTED)
    with pytest.raises(Exception) as expected:
        theirs.kneighbors(X, n_neighbors=n_neighbors)
    ours = NearestNeighbors(n_neighbors=2, device="cpu").fit(_FITTED)
    with pytest.raises(expected.type, match=re.escape(str(expected.value))):
        ours.kneighbors(X, n_neighbors=n_neighbors)


def test_kneighbors_accepts_integers_of_any_kind():
    ours = NearestNeighbors(device="cpu").fit(_FITTED)
    theirs = SklearnNearestNeighbors().fit(_FITTED)
    for n_neighbors in (3, np.int64(3), np.uint8(3)):
        np.testing.assert_array_equal(ours.kneighbors(n_neighbors=n_neighbors, return_distance=False),
                                      theirs.kneighbors(n_neighbors=n_neighbors, return_distance=False))
