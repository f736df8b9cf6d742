"""SMOTENC against imbalanced-learn 0.14.2's, bit for bit: containers,
categorical_features forms, seeds, neighbours, strategies, errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTENC as ImbSMOTENC
from imblearn.pipeline import Pipeline
from scipy import sparse
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

from gpusmote.over_sampling._categorical import SMOTENC, _mode_with_ties, _tie_table


def _data(n=300, n_continuous=3, widths=(3, 5, 2), weights=(0.8, 0.2), seed=0, kind="object",
          dtype=np.float64, scale=1.0):
    """Continuous normal columns first, then categorical ones (letters for
    'object', codes for numeric kinds); class labels by ``weights``."""
    rng = np.random.RandomState(seed)
    continuous = (rng.normal(size=(n, n_continuous)) * scale).astype(dtype)
    codes = np.stack([rng.randint(0, w, n) for w in widths], axis=1)
    y = rng.choice(len(weights), size=n, p=np.asarray(weights) / np.sum(weights))
    if kind == "object":
        X = np.empty((n, n_continuous + len(widths)), dtype=object)
        X[:, :n_continuous] = continuous
        X[:, n_continuous:] = np.char.add("c", codes.astype(str))
        return X, y
    return np.hstack([continuous, codes.astype(dtype)]), y


def _assert_same(ours, theirs):
    (X_ours, y_ours), (X_theirs, y_theirs) = ours, theirs
    if isinstance(X_theirs, pd.DataFrame):
        pd.testing.assert_frame_equal(X_ours, X_theirs)
    elif sparse.issparse(X_theirs):
        assert type(X_ours) is type(X_theirs) and X_ours.format == X_theirs.format
        assert X_ours.dtype == X_theirs.dtype and (X_ours != X_theirs).nnz == 0
    else:
        assert type(X_ours) is type(X_theirs) and X_ours.dtype == X_theirs.dtype
        assert X_ours.shape == X_theirs.shape
        if X_theirs.dtype == object:
            assert all(type(a) is type(b) and a == b for a, b in zip(X_ours.ravel(), X_theirs.ravel()))
        else:
            assert np.array_equal(X_ours, X_theirs)
            assert np.array_equal(np.signbit(X_ours), np.signbit(X_theirs))
    if isinstance(y_theirs, pd.Series):
        pd.testing.assert_series_equal(y_ours, y_theirs)
    else:
        assert y_ours.dtype == y_theirs.dtype and np.array_equal(y_ours, y_theirs)


def _both(X, y, categorical_features, **params):
    theirs_sampler = ImbSMOTENC(categorical_features, **params)
    theirs = theirs_sampler.fit_resample(X, y)
    ours_sampler = SMOTENC(categorical_features, device="cpu", **params)
    ours = ours_sampler.fit_resample(X, y)
    _assert_same(ours, theirs)
    return ours_sampler, theirs_sampler


@pytest.mark.parametrize("kind,dtype", [("object", np.float64), ("numeric", np.float64),
                                        ("numeric", np.float32), ("numeric", np.int64)])
@pytest.mark.parametrize("widths", [(2,), (3, 5, 2), (12, 1, 30)])
def test_numpy_matches_imblearn(kind, dtype, widths):
    X, y = _data(widths=widths, kind=kind, dtype=dtype, seed=len(widths),
                 scale=100 if dtype == np.int64 else 1.0)
    indices = list(range(3, 3 + len(widths)))
    ours, theirs = _both(X, y, indices, random_state=0)
    for name in ("categorical_features_", "continuous_features_", "n_features_", "n_features_in_",
                 "sampling_strategy_"):
        assert np.array_equal(np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name)))
    assert ours.median_std_ == theirs.median_std_
    assert all(np.array_equal(a, b) for a, b in zip(ours.categorical_encoder_.categories_,
                                                    theirs.categorical_encoder_.categories_))
    assert ours.categorical_encoder_.get_params() == theirs.categorical_encoder_.get_params()
    assert ours.nn_k_.get_params() == theirs.nn_k_.get_params()
    assert not hasattr(ours, "feature_names_in_")


@pytest.mark.parametrize("form", ["indices", "negative", "mask"])
def test_categorical_feature_forms(form):
    X, y = _data(n_continuous=2, widths=(4, 3), kind="numeric", seed=3)
    X = X[:, [2, 0, 3, 1]]  # categorical columns 0 and 2
    features = {"indices": [0, 2], "negative": [-4, -2],
                "mask": [True, False, True, False]}[form]
    _both(X, y, features, random_state=1)


@pytest.mark.parametrize("strategy", ["auto", "minority", "not majority", "all", "not minority",
                                      {0: 200, 1: 150, 2: 120}, lambda y: {2: 100}])
def test_multiclass_strategies(strategy):
    X, y = _data(n=400, widths=(3, 6), weights=(0.5, 0.3, 0.2), seed=4)
    _both(X, y, [3, 4], random_state=2, sampling_strategy=strategy)


def test_float_ratio_and_k_neighbors():
    X, y = _data(n=300, widths=(4, 2), seed=5)
    _both(X, y, [3, 4], random_state=3, sampling_strategy=0.7)
    _both(X, y, [3, 4], random_state=3, k_neighbors=1)
    _both(X, y, [3, 4], random_state=3, k_neighbors=9)
    ours, theirs = _both(X, y, [3, 4], random_state=3, k_neighbors=NearestNeighbors(n_neighbors=4))
    assert ours.nn_k_.n_neighbors == 4 and hasattr(ours.nn_k_, "n_samples_fit_")


def test_seed_kinds():
    X, y = _data(n=300, widths=(3, 3), weights=(0.6, 0.25, 0.15), seed=6)
    theirs_state, ours_state = np.random.RandomState(11), np.random.RandomState(11)
    for _ in range(2):  # a RandomState continues: the second call differs, identically
        theirs = ImbSMOTENC([3, 4], random_state=theirs_state).fit_resample(X, y)
        ours = SMOTENC([3, 4], random_state=ours_state).fit_resample(X, y)
        _assert_same(ours, theirs)
        assert theirs_state.randint(1 << 30) == ours_state.randint(1 << 30)
    np.random.seed(12)
    theirs = ImbSMOTENC([3, 4]).fit_resample(X, y)
    after_theirs = np.random.randint(1 << 30)
    np.random.seed(12)
    ours = SMOTENC([3, 4]).fit_resample(X, y)
    _assert_same(ours, theirs)
    assert np.random.randint(1 << 30) == after_theirs


def test_pandas_columns():
    rng = np.random.RandomState(7)
    n = 300
    df = pd.DataFrame({
        "amount": rng.normal(size=n),
        "shop": pd.Categorical(rng.choice(list("xyzw"), n)),
        "kind": rng.choice(["u", "v", "w"], n).astype(object),
        "flag": rng.rand(n) < 0.5,
        "score": rng.normal(size=n).astype(np.float32),
        "level": rng.randint(0, 5, n),
    })
    y = pd.Series((rng.rand(n) < 0.2).astype(np.int64), name="target")
    ours, _ = _both(df, y, ["shop", "kind", "level"], random_state=0)
    assert list(ours.feature_names_in_) == list(df.columns)
    _both(df, y, [False, True, True, True, False, True], random_state=0)
    auto = df.assign(kind=df.kind.astype("category"), level=df.level.astype("category"))
    ours, _ = _both(auto, y, "auto", random_state=0)
    assert list(ours.categorical_features_) == [1, 2, 5]


def test_sparse_input():
    X, y = _data(n=200, n_continuous=2, widths=(3, 2), kind="numeric", seed=8)
    X[::3, 0] = 0.0
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        _both(fmt(X), y, [2, 3], random_state=0)


def test_custom_encoder_and_tiny_and_constant_continuous():
    X, y = _data(n=300, widths=(3, 7), kind="numeric", seed=9)
    _both(X, y, [3, 4], random_state=0, categorical_encoder=OneHotEncoder(sparse_output=False))
    _both(X, y, [3, 4], random_state=0,
          categorical_encoder=OneHotEncoder(handle_unknown="ignore", dtype=np.float32))
    tiny = X.copy()
    tiny[:, :3] *= 1e-9  # isclose's atol: levels absent from the neighbours tie too
    _both(tiny, y, [3, 4], random_state=0)
    constant = X.copy()
    constant[:, 0], constant[:, 1] = 1.0, -0.0  # median std 0: raw one-hot counts
    ours, _ = _both(constant, y, [3, 4], random_state=0)
    assert ours.median_std_[1] == 0


def test_mode_ties_match_imblearn_dense_rule():
    """The codes-only draw against imbalanced-learn's dense expression."""
    rng = np.random.RandomState(0)
    for width, k, one in [(3, 5, 0.7), (6, 4, 1.0), (5, 6, 1e-10), (1, 3, 0.5)]:
        codes = rng.randint(0, width, size=(500, k))
        one = np.float64(one)
        dense = np.zeros((500, k, width))
        dense[np.arange(500)[:, None], np.arange(k), codes] = one
        col_maxs = dense.sum(axis=1)
        is_max = np.isclose(col_maxs, col_maxs.max(axis=1, keepdims=True))
        theirs_rng, ours_rng = np.random.RandomState(5), np.random.RandomState(5)
        max_idxs = theirs_rng.permutation(np.argwhere(is_max))
        _, first = np.unique(max_idxs[:, 0], return_index=True)
        expected = max_idxs[first, 1]
        got = _mode_with_ties(codes, width, _tie_table(one, k), ours_rng)
        assert np.array_equal(got, expected)
        assert theirs_rng.randint(1 << 30) == ours_rng.randint(1 << 30)


