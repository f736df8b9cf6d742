"""RandomOverSampler: bit-identical to imbalanced-learn's, on both engines."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import RandomOverSampler as Reference
from imblearn.pipeline import Pipeline
from imblearn.utils._tags import get_tags
from imblearn.utils.estimator_checks import parametrize_with_checks
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

import gpusmote.engine._draws
from gpusmote.devices._backend import cuda_backend
from gpusmote.kernels import _row_threads
from gpusmote.kernels import gather_rows as gather_rows_module
from gpusmote.kernels.gather_rows import gather_rows
from gpusmote.over_sampling import _random_over_sampler
from gpusmote.over_sampling._random_over_sampler import RandomOverSampler
from helpers import assert_same_resample, make_classes

STRATEGIES = [
    "auto",
    "minority",
    "not minority",
    "not majority",
    "all",
    {1: 60, 2: 45},
    {0: 40, 1: 30, 2: 18},  # class 0 at its own count: n == 0, still drawn (nothing consumed)
    lambda y: {c: int(np.sum(y == c)) * 2 for c in (1, 2)},
]
SHRINKAGES = [None, 0.5, 0, 2, {0: 1.0, 1: 0.3, 2: 0.0, 7: 5.0}]


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Both engines: the CUDA one under Numba's simulator in CI."""
    return request.param


def both(device, X, y, **params):
    """(ours, reference) results and the two fitted samplers."""
    ours, reference = RandomOverSampler(device=device, **params), Reference(**params)
    results = ours.fit_resample(X, y), reference.fit_resample(X, y)
    np.testing.assert_array_equal(ours.sample_indices_, reference.sample_indices_, strict=True)
    return results, ours, reference


def check_same(device, X, y, **params):
    (mine, theirs), ours, reference = both(device, X, y, **params)
    assert_same_resample(mine, theirs)
    return mine, ours, reference


# -- exactness: dtypes, strategies, seeds, shrinkage ------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.float16, bool])
@pytest.mark.parametrize("shrinkage", [None, 0.7])
def test_dtypes(dtype, shrinkage, device):
    X, y = make_classes([40, 12, 7], n_features=3, dtype=dtype, seed=2)
    (X_res, _), ours, reference = check_same(device, X, y, random_state=5, shrinkage=shrinkage)
    assert ours.shrinkage_ == reference.shrinkage_
    # a smoothed bootstrap is float64, as imbalanced-learn's (no astype back)
    assert X_res.dtype == (X.dtype if shrinkage is None else np.float64)


@pytest.mark.parametrize("n_features", [1, 5, 40])
def test_large_enough_for_the_parallel_kernels(n_features, device):
    # 3,000+ rows x 40 features passes the kernels' parallel threshold
    X, y = make_classes([3000, 400, 150], n_features=n_features, dtype=np.float32, seed=n_features)
    check_same(device, X, y, random_state=0)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: getattr(s, "__name__", str(s)))
@pytest.mark.parametrize("shrinkage", [None, 1.0])
def test_every_strategy_form(strategy, shrinkage, device):
    X, y = make_classes([40, 12, 7], n_features=4, seed=3)
    check_same(device, X, y, sampling_strategy=strategy, random_state=11, shrinkage=shrinkage)


@pytest.mark.parametrize("ratio", [0.3, 0.5, 1.0])
def test_float_ratio_binary(ratio, device):
    X, y = make_classes([60, 9], n_features=3, dtype=np.float32, seed=5)
    check_same(device, X, y, sampling_strategy=ratio, random_state=2)


