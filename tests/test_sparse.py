"""Sparse input is never densified: exact k-NN on the nonzeros, imbalanced-learn's
sparse generation chunk by chunk, the same rows as imbalanced-learn."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

import gpusmote.engine._draws as random_module
from gpusmote import SMOTE
from gpusmote.neighbors._cpu import kneighbors_excluding_self
from gpusmote.neighbors._sparse import sparse_kneighbors_excluding_self
from helpers import assert_same_resample
from test_knn import reference_kneighbors


def sparse_rows(n_rows, n_features, density, dtype=np.float64, seed=0, fmt="csr"):
    rng = np.random.default_rng(seed)
    X = sparse.random(n_rows, n_features, density=density, format="csr", rng=rng)
    if np.dtype(dtype).kind in "iu":
        X.data = rng.integers(1, 1000, X.nnz).astype(np.float64)
    else:
        X.data = rng.normal(size=X.nnz) * 10
    return X.astype(dtype).asformat(fmt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
@pytest.mark.parametrize(("n_rows", "n_features", "density"), [(7, 3, 0.6), (120, 40, 0.2), (300, 3000, 0.01)])
@pytest.mark.parametrize("k", [1, 5])
def test_sparse_knn_equals_dense_knn_and_float64_reference(dtype, n_rows, n_features, density, k):
    X = sparse_rows(n_rows, n_features, density, dtype, seed=n_rows + k)
    got = sparse_kneighbors_excluding_self(X, k, block_bytes=8 * 3 * n_rows)  # several blocks
    np.testing.assert_array_equal(got, kneighbors_excluding_self(X.toarray(), k))
    np.testing.assert_array_equal(got, reference_kneighbors(X.toarray(), k))


def test_sparse_knn_takes_any_layout():
    # CSC, unsorted indices, duplicate entries (summed, as SciPy defines them),
    # explicit zeros: the same table as the dense rows.
    X = sparse_rows(80, 12, 0.3, seed=2)
    coo = X.tocoo()
    half = coo.data / 2
    duplicated = sparse.coo_matrix((np.r_[half, half, np.zeros(5)],
                                    (np.r_[coo.row, coo.row, np.arange(5)],
                                     np.r_[coo.col, coo.col, np.arange(5)])), shape=X.shape)
    expected = kneighbors_excluding_self(X.toarray(), 4)
    for layout in (X.tocsc(), duplicated.tocsr(), duplicated, sparse.csr_array(X)):
        np.testing.assert_array_equal(sparse_kneighbors_excluding_self(layout, 4), expected)
    unsorted = X.copy()
    for r in range(unsorted.shape[0]):
        lo, hi = unsorted.indptr[r], unsorted.indptr[r + 1]
        unsorted.indices[lo:hi] = unsorted.indices[lo:hi][::-1]
        unsorted.data[lo:hi] = unsorted.data[lo:hi][::-1]
    unsorted.has_sorted_indices = False
    np.testing.assert_array_equal(sparse_kneighbors_excluding_self(unsorted, 4), expected)


def test_sparse_knn_duplicates_and_far_rows_fall_back_and_keep_the_tie_rule():
    X = sparse_rows(60, 8, 0.4, seed=3).toarray()
    X[10:20] = X[0]  # ten copies: distance ties at 0
    X[30:40] *= 1e8  # far rows: the float64 approximation's bound is wide
    got = sparse_kneighbors_excluding_self(sparse.csr_matrix(X), 5)
    np.testing.assert_array_equal(got, reference_kneighbors(X, 5))
    assert sparse_kneighbors_excluding_self.last_fallback_rows > 0


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_wide_sparse_smote_equals_imblearn(fmt, dtype, monkeypatch):
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 97)  # several generation chunks
    X = sparse_rows(400, 5000, 0.005, dtype, seed=4, fmt=fmt)
    y = np.repeat([0, 1, 2], [250, 100, 50])
    ours = SMOTE(random_state=5).fit_resample(X, y)
    assert_same_resample(ours, ReferenceSMOTE(random_state=5).fit_resample(X, y))
    assert ours[0].format == fmt


def test_wide_sparse_input_is_never_densified():
    # 300 x 200,000 float64 is 458 MiB dense; the data is 0.4 MiB of nonzeros.
    X = sparse_rows(300, 200_000, 0.0001, seed=6)
    y = np.repeat([0, 1], [200, 100])
    SMOTE(random_state=0).fit_resample(X[180:240], y[180:240])  # compile outside the measurement
    tracemalloc.start()
    try:
        X_res, _ = SMOTE(random_state=0).fit_resample(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert X_res.shape == (400, 200_000)
    assert peak < 32 * 2**20


def test_neighbours_estimator_gets_the_sparse_rows():
    # scikit-learn refuses these metrics on sparse input, for imbalanced-learn and for us.
    X = sparse_rows(120, 10, 0.3, seed=7)
    y = np.repeat([0, 1], [80, 40])
    for metric in ("chebyshev", "seuclidean"):
        estimator = NearestNeighbors(n_neighbors=6, metric=metric)
        with pytest.raises(ValueError, match="not valid for sparse input") as reference:
            ReferenceSMOTE(k_neighbors=estimator).fit_resample(X, y)
        with pytest.raises(ValueError) as ours:
            SMOTE(k_neighbors=estimator).fit_resample(X, y)
        assert str(ours.value) == str(reference.value)
    estimator = NearestNeighbors(n_neighbors=6)
    assert_same_resample(SMOTE(k_neighbors=estimator, random_state=1).fit_resample(X, y),
                         ReferenceSMOTE(k_neighbors=estimator, random_state=1).fit_resample(X, y))


def test_philox_sparse_equals_philox_dense():
    X = sparse_rows(150, 30, 0.2, seed=8)
    y = np.repeat([0, 1], [110, 40])
    X_sparse, y_sparse = SMOTE(rng="philox", random_state=3).fit_resample(X, y)
    X_dense, y_dense = SMOTE(rng="philox", random_state=3).fit_resample(X.toarray(), y)
    np.testing.assert_array_equal(X_sparse.toarray(), X_dense)
    np.testing.assert_array_equal(y_sparse, y_dense)


def test_sparse_runs_on_the_cpu_and_says_so_when_cuda_was_asked_for():
    X = sparse_rows(60, 10, 0.3, seed=9)
    y = np.repeat([0, 1], [45, 15])
    sampler = SMOTE(random_state=0, device="cuda")
    with pytest.warns(UserWarning, match="sparse input is resampled on the CPU"):
        ours = sampler.fit_resample(X, y)
    assert sampler.device_ == "cpu"
    assert_same_resample(ours, ReferenceSMOTE(random_state=0).fit_resample(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SMOTE(random_state=0).fit_resample(X, y)  # device='auto': no warning


def test_sparse_knn_exact_where_float64_distances_underflow():
    from test_knn import _subnormal_distances

    data = _subnormal_distances()
    got = sparse_kneighbors_excluding_self(sparse.csr_matrix(data), 1)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 1))


@pytest.mark.parametrize(("rows", "k"), [([[0.0], [1e154], [-1e154]], 2), ([[1e200], [2e200], [3e200]], 2),
                                         ([[1e154], [2e154], [3e154]], 1)])
def test_sparse_knn_exhaustive_ignores_overflowing_approximations(rows, k):
    # Few rows (every other row is a candidate) with |a|^2 + |b|^2 - 2a.b beyond
    # float64: the candidates are all other rows by index, whatever the approximation.
    data = np.array(rows)
    with np.errstate(all="ignore"):
        got = sparse_kneighbors_excluding_self(sparse.csr_matrix(data), k)
    np.testing.assert_array_equal(got, kneighbors_excluding_self(data, k))
    assert not (got == np.arange(len(data))[:, None]).any()


@pytest.mark.parametrize("power", [-1000, 0, 1000])
def test_sparse_knn_at_extreme_magnitudes_equals_dense(power):
    # Offset rows: most columns have no implicit zero, so their ranges come
    # from the nonzeros alone; the scale (hence the table) is the dense one's.
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4)) + 3.0
    X[rng.random(X.shape) < 0.1] = 0.0
    scaled = np.ldexp(X, power)
    got = sparse_kneighbors_excluding_self(sparse.csr_matrix(scaled), 4)
    np.testing.assert_array_equal(got, kneighbors_excluding_self(scaled, 4))
    np.testing.assert_array_equal(got, reference_kneighbors(X, 4))
