"""EditedNearestNeighbours and TomekLinks: bit-identical to imbalanced-learn's
(rows, order, sample_indices_, errors, containers), on both engines. The CUDA
engine runs under Numba's simulator here, so its cases are kept tiny."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from imblearn.combine import SMOTEENN as ReferenceSMOTEENN
from imblearn.combine import SMOTETomek as ReferenceSMOTETomek
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import EditedNearestNeighbours as ReferenceENN
from imblearn.under_sampling import TomekLinks as ReferenceTomek
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors as SklearnNN

from gpusmote import NearestNeighbors
from gpusmote.devices._backend import cuda_backend
from gpusmote.under_sampling import EditedNearestNeighbours, TomekLinks
from gpusmote.under_sampling._edited_nearest_neighbours import edited_keep
from gpusmote.under_sampling._tomek_links import tomek_links
from helpers import assert_same_resample, make_classes

STRATEGIES = ["auto", "all", "majority", "not minority", "not majority", [1], [0, 2]]
SIMULATED = cuda_backend(simulated=True)


def overlapping(counts=(150, 50, 30), n_features=4, dtype=np.float64, seed=0):
    """Overlapping classes: ENN removes rows and Tomek links exist."""
    return make_classes(list(counts), n_features=n_features, dtype=dtype, seed=seed)


def both(ours_cls, reference_cls, X, y, device="cpu", **params):
    ours, reference = ours_cls(device=device, **params), reference_cls(**params)
    result = (ours.fit_resample(X, y), reference.fit_resample(X, y))
    return ours, reference, result


def assert_same(ours, reference, result):
    assert_same_resample(*result)
    np.testing.assert_array_equal(ours.sample_indices_, reference.sample_indices_, strict=True)
    assert ours.sampling_strategy_ == reference.sampling_strategy_


# --------------------------------------------------------------------------
# EditedNearestNeighbours

@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind_sel", ["all", "mode"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_enn_matches_imblearn(strategy, kind_sel, seed):
    X, y = overlapping(seed=seed)
    ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y,
                                   sampling_strategy=strategy, kind_sel=kind_sel)
    assert_same(ours, reference, result)


def test_enn_removes_rows_and_regroups_by_class():
    # The comparisons above would pass on an identity sampler: check it cleans.
    X, y = overlapping(seed=3)
    ours = EditedNearestNeighbours(sampling_strategy="all", device="cpu")
    X_res, y_res = ours.fit_resample(X, y)
    assert 0 < len(y_res) < len(y)
    assert np.all(np.diff(y_res) >= 0)  # grouped by class, in label order
    np.testing.assert_array_equal(X_res, X[ours.sample_indices_])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("n_neighbors", [1, 3, 6])
def test_enn_dtypes_and_int_neighbours(dtype, n_neighbors):
    X, y = overlapping(n_features=5, dtype=dtype, seed=4)
    ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y,
                                   n_neighbors=n_neighbors, sampling_strategy="all")
    assert_same(ours, reference, result)
    assert isinstance(ours.nn_, NearestNeighbors) and ours.nn_.n_neighbors == n_neighbors + 1


@pytest.mark.parametrize("kind_sel", ["all", "mode"])
def test_enn_with_estimator(kind_sel):
    X, y = overlapping(seed=5)
    ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, kind_sel=kind_sel,
                                   n_neighbors=SklearnNN(n_neighbors=5), n_jobs=1)
    assert_same(ours, reference, result)
    assert ours.nn_.n_jobs == 1 and hasattr(ours.nn_, "n_samples_fit_")
    # gpusmote's estimator (no n_jobs parameter; imbalanced-learn's set_params fails on it)
    mine = EditedNearestNeighbours(kind_sel=kind_sel, n_neighbors=NearestNeighbors(5), device="cpu")
    assert_same_resample(mine.fit_resample(X, y), result[1])


def test_enn_int_equals_estimator_and_more_neighbours_than_a_class():
    X, y = overlapping(counts=(80, 30, 4), seed=6)
    # k = 6 > the smallest class: its rows find other-class neighbours, as in imbalanced-learn
    ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, n_neighbors=6,
                                   sampling_strategy="all", kind_sel="mode")
    assert_same(ours, reference, result)


def test_enn_mode_ties_pick_the_smallest_label():
    y = np.array([0, 1, 2, 1, 0, 2])
    table = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [1, 3], [0, 5]])
    keep = edited_keep(y, y, table, "mode")
    # rows' neighbour labels: (1,2)->1, (0,2)->0, (0,1)->0, (0,2)->0, (1,1)->1, (0,2)->0
    np.testing.assert_array_equal(keep, [False, False, False, False, False, False])
    np.testing.assert_array_equal(edited_keep(y, y, np.array([[4, 4]] * 6), "mode"), y == 0)
    np.testing.assert_array_equal(edited_keep(y, y, np.array([[3, 1]] * 6), "all"), y == 1)


# --------------------------------------------------------------------------
# TomekLinks

@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tomek_matches_imblearn(strategy, seed):
    X, y = overlapping(seed=seed)
    ours, reference, result = both(TomekLinks, ReferenceTomek, X, y, sampling_strategy=strategy)
    assert_same(ours, reference, result)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_tomek_dtypes(dtype):
    X, y = overlapping(n_features=6, dtype=dtype, seed=7)
    if dtype == np.uint8:  # few distinct values: keep to untied rows
        _, first = np.unique(X, axis=0, return_index=True)
        X, y = X[np.sort(first)], y[np.sort(first)]
        X = X.astype(np.float64) + np.random.default_rng(0).random(X.shape) * 1e-3
    ours, reference, result = both(TomekLinks, ReferenceTomek, X, y, sampling_strategy="all")
    assert_same(ours, reference, result)


def test_tomek_links_are_mutual_nearest_pairs():
    X = np.array([[0.0], [1.0], [1.2], [3.0], [5.0], [5.3], [9.0]])
    y = np.array([0, 0, 1, 0, 1, 0, 0])
    ours = TomekLinks(sampling_strategy="all", device="cpu")
    X_res, y_res = ours.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, [0, 3, 6])
    reference = ReferenceTomek(sampling_strategy="all").fit_resample(X, y)
    assert_same_resample((X_res, y_res), reference)
    nearest = np.array([1, 2, 1, 2, 5, 4, 5])
    np.testing.assert_array_equal(tomek_links(y, nearest, [1]), np.isin(np.arange(7), [2, 4]))
    np.testing.assert_array_equal(tomek_links(y, nearest, [0, 1]), np.isin(np.arange(7), [1, 2, 4, 5]))


def tied(seed=0, n=160):
    """Small-integer rows: many duplicates and equal distances."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, 3)).astype(np.float64)
    y = (rng.random(n) < 0.3).astype(int)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tied_data_matches_imblearn_with_ties_imblearn(seed):
    X, y = tied(seed)
    for kind_sel in ("all", "mode"):
        ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, kind_sel=kind_sel,
                                       sampling_strategy="all")
        assert_same(ours, reference, result)
    ours, reference, result = both(TomekLinks, ReferenceTomek, X, y, sampling_strategy="all")
    assert_same(ours, reference, result)
    # ties='index' still returns a valid cleaning (rows of X, labels kept)
    index = EditedNearestNeighbours(sampling_strategy="all", ties="index", device="cpu")
    X_res, y_res = index.fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X[index.sample_indices_])
    np.testing.assert_array_equal(y_res, y[index.sample_indices_])



