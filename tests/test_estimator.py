"""scikit-learn / imbalanced-learn conventions: params, clone, pipelines."""

from __future__ import annotations

import numpy as np
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from gpusmote import SMOTE, SMOTEENN, SMOTETomek
from gpusmote.over_sampling import ADASYN, SMOTENC, SVMSMOTE, BorderlineSMOTE
from gpusmote.under_sampling import EditedNearestNeighbours, TomekLinks
from helpers import make_classes


def _expected_failures(estimator) -> dict[str, str]:
    # imbalanced-learn's own SMOTENC fails it the same way (and is skipped by its suite)
    if isinstance(estimator, SMOTENC):
        return {"check_samplers_string": "its one column is categorical: SMOTE-NC needs a numerical one "
                                         "(imbalanced-learn's ValueError)"}
    return {}


# With imbalanced-learn's own test parameters (its utils/_test_common/instance_generator.py);
# SMOTEN, KMeansSMOTE and RandomOverSampler are checked in their own test files.
@parametrize_with_checks([SMOTE(random_state=0), ADASYN(random_state=42), BorderlineSMOTE(random_state=42),
                          SVMSMOTE(random_state=42), SMOTENC(categorical_features=[0], random_state=42),
                          EditedNearestNeighbours(), TomekLinks(), SMOTEENN(random_state=42),
                          SMOTETomek(random_state=42)],
                         expected_failed_checks=_expected_failures)
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


def test_constructor_only_stores_params():
    nn_like = object()
    sampler = SMOTE(sampling_strategy="minority", random_state=3, k_neighbors=nn_like, device="cpu", rng="philox")
    assert sampler.get_params() == {
        "sampling_strategy": "minority",
        "random_state": 3,
        "k_neighbors": nn_like,
        "device": "cpu",
        "rng": "philox",
        "ties": "imblearn",
    }
    assert not [name for name in vars(sampler) if name.endswith("_")]


def test_clone_and_set_params_round_trip():
    sampler = SMOTE(random_state=1).set_params(k_neighbors=3)
    copy = clone(sampler)
    assert copy.get_params() == sampler.get_params() and copy is not sampler


def test_fitted_attributes():
    X, y = make_classes([50, 12, 9], n_features=3)
    sampler = SMOTE(random_state=0).fit(X, y)
    assert sampler.sampling_strategy_ == {1: 38, 2: 41}
    sampler.fit_resample(X, y)
    assert sampler.n_features_in_ == 3
    assert sampler.k_neighbors_ == 5
    # imbalanced-learn's nn_k_ counts the row itself; ours is the exact search as an estimator
    assert sampler.nn_k_.get_params() == {"n_neighbors": 6, "device": "cpu", "ties": "imblearn"}
    table = sampler.nn_k_.fit(X[y == 2]).kneighbors(return_distance=False)
    from gpusmote.neighbors._cpu import kneighbors_excluding_self

    np.testing.assert_array_equal(table, kneighbors_excluding_self(X[y == 2], 6))
    assert sampler.device_ == "cpu"
    assert set(sampler.timings_) == {"copy", "knn", "generate"}
    assert all(seconds >= 0 for seconds in sampler.timings_.values())


def test_pipeline_and_grid_search():
    X, y = make_classes([200, 30], n_features=4, seed=4)
    pipeline = Pipeline([("smote", SMOTE(random_state=0)), ("clf", LogisticRegression())])
    search = GridSearchCV(
        pipeline,
        {"smote__k_neighbors": [3, 5], "smote__sampling_strategy": [0.5, 1.0]},
        cv=StratifiedKFold(3),
        scoring="average_precision",
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"smote__k_neighbors", "smote__sampling_strategy"}
    assert np.isfinite(search.best_score_)
    # The pipeline resamples only when fitting: predict sees the data as given.
    assert search.predict(X).shape == y.shape


def test_phase_timings_wait_for_the_device():
    # A GPU backend's work is asynchronous: each phase ends with the backend's
    # synchronize, inside the timed block, so the time lands in its own phase.
    import time

    from gpusmote.devices._backend import CPU, Backend
    from gpusmote.engine._timing import PhaseTimes

    times = PhaseTimes()
    with times.phase("generate", lambda: time.sleep(0.05)):
        pass
    assert times["generate"] >= 0.05

    calls = []

    class RecordingBackend(Backend):
        def synchronize(self):
            calls.append(len(calls))

    X, y = make_classes([50, 12, 9], n_features=3)
    sampler = SMOTE(random_state=0).fit(X, y)
    backend = RecordingBackend(CPU.name, CPU.xp, CPU.kneighbors, CPU.interpolate, CPU.kneighbors_of_queries)
    X_res, _ = sampler._resample(X, y, backend)
    assert len(calls) == 1 + 2 * 2  # copy, then k-NN and generation of each of 2 classes
    np.testing.assert_array_equal(X_res, SMOTE(random_state=0).fit_resample(X, y)[0])
