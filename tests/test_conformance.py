"""Bit-identical output to imbalanced-learn's SMOTE over a broad matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from gpusmote import SMOTE
from helpers import assert_same_resample, make_classes

DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.float16]
STRATEGIES = [
    "auto",
    "minority",
    "not minority",
    "not majority",
    "all",
    {1: 60, 2: 45},
    {0: 150, 2: 20},
    lambda y: {c: int(np.sum(y == c)) * 2 for c in (1, 2)},
]


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Every test runs on both engines: the CUDA one under Numba's simulator in CI."""
    return request.param


def both(device, X, y, **params):
    ours = SMOTE(device=device, **params).fit_resample(X, y)
    reference = ReferenceSMOTE(**params).fit_resample(X, y)
    return ours, reference


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_features", [2, 7, 24])
def test_dtypes_and_widths(dtype, n_features, device):
    X, y = make_classes([150, 40, 25], n_features=n_features, dtype=dtype, seed=n_features)
    ours, reference = both(device, X, y, random_state=7)
    assert_same_resample(ours, reference)
    assert ours[0].dtype == X.dtype


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: getattr(s, "__name__", str(s)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_strategy_form(strategy, dtype, device):
    X, y = make_classes([120, 30, 18], n_features=6, dtype=dtype, seed=3)
    assert_same_resample(*both(device, X, y, sampling_strategy=strategy, random_state=11))


@pytest.mark.parametrize("ratio", [0.3, 0.5, 0.77, 1.0])
def test_float_ratio_binary(ratio, device):
    X, y = make_classes([200, 21], n_features=5, dtype=np.float32, seed=5)
    assert_same_resample(*both(device, X, y, sampling_strategy=ratio, random_state=2))


@pytest.mark.parametrize("k", [1, 2, 5, 9])
@pytest.mark.parametrize("seed", [0, 1, 123456789])
def test_k_and_seeds(k, seed, device):
    X, y = make_classes([90, 20, 14], n_features=8, dtype=np.float64, seed=seed % 97)
    assert_same_resample(*both(device, X, y, k_neighbors=k, random_state=seed))


def test_string_labels_keep_order_and_dtype(device):
    X, y = make_classes([80, 20, 12], n_features=4, seed=8)
    labels = np.array(["zebra", "ant", "moose"])[y]
    ours, reference = both(device, X, labels, random_state=4)
    assert_same_resample(ours, reference)
    assert ours[1].dtype == labels.dtype


def test_object_labels(device):
    X, y = make_classes([60, 15], n_features=3, seed=9)
    labels = np.array(["fraud" if v else "ok" for v in y], dtype=object)
    assert_same_resample(*both(device, X, labels, random_state=0))


def test_column_vector_y_and_binarized_y(device):
    X, y = make_classes([60, 15, 11], n_features=3, seed=10)
    assert_same_resample(*both(device, X, y.reshape(-1, 1), random_state=0))
    one_hot = np.eye(3, dtype=int)[y]
    assert_same_resample(*both(device, X, one_hot, random_state=0))


def test_pandas_in_pandas_out(device):
    X, y = make_classes([70, 20, 13], n_features=4, dtype=np.float32, seed=12)
    frame = pd.DataFrame(X, columns=["amount", "age", "v1", "v2"], index=np.arange(100, 100 + len(X)))
    frame["v2"] = frame["v2"].astype(np.float64)
    series = pd.Series(y, name="is_fraud", index=frame.index)
    ours, reference = both(device, frame, series, random_state=3)
    assert_same_resample(ours, reference)
    assert list(ours[0].columns) == ["amount", "age", "v1", "v2"]
    assert ours[1].name == "is_fraud"


def test_dataframe_y(device):
    X, y = make_classes([50, 14], n_features=3, seed=13)
    assert_same_resample(*both(device, pd.DataFrame(X), pd.DataFrame({"target": y}), random_state=5))


def test_python_lists(device):
    X, y = make_classes([40, 12], n_features=3, seed=14)
    assert_same_resample(*both(device, X.tolist(), y.tolist(), random_state=5))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_same_format(fmt, dtype, device):
    X, y = make_classes([90, 25, 16], n_features=12, dtype=dtype, seed=15)
    X[np.random.default_rng(0).random(X.shape) < 0.6] = 0
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    ours, reference = both(device, X_sparse, y, random_state=6)
    assert_same_resample(ours, reference)
    assert ours[0].format == fmt
    assert ours[0].nnz == reference[0].nnz


def test_sparse_array_type_kept(device):
    X, y = make_classes([60, 20], n_features=6, seed=16)
    X_sparse = sparse.csr_array(np.where(X > 0.3, X, 0))
    ours, reference = both(device, X_sparse, y, random_state=1)
    assert_same_resample(ours, reference)


def test_neighbors_object_like_imblearn(device):
    X, y = make_classes([80, 20, 12], n_features=5, seed=17)
    nn = NearestNeighbors(n_neighbors=4, algorithm="kd_tree")
    ours, reference = both(device, X, y, k_neighbors=nn, random_state=3)
    assert_same_resample(ours, reference)


def test_random_state_instance_continues_like_imblearn(device):
    X, y = make_classes([80, 20, 12], n_features=5, seed=18)
    ours_rs, ref_rs = np.random.RandomState(42), np.random.RandomState(42)
    ours_sampler, ref_sampler = SMOTE(random_state=ours_rs, device=device), ReferenceSMOTE(random_state=ref_rs)
    first = (ours_sampler.fit_resample(X, y), ref_sampler.fit_resample(X, y))
    second = (ours_sampler.fit_resample(X, y), ref_sampler.fit_resample(X, y))
    assert_same_resample(*first)
    assert_same_resample(*second)
    assert not np.array_equal(first[0][0], second[0][0])  # the stream moved on
    # and the caller's generator ends exactly where imbalanced-learn leaves it
    assert ours_rs.randint(1 << 30) == ref_rs.randint(1 << 30)


def test_global_random_state_when_none(device):
    X, y = make_classes([80, 20], n_features=5, seed=19)
    np.random.seed(99)
    ours = SMOTE(device=device).fit_resample(X, y)
    np.random.seed(99)
    reference = ReferenceSMOTE().fit_resample(X, y)
    assert_same_resample(ours, reference)


def test_int_seed_repeats_identically(device):
    X, y = make_classes([80, 20, 12], n_features=5, seed=20)
    sampler = SMOTE(random_state=5, device=device)
    first, second = sampler.fit_resample(X, y), sampler.fit_resample(X, y)
    assert_same_resample(first, second)


def test_larger_than_one_chunk(monkeypatch, device):
    """Chunked draws and generation give imbalanced-learn's stream exactly."""
    import gpusmote.engine._draws as random_module

    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 37)
    X, y = make_classes([400, 30, 25], n_features=6, dtype=np.float32, seed=21)
    assert_same_resample(*both(device, X, y, random_state=8))


def test_high_dimensional_and_many_tiles(monkeypatch, device):
    """Several query blocks and point tiles per class, in sklearn's brute-force
    regime (>15 dims)."""
    import gpusmote.neighbors._cpu as knn_module

    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", 16)
    monkeypatch.setattr(knn_module, "TILE_BYTES", 4 * 16 * 70)
    X, y = make_classes([300, 120, 40], n_features=40, dtype=np.float32, seed=22)
    assert_same_resample(*both(device, X, y, random_state=9))


def test_fraud_like_dataset_matches(device):
    from gpusmote.datasets import make_fraud_like

    # The CUDA engine runs simulated in CI (a Python thread per GPU thread): smaller there.
    X, y = make_fraud_like(30_000 if device == "cpu" else 1_500, 32, 0.02, n_classes=3, random_state=1)
    assert_same_resample(*both(device, X, y, random_state=0))
