"""SMOTEN against imbalanced-learn 0.14.2's, bit for bit, and its blocked
VDM k-NN's memory bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.metrics.pairwise import ValueDifferenceMetric
from imblearn.over_sampling import SMOTEN as ImbSMOTEN
from imblearn.pipeline import Pipeline
from imblearn.utils.estimator_checks import parametrize_with_checks
from scipy import sparse
from scipy.spatial import distance_matrix
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

from gpusmote.kernels import categorical
from gpusmote.over_sampling import _categorical
from gpusmote.over_sampling._categorical import SMOTEN


def _data(n=300, n_features=4, levels=3, weights=(0.7, 0.3), seed=0, kind="object"):
    """Categorical rows with few levels (so distance ties everywhere)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, levels, size=(n, n_features))
    y = rng.choice(len(weights), size=n, p=np.asarray(weights) / np.sum(weights))
    if kind == "int":
        return codes, y
    X = np.char.add("c", codes.astype(str))
    return (X.astype(object) if kind == "object" else X), y


def _assert_same(ours, theirs):
    (X_ours, y_ours), (X_theirs, y_theirs) = ours, theirs
    if isinstance(X_theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(X_ours, X_theirs)
    elif sparse.issparse(X_theirs):
        assert X_ours.format == X_theirs.format
        assert (X_ours != X_theirs).nnz == 0
    else:
        assert type(X_ours) is type(X_theirs) and X_ours.dtype == X_theirs.dtype
        assert X_ours.shape == X_theirs.shape and (X_ours == X_theirs).all()
    if isinstance(y_theirs, pd.Series):
        pd.testing.assert_series_equal(y_ours, y_theirs)
    else:
        assert y_ours.dtype == y_theirs.dtype and np.array_equal(y_ours, y_theirs)


def _both(X, y, **params):
    theirs = ImbSMOTEN(**params).fit_resample(X, y)
    ours = SMOTEN(device="cpu", **params).fit_resample(X, y)
    return ours, theirs


@pytest.mark.parametrize("kind", ["object", "str", "int"])
@pytest.mark.parametrize("levels", [2, 5])
def test_same_rows_as_imblearn(kind, levels):
    X, y = _data(kind=kind, levels=levels)
    _assert_same(*_both(X, y, random_state=3))


@pytest.mark.parametrize("strategy", ["auto", "minority", "not majority", "all", "not minority",
                                      {1: 200, 2: 210}, lambda y: {1: 170}])
def test_several_classes_and_strategies(strategy):
    X, y = _data(n=400, n_features=3, levels=4, weights=(0.5, 0.3, 0.2), seed=1)
    _assert_same(*_both(X, y, random_state=0, sampling_strategy=strategy))


def test_float_ratio_binary():
    X, y = _data(n=250, seed=2)
    _assert_same(*_both(X, y, random_state=0, sampling_strategy=0.8))


@pytest.mark.parametrize("n_classes", [9, 12])
def test_many_classes_pairwise_sum_order(n_classes):
    # >= 8 classes: NumPy's pairwise summation over the class axis
    X, y = _data(n=600, n_features=3, levels=6, weights=[3] + [1] * (n_classes - 1), seed=4)
    _assert_same(*_both(X, y, random_state=5))


@pytest.mark.parametrize("n_classes", [2, 3, 7, 8, 9, 17, 40])
def test_level_table_matches_imblearns_pairwise(n_classes):
    # both of scipy.spatial.distance_matrix's paths (broadcast, and per column
    # above 1e6 elements), for sequential (< 8) and pairwise (>= 8) summation
    rng = np.random.default_rng(n_classes)
    proba = rng.random((5, n_classes))
    proba /= proba.sum(axis=1, keepdims=True)
    levels = _categorical.level_distances(proba)
    for n in (20, 400):
        codes = rng.integers(0, 5, size=n)
        expected = distance_matrix(proba[codes], proba[codes], p=1)
        assert np.array_equal(levels[codes][:, codes], expected)


def test_vdm_kneighbors_is_sklearns_precomputed_search():
    X, y = _data(n=500, n_features=5, levels=3, weights=(0.4, 0.3, 0.3), seed=21, kind="int")
    vdm = ValueDifferenceMetric(n_categories=[3] * 5).fit(X, y)
    codes = X[y == 1].astype(np.int32)
    D = vdm.pairwise(codes)
    expected = NearestNeighbors(n_neighbors=6, metric="precomputed").fit(D).kneighbors(D, return_distance=False)
    assert np.array_equal(_categorical.vdm_kneighbors(vdm.proba_per_class_, codes, 6), expected)


@pytest.mark.parametrize("k_neighbors", [1, 3, 7, NearestNeighbors(n_neighbors=4)])
def test_k_neighbors(k_neighbors):
    X, y = _data(n=200, levels=3, seed=5)
    _assert_same(*_both(X, y, random_state=1, k_neighbors=k_neighbors))


def test_k_plus_one_equal_to_class_size():
    X, y = _data(n=40, seed=6)
    k = int(np.bincount(y).min()) - 1
    _assert_same(*_both(X, y, random_state=1, k_neighbors=k))


def test_too_few_rows_raises_sklearns_error():
    X, y = _data(n=40, seed=6)
    k = int(np.bincount(y).min())
    with pytest.raises(ValueError) as theirs:
        ImbSMOTEN(k_neighbors=k).fit_resample(X, y)
    with pytest.raises(ValueError) as ours:
        SMOTEN(k_neighbors=k, device="cpu").fit_resample(X, y)
    assert str(ours.value) == str(theirs.value)


def test_invalid_parameter_message():
    X, y = _data(n=40)
    with pytest.raises(ValueError) as theirs:
        ImbSMOTEN(k_neighbors=0).fit_resample(X, y)
    with pytest.raises(ValueError) as ours:
        SMOTEN(k_neighbors=0).fit_resample(X, y)
    assert str(ours.value).replace("gpusmote", "") == str(theirs.value)


def test_dataframe_object_and_categorical_columns():
    X, y = _data(n=300, n_features=3, seed=7)
    df = pd.DataFrame({"a": X[:, 0], "b": pd.Categorical(X[:, 1]), "c": X[:, 2]})
    _assert_same(*_both(df, pd.Series(y, name="target"), random_state=2))


def test_random_state_instance_left_where_imblearn_leaves_it():
    X, y = _data(n=300, weights=(0.5, 0.3, 0.2), seed=8)
    rs_theirs, rs_ours = np.random.RandomState(11), np.random.RandomState(11)
    theirs = ImbSMOTEN(random_state=rs_theirs).fit_resample(X, y)
    ours = SMOTEN(random_state=rs_ours, device="cpu").fit_resample(X, y)
    _assert_same(ours, theirs)
    assert rs_ours.randint(1 << 30) == rs_theirs.randint(1 << 30)


def test_random_state_none_uses_global_state():
    X, y = _data(n=200, seed=9)
    np.random.seed(4)
    theirs = ImbSMOTEN().fit_resample(X, y)
    np.random.seed(4)
    ours = SMOTEN(device="cpu").fit_resample(X, y)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("encoder", [OrdinalEncoder(), OrdinalEncoder(dtype=np.int64)])
def test_custom_encoder(encoder):
    X, y = _data(n=200, seed=10)
    _assert_same(*_both(X, y, random_state=0, categorical_encoder=encoder))
    sampler = SMOTEN(encoder, random_state=0, device="cpu")
    sampler.fit_resample(X, y)
    assert sampler.categorical_encoder_ is not encoder  # a clone, as imbalanced-learn's
    assert not hasattr(encoder, "categories_")


def test_sparse_input_densified_with_imblearns_warning():
    X, y = _data(n=200, kind="int", seed=11)
    for to_sparse in (sparse.csr_matrix, sparse.csc_matrix):
        with pytest.warns(DataConversionWarning):
            theirs = ImbSMOTEN(random_state=0).fit_resample(to_sparse(X), y)
        with pytest.warns(DataConversionWarning):
            ours = SMOTEN(random_state=0, device="cpu").fit_resample(to_sparse(X), y)
        _assert_same(ours, theirs)


def test_fitted_attributes():
    X, y = _data(n=200, seed=12)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ours, theirs = SMOTEN(random_state=0, device="cpu"), ImbSMOTEN(random_state=0)
    ours.fit_resample(df, y)
    theirs.fit_resample(df, y)
    assert ours.sampling_strategy_ == theirs.sampling_strategy_
    assert ours.n_features_in_ == theirs.n_features_in_ == 4
    assert list(ours.feature_names_in_) == list(theirs.feature_names_in_)
    assert ours.nn_k_.get_params() == theirs.nn_k_.get_params()
    assert ours.categorical_encoder_.get_params() == theirs.categorical_encoder_.get_params()
    for a, b in zip(ours.categorical_encoder_.categories_, theirs.categorical_encoder_.categories_):
        assert np.array_equal(a, b)
    assert ours.device_ == "cpu"


def test_block_size_invariance(monkeypatch):
    X, y = _data(n=300, levels=3, weights=(0.5, 0.3, 0.2), seed=13)
    expected = SMOTEN(random_state=0, device="cpu").fit_resample(X, y)
    monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 1)  # one row per block
    for threads in (1, 3):
        monkeypatch.setattr(_categorical, "VDM_THREADS", threads)
        _assert_same(SMOTEN(random_state=0, device="cpu").fit_resample(X, y), expected)


