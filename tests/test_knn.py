"""Exact k-NN against a float64 NumPy reference with the documented tie rule."""

from __future__ import annotations

import numpy as np
import pytest

import gpusmote.neighbors._cpu as knn_module
from gpusmote.neighbors._cpu import kneighbors_excluding_self


def reference_scale(*row_sets: np.ndarray) -> float:
    """A power of two that brings the rows' largest magnitude near 1.

    The documented distance scales the differences by a power of two (exact)
    chosen from the data, so that no square overflows (beyond 1e154) or
    underflows (below 1e-160): the neighbours do not depend on a power-of-two
    scale of the data. Any scale that keeps the squares normal gives the same
    order; this one is chosen independently of gpusmote's.
    """
    largest = max((float(np.abs(rows.astype(np.float64)).max(initial=0.0)) for rows in row_sets), default=0.0)
    exponent = int(np.clip(np.frexp(largest)[1], -1000, 1000))
    return float(np.ldexp(1.0, -exponent))


def sequential_sqdist(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Float64 squared distances of the differences times
    :func:`reference_scale`, summed feature by feature, in order: the
    documented distance of the tie rule (other summation orders can split or
    merge near-ties in the last bit)."""
    scale = reference_scale(queries, points)
    queries, points = queries.astype(np.float64), points.astype(np.float64)
    dist = np.zeros((len(queries), len(points)))
    for f in range(points.shape[1]):
        diff = (queries[:, None, f] - points[None, :, f]) * scale
        dist += diff * diff
    return dist


def reference_kneighbors(data: np.ndarray, k: int) -> np.ndarray:
    """Float64 brute force: k smallest (distance, index) among j != i (the row
    excluded by index: with distances that overflow to inf it would tie)."""
    dist = sequential_sqdist(data, data)
    n = len(data)
    index = np.broadcast_to(np.arange(n), dist.shape)
    order = np.lexsort((index, dist), axis=1)
    others = order[order != np.arange(n)[:, None]].reshape(n, n - 1)
    return others[:, :k]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
@pytest.mark.parametrize("shape", [(7, 1), (50, 3), (200, 33)])
@pytest.mark.parametrize("k", [1, 5])
def test_matches_float64_reference(dtype, shape, k):
    rng = np.random.default_rng(shape[0] * 31 + k)
    data = (rng.normal(size=shape) * 100).astype(dtype)
    np.testing.assert_array_equal(
        kneighbors_excluding_self(data, k), reference_kneighbors(data, k)
    )


def test_duplicates_are_neighbours_and_ties_go_to_lower_index():
    base = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    data = np.vstack([base, base, base])  # every row has two exact copies
    result = kneighbors_excluding_self(data, 3)
    np.testing.assert_array_equal(result, reference_kneighbors(data, 3))
    # row 0's copies (4, 8) come first, then the lower-index of the tied pair
    np.testing.assert_array_equal(result[0], [4, 8, 1])
    assert not (result == np.arange(len(data))[:, None]).any()  # never itself


def test_constant_data_uses_indices_only():
    data = np.ones((10, 4), dtype=np.float32)
    result = kneighbors_excluding_self(data, 3)
    np.testing.assert_array_equal(result[0], [1, 2, 3])
    np.testing.assert_array_equal(result[5], [0, 1, 2])


def test_far_from_origin_falls_back_and_stays_exact():
    """A tiny cluster far away: float32 cannot resolve it, the proof fails and
    the exhaustive float64 search must produce the exact answer."""
    rng = np.random.default_rng(1)
    data = np.vstack(
        [1e6 + rng.normal(scale=1e-3, size=(60, 4)), rng.normal(size=(60, 4))]
    )
    result = kneighbors_excluding_self(data, 4)
    np.testing.assert_array_equal(result, reference_kneighbors(data, 4))
    assert knn_module.kneighbors_excluding_self.last_fallback_rows > 0


def test_typical_data_needs_no_fallback():
    rng = np.random.default_rng(2)
    data = rng.normal(size=(2000, 16)).astype(np.float32)
    kneighbors_excluding_self(data, 5)
    assert knn_module.kneighbors_excluding_self.last_fallback_rows == 0


@pytest.mark.parametrize("block_rows", [1, 7, 128])
@pytest.mark.parametrize("tile_bytes", [4, 4 * 300, 4 * 300 * 7, 1 << 30])
def test_blocks_and_tiles_never_change_result(monkeypatch, block_rows, tile_bytes):
    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", block_rows)
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 9)).astype(np.float32)
    np.testing.assert_array_equal(
        kneighbors_excluding_self(data, 5, block_bytes=tile_bytes),
        reference_kneighbors(data, 5),
    )


def test_non_finite_float32_stage_falls_back():
    """Values beyond float32's range overflow the GEMM; the proof must fail and
    the float64 search answer exactly."""
    rng = np.random.default_rng(6)
    data = rng.normal(size=(40, 3)) * 1e30
    data[:20] += 1e39
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 3), reference_kneighbors(data, 3))


def test_rejects_too_few_rows():
    with pytest.raises(ValueError, match="k=5"):
        kneighbors_excluding_self(np.zeros((5, 2)), 5)


def test_search_runs_blas_single_threaded(monkeypatch):
    """Each search thread runs its own GEMM tiles; a multi-threaded BLAS under
    them would oversubscribe the cores. The controller is cached, so it must
    still limit SciPy's BLAS (the one Numba's np.dot calls) on later calls."""
    seen = record_blas_threads(monkeypatch, "block_candidates")
    data = np.random.default_rng(8).normal(size=(600, 4)).astype(np.float32)
    for _ in range(2):
        np.testing.assert_array_equal(kneighbors_excluding_self(data, 3), reference_kneighbors(data, 3))
    assert seen and set(seen) == {1}


def record_blas_threads(monkeypatch, kernel_name: str) -> list:
    """Wrap ``knn_module.<kernel_name>`` so each call records the thread
    count of SciPy's BLAS (the one Numba's np.dot calls) at that moment; a
    library loaded earlier by another package (FAISS's OpenMP BLAS, whose
    limit is per thread) is not the one the tiles run on."""
    from threadpoolctl import threadpool_info

    blas = knn_module._threadpool_controller().select(user_api="blas").lib_controllers
    known = {lib.filepath for lib in blas if "scipy" in lib.filepath}
    assert known
    seen = []
    original = getattr(knn_module, kernel_name)

    def recording(*args):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["filepath"] in known)
        return original(*args)

    monkeypatch.setattr(knn_module, kernel_name, recording)
    return seen


@pytest.mark.parametrize(("dtype", "scale"), [
    *((np.float32, s) for s in (1e-22, 1e-25, 1e19)),  # float32 data within its own normal range
    *((np.float64, s) for s in (1e-22, 1e-25, 1e-40, 1e19, 1e25)),
])
def test_exact_beyond_float32_normal_range(dtype, scale):
    # The float32 stage sees products that underflow (1e-22 squared is below
    # float32's normal range) or squared norms that overflow (1e19): the rows
    # are scaled by a power of two first, and the proof still holds.
    data = (np.random.default_rng(3).normal(size=(500, 5)) * scale).astype(dtype)
    reference = reference_kneighbors(data, 5)
    nearest = np.sort(sequential_sqdist(data, data), axis=1)[:, 1:7]
    assert (np.diff(nearest, axis=1) > 0).all()  # no ties: one right answer
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 5), reference)
    # the scaling makes the float32 stage as good as at unit scale
    assert kneighbors_excluding_self.last_fallback_rows == 0


def test_exact_with_underflowing_differences_next_to_normal_ones():
    # One column at unit scale, one at 1e-30: the small column's differences
    # underflow in float32 and only decide among points tied on the first.
    rng = np.random.default_rng(5)
    data = np.column_stack([rng.integers(0, 3, 400).astype(np.float64), rng.normal(size=400) * 1e-30])
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 5), reference_kneighbors(data, 5))


def _subnormal_distances():
    # Unscaled, row 7's differences from row 0 square to below 2**-1075: their
    # float64 distance is exactly 0, the nearest, although row 7 is farther
    # than rows 1-6 (whose distances are subnormal). Scaled, row 1 is nearest.
    data = np.zeros((8, 300))
    data[1:7, 0] = (1.0 + 0.1 * np.arange(1, 7)) * 1e-161
    data[7] = 1.5e-162
    return data


def _overflowing_norms():
    # Unscaled, norms beyond 1e154 overflow float64 when squared.
    close = -2700.0 - np.arange(20) * 1e-6
    return (np.concatenate([[-4200.0], close, [4200.0], -close]) * 2.0**500)[:, None]


@pytest.mark.parametrize("make", [_subnormal_distances, _overflowing_norms])
def test_exact_where_float64_distances_underflow_or_norms_overflow(make):
    # The re-rank scales the differences as the float32 stage scales the rows:
    # nothing under- or overflows, and the neighbours are the true ones.
    data = make()
    got = kneighbors_excluding_self(data, 1)
    np.testing.assert_array_equal(got, reference_kneighbors(data, 1))
    np.testing.assert_array_equal(got, kneighbors_excluding_self(data * 2.0**200, 1))
    if make is _subnormal_distances:
        assert got[0, 0] == 1


def test_search_progress_reports_every_query_row_in_blocks(monkeypatch):
    from gpusmote.neighbors import _cpu

    monkeypatch.setattr(_cpu, "QUERY_BLOCK_ROWS", 16)
    monkeypatch.setattr(_cpu, "QUERY_BLOCK_GROWTH", 1)
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 5))
    reports = []
    with _cpu.search_progress(reports.append):
        table = _cpu.kneighbors_excluding_self(data, 4)
        _cpu.kneighbors_of_queries(data, data[:50], 3)
    assert sum(reports) == 300 + 50 and len(reports) > 4  # every query row, in several blocks
    assert max(reports) <= 150 and all(r > 0 for r in reports)
    np.testing.assert_array_equal(table, _cpu.kneighbors_excluding_self(data, 4))
    reports.clear()
    _cpu.kneighbors_excluding_self(data, 4)  # outside the block: nothing reported
    assert reports == []
