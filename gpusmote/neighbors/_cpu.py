"""Exact k nearest neighbours of every row among the other rows (CPU path).

Tie rule (shared by every device): the neighbours of row ``i`` are the ``k``
rows ``j != i`` with the smallest squared Euclidean distance computed in float64
(from the differences times a power of two chosen from the data, exact: no
square under- or overflows, and a power-of-two scale of the data changes
nothing), ties broken by the lower row index. The row itself is excluded by index, never by
distance, so a duplicate of row ``i`` is a genuine neighbour at distance 0 (its
synthetic samples are copies of the row). imbalanced-learn instead queries
``k + 1`` neighbours and drops column 0, assuming it is the row itself; on data
without distance ties the two rules give the same lists.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from gpusmote.engine._memory import release_freed_memory
from gpusmote.kernels._row_threads import in_pool_thread, shared_pool
from gpusmote.kernels.neighbors import (
    NO_SELF,
    block_candidates,
    centred_norms,
    keep_leading_columns,
    largest_centred_norm,
    pack_row_maxima,
    rerank_exact,
    symmetric_pair_candidates,
)

#: Queries per block; one block is one task for a thread.
QUERY_BLOCK_ROWS = 128
#: Points beyond which a block of queries streams its points from memory (or
#: L3), not from L2: each block reads every point, so blocks grow
#: (QUERY_BLOCK_GROWTH times) to read them fewer times; the GEMM result tile
#: does not grow (it must stay in L2). Shared 2-core VM, 1 MiB L2 per core:
#: 9,900 queries among 1,000,000 x 32 points (ADASYN's search on fraud-1M)
#: took 6.8-7.5 s with growth 1, 6.0 s with 4 when the tile grew too (2 MiB:
#: the GEMM ran at 60 GFLOP/s a core), 4.9 s with 2 or 4 and a 512 KiB tile
#: (84 GFLOP/s), 5.2 s with 8; 200,000 x 32 among themselves (big-minority)
#: 22.2 s with growth 1, 18.4 s with 4.
MANY_POINTS_BYTES = 2**20
QUERY_BLOCK_GROWTH = 4
#: Bytes of one GEMM result tile (sized to stay in a core's L2 while scanned).
TILE_BYTES = 512 * 2**10
#: Rows from which a self-search computes each pair's distance once
#: (:func:`_symmetric_search`); below, the one-sided search (break-even near
#: 15,000 x 32 on the 2-core VM; 20,000 x 32: 0.38 -> 0.26 s).
SYMMETRIC_MIN_ROWS = 16_384
#: Row ranges of the symmetric search per thread (rounds of disjoint pairs).
SYMMETRIC_RANGES_PER_THREAD = 4
#: Query blocks of the symmetric search that share each float32 point tile it
#: makes from the data (one tile's rows are made once per group of blocks).
SYMMETRIC_GROUP_BLOCKS = 4
_TILE_MIN_POINTS = 64
#: Bytes of float64 scratch used while centring the rows. Small enough for
#: malloc to reuse the chunks' temporaries: at 8 MiB (five temporaries of up to
#: that size a chunk) they left freed heap resident through the search that
#: follows (SMOTEENN on 200k x 32 rows: the prepared rows took 87 MiB of RSS
#: instead of 68).
CENTRE_CHUNK_BYTES = 2**20

_UNIT_ROUNDOFF_F32 = 2.0**-24
#: Half the spacing of float32's subnormals: the largest absolute error of a
#: float32 rounding or product that underflows.
_UNDERFLOW_F32 = 2.0**-150
#: Powers of two the rows may be scaled by: the scale stays a normal float64,
#: so data from about 1e-300 to 1e300 is brought to unit scale.
_MAX_SCALE_EXPONENT = 1022


def n_candidates(k: int, n_points: int) -> int:
    """How many float32 candidates to keep per query before the exact re-rank.

    Four beyond ``k`` leave the float32 proof enough room on real data (no
    fallback on the benchmark workloads) while keeping the selection cheap.
    """
    return min(n_points - 1, k + 4)


def exact_view(data, xp: ModuleType = np):
    """The rows the float64 re-rank reads: their own dtype when Numba handles it
    exactly (float32/float64/int64), else widened to float64 (exact for every
    int up to 2**53 and every float16/float32)."""
    if data.dtype in (np.float32, np.float64, np.int64):
        return xp.ascontiguousarray(data)
    return xp.ascontiguousarray(data, dtype=np.float64)


@dataclass(frozen=True)
class Prepared:
    """Rows centred on the points' mean, scaled by a power of two and rounded
    to float32, with one extra column: ``[-2b, |b|^2]`` for points, ``[a, 1]``
    for queries, so that one GEMM gives ``|b|^2 - 2 a.b``. ``sq_norms`` is
    ``|a|^2`` of the float32 rows (float64), ``error_bounds`` bounds, per row,
    the error of any of its approximate distances; both, like the GEMM's
    values, are in scaled units, the units of the exact re-rank's distances
    (it scales the differences by the same ``scale``). ``mean``, ``scale``
    and ``max_norm`` describe the points.
    """

    rows: object
    sq_norms: object
    error_bounds: object
    mean: object
    max_norm: float
    scale: float = 1.0


def scale_from_ranges(lowest, highest) -> float:
    """A power of two that brings ``sqrt(d)`` times the widest column range,
    a bound on the norms of the centred rows and of their differences, into
    [0.5, 1) (within the cap :data:`_MAX_SCALE_EXPONENT`).

    float32 has 8 exponent bits: data at 1e-22 has products that underflow
    and data at 1e19 squared norms that overflow, and either breaks the GEMM's
    relative error bound; float64 squares overflow above 1e154 and underflow
    below 1e-160. Scaling by a power of two is exact, so both stages see the
    same numbers at unit scale, and the neighbours do not depend on a power of
    two scale of the data. Columns' minima and maxima are exact in any
    reduction order, so every device (and the sparse search) gets the same
    scale.

    Parameters
    ----------
    lowest, highest : float64 arrays of shape (n_features,)
        Every column's smallest and largest value.
    """
    n_features = lowest.shape[0]
    # Halves, so that a range beyond float64's largest value does not overflow.
    half_range = float((highest * 0.5 - lowest * 0.5).max()) if n_features else 0.0
    if not 0.0 < half_range < math.inf:
        return 1.0
    mantissa, exponent = math.frexp(half_range)
    exponent += 1 + math.frexp(mantissa * math.sqrt(n_features))[1]
    return math.ldexp(1.0, -min(max(exponent, -_MAX_SCALE_EXPONENT), _MAX_SCALE_EXPONENT))


def power_of_two_scale(*row_sets, xp: ModuleType = np) -> float:
    """:func:`scale_from_ranges` over the rows of every array of ``row_sets``
    (points and queries: every difference a distance takes), from two reads of
    each, without an n x d float64 copy."""
    ranges = [(rows.min(axis=0).astype(np.float64), rows.max(axis=0).astype(np.float64))
              for rows in row_sets if len(rows)]
    if not ranges:
        return 1.0
    lowest, highest = ranges[0]
    for low, high in ranges[1:]:
        lowest, highest = xp.minimum(lowest, low), xp.maximum(highest, high)
    return scale_from_ranges(lowest, highest)


def _centred_chunks(data, mean, scale, xp):
    """(start, stop, float32 centred and scaled rows, their |.|^2, a bound on
    their norms)."""
    n_rows, n_features = data.shape
    chunk = max(1, CENTRE_CHUNK_BYTES // (8 * n_features))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: the proof fails
        for start in range(0, n_rows, chunk):
            stop = min(n_rows, start + chunk)
            part64 = (data[start:stop] - mean) * scale
            part32 = part64.astype(np.float32)
            sq32 = (part32.astype(np.float64) ** 2).sum(axis=1)
            norms = xp.sqrt(xp.maximum(sq32, (part64**2).sum(axis=1)))
            yield start, stop, part32, sq32, norms


def _error_bounds(norms, max_point_norm: float, n_features: int):
    # |fl(|b|^2 - 2a.b) - (|b|^2 - 2a.b)| plus the float32 rounding of the
    # coordinates is at most about (d + 6) u (|a| + |b|)^2 (u = 2**-24); we use
    # twice that bound with the largest |b|. Values that underflow (coordinates
    # or products below float32's normal range) add an absolute error of at most
    # 2**-150 per rounding: (d + 1) products and 4 sqrt(d) (|a| + |b|) from the
    # coordinates; the second term bounds both, with room.
    relative = (2.0 * (n_features + 8) * _UNIT_ROUNDOFF_F32) * (norms + max_point_norm) ** 2
    underflow = (16.0 * (n_features + 2) * _UNDERFLOW_F32) * (1.0 + norms + max_point_norm)
    return relative + underflow


def _prepare(data, xp: ModuleType, points: Prepared | None, n_extra: int, write_rows,
             scale: float | None = None, per_row: bool = True) -> Prepared:
    """Centre ``data`` (on its own mean, or the ``points``' one), scale it (by
    ``scale``, the ``points``' one, or else its own :func:`power_of_two_scale`),
    round it to float32 and bound the error, in chunks (no n x d float64 copy);
    ``write_rows(rows, part32, sq32)`` lays out one chunk of the float32 rows.
    Centring does not change distances but shrinks the norms, and so the float32
    error bound. With ``per_row=False`` only the largest norm is kept
    (``sq_norms`` and ``error_bounds`` are None): points that are never
    queries need no more, and three float64 values a row were a fifth of the
    search's memory among 1M x 32 rows."""
    n_rows, n_features = data.shape
    mean = data.mean(axis=0, dtype=np.float64) if points is None else points.mean
    if scale is None:
        scale = power_of_two_scale(data, xp=xp) if points is None else points.scale
    rows = xp.empty((n_rows, n_features + n_extra), dtype=np.float32)
    sq_norms = xp.empty(n_rows, dtype=np.float64) if per_row else None
    norms = xp.empty(n_rows, dtype=np.float64) if per_row else None
    max_norm = 0.0
    for start, stop, part32, sq32, part_norms in _centred_chunks(data, mean, scale, xp):
        write_rows(rows[start:stop], part32, sq32)
        if per_row:
            sq_norms[start:stop] = sq32
            norms[start:stop] = part_norms
        elif stop > start:
            max_norm = max(max_norm, float(part_norms.max()))
    if per_row and n_rows:
        max_norm = float(norms.max())
    if points is not None:
        max_norm = points.max_norm
    bounds = _error_bounds(norms, max_norm, n_features) if per_row else None
    return Prepared(rows, sq_norms, bounds, mean, max_norm, scale)


def _point_rows(rows, part32, sq32):
    rows[:, :-1] = part32 * np.float32(-2.0)
    rows[:, -1] = sq32


def _query_rows(rows, part32, sq32):
    rows[:, :-1] = part32
    rows[:, -1] = 1.0


def _plain_rows(rows, part32, sq32):
    rows[...] = part32


def prepare_points(data, xp: ModuleType = np, scale: float | None = None, per_row: bool = True) -> Prepared:
    """``[-2b, |b|^2]`` rows for the points (centred on their mean; ``scale``
    defaults to their own :func:`power_of_two_scale`); ``per_row=False`` for
    points that are not also the queries (see :func:`_prepare`)."""
    return _prepare(data, xp, None, 1, _point_rows, scale, per_row)


def prepare_queries(queries, points: Prepared, xp: ModuleType = np) -> Prepared:
    """``[a, 1]`` rows for queries that are not among the points (same centring)."""
    return _prepare(queries, xp, points, 1, _query_rows)


def prepare_plain(data, xp: ModuleType = np, points: Prepared | None = None,
                  scale: float | None = None) -> Prepared:
    """Centred float32 rows without the extra column (what FAISS searches).

    With ``points=None`` the rows are the points (centred on their own mean,
    scaled by ``scale`` or their own :func:`power_of_two_scale`); else they are
    queries, centred, scaled and bounded like :func:`prepare_queries`.
    The error bounds also cover distances computed as ``|a|^2 + |b|^2 - 2 a.b``
    from float32 norms (FAISS's formula): the same ``(d + 8) u (|a| + |b|)^2``
    terms, taken twice.
    """
    return _prepare(data, xp, points, 0, _plain_rows, scale)


def query_block(points, start: int, stop: int, xp: ModuleType = np):
    """``[a, 1]`` for points ``start .. stop`` from the ``[-2b, |b|^2]`` rows."""
    n_features = points.shape[1] - 1
    queries = xp.empty((stop - start, n_features + 1), dtype=np.float32)
    queries[:, :n_features] = points[start:stop, :n_features] * np.float32(-0.5)
    queries[:, n_features] = 1.0
    return queries


def check_k(k: int, n_points: int, *, excluding_self: bool = True) -> None:
    if k < 1 or k > n_points - excluding_self:
        raise ValueError(
            f"k={k} neighbours need more than k rows, got {n_points}."
            if excluding_self
            else f"k={k} neighbours need at least k points, got {n_points}."
        )


def kneighbors_excluding_self(
    data: np.ndarray, k: int, *, block_bytes: int | None = None
) -> np.ndarray:
    """Indices of the ``k`` nearest other rows of every row of ``data`` (CPU).

    Parameters
    ----------
    data : ndarray of shape (n_points, n_features)
        Finite numeric rows.
    k : int
        Neighbours per row; requires ``n_points > k``.
    block_bytes : int, optional
        Bytes of one float32 GEMM result tile (default :data:`TILE_BYTES`).
        Changes speed and memory, never the result.

    Returns
    -------
    ndarray of shape (n_points, k), int64
        Row ``i`` lists its neighbours nearest first (see the module docstring
        for the tie rule).
    """
    check_k(k, len(data))
    exact = exact_view(data)
    m = n_candidates(k, len(data))
    if len(data) >= SYMMETRIC_MIN_ROWS and m < len(data) - 1:
        return _symmetric_search(exact, data, k, m, block_bytes)
    prepared = prepare_points(data)

    def block(start, stop):
        return (query_block(prepared.rows, start, stop), exact[start:stop],
                prepared.sq_norms[start:stop], prepared.error_bounds[start:stop], start)

    return _search(exact, prepared, len(data), block, k, m, len(data) - 1, block_bytes,
                   kneighbors_excluding_self)


def _symmetric_rounds(n_ranges: int) -> list[list[tuple[int, int]]]:
    """Every pair of ``n_ranges`` ranges once, in rounds of disjoint pairs (the
    circle method of a round-robin tournament), each pair ordered."""
    items = list(range(n_ranges)) + ([None] if n_ranges % 2 else [])
    rounds = []
    for _ in range(len(items) - 1):
        pairs = [(items[i], items[-1 - i]) for i in range(len(items) // 2)]
        rounds.append([tuple(sorted(pair)) for pair in pairs if None not in pair])
        items = [items[0], items[-1], *items[1:-1]]
    return rounds


def _symmetric_search(exact, data, k: int, m: int, block_bytes: int | None) -> np.ndarray:
    """:func:`kneighbors_excluding_self` computing each pair's GEMM value once.

    The rows are cut into ranges; each range with itself, then every pair of
    ranges (in rounds of disjoint pairs, one per thread at a time) merges a
    tile's values into both sides' candidates
    (:func:`gpusmote.kernels.neighbors.symmetric_pair_candidates`): half the
    GEMM of the one-sided search. The candidates of every row are kept until
    all pairs are done (``n x m`` values and indices), then re-ranked and
    proved exactly as there, so the table is the same.

    Memory: the kernel makes the float32 rows tile by tile from ``exact``, and
    the re-rank each block's norms and error bounds, so beyond the data the
    search holds only the candidates (8 bytes each), then the candidates'
    indices and their bound, each row's table written over the front of its
    indices, then the int64 table made from it (a cleaner's search over the
    ~396,000 rows of SMOTE's output on 200k x 32: a prepared copy of the rows
    had been 50 MiB beside 21 MiB of candidates).
    """
    mean = data.mean(axis=0, dtype=np.float64)
    scale = power_of_two_scale(data)
    max_norm = float(largest_centred_norm(exact, mean, scale))
    n_points = len(exact)
    n_threads = max(1, numba.get_num_threads())
    block = max(1, QUERY_BLOCK_ROWS * QUERY_BLOCK_GROWTH)
    # tiles as the one-sided search's, a divisor of the blocks (no tile spans two)
    point_tile = min(block, max(_TILE_MIN_POINTS, (block_bytes or TILE_BYTES) // (4 * block)))
    block = point_tile * (block // point_tile)
    n_ranges = max(1, min(SYMMETRIC_RANGES_PER_THREAD * n_threads, n_points // block))
    range_rows = -(-n_points // (n_ranges * block)) * block
    ranges = [(start, min(n_points, start + range_rows)) for start in range(0, n_points, range_rows)]
    cand_vals = np.full((n_points, m), np.inf, dtype=np.float32)
    # every row's candidates live until all pairs are done: int32 indices where they fit
    cand_idx = np.full((n_points, m), -1, dtype=np.int32 if n_points < 2**31 else np.int64)

    pool = _search_pool(n_threads)
    with _threadpool_controller().limit(limits=1, user_api="blas"):
        _merge_all_pairs(exact, mean, scale, ranges, block, point_tile, cand_vals, cand_idx, pool)
        # Each row's largest kept value (float32, exact), in the front of the
        # values' buffer, which then shrinks to them: no array beside it.
        pack_row_maxima(cand_vals)
        cand_vals.resize(n_points, refcheck=False)  # ours alone: the kernels are done with it
        release_freed_memory()  # the buffer's freed tail, if the heap held it

        def rerank(start: int) -> int:
            # Each row's table is written over the front of its own candidates'
            # indices, once the re-rank has read them: no table beside them.
            n_fallback = 0
            for b0 in range(start, min(n_points, start + task_rows), block):
                b1 = min(n_points, b0 + block)
                sq_norms, error_bounds = _norms_and_bounds(exact[b0:b1], mean, scale, max_norm)
                n_fallback += rerank_exact(exact[b0:b1], exact, scale, cand_idx[b0:b1],
                                           cand_vals[b0:b1].astype(np.float64), sq_norms, error_bounds, b0,
                                           False, cand_idx[b0:b1, :k])
            return n_fallback

        # a few tasks a thread (a future per block would hold ~2 KiB each)
        task_rows = block * -(-n_points // (block * SYMMETRIC_RANGES_PER_THREAD * n_threads))
        n_fallback = sum(pool.map(rerank, range(0, n_points, task_rows)))
    cand_vals = None  # the bounds, freed before the table is made
    keep_leading_columns(cand_idx, k)
    cand_idx.resize(n_points * k, refcheck=False)
    release_freed_memory()  # the candidates' freed tail, before the int64 table
    kneighbors_excluding_self.last_fallback_rows = int(n_fallback)
    return cand_idx.reshape(n_points, k).astype(np.int64, copy=False)


def _norms_and_bounds(rows, mean, scale: float, max_norm: float):
    """``|a|^2`` of ``rows``' float32 stage rows and their distances' error
    bounds (as :func:`_prepare` makes them), for a block of queries."""
    sq_norms = np.empty(len(rows))
    norms = np.empty(len(rows))
    centred_norms(rows, mean, scale, sq_norms, norms)
    return sq_norms, _error_bounds(norms, max_norm, rows.shape[1])


def _merge_all_pairs(exact, mean, scale: float, ranges: list, block: int, point_tile: int, cand_vals, cand_idx,
                     pool) -> None:
    """Every pair of ``ranges`` (each range with itself first) merged into the
    candidates, a round of disjoint pairs at a time on ``pool``."""

    def pair(indices: tuple[int, int]) -> None:
        (q_lo, q_hi), (p_lo, p_hi) = ranges[indices[0]], ranges[indices[1]]
        symmetric_pair_candidates(exact, mean, scale, q_lo, q_hi, p_lo, p_hi, block, SYMMETRIC_GROUP_BLOCKS,
                                  point_tile, cand_vals, cand_idx)

    n_points = len(exact)
    rounds = [[(i, i) for i in range(len(ranges))], *_symmetric_rounds(len(ranges))]
    report = _progress.get()
    for number, pairs in enumerate(rounds):
        list(pool.map(pair, pairs))  # a round's pairs share no rows: the next waits
        if report is not None:
            report(n_points * (number + 1) // len(rounds) - n_points * number // len(rounds))


def kneighbors_of_queries(
    data: np.ndarray, queries: np.ndarray, k: int, *, block_bytes: int | None = None
) -> np.ndarray:
    """Indices of the ``k`` nearest rows of ``data`` to each row of ``queries``
    (CPU), nearest first, ties by lower index; no row is excluded (a query equal
    to a point finds it at distance 0)."""
    check_k(k, len(data), excluding_self=False)
    exact, exact_queries = exact_view(data), exact_view(queries)
    # One scale for both: the queries' differences from the points stay at unit scale too.
    prepared = prepare_points(data, scale=power_of_two_scale(data, queries), per_row=False)
    prepared_queries = prepare_queries(queries, prepared)

    def block(start, stop):
        return (prepared_queries.rows[start:stop], exact_queries[start:stop],
                prepared_queries.sq_norms[start:stop], prepared_queries.error_bounds[start:stop], NO_SELF)

    return _search(exact, prepared, len(queries), block, k, min(len(data), k + 4),
                   len(data), block_bytes, kneighbors_of_queries)


@functools.cache
def _threadpool_controller() -> ThreadpoolController:
    """The process's thread-pool libraries, found once.

    threadpoolctl scans the loaded libraries to build a controller, which took
    3-6 ms per search (scikit-learn caches its own the same way). A controller
    only knows the libraries loaded before it, so the BLAS that Numba's
    ``np.dot`` calls (SciPy's) is loaded first; a BLAS loaded later by another
    package is not the one our GEMM tiles run on.
    """
    import scipy.linalg.cython_blas  # noqa: F401  (Numba's np.dot binds to it)

    return ThreadpoolController()


def _search(exact, prepared, n_queries, block_of, k, m, n_candidates_total, block_bytes, record):
    """Blocks of queries on one thread per core: GEMM tiles, merge, re-rank."""
    points = prepared.rows
    n_points = len(points)
    exhaustive = m >= n_candidates_total
    n_threads = max(1, numba.get_num_threads())
    growth = QUERY_BLOCK_GROWTH if points.nbytes > MANY_POINTS_BYTES else 1
    block = max(1, min(QUERY_BLOCK_ROWS * growth, -(-n_queries // n_threads)))
    point_tile = max(_TILE_MIN_POINTS, (block_bytes or TILE_BYTES) // (4 * block))
    point_tile = min(point_tile, n_points)
    out = np.empty((n_queries, k), dtype=np.int64)

    def search_block(start: int) -> int:
        stop = min(n_queries, start + block)
        queries, exact_queries, sq_norms, error_bounds, query_offset = block_of(start, stop)
        cand_idx = np.empty((stop - start, m), dtype=np.int64)
        cand_bound = np.empty(stop - start, dtype=np.float64)
        block_candidates(queries, points, query_offset, point_tile, cand_idx, cand_bound)
        return rerank_exact(exact_queries, exact, prepared.scale, cand_idx, cand_bound, sq_norms, error_bounds,
                            query_offset, exhaustive, out[start:stop])

    starts = range(0, n_queries, block)
    report = _progress.get()
    n_fallback = 0
    with _threadpool_controller().limit(limits=1, user_api="blas"):
        pool = _search_pool(n_threads if len(starts) > 1 else 1)
        results = pool.map(search_block, starts)
        try:
            for start, fell_back in zip(starts, results):  # in order, on the calling thread
                n_fallback += fell_back
                if report is not None:
                    report(min(block, n_queries - start))
        finally:
            if hasattr(results, "close"):
                results.close()  # a pool's: its blocks not yet started are cancelled
    record.last_fallback_rows = int(n_fallback)
    return out


class _InPlace:
    """``map`` on the calling thread (a search nested in a pool's task, or one
    thread): a task of a pool must not wait on the pool."""

    map = staticmethod(map)


def _search_pool(n_threads: int):
    """The kept threads a search runs its blocks on (``n_threads`` of them),
    or the calling thread alone."""
    if n_threads == 1 or in_pool_thread():
        return _InPlace()
    return shared_pool(n_threads)


_progress: contextvars.ContextVar = contextvars.ContextVar("gpusmote_knn_progress", default=None)


@contextlib.contextmanager
def search_progress(callback: Callable[[int], None]):
    """Report the CPU searches' progress: within the ``with`` block, each
    search calls ``callback(n_query_rows)`` on the calling thread as blocks of
    its queries are done (``gpusmote resample`` moves its k-NN bar with it).
    A table that then falls back to scikit-learn's search reports nothing more.
    """
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


#: Rows of the last call that needed the exhaustive float64 search (diagnostic).
kneighbors_excluding_self.last_fallback_rows = 0
kneighbors_of_queries.last_fallback_rows = 0
