"""k-NN kernels: candidate selection from GEMM tiles, then an exact re-rank.

The search is split in two so that the heavy part runs in float32 on a BLAS
GEMM while the answer stays exact:

1. ``block_candidates`` computes approximate squared distances
   (``|b|^2 - 2 a.b``, float32) tile by tile with a GEMM and keeps the ``m``
   smallest per query row (the per-query merge, ``merge_row``).
2. ``rerank_exact`` recomputes those ``m`` candidates in float64 directly from
   the data (differences scaled by the float32 stage's power of two, so that
   both stages work in the same units and no square under- or overflows), keeps
   the ``k`` nearest by (distance, index), and proves the result with an error
   bound on the float32 stage; a row whose proof fails is searched again
   exhaustively in float64. The output is therefore the exact float64
   k-NN with ties broken by the lower index, whatever the GEMM's rounding, and
   the CPU and CUDA builds agree although their GEMMs round differently.

The per-query algorithms are written once (:func:`_make_functions`) and
compiled for the CPU and for CUDA. The CPU kernels are serial and release the
GIL: the caller runs one block of queries per core in threads, each with a
single-threaded GEMM, so BLAS and Numba never compete for the cores
(OpenBLAS's idle threads spin and starve Numba's).
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from numba import njit

from gpusmote.kernels import _cuda, rounding
from gpusmote.kernels._cpu_jit import cpu_kernel

#: Values per tile whose minimum is checked before any element is looked at.
_TILE = 16
#: Largest k the CUDA re-rank supports (its per-thread lists live in registers).
CUDA_MAX_K = 64
_NO_INDEX = np.int64(np.iinfo(np.int64).max)
#: The largest absolute error of a float64 product that underflows (2**-1075),
#: rounded up to a normal number so that the bound is not itself lost.
_UNDERFLOW_F64 = 2.0**-1022


def _make_functions(jit, tile_min_jit, mul_rn, add_rn):
    """The per-query algorithms, compiled with ``jit`` for one target, with its
    float64 multiply and add (each rounded on its own: NVVM would fuse
    ``acc + diff * diff`` into an FMA, and distances that tie on the CPU could
    then differ on the GPU)."""

    @jit
    def sqdist(queries, qi, data, j, scale):
        """Squared distance of the rows' differences times ``scale`` (a power
        of two: exact, and it keeps the squares from overflowing above 1e154
        or underflowing below 1e-160)."""
        acc = 0.0
        for f in range(data.shape[1]):
            diff = mul_rn(np.float64(queries[qi, f]) - np.float64(data[j, f]), scale)
            acc = add_rn(acc, mul_rn(diff, diff))
        return acc

    @jit
    def insert_sorted(best_d, best_j, k, dist, j):
        """Insert (dist, j) into the ascending first k entries if it beats the last."""
        last = k - 1
        if dist > best_d[last] or (dist == best_d[last] and j > best_j[last]):
            return
        pos = last
        while pos > 0 and (
            dist < best_d[pos - 1] or (dist == best_d[pos - 1] and j < best_j[pos - 1])
        ):
            best_d[pos] = best_d[pos - 1]
            best_j[pos] = best_j[pos - 1]
            pos -= 1
        best_d[pos] = dist
        best_j[pos] = j

    @jit
    def worst_position(vals):
        worst_pos = 0
        for c in range(1, vals.shape[0]):
            if vals[c] > vals[worst_pos]:
                worst_pos = c
        return worst_pos

    # A minimum is exact in any order, so the CPU build may let LLVM reorder it.
    @tile_min_jit
    def tile_min(row, t0):
        lowest = row[t0]
        for t in range(t0 + 1, t0 + _TILE):
            lowest = min(lowest, row[t])
        return lowest

    @jit
    def merge_row(row, n_tile, point_offset, self_t, vals, idx):
        """Merge one query's tile of approximate values into its m candidates."""
        full = n_tile - n_tile % _TILE
        worst_pos = worst_position(vals)
        worst = vals[worst_pos]
        for t0 in range(0, n_tile, _TILE):
            # Most tiles cannot beat the current worst: one minimum skips them.
            if t0 < full and not tile_min(row, t0) < worst:
                continue
            for t in range(t0, min(t0 + _TILE, n_tile)):
                v = row[t]
                if v < worst and t != self_t:
                    vals[worst_pos] = v
                    idx[worst_pos] = point_offset + t
                    worst_pos = worst_position(vals)
                    worst = vals[worst_pos]

    @jit
    def rerank_query(queries, qi, data, scale, self_index, cand, bound, sq_norm, error_bound, exhaustive,
                     best_d, best_j, k):
        """Exact k nearest points of query row qi from its candidates (point
        ``self_index`` excluded; -1 for none), by distance in ``scale``'s units
        (those of ``bound``, ``sq_norm`` and ``error_bound``); 1 if it fell back."""
        for c in range(k):
            best_d[c] = np.inf
            best_j[c] = _NO_INDEX
        complete = True
        for c in range(cand.shape[0]):
            j = cand[c]
            if j < 0:
                complete = False
            else:
                insert_sorted(best_d, best_j, k, sqdist(queries, qi, data, j, scale), j)
        if exhaustive and complete:
            return 0
        # Every point left out has true squared distance >= lower (the float32
        # stage's error is at most error_bound), and a float64 distance at
        # most about d * 2**-1075 below its true value (scaled differences and
        # squares that underflow).
        # If that is beyond the k-th exact distance, the candidates hold the answer.
        lower = sq_norm + bound - error_bound - data.shape[1] * _UNDERFLOW_F64
        if complete and lower > best_d[k - 1] * (1.0 + 1e-9):
            return 0
        for c in range(k):
            best_d[c] = np.inf
            best_j[c] = _NO_INDEX
        for j in range(data.shape[0]):
            if j != self_index:
                insert_sorted(best_d, best_j, k, sqdist(queries, qi, data, j, scale), j)
        return 1

    return SimpleNamespace(merge_row=merge_row, rerank_query=rerank_query, insert_sorted=insert_sorted,
                           worst_position=worst_position)