@pytest.mark.parametrize("strategy, every_row", [("auto", True), ("majority", True), ("all", True),
                                                 ("not majority", False), ([2], False)])
@pytest.mark.parametrize("duplicates", [False, True])
def test_enn_searches_every_row_when_most_rows_are_queried(monkeypatch, strategy, every_row, duplicates):
    # Classes of 75%, 15% and 10%: 'auto' (not minority) and 'majority' query
    # at least 60% of the rows, so every row's table comes from one symmetric
    # search; the others search their queries alone. Duplicated rows make ties,
    # answered by scikit-learn for the queried classes only.
    import gpusmote.neighbors._cpu as knn
    import gpusmote.under_sampling._edited_nearest_neighbours as enn_module

    monkeypatch.setattr(knn, "SYMMETRIC_MIN_ROWS", 0)
    X, y = overlapping(counts=(300, 60, 40), seed=19)
    if duplicates:
        X[[5, 40, 77, 310]] = X[[6, 41, 78, 311]]
    searched = []
    original = enn_module.neighbours_of_every_row
    monkeypatch.setattr(enn_module, "neighbours_of_every_row", lambda *a: searched.append(1) or original(*a))
    for kind_sel in ("all", "mode"):
        ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, sampling_strategy=strategy,
                                       kind_sel=kind_sel)
        assert_same(ours, reference, result)
    assert bool(searched) is every_row