@pytest.mark.parametrize("kind", ["numeric", "string"])
def test_output_decoded_in_blocks_is_imblearns(kind, monkeypatch):
    """The new rows decoded into one output a block at a time: imbalanced-learn's vstack."""
    rng = np.random.RandomState(3)
    X = rng.randint(0, 4, size=(400, 3))
    if kind == "string":
        X = np.char.add("level-", X.astype(str))  # a fixed-width unicode array
    y = (rng.uniform(size=400) < 0.25).astype(int)
    monkeypatch.setattr(_categorical, "DECODE_BLOCK_ROWS", 7)
    ours = SMOTEN(random_state=0).fit_resample(X, y)
    theirs = ImbSMOTEN(random_state=0).fit_resample(X, y)
    assert ours[0].dtype == theirs[0].dtype
    _assert_same(ours, theirs)


def test_memory_never_n_class_squared(monkeypatch):
    import tracemalloc

    n = 4000
    X, y = _data(n=n, n_features=3, levels=4, weights=(0.5, 0.5), seed=14)
    n_class = int(np.bincount(y).min())
    shapes = []
    real = _categorical._vdm_rows

    def recording(terms, start, stop):
        out = real(terms, start, stop)
        shapes.append(out.shape)
        return out

    monkeypatch.setattr(_categorical, "_vdm_rows", recording)
    monkeypatch.setattr(_categorical, "VDM_THREADS", 1)
    monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 16 * n_class)  # 16 rows a block
    sampler = SMOTEN(random_state=0, device="cpu", sampling_strategy={int(np.argmin(np.bincount(y))): n})
    sampler.fit_resample(X, y)  # compile the kernel outside the measure
    shapes.clear()
    tracemalloc.start()
    ours = sampler.fit_resample(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert shapes and max(rows for rows, _ in shapes) == 16
    assert sum(rows for rows, _ in shapes) == n_class
    assert peak < n_class * n_class * 8 / 8  # the dense matrix alone would be 8x this
    _assert_same(ours, ImbSMOTEN(random_state=0, sampling_strategy=sampler.sampling_strategy).fit_resample(X, y))


def test_big_endian_labels_and_tags():
    X, y = _data(n=200, seed=22)
    _assert_same(*_both(X, y.astype(">i4"), random_state=0))
    _, y_res = SMOTEN(random_state=0, device="cpu").fit_resample(X, y)
    assert y_res.dtype.metadata is None
    assert SMOTEN().__sklearn_tags__().input_tags.string
    assert ImbSMOTEN().__sklearn_tags__().input_tags.sparse == SMOTEN().__sklearn_tags__().input_tags.sparse


def test_high_cardinality_features_direct_path(monkeypatch):
    # many levels per feature: the per-class level table would be as big as the
    # matrix, so those features' terms are computed per block
    X, y = _data(n=400, n_features=3, levels=150, weights=(0.5, 0.3, 0.2), seed=23)
    expected = ImbSMOTEN(random_state=0).fit_resample(X, y)
    monkeypatch.setattr(_categorical, "VDM_BLOCK_ELEMENTS", 20_000)
    kinds = []
    real = _categorical._feature_terms
    monkeypatch.setattr(_categorical, "_feature_terms", lambda *a: kinds.append(real(*a)[0]) or real(*a))
    _assert_same(SMOTEN(random_state=0, device="cpu").fit_resample(X, y), expected)
    assert "direct" in kinds


def test_inputs_unmodified():
    X, y = _data(n=200, seed=15)
    X0, y0 = X.copy(), y.copy()
    SMOTEN(random_state=0, device="cpu").fit_resample(X, y)
    assert (X == X0).all() and np.array_equal(y, y0)


def test_clone_get_params_and_pipeline():
    sampler = SMOTEN(OrdinalEncoder(), k_neighbors=3, random_state=0, rng="philox", device="cpu")
    params = clone(sampler).get_params()
    assert params["k_neighbors"] == 3 and params["rng"] == "philox"
    assert isinstance(params["categorical_encoder"], OrdinalEncoder)
    X, y = _data(n=200, kind="int", seed=16)
    pipe = Pipeline([("smoten", SMOTEN(random_state=0, device="cpu")),
                     ("tree", DecisionTreeClassifier(random_state=0))]).fit(X, y)
    ref = Pipeline([("smoten", ImbSMOTEN(random_state=0)),
                    ("tree", DecisionTreeClassifier(random_state=0))]).fit(X, y)
    assert np.array_equal(pipe.predict(X), ref.predict(X))


def test_cuda_equals_cpu_equals_imblearn():
    X, y = _data(n=60, n_features=2, levels=3, seed=17)
    theirs = ImbSMOTEN(random_state=0, k_neighbors=3).fit_resample(X, y)
    for device in ("cpu", "cuda"):
        sampler = SMOTEN(random_state=0, k_neighbors=3, device=device)
        _assert_same(sampler.fit_resample(X, y), theirs)
        assert sampler.device_ == device


def test_philox_same_on_cpu_and_cuda():
    X, y = _data(n=60, n_features=2, levels=3, weights=(0.5, 0.3, 0.2), seed=18)
    cpu = SMOTEN(random_state=7, k_neighbors=3, rng="philox", device="cpu").fit_resample(X, y)
    gpu = SMOTEN(random_state=7, k_neighbors=3, rng="philox", device="cuda").fit_resample(X, y)
    _assert_same(gpu, cpu)
    assert np.array_equal(np.bincount(cpu[1]), [np.bincount(y).max()] * 3)
    other = SMOTEN(random_state=8, k_neighbors=3, rng="philox", device="cpu").fit_resample(X, y)
    assert not (other[0] == cpu[0]).all()


def test_philox_rows_are_modes_of_class_neighbourhoods():
    X, y = _data(n=200, kind="int", seed=19)
    X_res, y_res = SMOTEN(random_state=1, rng="philox", device="cpu").fit_resample(X, y)
    minority = int(np.argmin(np.bincount(y)))
    seen = {tuple(row) for row in X[y == minority]}
    assert np.all(y_res[len(y):] == minority)
    # modes of per-feature levels present in the class
    for f in range(X.shape[1]):
        assert set(X_res[len(y):, f]) <= {row[f] for row in seen}


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
def test_mode_kernel_cpu_cuda_scipy(dtype):
    rng = np.random.default_rng(20)
    codes = rng.integers(0, 3, size=(12, 3)).astype(dtype)
    table = rng.integers(0, 12, size=(12, 4)).astype(np.int64)
    samples = rng.integers(0, 12, size=9).astype(np.int64)
    expected = categorical.mode_rows_reference(codes, table, samples)
    cpu = np.empty((9, 3), dtype=dtype)
    categorical.mode_rows(cpu, codes, table, samples)
    gpu = np.empty((9, 3), dtype=dtype)
    categorical.mode_rows_cuda(gpu, codes, table, samples)
    assert cpu.dtype == expected.dtype and np.array_equal(cpu, expected) and np.array_equal(gpu, expected)


@parametrize_with_checks([SMOTEN(random_state=0, device="cpu")])
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("loaded", [False, True])
def test_first_call_mode_is_scipys_and_the_same_rows(loaded, monkeypatch):
    # a process without kernels takes SciPy's mode for a few new rows (no kernel load)
    monkeypatch.setattr(_categorical, "kernels_loaded", lambda: loaded)
    kernel_calls = []
    original = _categorical._mode_blocks
    monkeypatch.setattr(_categorical, "_mode_blocks",
                        lambda *args: kernel_calls.append(1) or original(*args))
    X, y = _data(n=500, levels=5, kind="int", seed=4)
    _assert_same(*_both(X, y, random_state=5))
    assert bool(kernel_calls) is loaded