#: ``query_offset`` for queries that are not among the points (no self to skip).
NO_SELF = -(1 << 62)


@njit(inline="always")
def _self_index(query_offset, q):
    return -1 if query_offset == NO_SELF else query_offset + q


_cpu = _make_functions(njit(inline="always"), njit(inline="always", fastmath=True), rounding.mul_rn,
                      rounding.add_rn)
_merge_row_cpu, _rerank_query_cpu, _worst_position_cpu = _cpu.merge_row, _cpu.rerank_query, _cpu.worst_position


@njit(inline="always", fastmath=True)
def _count_below(row, n, worst):
    # A count of comparisons vectorises (LLVM leaves a float minimum scalar).
    count = 0
    for t in range(n):
        count += row[t] < worst
    return count


@cpu_kernel(nogil=True)
def select_candidates(values, point_offset, query_offset, cand_vals, cand_idx):
    """Merge one tile of approximate distances into each query's candidates.

    Parameters
    ----------
    values : float32 array of shape (n_queries, n_tile_points)
        Approximate ``|b|^2 - 2 a.b`` of the block's queries against points
        ``point_offset .. point_offset + n_tile_points``.
    point_offset, query_offset : int
        Index of the tile's first point and of the block's first query, among
        the points; query ``q`` is point ``query_offset + q`` and is never its
        own candidate.
    cand_vals : float32 array of shape (n_queries, m)
        Running candidates' values, updated in place (start at +inf).
    cand_idx : int64 array of shape (n_queries, m)
        Running candidates' point indices, updated in place (start at -1).
    """
    n_queries, n_tile = values.shape
    for q in range(n_queries):
        # After the first tiles a row rarely holds a new candidate: one
        # vectorised pass over the whole row skips it (a quarter of the
        # search's time went to the merge without this).
        if _count_below(values[q], n_tile, cand_vals[q].max()):
            _merge_row_cpu(
                values[q], n_tile, point_offset, query_offset + q - point_offset, cand_vals[q], cand_idx[q]
            )