def test_every_row_share_only_on_the_cpu():
    # The CPU's symmetric search computes a pair once; the GPU's search of every
    # row computes it twice, so there only a query of every row takes it.
    from gpusmote.devices._backend import CPU
    from gpusmote.under_sampling._edited_nearest_neighbours import searches_every_row

    y = np.array([0] * 7 + [1] * 3)
    assert searches_every_row(y, [0], CPU) and not searches_every_row(y, [1], CPU)
    assert not searches_every_row(y, [0], SIMULATED) and searches_every_row(y, [0, 1], SIMULATED)


# --------------------------------------------------------------------------
# Containers, validation, API

@pytest.mark.parametrize("cls, reference_cls", [(EditedNearestNeighbours, ReferenceENN),
                                                (TomekLinks, ReferenceTomek)])
@pytest.mark.parametrize("container", ["dataframe", "list", "csr", "csc", "onehot_y", "string_y",
                                       "series_named"])
def test_containers(cls, reference_cls, container):
    X, y = overlapping(seed=8)
    if container == "dataframe":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        y = pd.Series(y, name="target")
    elif container == "series_named":
        X = pd.DataFrame(X.astype(np.float32), columns=list("abcd"), index=np.arange(len(y)) * 3)
        y = pd.Series(y, name="t", index=X.index)
    elif container == "list":
        X, y = X.tolist(), y.tolist()
    elif container in ("csr", "csc"):
        X[np.abs(X) < 0.5] = 0.0
        X = getattr(sparse, f"{container}_matrix")(X)
    elif container == "onehot_y":
        y = np.eye(3, dtype=int)[y]
    elif container == "string_y":
        y = np.array(["low", "mid", "top"])[y]
    ours, reference, result = both(cls, reference_cls, X, y, sampling_strategy="all")
    assert_same(ours, reference, result)
    if container in ("dataframe", "series_named"):
        np.testing.assert_array_equal(ours.feature_names_in_, reference.feature_names_in_)


def test_sparse_with_cuda_warns_and_runs_on_cpu():
    X, y = overlapping(seed=9)
    X = sparse.csr_matrix(X)
    with pytest.warns(UserWarning, match="sparse input is cleaned on the CPU"):
        ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, device="cuda")
    assert_same(ours, reference, result)
    assert ours.device_ == "cpu"


def _same_error(ours, reference, X, y):
    with pytest.raises(Exception) as expected:
        reference.fit_resample(X, y)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        ours.fit_resample(X, y)


@pytest.mark.parametrize("params", [{"kind_sel": "median"}, {"n_neighbors": 0}, {"n_neighbors": 2.5},
                                    {"sampling_strategy": "minority"}, {"sampling_strategy": {0: 5}},
                                    {"sampling_strategy": [7]}, {"sampling_strategy": 0.5},
                                    {"n_jobs": "two"}, {"n_neighbors": 200},
                                    {"sampling_strategy": lambda y: {0: 1}}, {"ties": "lower"}])
def test_enn_errors_match(params):
    X, y = overlapping(counts=(90, 30, 20), seed=10)
    if "ties" in params:  # gpusmote's own parameter
        with pytest.raises(ValueError, match="The 'ties' parameter of EditedNearestNeighbours must be"):
            EditedNearestNeighbours(**params).fit_resample(X, y)
        return
    _same_error(EditedNearestNeighbours(device="cpu", **params), ReferenceENN(**params), X, y)


