"""The FAISS-candidate k-NN: the same neighbour table as our own search.

FAISS's CPU search (faiss-cpu) stands in for its GPU search here; the re-rank
runs on the CPU kernel and on the CUDA kernel (simulated in CI). Whatever
FAISS returns within the float32 error bound, the table must equal the float64
brute force with the lower-index tie rule.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE

import gpusmote.neighbors._faiss as knn_faiss
from gpusmote import SMOTE
from gpusmote.neighbors._cpu import kneighbors_excluding_self, kneighbors_of_queries, prepare_plain
from gpusmote.neighbors._faiss import (
    drop_self,
    faiss_gpu_status,
    faiss_search,
    kneighbors_excluding_self_faiss,
    kneighbors_of_queries_faiss,
)
from gpusmote.neighbors._gpu import gpu_knn_engine
from gpusmote.neighbors import NearestNeighbors
from helpers import assert_same_resample, make_classes
from test_knn import reference_kneighbors


@pytest.mark.parametrize("on_cuda", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize(("n_rows", "k"), [(6, 5), (40, 1), (300, 5), (300, 12)])
def test_equals_float64_reference(on_cuda, dtype, n_rows, k):
    rng = np.random.default_rng(n_rows * 7 + k)
    data = (rng.normal(size=(n_rows, 5)) * 50).astype(dtype)
    got = kneighbors_excluding_self_faiss(data, k, np, on_cuda=on_cuda, query_block_rows=64)
    np.testing.assert_array_equal(got, reference_kneighbors(data, k))
    np.testing.assert_array_equal(got, kneighbors_excluding_self(data, k))


@pytest.mark.parametrize("on_cuda", [False, True])
def test_queries_equal_cpu_search(on_cuda):
    rng = np.random.default_rng(5)
    data, queries = rng.normal(size=(200, 6)), rng.normal(size=(37, 6))
    queries[:5] = data[10:15]  # queries equal to points find them at distance 0
    got = kneighbors_of_queries_faiss(data, queries, 4, np, on_cuda=on_cuda, query_block_rows=16)
    np.testing.assert_array_equal(got, kneighbors_of_queries(data, queries, 4))
    assert (got[:5, 0] == np.arange(10, 15)).all()


def test_typical_data_needs_no_fallback():
    data = np.random.default_rng(6).normal(size=(3000, 20)).astype(np.float32)
    kneighbors_excluding_self_faiss(data, 5, np, on_cuda=False)
    assert kneighbors_excluding_self_faiss.last_fallback_rows == 0


@pytest.mark.parametrize("on_cuda", [False, True])
def test_many_duplicates_fall_back_and_keep_the_tie_rule(on_cuda):
    # 30 copies of one row: FAISS returns any 10 of them, often not the row
    # itself; the proof fails at distance 0 and float64 gives the lowest indices.
    rng = np.random.default_rng(7)
    data = rng.normal(size=(120, 3))
    data[rng.choice(120, 30, replace=False)] = data[0]
    got = kneighbors_excluding_self_faiss(data, 5, np, on_cuda=on_cuda)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 5))
    assert kneighbors_excluding_self_faiss.last_fallback_rows > 0


@pytest.mark.parametrize("on_cuda", [False, True])
def test_far_cluster_falls_back_and_stays_exact(on_cuda):
    rng = np.random.default_rng(8)
    data = rng.normal(size=(90, 4))
    data[:30] = 1e6 + rng.normal(scale=1e-3, size=(30, 4))
    got = kneighbors_excluding_self_faiss(data, 5, np, on_cuda=on_cuda)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 5))
    assert kneighbors_excluding_self_faiss.last_fallback_rows > 0


@pytest.mark.parametrize("on_cuda", [False, True])
def test_any_rounding_within_the_bound_gives_the_same_table(monkeypatch, on_cuda):
    # A stand-in for FAISS that rounds its own way: float64 distances pushed by
    # up to 0.45 of the error bound, either direction, then ranked. The bound
    # is inflated 10^3-fold (for both) so the noise really reorders neighbours:
    # some rows are proven from their candidates, the others fall back.
    inflate = 1e3

    def inflated_prepare(data, xp=np, points=None, scale=None):
        prepared = prepare_plain(data, xp, points, scale)
        return dataclasses.replace(prepared, error_bounds=prepared.error_bounds * inflate)

    monkeypatch.setattr(knn_faiss, "prepare_plain", inflated_prepare)
    rng = np.random.default_rng(9)
    data = rng.normal(size=(400, 6)) + 3.0
    bounds = inflated_prepare(data).error_bounds

    def noisy_search(points, queries, n_results, xp):
        points64, queries64 = points.astype(np.float64), queries.astype(np.float64)
        dist = ((queries64[:, None, :] - points64[None, :, :]) ** 2).sum(axis=2)
        first = int(np.flatnonzero((points == queries[0]).all(axis=1))[0])
        noise = rng.uniform(-1, 1, size=dist.shape) * bounds[first:first + len(queries), None] * 0.45
        values = dist + noise
        order = np.argsort(values, axis=1, kind="stable")[:, :n_results]
        return np.take_along_axis(values, order, axis=1), order

    got = kneighbors_excluding_self_faiss(data, 5, np, on_cuda=on_cuda, query_block_rows=50, search=noisy_search)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 5))
    assert 0 < kneighbors_excluding_self_faiss.last_fallback_rows < len(data) // 2


def test_drop_self_wherever_it_is():
    indices = np.array([[7, 1, 2, 3], [1, 7, 2, 3], [1, 2, 3, 7], [1, 2, 3, 4]])
    got = drop_self(indices, np.full(4, 7), 3, np)
    np.testing.assert_array_equal(got, [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]])


def test_faiss_search_is_squared_l2_nearest_first():
    rng = np.random.default_rng(10)
    points = rng.normal(size=(50, 3)).astype(np.float32)
    distances, indices = faiss_search(points, points[:4], 3, np)
    np.testing.assert_array_equal(indices[:, 0], np.arange(4))
    expected = ((points[:4, None, :] - points[indices]) ** 2).sum(axis=2)
    np.testing.assert_allclose(distances, expected, rtol=1e-5, atol=1e-5)


def _tf32_search(points, queries, n_results, xp):
    """FAISS's formula with a GEMM whose inputs are rounded to TF32 (10 mantissa bits)."""
    def tf32(a):
        bits = a.astype(np.float32).view(np.uint32)
        return ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32).astype(np.float64)

    norms_q = (queries.astype(np.float64) ** 2).sum(axis=1)
    norms_p = (points.astype(np.float64) ** 2).sum(axis=1)
    values = norms_q[:, None] + norms_p[None, :] - 2 * tf32(queries) @ tf32(points).T
    order = np.argsort(values, axis=1, kind="stable")[:, :n_results]
    return np.take_along_axis(values, order, axis=1).astype(np.float32), order