@cpu_kernel(nogil=True)
def block_candidates(queries, points, query_offset, point_tile, cand_idx, cand_bound):
    """The ``m`` approximate nearest points of a block of queries (CPU).

    ``queries`` is ``[a, 1]`` and ``points`` is ``[-2 b, |b|^2]`` (float32,
    one extra column), so one GEMM gives ``|b|^2 - 2 a.b`` directly. Points are
    taken ``point_tile`` at a time so each GEMM result stays in cache while it
    is scanned.

    Parameters
    ----------
    queries : float32 array of shape (n_queries, n_features + 1)
    points : float32 array of shape (n_points, n_features + 1)
    query_offset : int
        Index of the first query among the points (a query skips itself).
    point_tile : int
        Points per GEMM.
    cand_idx : int64 array of shape (n_queries, m)
        Output: candidate indices, in no particular order.
    cand_bound : float64 array of shape (n_queries,)
        Output: the largest kept approximate value; every point left out has an
        approximate value at least this large.
    """
    n_queries = queries.shape[0]
    n_points = points.shape[0]
    m = cand_idx.shape[1]
    cand_vals = np.full((n_queries, m), np.inf, dtype=np.float32)
    cand_idx[:] = -1
    tile_values = np.empty((n_queries, point_tile), dtype=np.float32)
    for p0 in range(0, n_points, point_tile):
        p1 = min(n_points, p0 + point_tile)
        if p1 - p0 == point_tile:
            values = tile_values
        else:
            values = np.empty((n_queries, p1 - p0), dtype=np.float32)
        np.dot(queries, points[p0:p1].T, values)
        select_candidates(values, p0, query_offset, cand_vals, cand_idx)
    for q in range(n_queries):
        cand_bound[q] = cand_vals[q].max()


@njit(inline="always")
def _centred_rows(data, r0, r1, mean, scale, sign, rows, sq):
    """Rows ``r0 .. r1`` of ``data`` as the float32 stage sees them:
    ``float32((x - mean) * scale)`` (computed in float64, as NumPy computes the
    one-sided search's rows) times ``sign`` (-2 or 1: exact) into
    ``rows[:, :d]``, and the float32 rows' squared norm (summed in float64,
    rounded to float32) into ``sq``."""
    n_features = data.shape[1]
    for r in range(r1 - r0):
        total = 0.0
        for f in range(n_features):
            value = np.float32((np.float64(data[r0 + r, f]) - mean[f]) * scale)
            rows[r, f] = value * sign
            total += np.float64(value) * np.float64(value)
        sq[r] = np.float32(total)


@njit(inline="always")
def _centred_squares(data, r, mean, scale):
    """Squared norms of row ``r`` centred and scaled as :func:`_centred_rows`
    makes it: of the float32 row, and of the float64 row before rounding."""
    sq32 = 0.0
    sq64 = 0.0
    for f in range(data.shape[1]):
        value = (np.float64(data[r, f]) - mean[f]) * scale
        rounded = np.float64(np.float32(value))
        sq32 += rounded * rounded
        sq64 += value * value
    return sq32, sq64


@cpu_kernel(nogil=True)
def centred_norms(data, mean, scale, sq_norms, norms):
    """Per row of ``data`` (a block of queries): ``|a|^2`` of its float32
    stage row, and the larger of that row's and the float64 row's norm (what
    the error bound takes), as the one-sided search's preparation computes
    them, without its n x d temporaries."""
    for r in range(data.shape[0]):
        sq32, sq64 = _centred_squares(data, r, mean, scale)
        sq_norms[r] = sq32
        norms[r] = np.sqrt(max(sq32, sq64))


@cpu_kernel(nogil=True)
def largest_centred_norm(data, mean, scale):
    """The largest of :func:`centred_norms`' norms over ``data``'s rows."""
    largest = 0.0
    for r in range(data.shape[0]):
        sq32, sq64 = _centred_squares(data, r, mean, scale)
        largest = max(largest, sq32, sq64)
    return np.sqrt(largest)


