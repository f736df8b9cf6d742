"""The cleaners' neighbour table: every (or some) row's nearest other rows
among all rows, with scikit-learn's order only where ties could change it.

``NeighborQuery`` with ``ties='imblearn'`` answers a whole search with
scikit-learn's when any of its rows could be ordered differently; that is
right for SMOTE's per-class searches, but a cleaner searches all rows at once,
and among 400,000 rows one near tie is likely (SMOTEENN on fraud-200k found
one), which would cost imbalanced-learn's whole search. A row's neighbours
from ``NearestNeighbors(k + 1).fit(X).kneighbors(X[rows])`` depend on the other
queried rows only through the brute force's chunks of queries, so here only
the rows that could differ (:func:`gpusmote.neighbors._ties.ambiguous_rows`)
are asked of scikit-learn, within their chunks of imbalanced-learn's query
(:func:`gpusmote.neighbors._ties.sklearn_table_rows`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from gpusmote.devices._backend import Backend
from gpusmote.engine._memory import release_freed_memory
from gpusmote.neighbors._query import NeighborQuery, too_few_rows_error
from gpusmote.neighbors._ties import ambiguous_rows, fitted_sklearn_search, sklearn_table_rows


def cleaning_table(points, k: int, backend: Backend, ties: str,
                   query_rows: np.ndarray | None = None,
                   groups: list | Callable[[], list] | None = None) -> np.ndarray:
    """Host ``(n_queries, k)`` int64 table: the ``k`` nearest other rows of
    ``points`` to each query row (``points[query_rows]``, or every row for
    None), each excluded by its own index.

    Parameters
    ----------
    points : array (backend memory) or sparse matrix of shape (n_points, n_features)
    k : int
        Neighbours per row; needs ``n_points > k``.
    backend : Backend
    ties : {'imblearn', 'index'}
        'imblearn': rows whose order could depend on (near) ties get
        scikit-learn's answer; 'index': gpusmote's lower-index rule.
    query_rows : int64 host array, optional
    groups : list of int64 host arrays, or a callable returning one, optional
        Positions (in the query order) that imbalanced-learn queries in one
        ``kneighbors`` call each (EditedNearestNeighbours: one per class);
        default: all queries in one call. scikit-learn's answers are asked
        group by group, as imbalanced-learn asks them. A callable is called
        only if they are needed, after the search (no index arrays beside its
        candidates).

    Returns
    -------
    ndarray of shape (n_queries, k), int64
        Possibly a view of a wider table (the tie check's), which it owns.
    """
    n_points = points.shape[0]
    n_queries = n_points if query_rows is None else len(query_rows)
    if n_points <= k:
        raise too_few_rows_error(k + 1, n_points, n_queries)
    if query_rows is not None:
        query_rows = np.asarray(query_rows, dtype=np.int64)
    # What was freed before (the over-sampler's temporaries, the labels'
    # checks) handed back before the search's candidates are allocated. Not on
    # small data: nothing large was freed, and what malloc hands back there is
    # faulted in again by the next allocations (300 x 32 rows: TomekLinks'
    # scikit-learn search 0.5 -> 1.1 ms after a trim).
    trim = release_freed_memory if not backend.small else lambda: None
    trim()
    table = _table(points, k, backend, ties, query_rows, groups, n_points, n_queries)
    # The search's freed blocks (candidates, GEMM tiles, the threads' arenas)
    # handed back before the cleaner's output is allocated (SMOTEENN on 200k x
    # 32 rows: 34 MiB of its peak).
    trim()
    return table


def _query_groups(groups, n_queries: int) -> list:
    """:func:`cleaning_table`'s ``groups``, made (a callable called) where needed."""
    if groups is None:
        return [np.arange(n_queries)]
    return groups() if callable(groups) else groups


def _table(points, k: int, backend: Backend, ties: str, query_rows, groups,
           n_points: int, n_queries: int) -> np.ndarray:
    if ties == "index":
        return _search(NeighborQuery("n_neighbors", k, backend, ties), points, query_rows, backend)
    if backend.small or sparse.issparse(points):
        # NeighborQuery's own answer, one imbalanced-learn call per group:
        # scikit-learn's table wherever ties could matter (small data, sparse rows).
        rows = np.arange(n_points) if query_rows is None else query_rows
        table = np.empty((n_queries, k), dtype=np.int64)
        query = NeighborQuery("n_neighbors", k, backend, ties)
        for group in _query_groups(groups, n_queries):
            whole = len(group) == n_points and query_rows is None and np.array_equal(group, rows)
            table[group] = _search(query, points, None if whole else rows[group], backend)
        return table
    # One more than k, so that the k-th against the (k+1)-th is checked too.
    width = min(k + 1, n_points - 1)
    wide = NeighborQuery("n_neighbors", width, backend, "index")
    wide_table = (wide.within(points) if query_rows is None
                  else wide.among(points, query_rows))
    xp = backend.xp
    release_freed_memory()  # the search's candidates and tiles, before the ties check's chunks
    unsure = ambiguous_rows(points, wide_table, query_rows, xp)
    release_freed_memory()  # and those chunks
    # The first k columns, in the wide table's own (host, owned) buffer: no copy.
    table = np.asarray(backend.to_host(wide_table), dtype=np.int64)[:, :k]
    if unsure.any():
        host_points = backend.to_host(points)
        search = fitted_sklearn_search(host_points, k)  # fitted once for every group
        for group in _query_groups(groups, n_queries):
            doubtful = group[unsure[group]]
            if len(doubtful):
                asked = group if query_rows is None else query_rows[group]
                table[doubtful] = sklearn_table_rows(host_points, k, asked, np.flatnonzero(unsure[group]),
                                                     search)
    return table


def _search(query: NeighborQuery, points, query_rows, backend: Backend) -> np.ndarray:
    table = query.within(points) if query_rows is None else query.among(points, query_rows)
    return np.asarray(backend.to_host(table), dtype=np.int64)
