"""BorderlineSMOTE: bit-identical to imbalanced-learn's, on both engines."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import BorderlineSMOTE as Reference
from imblearn.pipeline import Pipeline
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors as SklearnNN

import gpusmote
from gpusmote.over_sampling._filter import BorderlineSMOTE
from helpers import assert_same_resample, make_classes

KINDS = ["borderline-1", "borderline-2"]


def both(X, y, device="cpu", **params):
    ours = BorderlineSMOTE(device=device, **params)
    reference = Reference(**params)
    result = (ours.fit_resample(X, y), reference.fit_resample(X, y))
    return ours, reference, result


def overlapping(counts=(160, 45, 30), n_features=5, dtype=np.float64, seed=0):
    """Overlapping classes: every over-sampled class has danger rows."""
    return make_classes(list(counts), n_features=n_features, dtype=dtype, seed=seed)


def with_far_class(n_far=30, seed=0):
    """Overlapping classes 0-2 and a class 3 far from all others (no danger rows)."""
    X, y = overlapping(seed=seed)
    far = np.random.default_rng(seed + 1).normal(size=(n_far, X.shape[1])) + 100.0
    return np.vstack([X, far]), np.concatenate([y, np.full(n_far, 3)])


def assert_same_danger(ours, reference):
    assert ours.in_danger_indices.keys() == reference.in_danger_indices.keys()
    for label, indices in reference.in_danger_indices.items():
        np.testing.assert_array_equal(ours.in_danger_indices[label], indices, strict=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kinds_and_float_dtypes(kind, dtype):
    X, y = overlapping(n_features=7, dtype=dtype, seed=1)
    ours, reference, result = both(X, y, kind=kind, random_state=7)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert len(ours.in_danger_indices) == 2  # both minority classes have danger rows
    assert result[0][0].dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_borderline2_expression_in_small_pieces(monkeypatch, dtype, device):
    from gpusmote.engine import _resample

    monkeypatch.setattr(_resample, "SCALED_DIFFS_PIECE_BYTES", 200)  # 3 rows of 7 columns a piece
    X, y = overlapping(n_features=7, dtype=dtype, seed=3)
    _, _, result = both(X, y, device=device, kind="borderline-2", random_state=5)
    assert_same_resample(*result)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_borderline1_integer_dtypes(dtype):
    X, y = overlapping(n_features=4, dtype=dtype, seed=2)
    ours, reference, result = both(X, y, kind="borderline-1", random_state=3)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_borderline2_integer_raises_numpys_error(dtype):
    X, y = overlapping(n_features=4, dtype=dtype, seed=2)
    with pytest.raises(np._core._exceptions.UFuncTypeError) as expected:
        Reference(kind="borderline-2", random_state=0).fit_resample(X, y)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        BorderlineSMOTE(kind="borderline-2", random_state=0, device="cpu").fit_resample(X, y)


STRATEGIES = [
    "auto", "minority", "not minority", "not majority", "all",
    {1: 80, 2: 60}, {0: 200, 2: 40},
    lambda y: {c: int(np.sum(y == c)) * 2 for c in (1, 2)},
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: getattr(s, "__name__", str(s)))
@pytest.mark.parametrize("kind", KINDS)
def test_every_strategy_form(strategy, kind):
    X, y = overlapping(dtype=np.float32, seed=3)
    ours, reference, result = both(X, y, kind=kind, sampling_strategy=strategy, random_state=11)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert ours.sampling_strategy_ == reference.sampling_strategy_


@pytest.mark.parametrize("ratio", [0.4, 1.0])
@pytest.mark.parametrize("kind", KINDS)
def test_float_ratio_binary(ratio, kind):
    X, y = overlapping(counts=(150, 40), seed=4)
    assert_same_resample(*both(X, y, kind=kind, sampling_strategy=ratio, random_state=2)[2])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k, m", [(1, 3), (3, 10), (5, 10), (8, 4), (12, 6)])
def test_int_neighbors(kind, k, m):
    """k < m, k > m (Borderline-2 serves both from one search of max(k, m))."""
    X, y = overlapping(n_features=6, seed=k + m)
    ours, reference, result = both(X, y, kind=kind, k_neighbors=k, m_neighbors=m, random_state=5)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert (ours.nn_k_.n_neighbors, ours.nn_m_.n_neighbors) == (k + 1, m + 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("make_nn", [
    lambda n: SklearnNN(n_neighbors=n),
    lambda n: SklearnNN(n_neighbors=n, algorithm="kd_tree"),
    lambda n: gpusmote.NearestNeighbors(n_neighbors=n),
], ids=["sklearn", "sklearn-kd_tree", "gpusmote"])
def test_neighbors_estimators(kind, make_nn):
    X, y = overlapping(n_features=5, seed=6)
    ours, reference, result = both(X, y, kind=kind, k_neighbors=make_nn(4), m_neighbors=make_nn(9),
                                   random_state=4)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert (ours.nn_k_.n_neighbors, ours.nn_m_.n_neighbors) == (4, 9)
    # clones, fitted as imbalanced-learn fits them (nn_m_ on all of X)
    assert ours.nn_m_.n_samples_fit_ == reference.nn_m_.n_samples_fit_ == len(X)
    assert ours.nn_k_.n_samples_fit_ == reference.nn_k_.n_samples_fit_


@pytest.mark.parametrize("kind", KINDS)
def test_mixed_int_and_estimator(kind):
    X, y = overlapping(seed=7)
    assert_same_resample(*both(X, y, kind=kind, k_neighbors=SklearnNN(n_neighbors=6), m_neighbors=8,
                               random_state=1)[2])
    assert_same_resample(*both(X, y, kind=kind, k_neighbors=3, m_neighbors=SklearnNN(n_neighbors=7),
                               random_state=1)[2])


@pytest.mark.parametrize("kind", KINDS)
def test_random_state_instance_left_where_imblearn_leaves_it(kind):
    X, y = overlapping(seed=8)
    ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
    ours, reference = BorderlineSMOTE(kind=kind, random_state=ours_rs, device="cpu"), Reference(
        kind=kind, random_state=ref_rs)
    first = (ours.fit_resample(X, y), reference.fit_resample(X, y))
    second = (ours.fit_resample(X, y), reference.fit_resample(X, y))
    assert_same_resample(*first)
    assert_same_resample(*second)
    assert not np.array_equal(first[0][0], second[0][0])  # the stream moved on
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)


@pytest.mark.parametrize("kind", KINDS)
def test_global_random_state_when_none(kind):
    X, y = overlapping(seed=9)
    np.random.seed(99)
    ours = BorderlineSMOTE(kind=kind, device="cpu").fit_resample(X, y)
    after_ours = np.random.randint(1 << 30)
    np.random.seed(99)
    reference = Reference(kind=kind).fit_resample(X, y)
    assert_same_resample(ours, reference)
    assert after_ours == np.random.randint(1 << 30)


@pytest.mark.parametrize("kind", KINDS)
def test_int_seed_repeats(kind):
    X, y = overlapping(seed=10)
    sampler = BorderlineSMOTE(kind=kind, random_state=5, device="cpu")
    assert_same_resample(sampler.fit_resample(X, y), sampler.fit_resample(X, y))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("random_state", [3, "instance"])
def test_class_without_danger_rows_skipped(kind, random_state):
    X, y = with_far_class()
    ours_rs, ref_rs = ((np.random.RandomState(3), np.random.RandomState(3)) if random_state == "instance"
                       else (random_state, random_state))
    ours = BorderlineSMOTE(kind=kind, random_state=ours_rs, device="cpu")
    reference = Reference(kind=kind, random_state=ref_rs)
    ours_result, reference_result = ours.fit_resample(X, y), reference.fit_resample(X, y)
    assert_same_resample(ours_result, reference_result)
    if random_state == "instance":  # a skipped class draws nothing
        assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)
    assert_same_danger(ours, reference)
    assert 3 not in ours.in_danger_indices and ours.sampling_strategy_[3] > 0
    assert np.sum(ours_result[1] == 3) == 30  # asked for, silently not made


def test_no_class_has_danger_rows():
    X, y = with_far_class()
    keep = (y == 0) | (y == 3)
    ours, reference, result = both(X[keep], y[keep], kind="borderline-2", random_state=0)
    assert_same_resample(*result)
    assert ours.in_danger_indices == {} == reference.in_danger_indices
    # integer X is only a problem once Borderline-2 has rows to scale
    X_int = (X[keep] * 1000).astype(np.int64)
    assert_same_resample(*both(X_int, y[keep], kind="borderline-2", random_state=0)[2])


@pytest.mark.parametrize("kind", KINDS)
def test_pandas_in_pandas_out(kind):
    X, y = overlapping(n_features=4, dtype=np.float32, seed=12)
    frame = pd.DataFrame(X, columns=["amount", "age", "v1", "v2"], index=np.arange(100, 100 + len(X)))
    frame["v2"] = frame["v2"].astype(np.float64)
    series = pd.Series(y, name="is_fraud", index=frame.index)
    ours, reference, result = both(frame, series, kind=kind, random_state=3)
    assert_same_resample(*result)
    np.testing.assert_array_equal(ours.feature_names_in_, reference.feature_names_in_)
    assert ours.n_features_in_ == reference.n_features_in_ == 4


@pytest.mark.parametrize("kind", KINDS)
def test_python_lists_and_string_labels(kind):
    X, y = overlapping(n_features=3, seed=14)
    labels = np.array(["zebra", "ant", "moose"])[y]
    assert_same_resample(*both(X.tolist(), labels.tolist(), kind=kind, random_state=5)[2])
    assert_same_resample(*both(X, labels, kind=kind, random_state=5)[2])


def sparse_data(seed=15, dtype=np.float64):
    X, y = overlapping(n_features=12, dtype=dtype, seed=seed)
    X[np.random.default_rng(seed).random(X.shape) < 0.5] = 0
    return X, y


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.csc_array])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_borderline1(container, dtype):
    X, y = sparse_data(dtype=dtype)
    ours, reference, result = both(container(X), y, kind="borderline-1", random_state=6)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert type(result[0][0]) is container


@pytest.mark.parametrize("container", [sparse.csr_array, sparse.csc_array])
def test_sparse_arrays_borderline2(container):
    """imbalanced-learn's ``diffs[mask] *=`` works on sparse arrays (elementwise)."""
    X, y = sparse_data(dtype=np.float32)
    assert_same_resample(*both(container(X), y, kind="borderline-2", random_state=6)[2])


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_matrix])
def test_sparse_matrices_borderline2_raise(container):
    """On sparse matrices ``*=`` is a matrix product: imbalanced-learn fails
    with a shape mismatch; ours says why, before any work."""
    X, y = sparse_data()
    with pytest.raises(ValueError):
        Reference(kind="borderline-2", random_state=0).fit_resample(container(X), y)
    with pytest.raises(ValueError, match="sparse array"):
        BorderlineSMOTE(kind="borderline-2", random_state=0).fit_resample(container(X), y)