@cpu_kernel(nogil=True)
def symmetric_pair_candidates(data, mean, scale, q_lo, q_hi, p_lo, p_hi, block_rows, group_blocks, point_tile,
                              cand_vals, cand_idx):
    """Candidates from one pair of row ranges of a self-search, each distance
    computed once and merged for both of its rows (CPU).

    The float32 rows are made here from ``data`` as they are needed (no copy
    of all rows: at the scale of a cleaner's search that copy was as large as
    the data): ``group_blocks`` query blocks of ``block_rows`` rows as ``[a,
    1]``, then each point tile (``point_tile`` rows, a divisor of
    ``block_rows``) of ``p_lo .. p_hi`` as ``[-2 b, |b|^2]``, used by every
    block of the group (so a tile is made once per group, not per block).
    Each tile's ``|b_p|^2 - 2 a_q.b_p`` is merged into the queries'
    candidates and, as ``|b_q|^2 - 2 a_p.b_q`` (the same GEMM value,
    ``- |b_p|^2 + |b_q|^2`` in float32: a few roundings, well inside the
    proof's error bound, which is twice the GEMM's), into the tile rows' own
    candidates. With the same range on both sides (``q_lo == p_lo``) a query
    block takes its own block's tiles on its side only (that square holds both
    orders) and skips earlier ones (their pairs were merged from the other
    side). Every row of both ranges is written by this call only: pairs of
    disjoint ranges may run at once.

    Parameters
    ----------
    data : array of shape (n_points, n_features)
        The rows (float32, float64 or int64), also the queries.
    mean : float64 array of shape (n_features,)
        What the rows are centred on.
    scale : float
        The power of two the centred rows are scaled by.
    cand_vals : float32 array of shape (n_points, m)
        Every row's running candidate values, updated in place (start at +inf).
    cand_idx : int32 or int64 array of shape (n_points, m)
        Their point indices (start at -1).
    """
    n_features = data.shape[1]
    n_columns = n_features + 1
    same = q_lo == p_lo
    group_rows = block_rows * group_blocks
    queries = np.empty((group_rows, n_columns), dtype=np.float32)
    query_sq = np.empty(group_rows, dtype=np.float32)
    tile = np.empty((point_tile, n_columns), dtype=np.float32)
    tile_sq = np.empty(point_tile, dtype=np.float32)
    tile_values = np.empty((block_rows, point_tile), dtype=np.float32)
    flat_values = tile_values.reshape(block_rows * point_tile)
    worst_buf = np.empty(point_tile, dtype=np.float32)
    hits_buf = np.empty(point_tile, dtype=np.int32)
    lowest_buf = np.empty(point_tile, dtype=np.float32)
    lowest_q_buf = np.empty(point_tile, dtype=np.int64)
    for g0 in range(q_lo, q_hi, group_rows):
        g1 = min(q_hi, g0 + group_rows)
        _centred_rows(data, g0, g1, mean, scale, np.float32(1.0), queries, query_sq)
        queries[: g1 - g0, n_features] = np.float32(1.0)
        for t0 in range(g0 if same else p_lo, p_hi, point_tile):
            t1 = min(p_hi, t0 + point_tile)
            nt = t1 - t0
            _centred_rows(data, t0, t1, mean, scale, np.float32(-2.0), tile, tile_sq)
            tile[:nt, n_features] = tile_sq[:nt]
            for b0 in range(g0, g1, block_rows):
                if same and t0 < b0:
                    continue  # merged from the other side, by an earlier block
                b1 = min(g1, b0 + block_rows)
                nb = b1 - b0
                # contiguous, in the front of one buffer (the last block or tile is smaller)
                values = flat_values[: nb * nt].reshape((nb, nt))
                np.dot(queries[b0 - g0 : b1 - g0], tile[:nt].T, values)
                select_candidates(values, t0, b0, cand_vals[b0:b1], cand_idx[b0:b1])
                if t0 >= b1:  # a tile past the query block: its rows take the pairs too
                    _merge_columns(values, nb, nt, b0, t0, query_sq[b0 - g0 : b1 - g0], tile_sq, cand_vals,
                                   cand_idx, worst_buf, hits_buf, lowest_buf, lowest_q_buf)


