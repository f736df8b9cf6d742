"""gpusmote's ADASYN against imbalanced-learn's: bit-identical output, the same
counts, draws, errors and fitted attributes. The CUDA engine runs under Numba's
simulator here, so its cases are kept tiny."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import ADASYN as ReferenceADASYN
from imblearn.pipeline import Pipeline
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors as SklearnNeighbors

import gpusmote.engine._draws as random_module
from gpusmote import NearestNeighbors
from gpusmote.over_sampling._adasyn import ADASYN, repeated_rows
from helpers import assert_same_resample, make_classes

STRATEGIES = [
    "auto",
    "minority",
    "not minority",
    "not majority",
    "all",
    {1: 60, 2: 45},
    {0: 150, 2: 60},
    {1: 50.0},  # float targets: imbalanced-learn's ADASYN takes them (np.rint)
    lambda y: {c: int(np.sum(y == c)) * 2 for c in (1, 2)},
]


def both(X, y, device="cpu", **params):
    ours = ADASYN(device=device, **params).fit_resample(X, y)
    reference = ReferenceADASYN(**params).fit_resample(X, y)
    return ours, reference


def separated(counts, n_features=3, gap=50.0, seed=0):
    """Classes far apart: no row has a neighbour of another class."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    return rng.normal(size=(len(y), n_features)) + y[:, None] * gap, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("n_features", [2, 7, 24])
def test_dtypes_and_widths(dtype, n_features):
    X, y = make_classes([150, 40, 25], n_features=n_features, dtype=dtype, seed=n_features)
    ours, reference = both(X, y, random_state=7)
    assert_same_resample(ours, reference)
    assert ours[0].dtype == X.dtype


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: getattr(s, "__name__", str(s)))
def test_every_strategy_form(strategy):
    X, y = make_classes([120, 30, 18], n_features=6, dtype=np.float32, seed=3)
    ours, reference = both(X, y, sampling_strategy=strategy, random_state=11)
    assert_same_resample(ours, reference)


@pytest.mark.parametrize("ratio", [0.3, 0.77, 1.0])
def test_float_ratio_binary(ratio):
    X, y = make_classes([200, 21], n_features=5, dtype=np.float32, seed=5)
    assert_same_resample(*both(X, y, sampling_strategy=ratio, random_state=2))


def test_counts_are_adasyns_not_the_request():
    X, y = make_classes([300, 40, 25], n_features=4, seed=30)
    ours, reference = both(X, y, random_state=0)
    assert_same_resample(ours, reference)
    counts = np.bincount(ours[1])
    assert list(counts) == list(np.bincount(reference[1]))
    assert list(counts[1:]) != [300, 300]  # rounding moved at least one count


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("seed", [0, 123456789])
def test_n_neighbors_and_seeds(k, seed):
    X, y = make_classes([90, 20, 14], n_features=8, dtype=np.float64, seed=seed % 97)
    assert_same_resample(*both(X, y, n_neighbors=k, random_state=seed))


@pytest.mark.parametrize("estimator", [SklearnNeighbors(n_neighbors=4, algorithm="kd_tree"),
                                       NearestNeighbors(n_neighbors=6, device="cpu")],
                         ids=["sklearn", "gpusmote"])
def test_neighbors_estimator_like_imblearn(estimator):
    X, y = make_classes([80, 20, 12], n_features=5, seed=17)
    ours, reference = both(X, y, n_neighbors=estimator, random_state=3)
    assert_same_resample(ours, reference)


def test_estimator_and_int_agree():
    X, y = make_classes([80, 20, 12], n_features=5, seed=18)
    with_estimator = ADASYN(n_neighbors=NearestNeighbors(6), random_state=1, device="cpu")
    with_int = ADASYN(n_neighbors=5, random_state=1, device="cpu")
    assert_same_resample(with_estimator.fit_resample(X, y), with_int.fit_resample(X, y))