def test_fitted_attributes():
    X, y = with_far_class()
    ours, reference, _ = both(X, y, kind="borderline-1", random_state=0)
    assert ours.sampling_strategy_ == reference.sampling_strategy_
    assert ours.n_features_in_ == reference.n_features_in_
    assert not hasattr(ours, "feature_names_in_") and not hasattr(reference, "feature_names_in_")
    assert ours.device_ == "cpu"
    assert set(ours.timings_) == {"knn", "copy", "generate"}
    assert isinstance(ours.nn_k_, gpusmote.NearestNeighbors) and ours.nn_k_.n_neighbors == 6
    assert isinstance(ours.nn_m_, gpusmote.NearestNeighbors) and ours.nn_m_.n_neighbors == 11
    assert_same_danger(ours, reference)
    for label, indices in ours.in_danger_indices.items():
        assert np.all(y[indices] == label)


def test_too_few_rows_errors_like_imblearn():
    rng = np.random.default_rng(16)
    # A tight class of 5 amid 60 others: 4 own and 6 other rows among its 10 nearest (danger).
    X = np.vstack([rng.normal(size=(60, 5)), 0.01 * rng.normal(size=(5, 5))])
    y = np.repeat([0, 1], [60, 5])
    for params in [dict(kind="borderline-1", k_neighbors=5),  # class of 5 rows, 6 neighbours
                   dict(kind="borderline-2", k_neighbors=70),  # more than X has
                   dict(m_neighbors=70)]:
        with pytest.raises(ValueError) as expected:
            Reference(random_state=0, **params).fit_resample(X, y)
        with pytest.raises(ValueError) as raised:
            BorderlineSMOTE(random_state=0, device="cpu", **params).fit_resample(X, y)
        assert str(raised.value).startswith(str(expected.value))