def test_precision_probe_passes_float32_and_catches_tf32():
    assert 0 < knn_faiss.faiss_error_ratio(np) < 0.1  # faiss-cpu: full float32
    assert knn_faiss.faiss_error_ratio(np, n_rows=1024, search=_tf32_search) > 1


def test_rejects_k_above_cuda_limit():
    data = np.random.default_rng(11).normal(size=(80, 2))
    with pytest.raises(ValueError, match="above the CUDA engine's limit of 64"):
        kneighbors_excluding_self_faiss(data, 65, np, on_cuda=True)
    assert kneighbors_excluding_self_faiss(data, 65, np, on_cuda=False).shape == (80, 65)


def test_engine_choice(monkeypatch):
    fake_cupy = types.ModuleType("cupy")
    monkeypatch.delenv("GPUSMOTE_GPU_KNN", raising=False)
    assert gpu_knn_engine(np) == "own"  # the simulator runs FAISS only when asked
    assert gpu_knn_engine(fake_cupy) == "own"  # faiss-cpu: no GPU support
    assert faiss_gpu_status() == (False, "the installed FAISS has no GPU support (faiss-cpu)")
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "faiss")
    assert gpu_knn_engine(np) == "faiss"
    with pytest.raises(RuntimeError, match="GPUSMOTE_GPU_KNN=faiss was requested, but the installed FAISS"):
        gpu_knn_engine(fake_cupy)
    monkeypatch.setattr(knn_faiss, "faiss_gpu_status", lambda: (True, ""))
    monkeypatch.setattr(knn_faiss, "faiss_gpu_precise", lambda: True)
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "auto")
    assert gpu_knn_engine(fake_cupy) == "faiss"
    monkeypatch.setattr(knn_faiss, "faiss_gpu_precise", lambda: False)  # e.g. TF32 GEMMs
    with pytest.warns(RuntimeWarning, match="own GPU k-NN: FAISS's GPU distances are less precise"):
        assert gpu_knn_engine(fake_cupy) == "own"
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "faiss")
    with pytest.raises(RuntimeError, match="requested, but FAISS's GPU distances are less precise"):
        gpu_knn_engine(fake_cupy)
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "own")
    assert gpu_knn_engine(fake_cupy) == "own"
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "fast")
    with pytest.raises(ValueError, match="GPUSMOTE_GPU_KNN must be one of"):
        gpu_knn_engine(np)