def test_random_state_instance_continues_like_imblearn():
    X, y = make_classes([80, 20, 12], n_features=5, seed=18)
    ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
    ours_sampler = ADASYN(random_state=ours_rs, device="cpu")
    ref_sampler = ReferenceADASYN(random_state=ref_rs)
    first = (ours_sampler.fit_resample(X, y), ref_sampler.fit_resample(X, y))
    second = (ours_sampler.fit_resample(X, y), ref_sampler.fit_resample(X, y))
    assert_same_resample(*first)
    assert_same_resample(*second)
    assert not np.array_equal(first[0][0], second[0][0])  # the stream moved on
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)


def test_global_random_state_when_none():
    X, y = make_classes([80, 20, 15], n_features=5, seed=19)
    np.random.seed(99)
    ours = ADASYN(device="cpu").fit_resample(X, y)
    ours_next = np.random.randint(1 << 30)
    np.random.seed(99)
    reference = ReferenceADASYN().fit_resample(X, y)
    assert_same_resample(ours, reference)
    assert ours_next == np.random.randint(1 << 30)


def test_int_seed_is_one_stream_for_all_classes():
    """Unlike SMOTE's, an int seed is not restarted per class: class 2 draws
    after class 1, so its rows depend on whether class 1 is over-sampled."""
    X, y = make_classes([80, 20, 20], n_features=4, seed=23)
    with_1 = both(X, y, sampling_strategy={1: 80, 2: 80}, random_state=5)
    alone = both(X, y, sampling_strategy={2: 80}, random_state=5)
    assert_same_resample(*with_1)
    assert_same_resample(*alone)
    rows_of_2 = lambda res: res[0][len(X):][res[1][len(X):] == 2]
    assert not np.array_equal(rows_of_2(with_1[0]), rows_of_2(alone[0]))
    assert_same_resample(with_1[0], ADASYN(sampling_strategy={1: 80, 2: 80}, random_state=5,
                                           device="cpu").fit_resample(X, y))


@pytest.mark.parametrize("chunk,keep", [(7, None), (13, 20)])
def test_chunked_draws_are_imblearns(monkeypatch, chunk, keep):
    """Chunked draws (and integers drawn a second time beyond the kept ones)
    give imbalanced-learn's stream, classes in order on one RandomState."""
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", chunk)
    if keep is not None:
        monkeypatch.setattr(random_module, "KEEP_INDEX_ROWS", keep)
    X, y = make_classes([200, 30, 25], n_features=6, dtype=np.float32, seed=21)
    rs_ours, rs_ref = np.random.RandomState(8), np.random.RandomState(8)
    assert_same_resample(ADASYN(random_state=rs_ours, device="cpu").fit_resample(X, y),
                         ReferenceADASYN(random_state=rs_ref).fit_resample(X, y))
    assert rs_ours.randint(1 << 30) == rs_ref.randint(1 << 30)


def test_string_labels_keep_order_and_dtype():
    X, y = make_classes([80, 20, 12], n_features=4, seed=8)
    labels = np.array(["zebra", "ant", "moose"])[y]
    ours, reference = both(X, labels, random_state=4)
    assert_same_resample(ours, reference)
    assert ours[1].dtype == labels.dtype


def test_pandas_in_pandas_out():
    X, y = make_classes([70, 20, 13], n_features=4, dtype=np.float32, seed=12)
    frame = pd.DataFrame(X, columns=["amount", "age", "v1", "v2"], index=np.arange(100, 100 + len(X)))
    frame["v2"] = frame["v2"].astype(np.float64)
    series = pd.Series(y, name="is_fraud", index=frame.index)
    ours, reference = both(frame, series, random_state=3)
    assert_same_resample(ours, reference)
    assert list(ours[0].columns) == ["amount", "age", "v1", "v2"]


