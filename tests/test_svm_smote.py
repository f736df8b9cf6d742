"""SVMSMOTE: bit-identical to imbalanced-learn's, on both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SVMSMOTE as Reference
from imblearn.pipeline import Pipeline
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors as SklearnNN
from sklearn.svm import SVC

import gpusmote
from gpusmote.over_sampling import SVMSMOTE
from helpers import assert_same_resample, make_classes


def both(X, y, device="cpu", **params):
    ours = SVMSMOTE(device=device, **params)
    reference = Reference(**params)
    return ours, (ours.fit_resample(X, y), reference.fit_resample(X, y))


def data(counts=(200, 40, 25), n_features=4, dtype=np.float64, seed=3):
    return make_classes(list(counts), n_features=n_features, dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("seed", [0, 7])
def test_dtypes_and_seeds(dtype, seed):
    X, y = data(dtype=dtype, seed=seed + 1)
    ours, result = both(X, y, random_state=seed)
    assert_same_resample(*result)
    assert result[0][0].dtype == dtype
    assert ours.device_ == "cpu" and set(ours.timings_) >= {"svm", "knn", "generate"}


@pytest.mark.parametrize("strategy", ["auto", "minority", "all", {1: 80, 2: 60}, 0.6],
                         ids=str)
def test_every_strategy_form(strategy):
    counts = (200, 40) if isinstance(strategy, float) else (200, 40, 25)
    X, y = data(counts=counts)
    assert_same_resample(*both(X, y, sampling_strategy=strategy, random_state=11)[1])


@pytest.mark.parametrize("out_step", [0.0, 0.2, 1.0])
def test_out_step_extrapolates(out_step):
    X, y = data()
    assert_same_resample(*both(X, y, out_step=out_step, random_state=2)[1])


def test_neighbours_and_svm_as_estimators():
    X, y = data(seed=5)
    params = dict(random_state=4, k_neighbors=SklearnNN(n_neighbors=4),
                  m_neighbors=SklearnNN(n_neighbors=8, algorithm="kd_tree"),
                  svm_estimator=SVC(kernel="linear", C=0.5))
    ours, result = both(X, y, **params)
    assert_same_resample(*result)
    assert ours.svm_estimator_ is not params["svm_estimator"]  # cloned, the user's left unfitted
    assert not hasattr(params["svm_estimator"], "support_")
    assert_same_resample(*both(X, y, random_state=4, k_neighbors=gpusmote.NearestNeighbors(4),
                               m_neighbors=gpusmote.NearestNeighbors(9))[1])


def test_random_state_instance_and_global_state_like_imblearn():
    X, y = data(seed=6)
    ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
    for _ in range(2):  # the SVM, the split and the draws share the instance
        assert_same_resample(SVMSMOTE(random_state=ours_rs).fit_resample(X, y),
                             Reference(random_state=ref_rs).fit_resample(X, y))
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)
    np.random.seed(9)
    ours = SVMSMOTE().fit_resample(X, y)
    np.random.seed(9)
    assert_same_resample(ours, Reference().fit_resample(X, y))


def test_containers():
    X, y = data(seed=8)
    frame = pd.DataFrame(X, columns=list("abcd"))
    assert_same_resample(*both(frame, pd.Series(y, name="t"), random_state=1)[1])
    assert_same_resample(*both(X.tolist(), y.tolist(), random_state=1)[1])
    X_sparse = np.where(np.abs(X) > 0.4, X, 0.0)
    for fmt in ("csr", "csc"):
        ours, result = both(sparse.csr_matrix(X_sparse).asformat(fmt), y, random_state=1)
        assert_same_resample(*result)
        assert result[0][0].format == fmt


class NoSupport(BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_errors_like_imblearn():
    X, y = data()
    for sampler in (SVMSMOTE(svm_estimator=NoSupport()), Reference(svm_estimator=NoSupport())):
        with pytest.raises(RuntimeError, match="required to exposed a `support_` fitted"):
            sampler.fit_resample(X, y)
    # every support vector of class 1 surrounded by class 0: all noise
    rng = np.random.default_rng(0)
    X_noise = np.vstack([rng.normal(size=(300, 2)), rng.normal(scale=0.05, size=(6, 2))])
    y_noise = np.r_[np.zeros(300, int), np.ones(6, int)]
    X_noise[300:] += X_noise[rng.choice(300, 6)]  # inside the majority cloud
    for sampler in (SVMSMOTE(random_state=0, m_neighbors=3),
                    Reference(random_state=0, m_neighbors=3)):
        with pytest.raises(ValueError, match="All support vectors are considered as noise"):
            sampler.fit_resample(X_noise, y_noise)
    for bad in (dict(out_step=1.5), dict(k_neighbors=0), dict(svm_estimator="svc")):
        with pytest.raises(ValueError):
            SVMSMOTE(**bad).fit_resample(X, y)


def test_cuda_engine_equals_imblearn():
    X, y = data(counts=(80, 20), n_features=3, dtype=np.float32, seed=12)
    ours, result = both(X, y, device="cuda", random_state=3)
    assert ours.device_ == "cuda"
    assert_same_resample(*result)


def test_philox_same_rows_on_every_device_and_chunking(monkeypatch):
    import gpusmote.engine._draws as random_module

    X, y = data(counts=(80, 20, 14), n_features=3, dtype=np.float32, seed=13)
    cpu = SVMSMOTE(random_state=5, rng="philox", device="cpu").fit_resample(X, y)
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 7)
    assert_same_resample(cpu, SVMSMOTE(random_state=5, rng="philox", device="cuda").fit_resample(X, y))
    assert_same_resample(cpu, SVMSMOTE(random_state=5, rng="philox", device="cpu").fit_resample(X, y))
    assert not np.array_equal(cpu[0], SVMSMOTE(random_state=5).fit_resample(X, y)[0])


def test_estimator_conventions_and_inputs_untouched():
    X, y = data()
    X_before, y_before = X.copy(), y.copy()
    sampler = SVMSMOTE(random_state=0, out_step=0.3, device="cpu")
    assert clone(sampler).get_params() == sampler.get_params()
    pipeline = Pipeline([("sample", sampler), ("model", LogisticRegression())]).fit(X, y)
    assert pipeline.score(X, y) > 0.5
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
