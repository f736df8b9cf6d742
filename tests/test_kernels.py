"""Kernels against NumPy references, element for element."""

from __future__ import annotations

import numpy as np
import pytest

from gpusmote.kernels.interpolate import _interpolate_kernel, _interpolate_numpy, interpolate_rows
from gpusmote.kernels.neighbors import block_candidates, select_candidates


def _random_case(dtype, n_base=40, n_features=6, k=4, n_new=500, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        data = (rng.normal(size=(n_base, n_features)) * 1e3).astype(dtype)
    else:
        data = rng.integers(-(2**40), 2**40, size=(n_base, n_features)).astype(dtype)
    nn_idx = rng.integers(0, n_base, size=(n_base, k))
    rows = rng.integers(0, n_base, size=n_new)
    cols = rng.integers(0, k, size=n_new)
    steps = rng.uniform(size=n_new)
    return data, nn_idx, rows, cols, steps


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_interpolation_kernel_is_imblearn_formula(dtype):
    data, nn_idx, rows, cols, steps = _random_case(dtype)
    expected = (data[rows] + steps[:, None] * (data[nn_idx[rows, cols]] - data[rows])).astype(dtype)
    out = np.full((len(rows), data.shape[1]), 7, dtype=dtype)
    _interpolate_kernel(out, data, data, nn_idx, rows, cols, steps)
    np.testing.assert_array_equal(out, expected, strict=True)


def test_float64_has_no_fused_multiply_add():
    """x + s*d rounded twice differs from fma(x, s, d) for these values; the
    kernel must give the twice-rounded NumPy result."""
    data, nn_idx, rows, cols, steps = _random_case(np.float64, n_new=20_000, seed=4)
    diffs = data[nn_idx[rows, cols]] - data[rows]
    expected = data[rows] + steps[:, None] * diffs
    out = np.empty_like(expected)
    _interpolate_kernel(out, data, data, nn_idx, rows, cols, steps)
    np.testing.assert_array_equal(out, expected)
    # sanity: a fused evaluation really differs on this data (the test can fail)
    fused = (
        data[rows].astype(np.longdouble) + steps[:, None].astype(np.longdouble) * diffs
    ).astype(np.float64)
    assert np.count_nonzero(fused != expected) > 0


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.uint8, np.int8])
def test_other_dtypes_take_numpy_path(dtype):
    data, nn_idx, rows, cols, steps = _random_case(np.float64)
    data = (data / 20).astype(dtype)  # small values: uint8 differences still wrap
    expected = np.empty((len(rows), data.shape[1]), dtype=dtype)
    _interpolate_numpy(expected, data, data, nn_idx, rows, cols, steps)
    out = np.empty_like(expected)
    interpolate_rows(out, data, data, nn_idx, rows, cols, steps)
    np.testing.assert_array_equal(out, expected, strict=True)


@pytest.mark.parametrize("point_tile", [1, 16, 50, 200])
def test_block_candidates_keep_the_m_smallest(point_tile):
    rng = np.random.default_rng(5)
    n_points, n_queries, m, offset, d = 200, 10, 7, 30, 3
    points_raw = rng.normal(size=(n_points, d)).astype(np.float32)
    queries = np.hstack([points_raw[offset : offset + n_queries], np.ones((n_queries, 1), np.float32)])
    sq = np.einsum("ij,ij->i", points_raw, points_raw).astype(np.float32)
    points = np.hstack([np.float32(-2) * points_raw, sq[:, None]])
    cand_idx = np.empty((n_queries, m), dtype=np.int64)
    cand_bound = np.empty(n_queries)
    block_candidates(queries, points, offset, point_tile, cand_idx, cand_bound)
    values = (queries @ points.T).astype(np.float64)
    for q in range(n_queries):
        values[q, offset + q] = np.inf  # a query is not its own candidate
        expected = np.sort(values[q])[:m]
        # same values up to the GEMM's float32 rounding, and the right bound
        np.testing.assert_allclose(np.sort(values[q, cand_idx[q]]), expected, rtol=1e-5, atol=1e-5)
        assert offset + q not in cand_idx[q]
        assert len(set(cand_idx[q])) == m
        assert cand_bound[q] == pytest.approx(expected[-1], rel=1e-5, abs=1e-5)


def test_select_candidates_merges_tiles_exactly():
    rng = np.random.default_rng(8)
    values = rng.normal(size=(6, 100)).astype(np.float32)
    cand_vals = np.full((6, 5), np.inf, dtype=np.float32)
    cand_idx = np.full((6, 5), -1, dtype=np.int64)
    for start in range(0, 100, 33):  # three tiles and a remainder, 40 = query 0's self
        select_candidates(values[:, start : start + 33], start, 40, cand_vals, cand_idx)
    for q in range(6):
        row = values[q].copy()
        row[40 + q] = np.inf
        np.testing.assert_array_equal(np.sort(cand_vals[q]), np.sort(row)[:5])
        np.testing.assert_array_equal(np.sort(row[cand_idx[q]]), np.sort(row)[:5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("n_rows", [5, 3000])
@pytest.mark.parametrize("piece_bytes", [1 << 21, 4096, 1])  # populated pieces of many pages, one page, one row
def test_copy_rows_copies_exactly_and_leaves_the_rest(dtype, layout, n_rows, piece_bytes, monkeypatch):
    from gpusmote.kernels import _row_threads, copy_rows as copy_module
    from gpusmote.kernels.copy_rows import copy_rows

    monkeypatch.setattr(_row_threads, "MIN_THREAD_BYTES", 1)  # ranges on 3 threads even here
    monkeypatch.setattr(_row_threads, "n_threads", lambda: 3)
    monkeypatch.setattr(copy_module, "POPULATE_PIECE_BYTES", piece_bytes)

    rng = np.random.default_rng(1)
    full = (rng.normal(size=(2 * n_rows, 40)) * 1e6).astype(dtype)
    src = {"C": np.ascontiguousarray(full[:n_rows]), "F": np.asfortranarray(full[:n_rows]),
           "strided": full[::2, ::1]}[layout]
    out = np.full((n_rows + 17, 40), 3, dtype=dtype)
    copy_rows(out, src)
    np.testing.assert_array_equal(out[:n_rows], src, strict=True)
    assert (out[n_rows:] == 3).all()
    columns = np.full((n_rows + 17, 80), 3, dtype=dtype)[:, ::2]  # a destination that is no block of memory
    copy_rows(columns, src)
    np.testing.assert_array_equal(columns[:n_rows], src, strict=True)
    assert (columns[n_rows:] == 3).all()