@pytest.mark.parametrize("params", [dict(kind="borderline-3"), dict(m_neighbors=0), dict(k_neighbors=2.5),
                                    dict(rng="pcg"), dict(device="tpu")])
def test_parameter_validation(params):
    X, y = overlapping(seed=17)
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError) as raised:
        BorderlineSMOTE(**params).fit_resample(X, y)
    if not {"rng", "device", "ties"} & set(params):
        with pytest.raises(InvalidParameterError) as expected:
            Reference(**params).fit_resample(X, y)
        assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize("kind", KINDS)
def test_chunked_draws_match_imblearn(kind, monkeypatch):
    """Chunked draws (and, for Borderline-2, chunked scale draws) are
    imbalanced-learn's stream exactly, also past the kept integers."""
    import gpusmote.engine._draws as random_module

    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 37)
    monkeypatch.setattr(random_module, "KEEP_INDEX_ROWS", 60)
    X, y = overlapping(counts=(300, 40, 30), dtype=np.float32, seed=18)
    assert_same_resample(*both(X, y, kind=kind, random_state=8)[2])
    ours_rs, ref_rs = np.random.RandomState(1), np.random.RandomState(1)
    ours = BorderlineSMOTE(kind=kind, random_state=ours_rs, device="cpu").fit_resample(X, y)
    assert_same_resample(ours, Reference(kind=kind, random_state=ref_rs).fit_resample(X, y))
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)