def test_inputs_unmodified_clone_pipeline():
    X, y = _data(n=200, widths=(3,), seed=10)
    X_copy, y_copy = X.copy(), y.copy()
    sampler = SMOTENC([3], random_state=0, k_neighbors=3)
    sampler.fit_resample(X, y)
    assert (X == X_copy).all() and np.array_equal(y, y_copy)
    params = clone(sampler).get_params()
    assert params["categorical_features"] == [3] and params["k_neighbors"] == 3
    assert params["device"] == "auto" and params["rng"] == "imblearn"
    Xn, yn = _data(n=200, widths=(3,), seed=10, kind="numeric")
    pipe = Pipeline([("smote", SMOTENC([3], random_state=0)),
                     ("tree", DecisionTreeClassifier(random_state=0))]).fit(Xn, yn)
    ref = Pipeline([("smote", ImbSMOTENC([3], random_state=0)),
                    ("tree", DecisionTreeClassifier(random_state=0))]).fit(Xn, yn)
    assert np.array_equal(pipe.predict(Xn), ref.predict(Xn))


def _same_error(X, y, categorical_features, **params):
    with pytest.raises(Exception) as theirs:
        ImbSMOTENC(categorical_features, **params).fit_resample(X, y)
    with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value))):
        SMOTENC(categorical_features, device="cpu", **params).fit_resample(X, y)


