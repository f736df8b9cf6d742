"""Every CUDA kernel against its CPU twin, bit for bit.

In CI these run under Numba's CUDA simulator (tests/conftest.py); with
GPUSMOTE_TEST_REAL_GPU=1 on a GPU machine they run on the device. Sizes stay
small because the simulator runs each thread in Python.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import cuda

from gpusmote.kernels.interpolate import interpolate_rows, interpolate_rows_cuda
from gpusmote.kernels.neighbors import CUDA_MAX_K, cuda_kernels, rerank_exact, select_candidates


def on_device(array):
    return cuda.to_device(np.ascontiguousarray(array))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_interpolation_twins_agree(dtype):
    rng = np.random.default_rng(1)
    n_base, d, k, n_new = 30, 5, 4, 211
    if np.dtype(dtype).kind == "f":
        data = (rng.normal(size=(n_base, d)) * 1e3).astype(dtype)
    else:
        data = rng.integers(-(2**40), 2**40, size=(n_base, d)).astype(dtype)
    nn_idx = rng.integers(0, n_base, size=(n_base, k))
    rows, cols, steps = rng.integers(0, n_base, n_new), rng.integers(0, k, n_new), rng.uniform(size=n_new)
    cpu = np.empty((n_new, d), dtype=dtype)
    interpolate_rows(cpu, data, data, nn_idx, rows, cols, steps)
    out = on_device(np.zeros((n_new, d), dtype=dtype))
    interpolate_rows_cuda(out, on_device(data), on_device(data), on_device(nn_idx),
                          on_device(rows), on_device(cols), on_device(steps))
    np.testing.assert_array_equal(out.copy_to_host(), cpu, strict=True)


@pytest.mark.parametrize("m", [1, 7])
def test_select_twins_keep_the_same_candidates(m):
    rng = np.random.default_rng(2)
    n_queries, n_tile, point_offset, query_offset = 12, 53, 40, 45
    values = rng.normal(size=(n_queries, n_tile)).astype(np.float32)
    values[3, 10:20] = values[3, 0]  # ties: both keep the earliest
    cpu_vals = np.full((n_queries, m), np.inf, dtype=np.float32)
    cpu_idx = np.full((n_queries, m), -1, dtype=np.int64)
    select_candidates(values, point_offset, query_offset, cpu_vals, cpu_idx)
    gpu_vals, gpu_idx = on_device(np.full((n_queries, m), np.inf, np.float32)), on_device(
        np.full((n_queries, m), -1, np.int64))
    cuda_kernels().select[1, 32](on_device(values.T), point_offset, query_offset, gpu_vals, gpu_idx)
    np.testing.assert_array_equal(gpu_idx.copy_to_host(), cpu_idx)
    np.testing.assert_array_equal(gpu_vals.copy_to_host(), cpu_vals)
    assert query_offset - point_offset + 0 not in cpu_idx[0] - point_offset  # query 0 skipped itself


@pytest.mark.parametrize("case", ["proved", "fallback", "incomplete", "exhaustive"])
def test_rerank_twins_agree(case):
    rng = np.random.default_rng(3)
    n_points, d, k, m = 60, 3, 4, 8
    data = rng.normal(size=(n_points, d)).astype(np.float32)
    data[10] = data[11]  # a duplicate: ties go to the lower index on both
    queries = np.arange(5, 25)
    cand_idx = np.stack([rng.choice(np.delete(np.arange(n_points), q), m, replace=False) for q in queries])
    cand_bound = np.full(len(queries), 1e9 if case != "fallback" else -1e9)
    if case == "incomplete":
        cand_idx[::3, 0] = -1
    sq_norms = np.zeros(len(queries))
    error_bounds = np.zeros(len(queries))
    exhaustive = case == "exhaustive"
    scale = 2.0**-3  # the differences are scaled the same way on both
    cpu = np.empty((len(queries), k), dtype=np.int64)
    n_fallback = rerank_exact(data[5:25], data, scale, cand_idx, cand_bound, sq_norms, error_bounds, 5, exhaustive,
                              cpu)
    out = on_device(np.zeros((len(queries), k), np.int64))
    fell_back = on_device(np.zeros(len(queries), np.int64))
    cuda_kernels().rerank[1, 32](on_device(data[5:25]), on_device(data), scale, on_device(cand_idx),
                                 on_device(cand_bound), on_device(sq_norms), on_device(error_bounds), 5, exhaustive,
                                 out, fell_back)
    np.testing.assert_array_equal(out.copy_to_host(), cpu)
    assert fell_back.copy_to_host().sum() == n_fallback
    assert n_fallback == {"proved": 0, "exhaustive": 0, "fallback": len(queries), "incomplete": 7}[case]


def test_cuda_rerank_k_limit_is_documented():
    assert CUDA_MAX_K == 64