@pytest.mark.parametrize("kind", KINDS)
def test_philox_chunking_invariant_and_valid(kind, monkeypatch):
    import gpusmote.engine._draws as random_module

    X, y = overlapping(counts=(300, 40, 30), dtype=np.float32, seed=19)
    whole = BorderlineSMOTE(kind=kind, rng="philox", random_state=4, device="cpu").fit_resample(X, y)
    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 29)
    chunked = BorderlineSMOTE(kind=kind, rng="philox", random_state=4, device="cpu").fit_resample(X, y)
    assert_same_resample(chunked, whole)
    reference = Reference(kind=kind, random_state=4).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(whole[1]), np.bincount(reference[1]))
    assert not np.array_equal(whole[0], reference[0])  # another stream, same counts
    other = BorderlineSMOTE(kind=kind, rng="philox", random_state=5, device="cpu").fit_resample(X, y)
    assert not np.array_equal(whole[0], other[0])


def test_philox_borderline2_recipe():
    """rng='philox' Borderline-2 row j: danger row + step_j * scale_j * (neighbour -
    row), scale_j = stream 1's step halved for a neighbour of another class, else 1."""
    from gpusmote.devices._backend import CPU
    from gpusmote.engine._draws import iter_philox_draws

    X, y = overlapping(counts=(200, 40), n_features=3, seed=20)
    sampler = BorderlineSMOTE(kind="borderline-2", rng="philox", random_state=9, device="cpu")
    X_res, _ = sampler.fit_resample(X, y)
    danger = sampler.in_danger_indices[1]
    distances = ((X[danger][:, None] - X[None]) ** 2).sum(axis=-1)
    distances[np.arange(len(danger)), danger] = np.inf
    table = np.argsort(distances, axis=1, kind="stable")[:, :5]
    draws = next(iter_philox_draws(9, 1, len(danger), 5, 160, CPU))
    halves = next(iter_philox_draws(9, 1, len(danger), 5, 160, CPU, stream=1)).steps * 0.5
    neighbours = table[draws.rows, draws.cols]
    scales = np.where(y[neighbours] != 1, halves, 1.0)
    base = X[danger][draws.rows]
    expected = base + draws.steps[:, None] * ((X[neighbours] - base) * scales[:, None])
    assert np.any(scales < 1.0) and np.any(scales == 1.0)
    np.testing.assert_array_equal(X_res[len(X):], expected)


