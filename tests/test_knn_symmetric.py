"""The symmetric self-search (each pair's GEMM value computed once, merged for
both rows: gpusmote/neighbors/_cpu.py ``_symmetric_search``) against the
float64 reference and the one-sided search, at every range count, dtype and
scale the one-sided search is tested at."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gpusmote.neighbors._cpu as knn_module
from gpusmote.neighbors._cpu import kneighbors_excluding_self
from test_knn import record_blas_threads, reference_kneighbors, sequential_sqdist


@pytest.fixture(autouse=True)
def symmetric(monkeypatch):
    """Every self-search symmetric, in blocks of 16 rows (so a few hundred
    rows make several ranges and rounds)."""
    monkeypatch.setattr(knn_module, "SYMMETRIC_MIN_ROWS", 0)
    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", 16)
    monkeypatch.setattr(knn_module, "QUERY_BLOCK_GROWTH", 1)
    calls = []
    original = knn_module._symmetric_search
    monkeypatch.setattr(knn_module, "_symmetric_search", lambda *a: calls.append(1) or original(*a))
    yield calls


@pytest.mark.parametrize("n_ranges", range(1, 10))
def test_rounds_pair_every_range_once_and_never_share_one(n_ranges):
    rounds = knn_module._symmetric_rounds(n_ranges)
    pairs = [pair for round_ in rounds for pair in round_]
    assert sorted(pairs) == list(itertools.combinations(range(n_ranges), 2))
    for round_ in rounds:
        used = [i for pair in round_ for i in pair]
        assert len(used) == len(set(used))  # disjoint: the round's pairs may run at once


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
@pytest.mark.parametrize("n_rows", [7, 40, 50, 129, 300])  # 1, 2, 3 (odd), 8 and 8 ranges
@pytest.mark.parametrize("k", [1, 5])
def test_matches_float64_reference(dtype, n_rows, k, symmetric):
    rng = np.random.default_rng(n_rows * 31 + k)
    data = (rng.normal(size=(n_rows, 6)) * 100).astype(dtype)
    np.testing.assert_array_equal(kneighbors_excluding_self(data, k), reference_kneighbors(data, k))
    assert symmetric or k + 4 >= n_rows - 1  # symmetric unless every other row is a candidate


def test_duplicates_ties_and_constant_data():
    base = np.random.default_rng(1).integers(0, 3, size=(60, 2)).astype(np.float64)
    data = np.vstack([base, base, base])  # every row has exact copies, and many ties
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 4), reference_kneighbors(data, 4))
    constant = np.ones((90, 4), dtype=np.float32)
    np.testing.assert_array_equal(kneighbors_excluding_self(constant, 3)[50], [0, 1, 2])


def test_far_from_origin_and_non_finite_float32_stage_fall_back_exactly():
    rng = np.random.default_rng(1)
    data = np.vstack([1e6 + rng.normal(scale=1e-3, size=(60, 4)), rng.normal(size=(60, 4))])
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 4), reference_kneighbors(data, 4))
    assert knn_module.kneighbors_excluding_self.last_fallback_rows > 0
    huge = rng.normal(size=(80, 3)) * 1e30
    huge[:40] += 1e39
    np.testing.assert_array_equal(kneighbors_excluding_self(huge, 3), reference_kneighbors(huge, 3))


@pytest.mark.parametrize(("dtype", "scale"), [(np.float32, 1e-22), (np.float32, 1e19), (np.float64, 1e-40),
                                              (np.float64, 1e25)])
def test_exact_beyond_float32_normal_range_without_fallback(dtype, scale):
    data = (np.random.default_rng(3).normal(size=(400, 5)) * scale).astype(dtype)
    nearest = np.sort(sequential_sqdist(data, data), axis=1)[:, 1:7]
    assert (np.diff(nearest, axis=1) > 0).all()  # no ties: one right answer
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 5), reference_kneighbors(data, 5))
    assert kneighbors_excluding_self.last_fallback_rows == 0


@pytest.mark.parametrize("tile_bytes", [4, 4 * 16 * 7, None])
def test_default_blocks_equal_the_one_sided_search(monkeypatch, tile_bytes):
    monkeypatch.undo()  # the real block sizes: 512-row blocks, 8 ranges
    rng = np.random.default_rng(4)
    data = rng.normal(size=(6000, 12)).astype(np.float32)
    data[::50] = data[1::50]  # some duplicates
    one_sided = kneighbors_excluding_self(data, 5, block_bytes=tile_bytes)
    monkeypatch.setattr(knn_module, "SYMMETRIC_MIN_ROWS", 0)
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 5, block_bytes=tile_bytes), one_sided)
    assert kneighbors_excluding_self.last_fallback_rows == 0


def test_progress_reports_every_row_and_blas_stays_single_threaded(monkeypatch):
    seen = record_blas_threads(monkeypatch, "symmetric_pair_candidates")
    data = np.random.default_rng(8).normal(size=(300, 4))
    reports = []
    with knn_module.search_progress(reports.append):
        table = kneighbors_excluding_self(data, 3)
    np.testing.assert_array_equal(table, reference_kneighbors(data, 3))
    assert sum(reports) == 300 and len(reports) > 4 and all(r > 0 for r in reports)
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("symmetric", [False, True])
def test_searches_on_the_kept_threads_and_nested_in_their_tasks(symmetric, monkeypatch):
    # Searches share the kept pool; one running inside a task of that pool (every
    # thread busy with one) runs in place instead of waiting on the pool forever.
    from gpusmote.kernels._row_threads import n_threads, shared_pool

    monkeypatch.setattr(knn_module, "SYMMETRIC_MIN_ROWS", 512 if symmetric else 10**9)
    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", 32)  # many blocks
    data = np.random.default_rng(11).normal(size=(1500, 6))
    expected = reference_kneighbors(data, 4)
    assert np.array_equal(kneighbors_excluding_self(data, 4), expected)
    futures = [shared_pool().submit(kneighbors_excluding_self, data, 4) for _ in range(n_threads() + 1)]
    for future in futures:
        assert np.array_equal(future.result(timeout=120), expected)


@pytest.mark.parametrize("group_blocks", [1, 3])
def test_any_group_of_blocks_per_tile(monkeypatch, group_blocks):
    # The point tiles are made once per group of query blocks: groups that do
    # not divide a range (3 blocks of 16 against 64-row ranges) change nothing.
    monkeypatch.setattr(knn_module, "SYMMETRIC_GROUP_BLOCKS", group_blocks)
    data = (np.random.default_rng(12).normal(size=(300, 5)) * 10).astype(np.float32)
    np.testing.assert_array_equal(kneighbors_excluding_self(data, 4), reference_kneighbors(data, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_largest_centred_norm_is_the_prepared_rows_largest(dtype):
    from gpusmote.kernels.neighbors import largest_centred_norm

    data = (np.random.default_rng(13).normal(size=(500, 7)) * 1e3 + 5e3).astype(dtype)
    prepared = knn_module.prepare_points(data)
    largest = largest_centred_norm(knn_module.exact_view(data), prepared.mean, prepared.scale)
    # the same norms, summed in another order: equal to float64's rounding
    assert largest == pytest.approx(prepared.max_norm, rel=1e-14)


def test_holds_no_copy_of_the_rows(monkeypatch, symmetric):
    # Beyond the data the search allocates the candidates (8 bytes each), then
    # their indices, bound and the table, and each thread a few tiles: a
    # float32 copy of the rows (as the one-sided search makes) would alone be
    # larger than the data. NumPy's and the kernels' allocations are traced.
    import tracemalloc

    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", 128)  # the real blocks
    monkeypatch.setattr(knn_module, "QUERY_BLOCK_GROWTH", 4)
    data = np.random.default_rng(14).normal(size=(30_000, 64)).astype(np.float32)
    kneighbors_excluding_self(data[:600], 3)  # kernels loaded (the loading allocates too)
    tracemalloc.start()
    try:
        table = kneighbors_excluding_self(data, 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.shape == (30_000, 3) and len(symmetric) == 2
    assert peak < data.nbytes


@pytest.mark.parametrize("m", [1, 2, 7])
def test_row_maxima_packed_in_place_equal_numpy(m):
    from gpusmote.kernels.neighbors import pack_row_maxima

    values = np.random.default_rng(15).normal(size=(50, m)).astype(np.float32)
    values[3] = np.inf  # a row without candidates
    values[5, m - 1] = np.nan  # NaN propagates, as in NumPy's max
    values[7, 0] = -np.inf
    expected = values.max(axis=1)
    pack_row_maxima(values)
    np.testing.assert_array_equal(values.reshape(-1)[:50], expected)


def test_table_is_made_within_the_candidates_memory(monkeypatch, symmetric):
    # Each row's table is written over its candidates' indices: the traced peak
    # is the candidates' (values and indices, 8 bytes each) and the threads'
    # tiles (small blocks here, so a few KiB). A table beside the indices and
    # bounds (int64, k = 6 of m = 10 candidates) would take it 15% past them.
    import tracemalloc

    monkeypatch.setattr(knn_module, "QUERY_BLOCK_ROWS", 32)
    data = np.random.default_rng(16).normal(size=(30_000, 8))
    k = 6
    kneighbors_excluding_self(data[:600], k)  # kernels loaded
    tracemalloc.start()
    try:
        table = kneighbors_excluding_self(data, k)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(symmetric) == 2
    from sklearn.neighbors import NearestNeighbors  # no ties: column 0 is the row itself

    expected = NearestNeighbors(n_neighbors=k + 1).fit(data).kneighbors(data, return_distance=False)
    np.testing.assert_array_equal(table, expected[:, 1:])
    candidates = len(data) * knn_module.n_candidates(k, len(data)) * 8
    assert peak < candidates + 2**16


@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (7, 5), (300, 9)])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_leading_columns_kept_in_place_equal_numpy(shape, dtype):
    from gpusmote.kernels.neighbors import keep_leading_columns

    table = np.random.default_rng(17).integers(0, 10**6, size=shape).astype(dtype)
    for k in sorted({0, 1, shape[1] // 2, shape[1]}):
        work = table.copy()
        keep_leading_columns(work, k)
        np.testing.assert_array_equal(work.reshape(-1)[: shape[0] * k].reshape(shape[0], k), table[:, :k])