@pytest.mark.parametrize("case", ["nan", "inf", "one_class", "lengths", "empty", "strings", "continuous_y"])
@pytest.mark.parametrize("cls, reference_cls", [(EditedNearestNeighbours, ReferenceENN),
                                                (TomekLinks, ReferenceTomek)])
def test_input_errors_match(case, cls, reference_cls):
    X, y = overlapping(counts=(30, 10), seed=11)
    X = X.astype(object) if case == "strings" else X
    if case == "nan":
        X[3, 1] = np.nan
    elif case == "inf":
        X[3, 1] = np.inf
    elif case == "one_class":
        y = np.zeros_like(y)
    elif case == "lengths":
        y = y[:-1]
    elif case == "empty":
        X, y = X[:0], y[:0]
    elif case == "strings":
        X[0, 0] = "abc"
    elif case == "continuous_y":
        y = y + 0.5 * np.arange(len(y))
    _same_error(cls(device="cpu"), reference_cls(), X, y)
    with pytest.raises(ValueError, match="device"):
        cls(device="tpu").fit_resample(X, y)


def test_tomek_and_mode_errors_match():
    X, y = overlapping(counts=(30, 10), seed=12)
    _same_error(TomekLinks(sampling_strategy="minority", device="cpu"),
                ReferenceTomek(sampling_strategy="minority"), X, y)
    y_str = np.array(["a", "b"])[y]  # scipy's mode rejects strings, in both
    _same_error(EditedNearestNeighbours(kind_sel="mode", device="cpu"),
                ReferenceENN(kind_sel="mode"), X, y_str)


@pytest.mark.parametrize("cls, reference_cls", [(EditedNearestNeighbours, ReferenceENN),
                                                (TomekLinks, ReferenceTomek)])
def test_estimator_api_clone_and_pipeline(cls, reference_cls):
    X, y = overlapping(seed=13)
    sampler = cls(sampling_strategy="all", device="cpu")
    params = sampler.get_params()
    assert params["device"] == "cpu" and params["sampling_strategy"] == "all"
    assert set(params) - {"device", "ties"} == set(reference_cls().get_params())
    copy = clone(sampler)
    assert copy.get_params() == params and not hasattr(copy, "sample_indices_")
    assert isinstance(sampler, reference_cls)  # imbalanced-learn's combined samplers accept it
    assert sampler.fit(X, y) is sampler and sampler.sampling_strategy_
    pipe = Pipeline([("clean", sampler), ("clf", LogisticRegression())]).fit(X, y)
    reference = Pipeline([("clean", reference_cls(sampling_strategy="all")),
                          ("clf", LogisticRegression())]).fit(X, y)
    np.testing.assert_array_equal(pipe.predict_proba(X), reference.predict_proba(X))


def test_imblearn_combined_samplers_take_gpusmote_cleaners():
    X, y = overlapping(seed=14)
    enn = EditedNearestNeighbours(sampling_strategy="all", device="cpu")
    ours = ReferenceSMOTEENN(smote=ReferenceSMOTE(random_state=0), enn=enn).fit_resample(X, y)
    assert_same_resample(ours, ReferenceSMOTEENN(random_state=0).fit_resample(X, y))
    tomek = TomekLinks(sampling_strategy="all", device="cpu")
    ours = ReferenceSMOTETomek(smote=ReferenceSMOTE(random_state=0), tomek=tomek).fit_resample(X, y)
    assert_same_resample(ours, ReferenceSMOTETomek(random_state=0).fit_resample(X, y))


# --------------------------------------------------------------------------
# The CUDA engine (simulated) and device-resident input

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("strategy", ["all", "auto"])
def test_cuda_engine_matches_imblearn(dtype, strategy):
    X, y = overlapping(counts=(60, 20, 12), dtype=dtype, seed=15)
    for kind_sel in ("all", "mode"):
        ours, reference, result = both(EditedNearestNeighbours, ReferenceENN, X, y, device="cuda",
                                       sampling_strategy=strategy, kind_sel=kind_sel)
        assert_same(ours, reference, result)
        assert ours.device_ == "cuda"
    ours, reference, result = both(TomekLinks, ReferenceTomek, X, y, device="cuda",
                                   sampling_strategy=strategy)
    assert_same(ours, reference, result)
    assert ours.device_ == "cuda"