def test_python_lists():
    X, y = make_classes([40, 12], n_features=3, seed=14)
    assert_same_resample(*both(X.tolist(), y.tolist(), random_state=5))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_same_format(fmt, dtype):
    X, y = make_classes([90, 25, 16], n_features=12, dtype=dtype, seed=15)
    X[np.random.default_rng(0).random(X.shape) < 0.6] = 0
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    ours, reference = both(X_sparse, y, random_state=6)
    assert_same_resample(ours, reference)
    assert ours[0].format == fmt


def test_sparse_with_estimator():
    X, y = make_classes([60, 20], n_features=6, seed=16)
    X_sparse = sparse.csr_matrix(np.where(X > 0.3, X, 0))
    assert_same_resample(*both(X_sparse, y, n_neighbors=SklearnNeighbors(n_neighbors=4), random_state=1))


def _reference_error(X, y, **params):
    with pytest.raises(Exception) as info:
        ReferenceADASYN(**params).fit_resample(X, y)
    return info.value


def test_no_other_class_neighbour_error():
    X, y = separated([60, 20])
    reference = _reference_error(X, y, random_state=0)
    with pytest.raises(RuntimeError, match=re.escape(str(reference))):
        ADASYN(random_state=0, device="cpu").fit_resample(X, y)
    assert type(reference) is RuntimeError


def test_nothing_to_generate_error():
    # One row requested, spread thinly over 40 rows: every count rounds to 0.
    X, y = make_classes([100, 40], n_features=3, seed=31)
    reference = _reference_error(X, y, sampling_strategy={1: 41}, random_state=0)
    with pytest.raises(ValueError, match=re.escape(str(reference))):
        ADASYN(sampling_strategy={1: 41}, random_state=0, device="cpu").fit_resample(X, y)
    assert str(reference) == "No samples will be generated with the provided ratio settings."


def test_failure_on_a_later_class_leaves_random_state_like_imblearn():
    """imbalanced-learn draws for class 1 before class 2 fails."""
    X, y = make_classes([100, 30], n_features=3, seed=32)
    far = np.random.default_rng(1).normal(size=(15, 3)) + 80.0
    X, y = np.vstack([X, far]), np.concatenate([y, np.full(15, 2)])
    rs_ours, rs_ref = np.random.RandomState(3), np.random.RandomState(3)
    reference = _reference_error(X, y, random_state=rs_ref)
    with pytest.raises(RuntimeError, match=re.escape(str(reference))):
        ADASYN(random_state=rs_ours, device="cpu").fit_resample(X, y)
    assert rs_ours.randint(1 << 30) == rs_ref.randint(1 << 30)


def test_class_too_small_for_its_neighbours():
    X, y = make_classes([50, 4], n_features=3, seed=33)
    reference = _reference_error(X, y, random_state=0)
    with pytest.raises(ValueError, match=re.escape(str(reference))):
        ADASYN(random_state=0, device="cpu").fit_resample(X, y)


@pytest.mark.parametrize("params", [{"n_neighbors": 0}, {"random_state": np.random.default_rng(0)}])
def test_parameter_errors_match(params):
    X, y = make_classes([40, 12], n_features=3, seed=34)
    reference = _reference_error(X, y, **params)
    with pytest.raises(type(reference), match=re.escape(str(reference).split(" Got ")[0])):
        ADASYN(device="cpu", **params).fit_resample(X, y)
    with pytest.raises(ValueError, match="'rng' parameter of ADASYN"):
        ADASYN(rng="pcg").fit_resample(X, y)


def test_fitted_attributes():
    X, y = make_classes([70, 20, 13], n_features=4, seed=35)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ours, reference = ADASYN(random_state=0, device="cpu"), ReferenceADASYN(random_state=0)
    ours.fit_resample(frame, y)
    reference.fit_resample(frame, y)
    assert ours.sampling_strategy_ == reference.sampling_strategy_
    assert ours.n_features_in_ == reference.n_features_in_ == 4
    np.testing.assert_array_equal(ours.feature_names_in_, reference.feature_names_in_)
    assert ours.device_ == "cpu"
    assert set(ours.timings_) == {"knn", "copy", "generate"}
    assert isinstance(ours.nn_, NearestNeighbors) and ours.nn_.n_neighbors == 6
    with_estimator = ADASYN(n_neighbors=SklearnNeighbors(n_neighbors=4), random_state=0, device="cpu")
    with_estimator.fit_resample(X, y)
    assert with_estimator.nn_.n_samples_fit_ == 13  # fitted last on the last class, as imblearn


