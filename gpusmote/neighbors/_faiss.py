"""Exact k-NN with FAISS's brute-force search as the candidate stage.

FAISS returns each query's ``m`` (+1 for the row itself) nearest points by its
own float32 distances (``faiss.bfKnn`` on the GPU, straight from device memory;
``faiss.knn`` on the CPU, which is how CI tests this module). Those candidates
then go through the same float64 re-rank, proof and tie rule as our own search
(:func:`gpusmote.kernels.neighbors.rerank_exact` and its CUDA twin), so the
neighbour tables are identical to the CPU path's whatever FAISS's rounding:

* FAISS's selection is exact on the distances it computed, so every point it
  left out has a computed distance at least the largest one it returned (the
  candidates' bound, with query norm 0: FAISS's values are whole distances).
* Those computed distances are off by at most the error bound of
  :func:`gpusmote.neighbors._cpu.prepare_plain`. That bound assumes full float32
  arithmetic: FAISS's GPU resources create their cuBLAS handle with
  ``CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION`` and never enable TF32
  tensor-op math, and ``useFloat16`` stays off in ``bfKnn``.
* A query whose k-th exact distance is not proven below every left-out point's
  lower bound is searched again exhaustively in float64.

The rows are centred on the points' mean before FAISS sees them (distances do
not change; the norms, and so the error bound, shrink) and scaled by a power of
two (exact; the re-rank scales its differences by the same one, so FAISS's
values, the bounds and the exact distances share units).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType

import numpy as np

from gpusmote.devices._input import to_host
from gpusmote.kernels.neighbors import NO_SELF, rerank_exact
from gpusmote.neighbors._cpu import check_k, exact_view, n_candidates, power_of_two_scale, prepare_plain
from gpusmote.neighbors._cuda import check_cuda_k, rerank_on_device

#: Query rows per FAISS call (bounds the (rows, m) candidate arrays; FAISS
#: tiles its own GEMMs inside a call).
FAISS_QUERY_BLOCK_ROWS = 1 << 18

Search = Callable[[object, object, int, ModuleType], tuple[object, object]]
"""``(points32, queries32, n_results, xp) -> (distances, indices)``, FAISS's
squared L2 k-NN, both (n_queries, n_results), ascending distances."""


def faiss_gpu_status() -> tuple[bool, str]:
    """(usable, why not): a FAISS build with GPU support and a visible GPU."""
    try:
        import faiss
    except ImportError:
        return False, ("FAISS is not installed (the [faiss-gpu] extra: "
                       "pip install 'gpusmote[faiss-gpu]', or '.[faiss-gpu]' from a checkout)")
    if not hasattr(faiss, "StandardGpuResources"):
        return False, "the installed FAISS has no GPU support (faiss-cpu)"
    try:
        if faiss.get_num_gpus() < 1:
            return False, "FAISS sees no GPU"
    except Exception as error:  # a broken CUDA install counts as no GPU
        return False, f"FAISS cannot use the GPU ({type(error).__name__}: {error})"
    return True, ""


def faiss_error_ratio(xp: ModuleType, n_rows: int = 4096, n_features: int = 16, seed: int = 0,
                      search: Search | None = None) -> float:
    """The largest error of FAISS's distances on a probe search, as a share of
    the error bound the exactness proof assumes (:func:`prepare_plain`).

    Full float32 arithmetic stays around 1-2% of the bound; a GEMM that rounds
    its inputs to TF32 (10 mantissa bits) overshoots it 15- to 100-fold, so a
    ratio of 1 or more means FAISS's candidates cannot be trusted.
    """
    data = np.random.default_rng(seed).normal(size=(n_rows, n_features)) + 1.0
    prepared = prepare_plain(xp.asarray(data), xp)
    distances, indices = (search or faiss_search)(prepared.rows, prepared.rows, 8, xp)
    rows = to_host(prepared.rows).astype(np.float64)
    exact = ((rows[:, None, :] - rows[to_host(indices)]) ** 2).sum(axis=2)
    error = np.abs(to_host(distances).astype(np.float64) - exact)
    return float((error / to_host(prepared.error_bounds)[:, None]).max())


@functools.cache
def faiss_gpu_precise() -> bool:
    """True when FAISS's GPU distances pass the probe of :func:`faiss_error_ratio`
    (checked once per process)."""
    import cupy

    return faiss_error_ratio(cupy) < 1.0


@functools.cache
def _gpu_resources():
    import faiss

    return faiss.StandardGpuResources()


def faiss_search(points, queries, n_results: int, xp: ModuleType):
    """FAISS's exact-on-its-own-values squared-L2 k-NN of float32 rows.

    NumPy arrays are searched by ``faiss.knn`` on the CPU; CuPy arrays by
    ``faiss.bfKnn`` on their GPU, reading and writing device memory directly on
    CuPy's current stream (no copy, no host round trip).
    """
    import faiss

    if xp is np:
        return faiss.knn(np.ascontiguousarray(queries), np.ascontiguousarray(points), n_results)
    points, queries = xp.ascontiguousarray(points), xp.ascontiguousarray(queries)
    distances = xp.empty((len(queries), n_results), dtype=np.float32)
    indices = xp.empty((len(queries), n_results), dtype=np.int64)
    args = faiss.GpuDistanceParams()
    args.metric = faiss.METRIC_L2
    args.k = n_results
    args.dims = points.shape[1]
    args.vectors = faiss.cast_integer_to_float_ptr(points.data.ptr)
    args.vectorsRowMajor = True
    args.vectorType = faiss.DistanceDataType_F32
    args.numVectors = len(points)
    args.queries = faiss.cast_integer_to_float_ptr(queries.data.ptr)
    args.queriesRowMajor = True
    args.queryType = faiss.DistanceDataType_F32
    args.numQueries = len(queries)
    args.outDistances = faiss.cast_integer_to_float_ptr(distances.data.ptr)
    args.outIndices = faiss.cast_integer_to_idx_t_ptr(indices.data.ptr)
    args.outIndicesType = faiss.IndicesDataType_I64
    device = xp.cuda.Device().id
    args.device = device
    resources = _gpu_resources()
    previous = resources.getDefaultStream(device)
    resources.setDefaultStream(device, faiss.cast_integer_to_cudastream_t(xp.cuda.get_current_stream().ptr))
    try:
        faiss.bfKnn(resources, args)
    finally:
        resources.setDefaultStream(device, previous)
    return distances, indices


def drop_self(indices, self_indices, m: int, xp: ModuleType):
    """The first ``m`` of each row's ``m + 1`` results, skipping the row itself
    (or, when FAISS did not return it, the last and farthest result)."""
    is_self = indices == self_indices[:, None]
    position = xp.where(is_self.any(axis=1), is_self.argmax(axis=1), m)
    columns = xp.arange(m)[None, :]
    return xp.take_along_axis(indices, columns + (columns >= position[:, None]), axis=1)


def kneighbors_excluding_self_faiss(
    data, k: int, xp: ModuleType, *, on_cuda: bool, query_block_rows: int | None = None,
    search: Search | None = None,
):
    """Indices of the ``k`` nearest other rows of every row, FAISS candidates.

    Parameters
    ----------
    data : array of shape (n_points, n_features)
        Finite numeric rows: a CuPy array (FAISS on its GPU) or a NumPy array
        (FAISS on the CPU).
    k : int
        Neighbours per row; requires ``n_points > k``.
    xp : module
        The array module of ``data``.
    on_cuda : bool
        Re-rank with the CUDA kernel (``k <= CUDA_MAX_K``; simulated for NumPy
        arrays under ``NUMBA_ENABLE_CUDASIM=1``) rather than the CPU one.
    query_block_rows : int, optional
        Queries per FAISS call; changes memory, never the result.
    search : callable, optional
        The candidate search (default :func:`faiss_search`, looked up at call time).

    Returns
    -------
    array of shape (n_points, k), int64, in ``xp``'s memory
        Row ``i``'s neighbours, nearest first, ties by lower index: the same
        table as :func:`gpusmote.neighbors._cpu.kneighbors_excluding_self`.
    """
    check_k(k, len(data))
    prepared = prepare_plain(data, xp)
    m = n_candidates(k, len(data))

    def candidates(q0, q1):
        distances, indices = (search or faiss_search)(prepared.rows, prepared.rows[q0:q1], m + 1, xp)
        self_indices = xp.arange(q0, q1, dtype=np.int64)
        return drop_self(indices, self_indices, m, xp), distances.max(axis=1).astype(np.float64), q0

    exact = exact_view(data, xp)
    return _rerank_blocks(exact, exact, prepared, candidates, k, m >= len(data) - 1, xp, on_cuda,
                          query_block_rows, kneighbors_excluding_self_faiss)


def kneighbors_of_queries_faiss(
    data, queries, k: int, xp: ModuleType, *, on_cuda: bool, query_block_rows: int | None = None,
    search: Search | None = None,
):
    """The FAISS-candidate twin of :func:`gpusmote.neighbors._cpu.kneighbors_of_queries`
    (no row excluded; a query equal to a point finds it at distance 0)."""
    check_k(k, len(data), excluding_self=False)
    points = prepare_plain(data, xp, scale=power_of_two_scale(data, queries, xp=xp))
    prepared_queries = prepare_plain(queries, xp, points=points)
    m = min(len(data), k + 4)

    def candidates(q0, q1):
        distances, indices = (search or faiss_search)(points.rows, prepared_queries.rows[q0:q1], m, xp)
        return indices, distances.max(axis=1).astype(np.float64), NO_SELF

    return _rerank_blocks(exact_view(data, xp), exact_view(queries, xp), prepared_queries,
                          candidates, k, m >= len(data), xp, on_cuda, query_block_rows, kneighbors_of_queries_faiss)


def _rerank_blocks(exact, exact_queries, prepared_queries, candidates, k, exhaustive, xp, on_cuda,
                   query_block_rows, record):
    if on_cuda:
        check_cuda_k(k)
    n_queries = len(exact_queries)
    block = max(1, min(n_queries, query_block_rows or FAISS_QUERY_BLOCK_ROWS))
    out = xp.empty((n_queries, k), dtype=np.int64)
    n_fallback = 0
    for q0 in range(0, n_queries, block):
        q1 = min(n_queries, q0 + block)
        cand_idx, cand_bound, query_offset = candidates(q0, q1)
        # FAISS's values are whole distances (in the scaled units of the
        # re-rank's): no |a|^2 to add back.
        no_norms = xp.zeros(q1 - q0, dtype=np.float64)
        args = (exact_queries[q0:q1], exact, prepared_queries.scale, cand_idx, cand_bound, no_norms,
                prepared_queries.error_bounds[q0:q1], query_offset, exhaustive, out[q0:q1])
        if on_cuda:
            fell_back = xp.zeros(q1 - q0, dtype=np.int64)
            rerank_on_device(*args, fell_back)
            n_fallback += int(fell_back.sum())
        else:
            n_fallback += rerank_exact(*args)
    record.last_fallback_rows = n_fallback
    return out


#: Rows of the last call that needed the exhaustive float64 search (diagnostic).
kneighbors_excluding_self_faiss.last_fallback_rows = 0
kneighbors_of_queries_faiss.last_fallback_rows = 0
