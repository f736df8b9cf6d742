"""The CUDA engine end to end against the CPU engine and imbalanced-learn.

Same orchestration, CUDA kernels (simulated in CI, see tests/conftest.py):
the output must be bit-identical to the CPU path's and to imbalanced-learn's.
"""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE

import gpusmote.neighbors._cuda as knn_cuda
from gpusmote import SMOTE
from gpusmote.neighbors._cpu import kneighbors_excluding_self
from gpusmote.neighbors._cuda import kneighbors_excluding_self_cuda
from helpers import assert_same_resample, make_classes


@pytest.fixture(autouse=True)
def small_cuda_tiles(monkeypatch):
    # several query blocks and GEMM tiles per class even on small data
    monkeypatch.setattr(knn_cuda, "CUDA_QUERY_BLOCK_ROWS", 16)
    monkeypatch.setattr(knn_cuda, "TILE_MEMORY_SHARE", 16 * 4 * 24 / (1 << 30))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_cuda_equals_cpu_equals_imblearn(dtype):
    X, y = make_classes([70, 24, 15], n_features=4, dtype=dtype, seed=31)
    cuda_sampler = SMOTE(random_state=3, device="cuda")
    on_cuda = cuda_sampler.fit_resample(X, y)
    assert cuda_sampler.device_ == "cuda"
    assert_same_resample(on_cuda, SMOTE(random_state=3, device="cpu").fit_resample(X, y))
    assert_same_resample(on_cuda, ReferenceSMOTE(random_state=3).fit_resample(X, y))


def test_cuda_chunks_and_strategies(monkeypatch):
    import gpusmote.engine._draws as random_module

    monkeypatch.setattr(random_module, "DRAW_CHUNK_ROWS", 13)
    X, y = make_classes([60, 20, 12], n_features=3, dtype=np.float32, seed=32)
    for strategy in ("all", {1: 45, 2: 30}):
        assert_same_resample(
            SMOTE(random_state=1, device="cuda", sampling_strategy=strategy).fit_resample(X, y),
            ReferenceSMOTE(random_state=1, sampling_strategy=strategy).fit_resample(X, y),
        )


@pytest.mark.parametrize("far", [False, True])
def test_cuda_knn_equals_cpu_knn_including_fallback(far):
    rng = np.random.default_rng(34)
    data = rng.normal(size=(70, 4))
    if far:  # a tiny cluster far away: the float32 proof fails, float64 answers
        data[:30] = 1e6 + rng.normal(scale=1e-3, size=(30, 4))
    expected = kneighbors_excluding_self(data, 5)
    got = kneighbors_excluding_self_cuda(data, 5, np, query_block_rows=16, tile_points=24)
    np.testing.assert_array_equal(got, expected)
    assert (kneighbors_excluding_self_cuda.last_fallback_rows > 0) == far


def test_cuda_rejects_k_above_limit_and_tf32(monkeypatch):
    data = np.random.default_rng(0).normal(size=(80, 2))
    with pytest.raises(ValueError, match="above the CUDA engine's limit of 64"):
        kneighbors_excluding_self_cuda(data, 65, np)
    monkeypatch.setenv("CUPY_TF32", "1")
    with pytest.raises(RuntimeError, match="CUPY_TF32"):
        kneighbors_excluding_self_cuda(data, 3, np)


@pytest.mark.parametrize("scale", [1e-22, 1e19])
def test_cuda_knn_exact_beyond_float32_normal_range(scale):
    data = np.random.default_rng(35).normal(size=(70, 4)) * scale
    got = kneighbors_excluding_self_cuda(data, 5, np, query_block_rows=16, tile_points=24)
    np.testing.assert_array_equal(got, kneighbors_excluding_self(data, 5))
    assert kneighbors_excluding_self_cuda.last_fallback_rows == 0


# The simulator runs kernels in threads, where np.errstate does not reach.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_cuda_knn_exact_where_float64_distances_underflow_or_norms_overflow():
    from test_knn import _overflowing_norms, _subnormal_distances

    for data in (_subnormal_distances(), _overflowing_norms()):
        with np.errstate(over="ignore"):
            got = kneighbors_excluding_self_cuda(data, 1, np, query_block_rows=16, tile_points=24)
            np.testing.assert_array_equal(got, kneighbors_excluding_self(data, 1))
