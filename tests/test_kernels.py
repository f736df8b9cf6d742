"""Kernels against NumPy references, element for element."""

from __future__ import annotations

import numpy as np
import pytest

from gpusmote.kernels.interpolate import _interpolate_kernel, _interpolate_numpy, interpolate_rows
from gpusmote.kernels.neighbors import select_candidates


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


def test_select_candidates_keeps_the_m_smallest():
    rng = np.random.default_rng(5)
    n_points, n_queries, m, offset = 120, 10, 7, 30
    gram = rng.normal(size=(n_queries, n_points)).astype(np.float32)
    sq_norms = rng.uniform(1, 2, size=n_points).astype(np.float32)
    cand_idx = np.empty((n_queries, m), dtype=np.int64)
    cand_bound = np.empty(n_queries)
    select_candidates(gram, sq_norms, offset, cand_idx, cand_bound)
    values = sq_norms[None, :] - np.float32(2) * gram
    for q in range(n_queries):
        values[q, offset + q] = np.inf  # a query is not its own candidate
        expected = np.sort(values[q])[:m]
        np.testing.assert_array_equal(np.sort(values[q, cand_idx[q]]), expected)
        assert cand_bound[q] == expected[-1]
        assert offset + q not in cand_idx[q]