def test_smote_and_nearest_neighbors_on_cuda_with_faiss(monkeypatch):
    calls = []
    original = knn_faiss.faiss_search

    def counting_search(*args):
        calls.append(len(args[1]))
        return original(*args)

    monkeypatch.setattr(knn_faiss, "faiss_search", counting_search)
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "faiss")
    X, y = make_classes([80, 25, 14], n_features=4, dtype=np.float32, seed=12)
    assert_same_resample(
        SMOTE(random_state=4, device="cuda").fit_resample(X, y),
        ReferenceSMOTE(random_state=4).fit_resample(X, y),
    )
    assert len(calls) == 2  # one search per over-sampled class
    queries = X[:9] + 0.01
    nn = NearestNeighbors(n_neighbors=3, device="cuda").fit(X)
    cpu = NearestNeighbors(n_neighbors=3, device="cpu").fit(X)
    np.testing.assert_array_equal(nn.kneighbors(queries)[1], cpu.kneighbors(queries)[1])
    np.testing.assert_array_equal(nn.kneighbors()[1], cpu.kneighbors()[1])
    assert len(calls) == 4


@pytest.mark.parametrize("on_cuda", [False, True])
@pytest.mark.parametrize("scale", [1e-22, 1e19])
def test_exact_beyond_float32_normal_range(on_cuda, scale):
    # FAISS searches the rows scaled by a power of two: neither underflow nor
    # overflow reaches it, and the re-rank's distances are in the same units.
    data = np.random.default_rng(9).normal(size=(300, 5)) * scale
    got = kneighbors_excluding_self_faiss(data, 5, np, on_cuda=on_cuda, query_block_rows=64)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 5))
    assert kneighbors_excluding_self_faiss.last_fallback_rows == 0
    queries = np.random.default_rng(10).normal(size=(20, 5)) * scale
    np.testing.assert_array_equal(kneighbors_of_queries_faiss(data, queries, 3, np, on_cuda=on_cuda),
                                  kneighbors_of_queries(data, queries, 3))


@pytest.mark.parametrize("on_cuda", [False, True])
def test_exact_where_float64_distances_underflow_or_norms_overflow(on_cuda):
    from test_knn import _overflowing_norms, _subnormal_distances

    for data in (_subnormal_distances(), _overflowing_norms()):
        got = kneighbors_excluding_self_faiss(data, 1, np, on_cuda=on_cuda)
        np.testing.assert_array_equal(got, reference_kneighbors(data, 1))