def test_errors_match_imblearn():
    X, y = _data(n=100, n_continuous=2, widths=(3,), kind="numeric", seed=11)
    _same_error(X, y, "auto")
    _same_error(X, y, [0, 1, 2])
    _same_error(X, y, [])
    _same_error(X, y, [5])
    _same_error(X, y, [-5])
    _same_error(X, y, [True, False])
    _same_error(X, y, ["a"])
    _same_error(X, y, [2], categorical_encoder=OneHotEncoder(drop="first"))
    _same_error(X, y, [2], k_neighbors=0)
    _same_error(X, y, [2], random_state=np.random.default_rng(0))
    _same_error(X, y, [2], sampling_strategy="majority")
    _same_error(X, y, [2], categorical_encoder="onehot")
    few = np.flatnonzero(y == 1)[:3]
    keep = np.r_[np.flatnonzero(y == 0), few]
    _same_error(X[keep], y[keep], [2], k_neighbors=5)
    nan = X.copy()
    nan[0, 0] = np.nan
    _same_error(nan, y, [2])
    _same_error(X[:0], y[:0], [2])


def _philox_reference(X, y, seed, k=5):
    """The counter-based SMOTE-NC from its definition, in NumPy: SMOTE's philox
    draws (stream 0) on the class table, the continuous part by imbalanced-
    learn's arithmetic, each categorical feature's level picked among the
    neighbours' tied modes (ascending) by stream f + 1's uniform."""
    from gpusmote.devices._backend import CPU
    from gpusmote.engine._draws import iter_philox_draws

    ours = SMOTENC([3, 4], random_state=seed, k_neighbors=k, rng="philox")
    X_res, _ = ours.fit_resample(X, y)
    label, n_new = 1, (y == 0).sum() - (y == 1).sum()
    X_class = X[y == label]
    cont, cats = X_class[:, :3], X_class[:, 3:].astype(np.int64)
    # the neighbour table: the exact search on imbalanced-learn's scaled rows
    median_std = ours.median_std_[label]
    scaled = median_std / np.sqrt(2)
    rows_one_hot = np.hstack([cont] + [(cats[:, [f]] == np.arange(cats[:, f].max() + 1)) * scaled
                                        for f in range(2)])
    from gpusmote.neighbors._cpu import kneighbors_excluding_self

    table = kneighbors_excluding_self(rows_one_hot, k)
    draws = list(iter_philox_draws(seed, 1, len(X_class), k, n_new, CPU))
    rows = np.concatenate([d.rows for d in draws])
    cols = np.concatenate([d.cols for d in draws])
    steps = np.concatenate([d.steps for d in draws])
    expected_cont = cont[rows] + steps[:, None] * (cont[table[rows, cols]] - cont[rows])
    expected_cats = np.empty((n_new, 2))
    for f in range(2):
        uniforms = np.concatenate([d.steps for d in iter_philox_draws(seed, 1, 1, 1, n_new, CPU, stream=f + 1)])
        for i in range(n_new):
            counts = np.bincount(cats[table[rows[i]], f], minlength=cats[:, f].max() + 1)
            tied = np.flatnonzero(counts == counts.max())
            expected_cats[i, f] = tied[int(uniforms[i] * len(tied))]
    return X_res[len(X):], np.hstack([expected_cont, expected_cats])