@pytest.mark.parametrize("shrinkage", SHRINKAGES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_shrinkage_forms(shrinkage, dtype, device):
    X, y = make_classes([30, 10, 6], n_features=4, dtype=dtype, seed=4)
    _, ours, reference = check_same(device, X, y, random_state=7, shrinkage=shrinkage)
    assert ours.shrinkage_ == reference.shrinkage_
    if isinstance(shrinkage, dict):
        assert ours.shrinkage_ is shrinkage  # the caller's dict, as imbalanced-learn keeps it


def test_shrinkage_zero_still_draws_noise(device):
    X, y = make_classes([30, 10, 6], n_features=3, seed=6)
    plain = RandomOverSampler(random_state=1, device=device)
    zero = RandomOverSampler(random_state=1, shrinkage=0, device=device)
    plain.fit_resample(X, y)
    zero.fit_resample(X, y)
    first = slice(len(y), len(y) + zero.sampling_strategy_[1])
    # the first class's picks agree; later classes' follow the noise draws
    assert np.array_equal(zero.sample_indices_[first], plain.sample_indices_[first])
    assert not np.array_equal(zero.sample_indices_[first.stop :], plain.sample_indices_[first.stop :])
    check_same(device, X, y, random_state=1, shrinkage=0)


@pytest.mark.parametrize("strategy", [{}, {0: 30}], ids=["empty", "only_n_zero"])
def test_nothing_to_add(strategy, device):
    # the smoothed bootstrap's float64 output comes from its (maybe empty) noise
    # blocks: none at all keeps X's dtype, an empty one does not
    X, y = make_classes([30, 10], n_features=2, dtype=np.float32, seed=6)
    (X_res, _), _, _ = check_same(device, X, y, random_state=0, sampling_strategy=strategy, shrinkage=1.0)
    assert X_res.dtype == (np.float32 if not strategy else np.float64)


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_signed_zeros_constant_and_overflowing_columns(device):
    # std 0 (constant column of -0.0): noise * 0 is -0.0 for negative draws, the
    # BLAS sum makes it +0.0; std inf (values near the float64 limit) scales
    # the noise to +-inf in that column only.
    X, y = make_classes([30, 8], n_features=3, seed=7)
    X[:, 0] = -0.0
    X[:, 2] = np.where(np.arange(len(X)) % 2, 1.5e308, -1.5e308)
    for shrinkage in (0, 1.0):
        ((X_res, _), (X_ref, _)), _, _ = both(device, X, y, random_state=3, shrinkage=shrinkage)
        np.testing.assert_array_equal(X_res, X_ref, strict=True)
        assert np.array_equal(np.signbit(X_res), np.signbit(X_ref))


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_int_seeds(seed, device):
    X, y = make_classes([25, 9, 5], n_features=2, seed=seed % 7)
    check_same(device, X, y, random_state=seed)
    check_same(device, X, y, random_state=seed, shrinkage=0.4)


@pytest.mark.parametrize("shrinkage", [None, 0.5])
def test_random_state_instance_left_where_imblearn_leaves_it(shrinkage, device):
    X, y = make_classes([25, 9, 5], n_features=3, seed=1)
    ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
    for _ in range(2):  # the instance advances: two calls differ, both match
        mine = RandomOverSampler(random_state=ours_rs, shrinkage=shrinkage, device=device).fit_resample(X, y)
        theirs = Reference(random_state=ref_rs, shrinkage=shrinkage).fit_resample(X, y)
        assert_same_resample(mine, theirs)
    assert ours_rs.randint(2**31) == ref_rs.randint(2**31)


def test_global_random_state(device):
    X, y = make_classes([25, 9, 5], n_features=3, seed=2)
    np.random.seed(123)
    mine = RandomOverSampler(shrinkage=0.3, device=device).fit_resample(X, y)
    after_ours = np.random.randint(2**31)
    np.random.seed(123)
    theirs = Reference(shrinkage=0.3).fit_resample(X, y)
    assert_same_resample(mine, theirs)
    assert after_ours == np.random.randint(2**31)


def test_noise_in_chunks_is_the_same(monkeypatch):
    X, y = make_classes([60, 9, 5], n_features=3, seed=8)
    monkeypatch.setattr(_random_over_sampler, "NOISE_CHUNK_ELEMENTS", 7)
    check_same("cpu", X, y, random_state=4, shrinkage=1.5)


# -- any data: object, strings, NaN, containers ------------------------------------------------

def test_nan_and_inf_pass_through(device):
    X, y = make_classes([20, 6], n_features=3, seed=9)
    X[[0, 5, 11], 1] = np.nan
    X[3, 2] = -np.inf
    check_same(device, X, y, random_state=0)


def test_object_and_string_arrays(device):
    X, y = make_classes([20, 6, 4], n_features=2, seed=10)
    mixed = np.array([[f"r{i}", v, None] for i, v in enumerate(X[:, 0])], dtype=object)
    check_same(device, mixed, y, random_state=1)
    strings = np.array([[f"a{i}", f"bb{i % 3}"] for i in range(len(y))])
    (X_res, _), _, _ = check_same(device, strings, y, random_state=1)
    assert X_res.dtype == strings.dtype


def test_string_and_object_labels(device):
    X, y = make_classes([20, 6, 4], n_features=2, seed=11)
    check_same(device, X, np.array(["zebra", "ant", "moose"])[y], random_state=2)
    check_same(device, X, np.array(["ok", "fraud", "x"], dtype=object)[y], random_state=2)
    zeros = np.array([2.0, -0.0, 1.0])[y]
    zeros[::2] = np.where(zeros[::2] == 0, 0.0, zeros[::2])  # one class, labels -0.0 and +0.0
    (mine, theirs), _, _ = both(device, X, zeros, random_state=2, sampling_strategy="all")
    assert_same_resample(mine, theirs)
    assert np.array_equal(np.signbit(mine[1]), np.signbit(theirs[1]))


def test_big_endian_input(device):
    X, y = make_classes([20, 6], n_features=2, seed=12)
    check_same(device, X.astype(">f8"), y.astype(">i8"), random_state=2)
    check_same(device, X.astype(">f4"), y, random_state=2, shrinkage=1.0)


def test_lists(device):
    X, y = make_classes([20, 6], n_features=2, seed=13)
    check_same(device, X.tolist(), y.tolist(), random_state=3)


def _mixed_frame(n):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "f32": rng.normal(size=n).astype(np.float32),
        "f64": rng.normal(size=n),
        "i32": rng.integers(-100, 100, size=n).astype(np.int32),
        "flag": rng.random(n) < 0.5,
        "name": [f"n{i}" for i in range(n)],
        "cat": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
        "when": pd.date_range("2024-01-01", periods=n, freq="h"),
        "maybe": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        "zoned": pd.date_range("2024-03-31", periods=n, freq="37min", tz="Europe/Paris"),
        "gap": pd.to_timedelta([None if i % 4 == 0 else f"{i}s" for i in range(n)]),
        "text": pd.array([None if i % 6 == 0 else f"t{i}" for i in range(n)], dtype="string"),
        "holes": np.where(np.arange(n) % 3 == 0, np.nan, rng.normal(size=n)).astype(np.float32),
        "anything": [[1, "a", 2.5, None, -0.0][i % 5] for i in range(n)],
    }, index=np.arange(100, 100 + n))