@cpu_kernel(nogil=True)
def pack_row_maxima(values):
    """Each row's largest value (NaN if it holds one, as ``values.max(axis=1)``)
    written to the front of ``values``' own buffer, in row order: element ``i``
    of the flat buffer becomes row ``i``'s maximum. In place, so the bound of
    every row of a search costs no array beside its candidates (the caller
    shrinks the buffer to the maxima). Row ``i`` starts at ``i * m >= i``, so it
    is read before any write reaches it."""
    n_rows, m = values.shape
    flat = values.reshape(n_rows * m)
    for i in range(n_rows):
        largest = flat[i * m]
        for c in range(1, m):
            value = flat[i * m + c]
            if value > largest or value != value:
                largest = value
        flat[i] = largest


@cpu_kernel(nogil=True)
def keep_leading_columns(table, k):
    """Each row's first ``k`` entries moved to the front of ``table``'s own
    buffer, rows in order: the flat buffer's first ``n * k`` elements become
    the ``(n, k)`` table (the caller shrinks the buffer to them). In place, so a
    search's table, written over its candidates' indices, costs no array beside
    them. Row ``i`` starts at ``i * m >= i * k``: read before any write reaches it."""
    n_rows, m = table.shape
    flat = table.reshape(n_rows * m)
    for i in range(n_rows):
        for c in range(k):
            flat[i * k + c] = flat[i * m + c]


@njit(inline="always", fastmath={"nnan", "ninf", "nsz"})
def _count_column_hits(row, q, own, sq, worst, hits, lowest, lowest_q, nt):
    # No reassociation among the flags: each value is rounded exactly as the
    # merge below rounds it, so a column counted 0 has nothing to merge.
    for t in range(nt):
        v = (row[t] - own[t]) + sq
        hits[t] += v < worst[t]
        if v < lowest[t]:
            lowest[t] = v
            lowest_q[t] = q


@njit(inline="always")
def _merge_columns(values, nb, nt, b0, t0, query_sq, own, cand_vals, cand_idx, worst, hits, lowest, lowest_q):
    """Merge a tile's columns into the candidates of its rows ``t0 ..``: the
    value of row t0 + t against point b0 + q is ``(values[q, t] - |b_t|^2) +
    |b_q|^2`` (float32, in that order; ``own`` holds the tile rows' ``|b_t|^2``,
    ``query_sq`` the block's). One vectorised pass over the tile's
    rows counts, per column, the values below that row's current worst and
    keeps the lowest; a column with none is done, a column with one takes its
    lowest, and only the others are merged value by value (as ``merge_row``:
    the worst is replaced by a strictly smaller value, lower points first)."""
    for t in range(nt):
        worst[t] = cand_vals[t0 + t].max()
        hits[t] = 0
        lowest[t] = np.inf
        lowest_q[t] = 0
    for q in range(nb):
        _count_column_hits(values[q], q, own, query_sq[q], worst, hits, lowest, lowest_q, nt)
    for t in range(nt):
        if hits[t] == 0:
            continue
        vals = cand_vals[t0 + t]
        idx = cand_idx[t0 + t]
        worst_pos = _worst_position_cpu(vals)
        if hits[t] == 1:  # the one value below the worst is the lowest
            vals[worst_pos] = lowest[t]
            idx[worst_pos] = b0 + lowest_q[t]
            continue
        for q in range(nb):
            v = (values[q, t] - own[t]) + query_sq[q]
            if v < vals[worst_pos]:
                vals[worst_pos] = v
                idx[worst_pos] = b0 + q
                worst_pos = _worst_position_cpu(vals)