def test_philox_rows_follow_the_definition_on_every_device_and_chunking(monkeypatch):
    from gpusmote.engine import _draws

    X, y = _data(n=200, widths=(3, 4), seed=21, kind="int")
    got, expected = _philox_reference(X, y, seed=7)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(got[:, 3:], expected[:, 3:])
    whole = SMOTENC([3, 4], random_state=7, rng="philox").fit_resample(X, y)
    monkeypatch.setattr(_draws, "DRAW_CHUNK_ROWS", 7)  # other chunks: the same rows
    for device in ("cpu", "cuda"):
        _assert_same(SMOTENC([3, 4], random_state=7, rng="philox", device=device).fit_resample(X, y), whole)
    other = SMOTENC([3, 4], random_state=8, rng="philox").fit_resample(X, y)
    assert not np.array_equal(other[0], whole[0])


def test_cuda_equals_cpu_equals_imblearn():
    X, y = _data(n=60, widths=(3, 2), seed=12)
    theirs = ImbSMOTENC([3, 4], random_state=0, k_neighbors=3).fit_resample(X, y)
    for device in ("cpu", "cuda"):
        sampler = SMOTENC([3, 4], random_state=0, k_neighbors=3, device=device)
        _assert_same(sampler.fit_resample(X, y), theirs)
        assert sampler.device_ == device


class _SubclassedEncoder(OneHotEncoder):
    """Not a plain OneHotEncoder: decoded through its own inverse_transform."""


