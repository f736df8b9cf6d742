"""KMeansSMOTE's clustering through gpusmote.over_sampling._minibatch_draws:
the same draws as NumPy's RandomState.choice and the same fitted
MiniBatchKMeans as its own fit_predict, the random state consumed alike."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans

from gpusmote.over_sampling._minibatch_draws import CdfCachingRandomState, fit_predict


def _calls(rs, p32, p64):
    """A mixed sequence of choice calls, as MiniBatchKMeans and k-means++ make them."""
    out = [rs.choice(1000, 64, p=p32) for _ in range(3)]
    out.append(rs.choice(1000, 5, replace=False))
    out.append(rs.choice(1000, 7, p=p64))  # another p: its own distribution
    out.append(rs.choice(1000, 64, p=p32))
    out.append(np.atleast_1d(rs.choice(1000, p=p32)))  # scalar draw
    out.append(rs.choice(1000, (2, 3), p=p32))  # a shape
    out.append(rs.choice(np.arange(1000) * 2, 9, p=p32))  # an array population
    out.append(rs.choice(1000, 64, p=list(p64)))  # a list
    out.append(rs.choice(1000, 64, p=p32))
    return out


def test_choice_equals_randomstate_choice_and_consumes_the_same():
    rng = np.random.default_rng(0)
    weights = rng.random(1000)
    p32 = (weights / weights.sum()).astype(np.float32)
    p64 = weights[::-1] / weights.sum()
    theirs, ours = np.random.RandomState(5), CdfCachingRandomState(5)
    for a, b in zip(_calls(theirs, p32, p64), _calls(ours, p32, p64), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert theirs.randint(1 << 30) == ours.randint(1 << 30)


@pytest.mark.parametrize("p, message", [
    (np.full(10, 0.2), "probabilities do not sum to 1"),
    (np.full(9, 1 / 9), "'a' and 'p' must have same size"),
    (np.r_[-0.1, np.full(9, 1.1 / 9)], "probabilities are not non-negative"),
])
def test_bad_p_raises_numpys_errors(p, message):
    with pytest.raises(ValueError, match=message):
        CdfCachingRandomState(0).choice(10, 4, p=p)


def _data(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(5, 6)) * 4
    return (centers[rng.integers(0, 5, n)] + rng.normal(size=(n, 6))).astype(np.float32)


def _same_fit(a, b):
    for name in ("labels_", "cluster_centers_", "n_steps_", "n_iter_", "inertia_"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("seed", [0, 3])
def test_fit_predict_is_minibatch_kmeans_own(seed):
    X = _data(seed=seed)
    theirs, ours = MiniBatchKMeans(n_clusters=6, random_state=seed), MiniBatchKMeans(n_clusters=6, random_state=seed)
    assert np.array_equal(fit_predict(ours, X), theirs.fit_predict(X))
    _same_fit(ours, theirs)
    assert ours.random_state == seed  # the parameter, not the caching state


def test_random_state_instance_and_global_state_end_alike():
    X = _data(3000)
    rs_theirs, rs_ours = np.random.RandomState(9), np.random.RandomState(9)
    theirs, ours = MiniBatchKMeans(random_state=rs_theirs), MiniBatchKMeans(random_state=rs_ours)
    assert np.array_equal(fit_predict(ours, X), theirs.fit_predict(X))
    assert ours.random_state is rs_ours and rs_ours.randint(1 << 30) == rs_theirs.randint(1 << 30)
    np.random.seed(4)
    expected = MiniBatchKMeans(random_state=None).fit_predict(X)
    after_theirs = np.random.randint(1 << 30)
    np.random.seed(4)
    assert np.array_equal(fit_predict(MiniBatchKMeans(random_state=None), X), expected)
    assert np.random.randint(1 << 30) == after_theirs


def test_other_estimators_and_subclasses_called_as_given(monkeypatch):
    X = _data(2000)
    called = []

    class Recording(MiniBatchKMeans):  # a subclass may change p: not ours to assume
        def fit_predict(self, X, y=None, sample_weight=None):
            called.append(type(self.random_state))
            return super().fit_predict(X)

    fit_predict(Recording(random_state=0), X)
    kmeans = KMeans(n_clusters=3, random_state=0, n_init=1)
    monkeypatch.setattr(kmeans, "fit_predict", lambda X: called.append("kmeans") or np.zeros(len(X)))
    fit_predict(kmeans, X)
    assert called == [int, "kmeans"]
