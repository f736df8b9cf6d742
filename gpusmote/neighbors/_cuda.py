"""Exact k-NN on a CUDA device: the CPU search's algorithm, on device arrays.

Same preparation (:func:`gpusmote.neighbors._cpu.prepare_points`), same candidate merge
and exact float64 re-rank (the CUDA twins in ``gpusmote.kernels.neighbors``),
same proof and tie rule, so the neighbour tables are identical on both devices
although cuBLAS and OpenBLAS round their GEMMs differently. The GEMM tiles are
(points x queries), so each thread's scan of its query's column is coalesced
across a warp, and they are sized from the device's free memory.
"""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np

from gpusmote.kernels.neighbors import CUDA_MAX_K, NO_SELF, cuda_kernels
from gpusmote.neighbors._cpu import (
    check_k,
    exact_view,
    n_candidates,
    power_of_two_scale,
    prepare_points,
    prepare_queries,
    query_block,
)

#: Queries per block (one thread each in the kernels).
CUDA_QUERY_BLOCK_ROWS = 8192
#: Share of the free device memory one GEMM tile may take.
TILE_MEMORY_SHARE = 0.25
_THREADS = 128


def _free_device_bytes(xp: ModuleType) -> int:
    if xp is np:  # Numba's CUDA simulator: host memory stands in for the device
        return 1 << 30
    free, _ = xp.cuda.runtime.memGetInfo()
    return int(free)


def _check_full_float32_gemm() -> None:
    # TF32 GEMMs keep 10 mantissa bits, far outside the error bound the
    # exactness proof relies on.
    if os.environ.get("CUPY_TF32", "0") != "0":
        raise RuntimeError(
            "gpusmote's exact k-NN needs full float32 GEMMs, but CUPY_TF32 is set; unset it."
        )


def kneighbors_excluding_self_cuda(
    data, k: int, xp: ModuleType, *, query_block_rows: int | None = None, tile_points: int | None = None
):
    """Indices of the ``k`` nearest other rows of every row, on the device.

    Parameters
    ----------
    data : device array of shape (n_points, n_features)
        Finite numeric rows (a CuPy array; a NumPy array under the simulator).
    k : int
        Neighbours per row; ``k <= CUDA_MAX_K`` and ``n_points > k``.
    xp : module
        The array module of ``data``.
    query_block_rows, tile_points : int, optional
        Block and tile sizes (defaults from the device's free memory); they
        change speed and memory, never the result.

    Returns
    -------
    device array of shape (n_points, k), int64
        Row ``i``'s neighbours, nearest first, ties by lower index.
    """
    check_k(k, len(data))
    exact = exact_view(data, xp)
    prepared = prepare_points(data, xp)

    def block(q0, q1):
        return (query_block(prepared.rows, q0, q1, xp), exact[q0:q1], prepared.sq_norms[q0:q1],
                prepared.error_bounds[q0:q1], q0)

    return _search_cuda(exact, prepared, len(data), block, k, n_candidates(k, len(data)), len(data) - 1,
                        xp, query_block_rows, tile_points, kneighbors_excluding_self_cuda)


def kneighbors_of_queries_cuda(
    data, queries, k: int, xp: ModuleType, *, query_block_rows: int | None = None,
    tile_points: int | None = None,
):
    """The CUDA twin of :func:`gpusmote.neighbors._cpu.kneighbors_of_queries`."""
    check_k(k, len(data), excluding_self=False)
    exact, exact_queries = exact_view(data, xp), exact_view(queries, xp)
    prepared = prepare_points(data, xp, power_of_two_scale(data, queries, xp=xp), per_row=False)
    prepared_queries = prepare_queries(queries, prepared, xp)

    def block(q0, q1):
        return (prepared_queries.rows[q0:q1], exact_queries[q0:q1], prepared_queries.sq_norms[q0:q1],
                prepared_queries.error_bounds[q0:q1], NO_SELF)

    return _search_cuda(exact, prepared, len(queries), block, k, min(len(data), k + 4), len(data),
                        xp, query_block_rows, tile_points, kneighbors_of_queries_cuda)


def check_cuda_k(k: int) -> None:
    """The CUDA re-rank keeps each query's k best in registers: k <= CUDA_MAX_K."""
    if k > CUDA_MAX_K:
        raise ValueError(f"k_neighbors={k} is above the CUDA engine's limit of {CUDA_MAX_K}; use device='cpu'.")


def rerank_on_device(exact_queries, exact, scale, cand_idx, cand_bound, query_sq_norms, error_bounds,
                     query_offset, exhaustive, out, fell_back) -> None:
    """Launch the CUDA exact re-rank (:func:`gpusmote.kernels.neighbors.rerank_exact`'s
    twin, same arguments), one thread per query; ``fell_back`` gets 1 for each
    query searched exhaustively."""
    grid = -(-len(cand_idx) // _THREADS)
    cuda_kernels().rerank[grid, _THREADS](
        exact_queries, exact, scale, cand_idx, cand_bound, query_sq_norms, error_bounds, query_offset,
        exhaustive, out, fell_back,
    )


def _search_cuda(exact, prepared, n_queries, block_of, k, m, n_candidates_total, xp,
                 query_block_rows, tile_points, record):
    check_cuda_k(k)
    _check_full_float32_gemm()
    kernels = cuda_kernels()
    points = prepared.rows
    n_points = len(points)
    exhaustive = m >= n_candidates_total
    block = min(n_queries, query_block_rows or CUDA_QUERY_BLOCK_ROWS)
    if tile_points is None:
        tile_points = int(_free_device_bytes(xp) * TILE_MEMORY_SHARE) // (4 * block)
    tile = max(1, min(n_points, tile_points))
    out = xp.empty((n_queries, k), dtype=np.int64)
    fell_back = xp.zeros(n_queries, dtype=np.int64)
    for q0 in range(0, n_queries, block):
        q1 = min(n_queries, q0 + block)
        queries, exact_queries, sq_norms, error_bounds, query_offset = block_of(q0, q1)
        cand_vals = xp.full((q1 - q0, m), np.inf, dtype=np.float32)
        cand_idx = xp.full((q1 - q0, m), -1, dtype=np.int64)
        grid = -(-(q1 - q0) // _THREADS)
        for p0 in range(0, n_points, tile):
            p1 = min(n_points, p0 + tile)
            values_t = xp.matmul(points[p0:p1], queries.T)  # (points, queries)
            kernels.select[grid, _THREADS](values_t, p0, query_offset, cand_vals, cand_idx)
        cand_bound = cand_vals.max(axis=1).astype(np.float64)
        rerank_on_device(exact_queries, exact, prepared.scale, cand_idx, cand_bound, sq_norms, error_bounds,
                         query_offset, exhaustive, out[q0:q1], fell_back[q0:q1])
    record.last_fallback_rows = int(fell_back.sum())
    return out


#: Rows of the last call that needed the exhaustive float64 search (diagnostic).
kneighbors_excluding_self_cuda.last_fallback_rows = 0
kneighbors_of_queries_cuda.last_fallback_rows = 0