MIXED_COLUMNS = list(_mixed_frame(1).columns)


@pytest.mark.parametrize("columns", [["f32", "f64", "i32"], ["f32", "f64", "i32", "flag", "name", "cat",
                                                              "when", "maybe"], MIXED_COLUMNS, ["maybe"],
                                     ["cat"], ["f32", "flag"], ["zoned", "gap"], ["text", "holes", "anything"]])
def test_dataframe_and_series(columns, device):
    X = _mixed_frame(30)[columns]
    y = pd.Series(np.array([0] * 22 + [1] * 8)[np.random.default_rng(1).permutation(30)],
                  index=X.index, name="target")
    (X_res, y_res), ours, _ = check_same(device, X, y, random_state=4)
    assert list(ours.feature_names_in_) == columns
    assert (X_res.dtypes == X.dtypes).all()


@pytest.mark.parametrize("rng", ["imblearn", "philox"])
def test_frame_rows_taken_without_an_object_array(monkeypatch, rng):
    # imbalanced-learn stacks mixed columns into an object array and casts each back;
    # the frame's own rows give the same frame (with rng='philox': its bootstrap's rows)
    X = _mixed_frame(40)
    X.attrs["source"] = "test"
    y = pd.Series([0] * 30 + [1] * 10, index=X.index)
    expected = RandomOverSampler(random_state=2, rng=rng).fit_resample(X.copy(), y)  # (attrs dropped)
    monkeypatch.setattr(pd.DataFrame, "__array__", lambda *args, **kwargs: pytest.fail("object array"))
    sampler = RandomOverSampler(random_state=2, rng=rng)
    X_res, y_res = sampler.fit_resample(X, y)
    pd.testing.assert_frame_equal(X_res, X.take(sampler.sample_indices_).reset_index(drop=True),
                                  check_exact=True)
    assert X_res.attrs == {} and X_res.columns is X.columns and X.attrs == {"source": "test"}
    assert_same_resample((X_res, y_res), expected)


def test_frames_with_duplicate_column_names_fail_as_in_imblearn(device):
    X = pd.DataFrame(np.arange(40.0).reshape(20, 2), columns=["a", "a"])
    y = pd.Series([0] * 15 + [1] * 5)
    with pytest.raises(Exception) as theirs:
        Reference(random_state=0).fit_resample(X, y)
    with pytest.raises(type(theirs.value), match="unique column names"):
        RandomOverSampler(random_state=0, device=device).fit_resample(X, y)