@pytest.mark.parametrize("cls", [EditedNearestNeighbours, TomekLinks])
def test_device_path_equals_fit_resample(cls):
    X, y = overlapping(counts=(60, 20, 12), dtype=np.float32, seed=16)
    expected = cls(sampling_strategy="all", device="cpu")
    expected_result = expected.fit_resample(X, y)
    ours = cls(sampling_strategy="all", device="cuda")
    ours._validate_params()
    X_res, y_res = ours._resample_device_arrays(X, y, SIMULATED)
    assert_same_resample((X_res, y_res), expected_result)
    np.testing.assert_array_equal(ours.sample_indices_, expected.sample_indices_)
    with pytest.raises(ValueError, match="NaN"):
        X_bad = X.copy()
        X_bad[0, 0] = np.nan
        ours._resample_device_arrays(X_bad, y, SIMULATED)


@pytest.mark.parametrize("ties", ["imblearn", "index"])
def test_small_data_path_matches(monkeypatch, ties):
    # conftest sends every size through the kernels; here small data takes CPU_SMALL
    from gpusmote.devices import _backend

    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30)
    X, y = overlapping(seed=17)
    for kind_sel in ("all", "mode"):
        ours = EditedNearestNeighbours(kind_sel=kind_sel, ties=ties, device="cpu")
        reference = ReferenceENN(kind_sel=kind_sel)
        assert_same(ours, reference, (ours.fit_resample(X, y), reference.fit_resample(X, y)))
    ours, reference = TomekLinks(ties=ties, device="cpu"), ReferenceTomek()
    assert_same(ours, reference, (ours.fit_resample(X, y), reference.fit_resample(X, y)))


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_only_rows_near_a_tie_are_asked_of_sklearn(monkeypatch, device):
    import gpusmote.under_sampling._neighbours as neighbours
    from gpusmote.neighbors._ties import ambiguous_rows, may_order_differently

    X, y = overlapping(counts=(80, 30, 20), seed=18)
    X[[5, 40, 77]] = X[[6, 41, 78]]  # three duplicated rows: their order is a tie
    asked = []
    original = neighbours.sklearn_table_rows

    def recording(points, k, query_rows, positions, search=None):
        asked.append((current[0], np.asarray(query_rows)[positions], len(query_rows)))
        searches.add(id(search))
        return original(points, k, query_rows, positions, search)

    monkeypatch.setattr(neighbours, "sklearn_table_rows", recording)
    current = [None]
    for cls, reference_cls in [(EditedNearestNeighbours, ReferenceENN), (TomekLinks, ReferenceTomek)]:
        current[0], searches = cls.__name__, set()
        ours, reference, result = both(cls, reference_cls, X, y, device=device, sampling_strategy="all")
        assert_same(ours, reference, result)
        assert len(searches) == 1  # scikit-learn's search fitted once, for every class's rows
    enn = [(rows, n_full) for name, rows, n_full in asked if name == "EditedNearestNeighbours"]
    tomek = [(rows, n_full) for name, rows, n_full in asked if name == "TomekLinks"]
    # only doubtful rows, asked per call imbalanced-learn makes: per class for
    # EditedNearestNeighbours (its query size is the class's), all rows for TomekLinks
    assert enn and all(0 < len(rows) < 20 and n_full in (80, 30, 20) for rows, n_full in enn)
    assert len(tomek) == 1 and tomek[0][1] == 130 and 0 < len(tomek[0][0]) < 20
    assert set(tomek[0][0]) >= {5, 6, 40, 41, 77, 78}
    # the per-row flags agree with the whole-table answer
    table = NearestNeighbors(n_neighbors=3, device="cpu").fit(X).kneighbors(return_distance=False)
    flags = ambiguous_rows(X, table)
    assert flags.any() == may_order_differently(X, table)
    assert not may_order_differently(X, table[~flags], np.flatnonzero(~flags))
