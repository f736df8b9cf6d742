"""KMeansSMOTE: bit-identical to imbalanced-learn's, on both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import KMeansSMOTE as Reference
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import parametrize_with_checks
from scipy import sparse
from sklearn.base import clone
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors as SklearnNN
from sklearn.utils._param_validation import InvalidParameterError

import gpusmote
from gpusmote.devices._backend import cuda_backend
from gpusmote.over_sampling._cluster import KMeansSMOTE
from helpers import assert_same_resample, make_classes


def both(X, y, device="cpu", **params):
    ours = KMeansSMOTE(device=device, **params)
    reference = Reference(**params)
    return ours, (ours.fit_resample(X, y), reference.fit_resample(X, y))


def data(counts=(240, 60, 45), n_features=4, dtype=np.float64, seed=3):
    """Clustered classes; integer X is the float data scaled up (make_classes'
    integers have no class structure for the k-means to find)."""
    X, y = make_classes(list(counts), n_features=n_features, seed=seed, scale=0.25)
    if np.dtype(dtype).kind in "iu":
        return np.round(X * 1e6).astype(dtype), y
    return X.astype(dtype), y


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("seed", [0, 7])
def test_dtypes_and_seeds(dtype, seed):
    X, y = data(dtype=dtype, seed=seed + 1)
    ours, result = both(X, y, kmeans_estimator=4, random_state=seed)
    assert_same_resample(*result)
    assert result[0][0].dtype == dtype
    assert ours.device_ == "cpu" and set(ours.timings_) >= {"cluster", "knn", "generate", "copy"}


@pytest.mark.parametrize("kmeans", [None, 3, MiniBatchKMeans(n_clusters=5, n_init=1, random_state=2),
                                    KMeans(n_clusters=4, n_init=2, random_state=0)],
                         ids=["default", "int", "minibatch", "kmeans"])
def test_every_kmeans_estimator_form(kmeans):
    X, y = data(seed=4)
    ours, result = both(X, y, kmeans_estimator=kmeans, random_state=5)
    assert_same_resample(*result)
    assert hasattr(ours.kmeans_estimator_, "cluster_centers_")
    if kmeans is not None and not isinstance(kmeans, int):
        assert ours.kmeans_estimator_ is not kmeans and not hasattr(kmeans, "cluster_centers_")


@pytest.mark.parametrize("threshold, exponent", [("auto", "auto"), (0.05, "auto"), (0.2, 1.5),
                                                 ("auto", 0.5), (0.0, 3.0)])
def test_balance_threshold_and_density_exponent(threshold, exponent):
    X, y = data(seed=6)
    ours, result = both(X, y, kmeans_estimator=6, cluster_balance_threshold=threshold,
                        density_exponent=exponent, random_state=1)
    assert_same_resample(*result)
    assert ours.cluster_balance_threshold_ == threshold


def test_one_cluster_takes_every_share():
    X, y = data(seed=7)
    ours, result = both(X, y, kmeans_estimator=1, cluster_balance_threshold=0.9, random_state=2)
    assert_same_resample(*result)
    assert ours.cluster_balance_threshold_ == -np.inf


@pytest.mark.parametrize("k_neighbors", [1, 4, SklearnNN(n_neighbors=4), gpusmote.NearestNeighbors(3)],
                         ids=["1", "4", "sklearn", "gpusmote"])
def test_k_neighbors_forms(k_neighbors):
    X, y = data(seed=8)
    ours, result = both(X, y, k_neighbors=k_neighbors, kmeans_estimator=3, random_state=3)
    assert_same_resample(*result)
    if not isinstance(k_neighbors, int):
        assert ours.nn_k_ is not k_neighbors


@pytest.mark.parametrize("strategy", ["auto", "minority", "not minority", "all", {1: 150, 2: 90}, 0.6],
                         ids=str)
def test_every_strategy_form(strategy):
    counts = (240, 60) if isinstance(strategy, float) else (240, 60, 45)
    X, y = data(counts=counts, seed=9)
    ours, ((X_ours, y_ours), reference) = both(X, y, sampling_strategy=strategy,
                                               kmeans_estimator=6, random_state=11)
    assert_same_resample((X_ours, y_ours), reference)
    # ceil per cluster: at least what was asked, maybe a few more
    for label, n_samples in ours.sampling_strategy_.items():
        assert 0 <= np.sum(y_ours == label) - np.sum(y == label) - n_samples < 3


def test_random_state_instance_and_global_state_like_imblearn():
    X, y = data(seed=10)
    for kmeans in (None, 4, KMeans(n_clusters=3, n_init=1, random_state=0)):
        ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
        for _ in range(2):  # the k-means and the draws share the instance
            assert_same_resample(
                KMeansSMOTE(random_state=ours_rs, kmeans_estimator=kmeans).fit_resample(X, y),
                Reference(random_state=ref_rs, kmeans_estimator=kmeans).fit_resample(X, y))
        assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)
    results, next_draws = [], []
    for sampler in (KMeansSMOTE, Reference):  # None: NumPy's global RandomState
        np.random.seed(9)
        results.append(sampler(kmeans_estimator=3).fit_resample(X, y))
        next_draws.append(np.random.randint(1 << 30))
    assert_same_resample(*results)
    assert next_draws[0] == next_draws[1]


def test_no_valid_cluster_error():
    X, y = data(seed=11)
    message = ("No clusters found with sufficient samples of class 1. Try lowering the "
               "cluster_balance_threshold or increasing the number of clusters.")
    for sampler in (KMeansSMOTE, Reference):
        with pytest.raises(RuntimeError) as error:
            sampler(kmeans_estimator=3, cluster_balance_threshold=0.95, random_state=0).fit_resample(X, y)
        assert str(error.value) == message
        with pytest.raises(RuntimeError, match="No clusters found"):
            sampler(kmeans_estimator=3, k_neighbors=100, random_state=0).fit_resample(X, y)


def test_one_cluster_is_smote():
    """imbalanced-learn's own identity: one cluster, no threshold = SMOTE."""
    X, y = data(seed=12, dtype=np.float32)
    for seed in (0, 3):
        params = dict(kmeans_estimator=1, cluster_balance_threshold=0.0, k_neighbors=5, random_state=seed)
        ours, result = both(X, y, **params)
        assert_same_resample(*result)
        assert_same_resample(result[0], gpusmote.SMOTE(k_neighbors=5, random_state=seed).fit_resample(X, y))