def test_numeric_dataframe_with_shrinkage(device):
    X = _mixed_frame(30)[["f32", "f64", "i32"]]
    y = pd.Series([0] * 22 + [1] * 8, index=X.index, name="y")
    check_same(device, X, y, random_state=4, shrinkage=0.8)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("kind", [sparse.csr_matrix, sparse.csr_array])
@pytest.mark.parametrize("shrinkage", [None, 1.0])
def test_sparse(fmt, kind, shrinkage, device):
    X, y = make_classes([40, 10, 6], n_features=6, dtype=np.float32, seed=14)
    X[np.abs(X) < 0.8] = 0
    X = kind(X).asformat(fmt)
    (X_res, _), ours, _ = check_same(device, X, y, random_state=5, shrinkage=shrinkage)
    assert ours.device_ == "cpu"
    X_ref, _ = Reference(random_state=5, shrinkage=shrinkage).fit_resample(X, y)
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(X_res, name), getattr(X_ref, name), strict=True)


def test_sparse_coo_becomes_csr(device):
    X, y = make_classes([20, 6], n_features=4, seed=15)
    check_same(device, sparse.coo_matrix(X), y, random_state=5)


def test_one_hot_y(device):
    X, y = make_classes([20, 6, 4], n_features=2, seed=16)
    check_same(device, X, np.eye(3, dtype=int)[y], random_state=6)


# -- errors: imbalanced-learn's types and messages ---------------------------------------------

def _same_error(X, y, **params):
    with pytest.raises(Exception) as theirs:
        Reference(**params).fit_resample(X, y)
    with pytest.raises(type(theirs.value)) as mine:
        RandomOverSampler(device="cpu", **params).fit_resample(X, y)
    assert str(mine.value) == str(theirs.value)
    return mine.value


@pytest.mark.parametrize("case", [
    "missing_shrinkage", "negative_shrinkage", "negative_float", "strings_with_shrinkage",
    "nan_with_shrinkage", "generator", "bad_strategy", "empty", "one_d", "single_class",
    "float_targets", "unknown_class", "continuous_y",
])
def test_errors_match_imblearn(case):
    X, y = make_classes([20, 6, 4], n_features=2, seed=17)
    params = {"random_state": 0}
    if case == "missing_shrinkage":
        params["shrinkage"] = {1: 0.5}
    elif case == "negative_shrinkage":
        params["shrinkage"] = {1: 0.5, 2: -1.0}
    elif case == "negative_float":
        params["shrinkage"] = -0.5
    elif case == "strings_with_shrinkage":
        X = np.array([["a", "b"]] * len(y))
        params["shrinkage"] = 1.0
    elif case == "nan_with_shrinkage":
        X[3, 1] = np.nan
        params["shrinkage"] = 1.0
    elif case == "generator":
        params["random_state"] = np.random.default_rng(0)
    elif case == "bad_strategy":
        params["sampling_strategy"] = "majority"
    elif case == "empty":
        X, y = X[:0], y[:0]
    elif case == "one_d":
        X = X[:, 0]
    elif case == "single_class":
        y = np.zeros_like(y)
    elif case == "float_targets":
        params["sampling_strategy"] = {1: 20.0, 2: 20}
    elif case == "unknown_class":
        params["sampling_strategy"] = {5: 30}
    elif case == "continuous_y":
        y = y + 0.5
    _same_error(X, y, **params)


@pytest.mark.parametrize("short", ["X", "y"])
def test_inconsistent_lengths_refused(short):
    # imbalanced-learn 0.14.2 skips this check (it returns X and y of different
    # lengths, or fails with an IndexError); scikit-learn's check and message
    X, y = make_classes([20, 6], n_features=2, seed=17)
    X, y = (X[:-1], y) if short == "X" else (X, y[:-1])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[\d+, \d+\]"):
        RandomOverSampler().fit_resample(X, y)


def test_philox_with_shrinkage_is_refused():
    X, y = make_classes([20, 6], n_features=2, seed=18)
    with pytest.raises(ValueError, match="rng='imblearn'"):
        RandomOverSampler(rng="philox", shrinkage=0.5).fit_resample(X, y)


@pytest.mark.parametrize("params", [{"rng": "numpy"}, {"device": "tpu"}, {"shrinkage": "big"}])
def test_own_parameters_validated(params):
    X, y = make_classes([20, 6], n_features=2, seed=18)
    with pytest.raises(ValueError, match="parameter of RandomOverSampler must be"):
        RandomOverSampler(**params).fit_resample(X, y)