def test_generic_encoder_paths_and_missing_categories():
    X, y = _data(n=300, widths=(3, 4), seed=13)
    _both(X, y, [3, 4], random_state=0, categorical_encoder=_SubclassedEncoder(handle_unknown="ignore"))
    _both(X, y, [3, 4], random_state=0, categorical_encoder=OneHotEncoder(min_frequency=1))
    X[::7, 3] = None
    X[::5, 4] = "zz"
    _both(X, y, [3, 4], random_state=0)


def test_lists_string_and_one_hot_targets():
    X, y = _data(n=300, widths=(3, 4), weights=(0.5, 0.3, 0.2), seed=14, kind="numeric")
    ours = SMOTENC([3, 4], random_state=0).fit_resample(X.tolist(), y.tolist())
    assert ours == ImbSMOTENC([3, 4], random_state=0).fit_resample(X.tolist(), y.tolist())
    _both(X, np.array(["b", "a", "c"])[y], [3, 4], random_state=0)
    _both(X, np.eye(3, dtype=int)[y], [3, 4], random_state=0)


def test_array_categorical_features_accepted():
    """imbalanced-learn 0.14.2 fails on an ndarray of two or more indices
    (``categorical_features == "auto"`` is then ambiguous); gpusmote takes it
    as the list."""
    X, y = _data(n=200, widths=(3, 4), seed=15)
    with pytest.raises(ValueError, match="ambiguous"):
        ImbSMOTENC(np.array([3, 4]), random_state=0).fit_resample(X, y)
    theirs = ImbSMOTENC([3, 4], random_state=0).fit_resample(X, y)
    _assert_same(SMOTENC(np.array([3, 4]), random_state=0).fit_resample(X, y), theirs)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("seed", [0, 1])
def test_many_levels_search_codes_and_give_imblearns_rows(monkeypatch, seed, device):
    """Above the byte threshold the class's k-NN runs on the codes (never an
    n_class x n_levels block): the same rows as imbalanced-learn."""
    import gpusmote.over_sampling._categorical as categorical_module

    calls = []
    original = categorical_module._mixed_kneighbors

    def recording(continuous, codes, *args):
        calls.append(codes.shape)
        return original(continuous, codes, *args)

    monkeypatch.setattr(categorical_module, "SMOTENC_DENSE_KNN_BYTES", 0)
    monkeypatch.setattr(categorical_module, "_mixed_kneighbors", recording)
    rng = np.random.default_rng(seed)
    n = 600 if device == "cpu" else 150
    X = np.column_stack([rng.normal(size=n), np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
                         rng.integers(0, 40, n), rng.integers(0, 3, n)]).astype(np.float64)
    y = (rng.random(n) < 0.2).astype(int)
    ours = SMOTENC(categorical_features=[2, 3], random_state=seed, device=device).fit_resample(X, y)
    reference = ImbSMOTENC(categorical_features=[2, 3], random_state=seed).fit_resample(X, y)
    np.testing.assert_array_equal(ours[0], reference[0], strict=True)
    np.testing.assert_array_equal(ours[1], reference[1], strict=True)
    assert calls and all(shape[1] == 2 for shape in calls)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("order", ["categorical-last", "interleaved"])
def test_output_written_in_place_is_imblearns(dtype, order):
    """The one output, written column by column from X (continuous columns
    side by side or not; -0.0 stored as +0.0 as imbalanced-learn's CSR does)."""
    X, y = _data(n=400, n_continuous=3, widths=(4, 6), kind="numeric", seed=31, dtype=dtype,
                 weights=(0.6, 0.25, 0.15))
    if np.dtype(dtype).kind == "f":
        X[::7, 0], X[1::9, 1] = -0.0, 0.0
    categorical = [3, 4]
    if order == "interleaved":
        X = X[:, [3, 0, 4, 1, 2]]
        categorical = [0, 2]
    _both(X, y, categorical, random_state=0)
    _both(X, y, categorical, random_state=1, k_neighbors=3)
