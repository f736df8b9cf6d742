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
drops column 0; on data without distance ties both give the same table.
"""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.utils import check_neighbors_object
from scipy import sparse

from gpusmote.devices._backend import Backend
from gpusmote.neighbors._sparse import sparse_kneighbors_excluding_self
from gpusmote.neighbors._table import checked_neighbor_table


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

    def __init__(self, name: str, param, backend: Backend):
        from gpusmote.neighbors import NearestNeighbors

        self.name, self.backend = name, backend
        self.own = isinstance(param, numbers.Integral)
        if self.own:
            self.k = int(param)
            self.estimator = NearestNeighbors(n_neighbors=self.k + 1, device=backend.name)
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
        if sparse.issparse(points):
            return sparse_kneighbors_excluding_self(points, self.k)
        return self.backend.kneighbors(points, self.k)

    def among(self, points, query_rows: np.ndarray):
        """``(len(query_rows), k)`` table: the nearest other rows of ``points``
        to each row ``points[query_rows[i]]``, in backend memory (sparse: host).

        ``query_rows`` are indices into ``points`` (on the host).
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
            from sklearn.neighbors import NearestNeighbors

            search = NearestNeighbors(n_neighbors=self.k + 1).fit(points)
            return search.kneighbors(points[query_rows], return_distance=False)[:, 1:]
        xp = self.backend.xp
        queries = points[xp.asarray(query_rows)]
        table = self.backend.to_host(self.backend.kneighbors_of_queries(points, queries, self.k + 1))
        # Drop each query's own row (found first unless a duplicate precedes it),
        # else the farthest of the k + 1.
        is_self = table == query_rows[:, None]
        keep = np.argsort(is_self, axis=1, kind="stable")[:, : self.k]
        return self.backend.to_device(np.take_along_axis(table, keep, axis=1))

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
