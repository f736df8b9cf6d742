"""Neighbour tables for the samplers: gpusmote's exact k-NN, or the user's estimator.

A sampler's ``k_neighbors`` / ``m_neighbors`` / ``n_neighbors`` parameter is an
int (gpusmote's exact search on the backend) or an object with ``kneighbors``
(cloned, fitted and queried as imbalanced-learn does, its table checked).
Either way a :class:`NeighborQuery` answers the two questions the SMOTE family
asks:

- :meth:`NeighborQuery.within`: the neighbours of every row of a set among the
  other rows of that set (SMOTE, ADASYN's and Borderline-1's interpolation);
- :meth:`NeighborQuery.among`: the neighbours of some rows of a set (given by
  their indices in it) among all the other rows of the set (Borderline's and
  ADASYN's class mix among all of X, Borderline-2's interpolation).

Each query row is excluded by its own index, never by distance (a duplicate is
a genuine neighbour), where imbalanced-learn queries one more neighbour and
drops column 0; on data without distance ties both give the same table. With
``ties="imblearn"`` (the default) a table whose order could depend on ties is
replaced by scikit-learn's own, called as imbalanced-learn calls it
(``gpusmote/neighbors/_ties.py``), so the tables are imbalanced-learn's on all
data; ``ties="index"`` keeps gpusmote's lower-index rule everywhere.
"""

from __future__ import annotations

import importlib
import numbers

import numpy as np
from imblearn.utils import check_neighbors_object
from scipy import sparse

from gpusmote.devices._backend import Backend
from gpusmote.neighbors._sparse import sparse_kneighbors_excluding_self
from gpusmote.neighbors._table import checked_neighbor_table
from gpusmote.neighbors._ties import fitted_sklearn_search, may_order_differently, sklearn_table


# The small-data search is loaded with the samplers, not inside their first
# call (0.6 ms of a 2.7 ms first fit_resample on 1,484 x 8 rows, 2-core VM).
importlib.import_module("gpusmote.neighbors._numpy")

#: Distance terms (points x queries x features) up to which the small-data
#: backend's NumPy search runs; beyond, scikit-learn's (ties='imblearn'): on
#: 300 x 300 x 32 (a 30,000-row fraud set's minority) NumPy took 10 ms a
#: call, scikit-learn 1-2 ms.
SMALL_NUMPY_TERMS = 1 << 18


def too_few_rows_error(n_neighbors: int, n_points: int, n_queries: int) -> ValueError:
    """scikit-learn's message for a search that asks for more rows than there are."""
    return ValueError(
        f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {n_neighbors}, "
        f"n_samples_fit = {n_points}, n_samples = {n_queries}"
    )


