"""k-NN at extreme magnitudes: the neighbours do not depend on a power-of-two
scale of the data, on any engine.

Unscaled, float64 squares overflow above about 1e154 and underflow below
1e-160: every distance tied at inf or 0 and the lowest indices won. The
re-rank scales the differences by the float32 stage's power of two, so data
from 1e-300 to 1e300 is searched at unit scale.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

import gpusmote.neighbors._cuda as knn_cuda
from gpusmote import NearestNeighbors
from gpusmote.neighbors._cpu import kneighbors_excluding_self, kneighbors_of_queries
from gpusmote.neighbors._faiss import kneighbors_excluding_self_faiss, kneighbors_of_queries_faiss
from gpusmote.neighbors._gpu import kneighbors_excluding_self_gpu, kneighbors_of_queries_gpu
from gpusmote.neighbors._sparse import sparse_kneighbors_excluding_self
from test_knn import sequential_sqdist

K = 5
#: Powers of two the data is scaled by: float64 from about 1e-301 to 1e301;
#: float32 within its normal range.
POWERS = {np.float64: (-1000, -700, -530, -200, 0, 200, 530, 700, 1000), np.float32: (-100, -40, 0, 40, 100)}


def _rows(n_rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n_rows, 4))
    rows[rng.random(rows.shape) < 0.25] = 0.0  # zeros for the sparse merge
    return rows


DATA, QUERIES = _rows(90, 0), _rows(20, 1)


def _assert_tie_free(dist: np.ndarray, skip_self: bool) -> None:
    nearest = np.sort(dist, axis=1)[:, int(skip_self):int(skip_self) + K + 1]
    assert (np.diff(nearest, axis=1) > 0).all()  # one right answer


def _reference(points: np.ndarray, queries: np.ndarray | None) -> np.ndarray:
    """Float64 brute force on the unscaled rows (tie-free: no tie rule)."""
    dist = sequential_sqdist(points if queries is None else queries, points)
    if queries is None:
        np.fill_diagonal(dist, np.inf)
    _assert_tie_free(dist, skip_self=False)
    return np.argsort(dist, axis=1)[:, :K]


def _scaled(rows: np.ndarray, dtype, power: int) -> np.ndarray:
    scaled = np.ldexp(rows.astype(dtype), power)
    assert scaled.dtype == dtype and np.array_equal(np.ldexp(scaled, -power), rows.astype(dtype))  # exact
    return scaled


@pytest.fixture(autouse=True)
def _own_cuda_engine(monkeypatch):
    monkeypatch.setenv("GPUSMOTE_GPU_KNN", "own")  # FAISS's candidates are tested on their own
    monkeypatch.setattr(knn_cuda, "CUDA_QUERY_BLOCK_ROWS", 32)  # several blocks under the simulator


ENGINES = {
    "cpu": lambda points: kneighbors_excluding_self(points, K),
    "cuda": lambda points: kneighbors_excluding_self_gpu(points, K, xp=np),
    "faiss": lambda points: kneighbors_excluding_self_faiss(points, K, np, on_cuda=False),
    "faiss-cuda-rerank": lambda points: kneighbors_excluding_self_faiss(points, K, np, on_cuda=True),
    "sparse": lambda points: sparse_kneighbors_excluding_self(sparse.csr_matrix(points), K),
    "estimator": lambda points: NearestNeighbors(n_neighbors=K, device="cpu", ties="index").fit(points).kneighbors(
        return_distance=False),
}
QUERY_ENGINES = {
    "cpu": lambda points, queries: kneighbors_of_queries(points, queries, K),
    "cuda": lambda points, queries: kneighbors_of_queries_gpu(points, queries, K, xp=np),
    "faiss": lambda points, queries: kneighbors_of_queries_faiss(points, queries, K, np, on_cuda=False),
    "faiss-cuda-rerank": lambda points, queries: kneighbors_of_queries_faiss(points, queries, K, np, on_cuda=True),
    "estimator": lambda points, queries: NearestNeighbors(n_neighbors=K, device="cpu", ties="index").fit(points).kneighbors(
        queries, return_distance=False),
}
CASES = [(dtype, power) for dtype, powers in POWERS.items() for power in powers]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("dtype", "power"), CASES)
def test_neighbours_do_not_depend_on_a_power_of_two_scale(engine, dtype, power):
    expected = _reference(DATA.astype(dtype), None)
    np.testing.assert_array_equal(ENGINES[engine](_scaled(DATA, dtype, power)), expected)


@pytest.mark.parametrize("engine", QUERY_ENGINES)
@pytest.mark.parametrize(("dtype", "power"), CASES)
def test_query_neighbours_do_not_depend_on_a_power_of_two_scale(engine, dtype, power):
    expected = _reference(DATA.astype(dtype), QUERIES.astype(dtype))
    got = QUERY_ENGINES[engine](_scaled(DATA, dtype, power), _scaled(QUERIES, dtype, power))
    np.testing.assert_array_equal(got, expected)


def _hypot_distances(queries: np.ndarray, points: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Float64 Euclidean distances without squaring (no overflow, no underflow)."""
    return np.hypot.reduce(queries[:, None, :] - points[indices], axis=2)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("factor", [1e300, 1e155, 1e-200, 1e-300])
def test_estimator_at_extreme_magnitudes(device, factor):
    """Not powers of two: the rows round, but tie-free neighbours stay the
    same, and the distances are finite and right to 1e-12 (ties='index': the
    default reproduces scikit-learn, whose squares overflow here)."""
    points, queries = DATA * factor, QUERIES * factor
    nn = NearestNeighbors(n_neighbors=K, device=device, ties="index").fit(points)
    for X, expected in ((None, _reference(DATA, None)), (queries, _reference(DATA, QUERIES))):
        distances, indices = nn.kneighbors(X)
        np.testing.assert_array_equal(indices, expected)
        assert np.isfinite(distances).all() and (distances > 0).all()
        reference = _hypot_distances(points if X is None else X, points, indices)
        np.testing.assert_allclose(distances, reference, rtol=1e-12, atol=0)
    own_distances, own = nn.kneighbors(points)  # the fitted array: each row first, at distance 0
    np.testing.assert_array_equal(own[:, 0], np.arange(len(points)))
    np.testing.assert_array_equal(own[:, 1:], _reference(DATA, None)[:, :K - 1])
    assert (own_distances[:, 0] == 0).all() and np.isfinite(own_distances).all()


def test_estimator_distances_where_squares_overflow_or_underflow():
    # Two points 3e300 apart (and 4e-300): squared, both leave float64's range.
    for factor in (1e300, 1e-300):
        points = np.array([[0.0, 0.0], [3.0, 4.0]]) * factor
        distances, _ = NearestNeighbors(n_neighbors=1, ties="index").fit(points).kneighbors()
        np.testing.assert_allclose(distances, [[5.0 * factor], [5.0 * factor]], rtol=1e-15)