# -- rng='philox' ------------------------------------------------------------------------------

def test_philox_same_on_both_engines_and_any_chunking(monkeypatch):
    X, y = make_classes([60, 9, 5], n_features=3, seed=19)
    results = [RandomOverSampler(random_state=9, rng="philox", device=d).fit_resample(X, y)
               for d in ("cpu", "cuda")]
    monkeypatch.setattr(gpusmote.engine._draws, "DRAW_CHUNK_ROWS", 4)
    results.append(RandomOverSampler(random_state=9, rng="philox", device="cpu").fit_resample(X, y))
    for other in results[1:]:
        assert_same_resample(other, results[0])


def test_philox_rows_depend_only_on_seed_class_and_index():
    X, y = make_classes([60, 9, 5], n_features=3, seed=20)
    small = RandomOverSampler(random_state=9, rng="philox", sampling_strategy={1: 20, 2: 10})
    large = RandomOverSampler(random_state=9, rng="philox", sampling_strategy={2: 30})
    small.fit_resample(X, y)
    large.fit_resample(X, y)
    n = len(y)
    class_2_small = small.sample_indices_[n + 11 :]
    class_2_large = large.sample_indices_[n : n + 25]
    # class 2's first 5 picks are the same whatever class 1 drew and however many follow
    np.testing.assert_array_equal(class_2_small, class_2_large[: len(class_2_small)])
    picks = large.sample_indices_[n:]
    assert set(y[picks]) == {2}
    assert len(set(picks)) == 5  # 25 draws from 5 rows reach every row


def test_philox_seeds():
    X, y = make_classes([60, 9], n_features=2, seed=21)
    run = lambda rs: RandomOverSampler(random_state=rs, rng="philox").fit_resample(X, y)  # noqa: E731
    assert_same_resample(run(5), run(5))
    assert_same_resample(run(np.random.RandomState(1)), run(np.random.RandomState(1)))
    assert not np.array_equal(run(5)[0], run(6)[0])


# -- estimator conventions ---------------------------------------------------------------------

@parametrize_with_checks([RandomOverSampler(random_state=0)])
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


def test_constructor_only_stores_params_and_clone():
    sampler = RandomOverSampler(sampling_strategy="minority", random_state=3, shrinkage={0: 1.0},
                                device="cpu", rng="philox")
    assert sampler.get_params() == {"sampling_strategy": "minority", "random_state": 3,
                                    "shrinkage": {0: 1.0}, "device": "cpu", "rng": "philox"}
    assert not [name for name in vars(sampler) if name.endswith("_")]
    copy = clone(sampler.set_params(shrinkage=0.5))
    assert copy.get_params() == sampler.get_params() and copy is not sampler
    assert pickle.loads(pickle.dumps(sampler)).get_params() == sampler.get_params()


def test_tags_and_constraints_match_imblearn():
    ours, theirs = get_tags(RandomOverSampler()), get_tags(Reference())
    assert ours.input_tags == theirs.input_tags
    assert ours.sampler_tags == theirs.sampler_tags
    constraints = RandomOverSampler._parameter_constraints
    assert {k: v for k, v in constraints.items() if k not in ("device", "rng")} == Reference._parameter_constraints


def test_fitted_attributes(device):
    X = _mixed_frame(30)[["f32", "f64"]]
    y = np.array([0] * 22 + [1] * 8)
    ours = RandomOverSampler(random_state=0, device=device).fit(X, y)
    reference = Reference(random_state=0).fit(X, y)
    assert ours.sampling_strategy_ == reference.sampling_strategy_
    ours.fit_resample(X, y)
    assert ours.n_features_in_ == 2 and list(ours.feature_names_in_) == ["f32", "f64"]
    assert ours.device_ == device and ours.shrinkage_ is None
    assert ours.sample_indices_.dtype == np.int64


def test_pipeline():
    X, y = make_classes([80, 12], n_features=4, seed=22)
    pipe = Pipeline([("ros", RandomOverSampler(random_state=0)), ("clf", LogisticRegression())])
    ref = Pipeline([("ros", Reference(random_state=0)), ("clf", LogisticRegression())])
    np.testing.assert_array_equal(pipe.fit(X, y).predict_proba(X), ref.fit(X, y).predict_proba(X))