@cpu_kernel(nogil=True)
def rerank_exact(
    queries, data, scale, cand_idx, cand_bound, query_sq_norms, error_bounds, query_offset, exhaustive, out
):
    """Exact float64 k-NN of each query row from its candidates (CPU).

    Parameters
    ----------
    queries : array of shape (n_queries, n_features)
        The block's query rows, in their own dtype.
    data : array of shape (n_points, n_features)
        The points in their own dtype; distances are computed in float64.
    scale : float
        Power of two the differences are multiplied by before squaring (the
        float32 stage's, :attr:`gpusmote.neighbors._cpu.Prepared.scale`): distances and
        bounds are then in the same units, and at unit scale whatever the
        data's magnitude.
    cand_idx, cand_bound : candidates and bound of :func:`block_candidates`.
    query_sq_norms : float64 array of shape (n_queries,)
        ``|a|^2`` of each query in the (centred) float32 coordinates used by
        the GEMM (0 when the candidates' values are full distances).
    error_bounds : float64 array of shape (n_queries,)
        Upper bound on the error of any approximate distance of that query.
    query_offset : int
        Index of the block's first query among the points (query ``q`` skips
        point ``query_offset + q``); :data:`NO_SELF` when the queries are not
        points.
    exhaustive : bool
        True when the candidates are all the other points (no proof needed).
    out : int array of shape (n_queries, k)
        Output: neighbour indices, nearest first, ties by lower index. Row
        ``q`` is written once its candidates are read, so it may be the front
        of ``cand_idx[q]`` itself (the symmetric search's int32 indices).

    Returns
    -------
    n_fallback : int
        How many query rows needed the exhaustive float64 search.
    """
    n_queries = cand_idx.shape[0]
    k = out.shape[1]
    best_d = np.empty(k)
    best_j = np.empty(k, dtype=np.int64)
    n_fallback = 0
    for q in range(n_queries):
        n_fallback += _rerank_query_cpu(
            queries, q, data, scale, _self_index(query_offset, q), cand_idx[q], cand_bound[q],
            query_sq_norms[q], error_bounds[q], exhaustive, best_d, best_j, k,
        )
        for c in range(k):
            out[q, c] = best_j[c]
    return n_fallback


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_kernels() -> SimpleNamespace:
    """The CUDA twins (compiled on first use): ``select(values_T, point_offset,
    query_offset, cand_vals, cand_idx)`` over a (points x queries) tile, one
    thread per query, so a warp's loads are coalesced; and ``rerank(queries,
    data, scale, cand_idx, cand_bound, query_sq_norms, error_bounds, query_offset,
    exhaustive, out, fell_back)``, one thread per query, ``k <= CUDA_MAX_K``."""
    _cuda.bind(globals())
    device = _make_functions(cuda.jit(device=True), cuda.jit(device=True), *rounding.cuda_rounding())
    merge_row, rerank_query = device.merge_row, device.rerank_query

    @cuda.jit
    def select(values_t, point_offset, query_offset, cand_vals, cand_idx):
        n_tile, n_queries = values_t.shape
        for q in range(cuda.grid(1), n_queries, cuda.gridsize(1)):
            merge_row(values_t[:, q], n_tile, point_offset, query_offset + q - point_offset,
                      cand_vals[q], cand_idx[q])

    self_index = cuda.jit(device=True)(_self_index.py_func)

    @cuda.jit
    def rerank(queries, data, scale, cand_idx, cand_bound, query_sq_norms, error_bounds, query_offset,
               exhaustive, out, fell_back):
        k = out.shape[1]
        best_d = cuda.local.array(CUDA_MAX_K, np.float64)
        best_j = cuda.local.array(CUDA_MAX_K, np.int64)
        for q in range(cuda.grid(1), cand_idx.shape[0], cuda.gridsize(1)):
            fell_back[q] = rerank_query(
                queries, q, data, scale, self_index(query_offset, q), cand_idx[q], cand_bound[q],
                query_sq_norms[q], error_bounds[q], exhaustive, best_d, best_j, k,
            )
            for c in range(k):
                out[q, c] = best_j[c]

    return SimpleNamespace(select=select, rerank=rerank)