def test_containers():
    X, y = data(seed=13)
    frame = pd.DataFrame(X, columns=list("abcd"))
    ours, result = both(frame, pd.Series(y, name="t"), kmeans_estimator=3, random_state=1)
    assert_same_resample(*result)
    assert list(ours.feature_names_in_) == list("abcd") and ours.n_features_in_ == 4
    assert_same_resample(*both(X.tolist(), y.tolist(), kmeans_estimator=3, random_state=1)[1])
    X_sparse = np.where(np.abs(X) > 0.3, X, 0.0)
    for make in (sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array):
        for k_neighbors in (2, SklearnNN(n_neighbors=3)):
            ours, result = both(make(X_sparse), y, kmeans_estimator=3, k_neighbors=k_neighbors,
                                random_state=1)
            assert_same_resample(*result)
            assert type(result[0][0]) is type(make(X_sparse))


def test_n_jobs_goes_to_pairwise_distances():
    X, y = data(seed=14)
    ours, result = both(X, y, kmeans_estimator=3, n_jobs=1, random_state=0)
    assert_same_resample(*result)
    assert ours.get_params()["n_jobs"] == 1


def test_parameter_errors_like_imblearn():
    X, y = data()
    for bad in (dict(kmeans_estimator=0), dict(kmeans_estimator="k"), dict(cluster_balance_threshold="x"),
                dict(density_exponent="x"), dict(n_jobs=1.5), dict(k_neighbors=0), dict(rng="mt")):
        with pytest.raises(InvalidParameterError):
            KMeansSMOTE(**bad).fit_resample(X, y)


def test_cuda_engine_equals_imblearn_and_cpu():
    X, y = data(counts=(60, 20), n_features=3, dtype=np.float32, seed=15)
    ours, result = both(X, y, device="cuda", kmeans_estimator=3, random_state=3)
    assert ours.device_ == "cuda"
    assert_same_resample(*result)
    assert_same_resample(result[0], KMeansSMOTE(device="cpu", kmeans_estimator=3, random_state=3)
                         .fit_resample(X, y))
    ours_rs, ref_rs = np.random.RandomState(1), np.random.RandomState(1)
    assert_same_resample(KMeansSMOTE(device="cuda", kmeans_estimator=2, random_state=ours_rs).fit_resample(X, y),
                         Reference(kmeans_estimator=2, random_state=ref_rs).fit_resample(X, y))
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)


def test_philox_same_rows_on_every_device_and_chunking(monkeypatch):
    import gpusmote.engine._draws as draws_module

    X, y = data(counts=(60, 20, 16), n_features=3, dtype=np.float32, seed=16)
    params = dict(random_state=5, rng="philox", kmeans_estimator=2, cluster_balance_threshold=0.0)
    cpu = KMeansSMOTE(device="cpu", **params).fit_resample(X, y)
    monkeypatch.setattr(draws_module, "DRAW_CHUNK_ROWS", 7)
    assert_same_resample(cpu, KMeansSMOTE(device="cuda", **params).fit_resample(X, y))
    assert_same_resample(cpu, KMeansSMOTE(device="cpu", **params).fit_resample(X, y))
    assert not np.array_equal(cpu[0], KMeansSMOTE(random_state=5, kmeans_estimator=2,
                                                  cluster_balance_threshold=0.0).fit_resample(X, y)[0])


def test_estimator_conventions_and_inputs_untouched():
    X, y = data()
    X_before, y_before = X.copy(), y.copy()
    sampler = KMeansSMOTE(random_state=0, kmeans_estimator=3, device="cpu")
    assert clone(sampler).get_params() == sampler.get_params()
    assert KMeansSMOTE().get_params()["k_neighbors"] == 2
    pipeline = Pipeline([("sample", sampler), ("model", LogisticRegression())]).fit(X, y)
    assert pipeline.score(X, y) > 0.5
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("rng", ["imblearn", "philox"])
def test_device_input_path_equals_fit_resample(rng):
    """CuPy / CUDA-tensor input (X kept in backend memory; simulated here)."""
    X, y = data(counts=(60, 20, 16), n_features=3, dtype=np.float32, seed=17)
    params = dict(random_state=4, rng=rng, kmeans_estimator=3)
    expected = KMeansSMOTE(device="cpu", **params).fit_resample(X, y)
    X_res, y_res = KMeansSMOTE(device="cuda", **params)._resample_device_arrays(
        X, y, cuda_backend(simulated=True))
    np.testing.assert_array_equal(X_res, expected[0], strict=True)
    np.testing.assert_array_equal(y_res, expected[1], strict=True)


# imbalanced-learn runs its checks on KMeansSMOTE with 12 clusters (by name,
# in some checks only): the same here, for every check.
@parametrize_with_checks([KMeansSMOTE(random_state=0, kmeans_estimator=12)])
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)