@pytest.mark.parametrize("shrinkage", [None, 1.0])
def test_inputs_not_modified(shrinkage, device):
    X, y = make_classes([30, 8], n_features=3, dtype=np.float32, seed=23)
    X_copy, y_copy = X.copy(), y.copy()
    X_res, _ = RandomOverSampler(random_state=0, shrinkage=shrinkage, device=device).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_copy, strict=True)
    np.testing.assert_array_equal(y, y_copy, strict=True)
    assert not np.shares_memory(X_res, X)


# -- the device-input path (CuPy X; here NumPy under the simulator) ----------------------------

@pytest.mark.parametrize(("rng", "shrinkage"), [("imblearn", None), ("imblearn", 0.5), ("philox", None)])
def test_device_path_equals_fit_resample(rng, shrinkage):
    X, y = make_classes([40, 9, 5], n_features=3, dtype=np.float32, seed=24)
    X[2, 1] = np.nan if shrinkage is None else X[2, 1]  # NaN allowed, as on the host
    expected = RandomOverSampler(random_state=3, rng=rng, shrinkage=shrinkage, device="cpu")
    expected_res = expected.fit_resample(X, y)
    sampler = RandomOverSampler(random_state=3, rng=rng, shrinkage=shrinkage, device="cuda")
    result = sampler._resample_device_arrays(X, y, cuda_backend(simulated=True))
    assert_same_resample(result, expected_res)
    np.testing.assert_array_equal(sampler.sample_indices_, expected.sample_indices_, strict=True)


@pytest.mark.parametrize("case", ["empty", "one_d", "lengths", "no_features", "nan_with_shrinkage"])
def test_device_path_errors(case):
    X, y = make_classes([20, 6], n_features=2, seed=25)
    params = {}
    if case == "empty":
        X, y = X[:0], y[:0]
    elif case == "one_d":
        X = X[:, 0]
    elif case == "lengths":
        y = y[:-1]
    elif case == "no_features":
        X = X[:, :0]
    elif case == "nan_with_shrinkage":
        X[1, 1] = np.nan
        params["shrinkage"] = 1.0
    with pytest.raises(ValueError) as host:
        RandomOverSampler(device="cpu", **params).fit_resample(X, y)
    with pytest.raises(ValueError) as device:
        RandomOverSampler(device="cuda", **params)._resample_device_arrays(
            X, y, cuda_backend(simulated=True))
    if case in ("empty", "lengths", "no_features", "nan_with_shrinkage"):
        assert str(device.value) == str(host.value)


# -- the gather kernel -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.float16, bool, "<U3",
                                   "datetime64[s]", ">f8", object])
@pytest.mark.parametrize("n_features", [1, 3, 20])
def test_gather_rows(dtype, n_features, monkeypatch):
    rng = np.random.default_rng(0)
    src = (rng.normal(size=(20000, n_features)) * 100).astype(dtype)
    index = rng.integers(0, len(src), size=5001)
    threads = []
    monkeypatch.setattr(_row_threads, "MIN_THREAD_BYTES", 1)  # split even this small gather
    monkeypatch.setattr(_row_threads, "n_threads", lambda: 3)
    original = _row_threads.over_row_ranges

    def recording(n_rows, n_bytes, work):
        threads.append(n_bytes)
        return original(n_rows, n_bytes, work)

    monkeypatch.setattr(gather_rows_module, "over_row_ranges", recording)
    for layout in (src, np.asfortranarray(src), src[:, ::-1]):
        out = np.full((len(index), n_features), src.flat[0], dtype=src.dtype)
        gather_rows(out, layout, index)
        np.testing.assert_array_equal(out, layout[index], strict=True)
    # objects are gathered on one thread (n_bytes 0), everything else in ranges
    assert all((n == 0) == src.dtype.hasobject for n in threads)


def test_row_ranges_cover_every_row_once(monkeypatch):
    monkeypatch.setattr(_row_threads, "MIN_THREAD_BYTES", 10)
    monkeypatch.setattr(_row_threads, "n_threads", lambda: 4)
    for n_rows, n_bytes in [(0, 0), (1, 100), (3, 1000), (10, 25), (1001, 10**6)]:
        seen = []
        _row_threads.over_row_ranges(n_rows, n_bytes, lambda a, b: seen.append((a, b)))
        covered = sorted(i for a, b in seen for i in range(a, b))
        assert covered == list(range(n_rows))
        assert len(seen) == max(1, min(4, n_rows, n_bytes // 10))