@pytest.mark.parametrize("kind", KINDS)
def test_cuda_engine_matches_imblearn(kind):
    # Numba's CUDA simulator: tiny.
    X, y = overlapping(counts=(50, 14), n_features=3, dtype=np.float32, seed=21)
    ours, reference, result = both(X, y, device="cuda", kind=kind, random_state=2)
    assert_same_resample(*result)
    assert_same_danger(ours, reference)
    assert ours.device_ == "cuda"


@pytest.mark.parametrize("kind", KINDS)
def test_cuda_equals_cpu_philox(kind):
    X, y = overlapping(counts=(50, 14), n_features=3, dtype=np.float64, seed=22)
    cpu = BorderlineSMOTE(kind=kind, rng="philox", random_state=6, device="cpu").fit_resample(X, y)
    gpu = BorderlineSMOTE(kind=kind, rng="philox", random_state=6, device="cuda").fit_resample(X, y)
    assert_same_resample(gpu, cpu)


def test_cuda_with_estimators():
    X, y = overlapping(counts=(50, 14), n_features=3, seed=23)
    assert_same_resample(*both(X, y, device="cuda", kind="borderline-2", k_neighbors=SklearnNN(n_neighbors=4),
                               m_neighbors=SklearnNN(n_neighbors=7), random_state=1)[2])


def test_clone_get_params_and_pipeline():
    sampler = BorderlineSMOTE(kind="borderline-2", m_neighbors=8, random_state=3, device="cpu", rng="imblearn")
    params = sampler.get_params()
    assert params == {"sampling_strategy": "auto", "random_state": 3, "k_neighbors": 5, "m_neighbors": 8,
                      "kind": "borderline-2", "device": "cpu", "rng": "imblearn", "ties": "imblearn"}
    assert clone(sampler).get_params() == params
    X, y = overlapping(seed=24)
    ours = Pipeline([("sample", sampler), ("model", LogisticRegression())]).fit(X, y)
    reference = Pipeline([("sample", Reference(kind="borderline-2", m_neighbors=8, random_state=3)),
                          ("model", LogisticRegression())]).fit(X, y)
    np.testing.assert_array_equal(ours.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("kind", KINDS)
def test_inputs_not_modified(kind):
    X, y = overlapping(dtype=np.float32, seed=25)
    X_copy, y_copy = X.copy(), y.copy()
    BorderlineSMOTE(kind=kind, random_state=0, device="cpu").fit_resample(X, y)
    np.testing.assert_array_equal(X, X_copy, strict=True)
    np.testing.assert_array_equal(y, y_copy, strict=True)
    X_sparse = sparse.csr_array(np.where(X > 0.5, X, 0))
    before = X_sparse.copy()
    BorderlineSMOTE(kind=kind, random_state=0).fit_resample(X_sparse, y)
    assert (X_sparse != before).nnz == 0