class NeighborQuery:
    """Neighbour tables from one sampler parameter.

    Parameters
    ----------
    name : str
        The parameter's name (for messages), e.g. ``"k_neighbors"``.
    param : int or estimator
        Its value: an int is the number of neighbours (the row itself not
        counted); an estimator's ``n_neighbors`` counts the row itself, as in
        imbalanced-learn.
    backend : Backend
        Where gpusmote's own search runs.
    ties : {'imblearn', 'index'}, default='imblearn'
        Where distances (nearly) tie, scikit-learn's order (imbalanced-learn's
        tables on all data) or the lower index (never runs scikit-learn).

    Attributes
    ----------
    k : int
        Neighbours per row in the tables.
    estimator : estimator
        What imbalanced-learn would store as the sampler's fitted neighbours
        attribute (``nn_k_``, ``nn_m_``, ``nn_``): for an int an unfitted
        :class:`gpusmote.NearestNeighbors` with ``n_neighbors = k + 1``, else
        the clone, fitted by the last query.
    """

    def __init__(self, name: str, param, backend: Backend, ties: str = "imblearn"):
        from gpusmote.neighbors import NearestNeighbors

        self.name, self.backend, self.ties = name, backend, ties
        # scikit-learn's search fitted on the last points asked of it: a
        # cleaner asks it once per class, all of them among the same rows
        self._fitted: tuple | None = None
        self.own = isinstance(param, numbers.Integral)
        if self.own:
            self.k = int(param)
            self.estimator = NearestNeighbors(n_neighbors=self.k + 1, device=backend.name, ties=ties)
        else:
            self.estimator = check_neighbors_object(name, param, additional_neighbor=1)
            self.k = self.estimator.n_neighbors - 1

    def within(self, points):
        """``(n_points, k)`` table: each row's nearest other rows of ``points``,
        in backend memory (sparse points: on the host)."""
        n_points = points.shape[0]
        if not self.own:
            return self._from_estimator(points, None)
        if n_points <= self.k:
            raise too_few_rows_error(self.k + 1, n_points, n_points)
        if self.ties == "index":
            return self._search_within(points, self.k)
        if self._sklearn_is_quicker(points, n_points):
            return self._sklearn(points, None)
        # One more than k, so that the k-th against the (k+1)-th is checked too.
        wide = self._search_within(points, min(self.k + 1, n_points - 1))
        xp = self._xp(points)
        if not may_order_differently(points, wide, xp=xp):
            return xp.ascontiguousarray(wide[:, : self.k])
        return self._sklearn(points, None)

    def _sklearn_is_quicker(self, points, n_queries: int) -> bool:
        """On the small-data backend (no kernels), past a few million
        distance terms scikit-learn's search (imbalanced-learn's, so its table
        is the answer with ties='imblearn') beats NumPy's brute force."""
        return (self.backend.small and not sparse.issparse(points)
                and points.shape[0] * n_queries * max(1, points.shape[1]) > SMALL_NUMPY_TERMS)

    def _search_within(self, points, k: int):
        if sparse.issparse(points):
            return sparse_kneighbors_excluding_self(points, k)
        return self.backend.kneighbors(points, k)

    def _xp(self, points):
        return np if sparse.issparse(points) else self.backend.xp

    def _sklearn(self, points, query_rows):
        """imbalanced-learn's own table (scikit-learn's search on the host)."""
        host_points = points if sparse.issparse(points) else self.backend.to_host(points)
        if self._fitted is None or self._fitted[0] is not host_points:
            self._fitted = None  # the previous rows' search goes before these rows' is fitted
            self._fitted = (host_points, fitted_sklearn_search(host_points, self.k))
        table = sklearn_table(host_points, self.k, query_rows, search=self._fitted[1])
        return table if sparse.issparse(points) else self.backend.to_device(table)

    def among(self, points, query_rows: np.ndarray, *, fallback: bool = True):
        """``(len(query_rows), k)`` table: the nearest other rows of ``points``
        to each row ``points[query_rows[i]]``, in backend memory (sparse: host).

        ``query_rows`` are indices into ``points`` (on the host). With
        ``fallback=False`` a table whose order could depend on ties (see
        ``ties``) is not replaced by scikit-learn's but answered with None
        (for a caller that asked for a wider search than imbalanced-learn's).
        """
        query_rows = np.asarray(query_rows, dtype=np.int64)
        n_points = points.shape[0]
        if not self.own:
            return self._from_estimator(points, query_rows)
        if n_points <= self.k:
            raise too_few_rows_error(self.k + 1, n_points, len(query_rows))
        if sparse.issparse(points):
            # imbalanced-learn's own search (scikit-learn's brute force on the
            # nonzeros): not accelerated, the same table as imbalanced-learn's.
            return self._sklearn(points, query_rows)
        if self.ties == "imblearn" and self._sklearn_is_quicker(points, len(query_rows)):
            # a wider search than imbalanced-learn's is not its table: the caller asks for its own
            return self._sklearn(points, query_rows) if fallback else None
        width = self.k if self.ties == "index" else min(self.k + 1, n_points - 1)
        xp = self.backend.xp
        queries = points[xp.asarray(query_rows)]
        table = self.backend.to_host(self.backend.kneighbors_of_queries(points, queries, width + 1))
        # Drop each query's own row (found first unless a duplicate precedes it),
        # else the farthest of the width + 1.
        is_self = table == query_rows[:, None]
        keep = np.argsort(is_self, axis=1, kind="stable")[:, :width]
        table = np.take_along_axis(table, keep, axis=1)
        if self.ties == "imblearn" and may_order_differently(points, self.backend.to_device(table),
                                                             query_rows, xp):
            return self._sklearn(points, query_rows) if fallback else None
        return self.backend.to_device(np.ascontiguousarray(table[:, : self.k]))

    def _from_estimator(self, points, query_rows: np.ndarray | None):
        """imbalanced-learn's use of an estimator: fit on the points, query the
        rows (``None``: the fitted array itself), drop column 0; then the table
        is checked."""
        host_points = points if sparse.issparse(points) else self.backend.to_host(points)
        self.estimator.fit(host_points)
        queries = host_points if query_rows is None else host_points[query_rows]
        table = self.estimator.kneighbors(queries, return_distance=False)[:, 1:]
        table = checked_neighbor_table(table, queries.shape[0], self.name, n_points=points.shape[0])
        return table if sparse.issparse(points) else self.backend.to_device(table)