def test_clone_get_params_and_pipeline():
    sampler = ADASYN(n_neighbors=4, random_state=2, device="cpu", rng="imblearn")
    params = clone(sampler).get_params()
    assert params == {"sampling_strategy": "auto", "random_state": 2, "n_neighbors": 4,
                      "device": "cpu", "rng": "imblearn", "ties": "imblearn"}
    X, y = make_classes([120, 30], n_features=4, seed=36)
    ours = Pipeline([("s", sampler), ("clf", LogisticRegression())]).fit(X, y)
    reference = Pipeline([("s", ReferenceADASYN(n_neighbors=4, random_state=2)),
                          ("clf", LogisticRegression())]).fit(X, y)
    np.testing.assert_array_equal(ours[-1].coef_, reference[-1].coef_)


def test_inputs_are_not_modified():
    X, y = make_classes([80, 20, 14], n_features=4, dtype=np.float32, seed=37)
    X_before, y_before = X.copy(), y.copy()
    frame = pd.DataFrame(X.copy())
    ADASYN(random_state=0, device="cpu").fit_resample(X, y)
    ADASYN(random_state=0, device="cpu").fit_resample(frame, y)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(X_before))


@pytest.mark.parametrize("counts", [[3, 0, 2, 0, 0, 4, 1], [0, 5], [1] * 9, [7]])
def test_repeated_rows_slices_the_repeat(counts):
    counts = np.array(counts)
    whole, ends = np.repeat(np.arange(len(counts)), counts), np.cumsum(counts)
    for start in range(len(whole)):
        for stop in range(start + 1, len(whole) + 1):
            np.testing.assert_array_equal(repeated_rows(counts, ends, start, stop), whole[start:stop])


# The CUDA engine (simulated): tiny cases.

@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_cuda_engine_matches_imblearn(dtype):
    X, y = make_classes([30, 9, 7], n_features=3, dtype=dtype, seed=38)
    assert_same_resample(*both(X, y, device="cuda", n_neighbors=3, random_state=4))


def test_cuda_engine_with_estimator_and_chunks(monkeypatch):
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 5)
    X, y = make_classes([30, 9], n_features=3, seed=39)
    assert_same_resample(*both(X, y, device="cuda", n_neighbors=SklearnNeighbors(n_neighbors=3),
                               random_state=4))


# rng="philox"

def philox(**params):
    return ADASYN(rng="philox", **params)


def test_philox_cpu_equals_cuda():
    X, y = make_classes([30, 9, 7], n_features=3, dtype=np.float32, seed=40)
    assert_same_resample(philox(random_state=3, device="cuda", n_neighbors=3).fit_resample(X, y),
                         philox(random_state=3, device="cpu", n_neighbors=3).fit_resample(X, y))


def test_philox_chunking_invariance_and_counts(monkeypatch):
    X, y = make_classes([200, 30, 20], n_features=5, seed=43)
    whole = philox(random_state=1, device="cpu").fit_resample(X, y)
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 17)
    assert_same_resample(philox(random_state=1, device="cpu").fit_resample(X, y), whole)
    reference = ReferenceADASYN(random_state=1).fit_resample(X, y)
    # Same counts as imbalanced-learn (they do not depend on the draws), other rows.
    np.testing.assert_array_equal(np.bincount(whole[1]), np.bincount(reference[1]))
    assert not np.array_equal(whole[0], reference[0])
    assert_same_resample(philox(random_state=np.random.RandomState(0), device="cpu").fit_resample(X, y),
                         philox(random_state=np.random.RandomState(0), device="cpu").fit_resample(X, y))
