"""gpusmote's exact k-NN as a scikit-learn-style estimator.

imbalanced-learn's samplers accept any object with ``kneighbors`` and
``kneighbors_graph`` as their neighbours estimator, so
``imblearn.over_sampling.SMOTE(k_neighbors=NearestNeighbors(n_neighbors=6))``
runs imbalanced-learn's algorithm on gpusmote's exact search (on the GPU with
``device="cuda"``). With this estimator imbalanced-learn's SMOTE returns exactly
what ``gpusmote.SMOTE(k_neighbors=5)`` returns, even on data with duplicate rows:
querying the fitted array itself puts each row first in its own list, which is
the row imbalanced-learn drops.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from gpusmote.devices._resolve import DEVICES, resolve_device
from gpusmote.neighbors._ties import may_order_differently, queries_may_order_differently


class NearestNeighbors(BaseEstimator):
    """Exact Euclidean k nearest neighbours.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours returned by :meth:`kneighbors` when it is not given one.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the search runs; results are identical on every device.
    ties : {'imblearn', 'index'}, default='imblearn'
        Where distances tie or nearly tie: ``'imblearn'`` answers such a query
        with scikit-learn's ``NearestNeighbors`` itself (its order, so that
        imbalanced-learn's samplers given this estimator return what they
        return with their default one, on all data); ``'index'``: the lower
        index first, and the fitted array queried lists each row first (so
        imbalanced-learn's SMOTE given it returns ``gpusmote.SMOTE(ties='index')``'s
        rows, even with duplicates).

    Attributes
    ----------
    n_samples_fit_ : int
        Rows of the fitted data.
    n_features_in_ : int
        Columns of the fitted data.
    device_ : str
        The device that runs the searches.
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [StrOptions(set(DEVICES))],
        "ties": [StrOptions({"imblearn", "index"})],
    }

    def __init__(self, n_neighbors: int = 5, *, device: str = "auto", ties: str = "imblearn"):
        self.n_neighbors = n_neighbors
        self.device = device
        self.ties = ties

    def fit(self, X, y=None):
        """Store the points to search.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite numeric rows (sparse input is densified).
        y : ignored

        Returns
        -------
        self : NearestNeighbors
        """
        self._validate_params()
        self._fit_input = X  # to recognise a query of the fitted data itself
        self._fit_X = self._as_rows(X, reset=True)
        self.n_samples_fit_ = len(self._fit_X)
        self.device_ = resolve_device(self.device).name
        return self

    def _as_rows(self, X, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc"], dtype="numeric")
        return np.ascontiguousarray(X.toarray() if sparse.issparse(X) else X)

    def kneighbors(self, X=None, n_neighbors: int | None = None, return_distance: bool = True):
        """The nearest fitted points of each query row.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), optional
            Query rows. ``None`` queries every fitted row against the *other*
            fitted rows (scikit-learn's convention). The very array given to
            :meth:`fit` lists each row first, as its own nearest neighbour.
        n_neighbors : int, optional
            Neighbours per query (default: the constructor's).
        return_distance : bool, default=True
            Also return the Euclidean distances.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors), only if return_distance
            Exact float64 distances, cast to float32 for float32 data.
        indices : ndarray of shape (n_queries, n_neighbors), int64
        """
        check_is_fitted(self, "n_samples_fit_")
        k = self.n_neighbors if n_neighbors is None else _checked_n_neighbors(n_neighbors)
        points = self._fit_X
        # With ties='imblearn' each search asks one neighbour more, so that the
        # k-th against the next is checked too (gpusmote/neighbors/_ties.py);
        # where ties could order them otherwise, scikit-learn answers.
        extra = int(self.ties == "imblearn")
        if X is None:
            self._check_k(k, self.n_samples_fit_, self.n_samples_fit_, query_is_train=True)
            queries = points
            others = self._excluding_self(points, min(k + extra, len(points) - 1))
            if extra and may_order_differently(points, others):
                return self._sklearn().kneighbors(X, n_neighbors, return_distance)
            indices = np.ascontiguousarray(others[:, :k])
        elif X is self._fit_input:
            self._check_k(k, self.n_samples_fit_, self.n_samples_fit_)
            queries = points
            own = np.arange(len(points), dtype=np.int64)[:, None]
            width = min(k - 1 + extra, len(points) - 1)
            others = self._excluding_self(points, width) if width > 0 else own[:, :0]
            if extra and may_order_differently(points, others):
                return self._sklearn().kneighbors(X, n_neighbors, return_distance)
            indices = np.hstack([own, others[:, : k - 1]])
        else:
            queries = self._as_rows(X, reset=False)
            self._check_k(k, self.n_samples_fit_, len(queries))
            backend = resolve_device(self.device)
            table = backend.to_host(backend.kneighbors_of_queries(
                backend.to_device(points), backend.to_device(queries), min(k + extra, len(points))))
            if extra and queries_may_order_differently(points, queries, table):
                return self._sklearn().kneighbors(X, n_neighbors, return_distance)
            indices = np.ascontiguousarray(table[:, :k])
        if not return_distance:
            return indices
        distances = _euclidean(queries, points, indices)
        if points.dtype == np.float32:
            distances = distances.astype(np.float32)
        return distances, indices

    def kneighbors_graph(self, X=None, n_neighbors: int | None = None, mode: str = "connectivity"):
        """Sparse (n_queries, n_samples_fit_) graph of the neighbours, as
        scikit-learn's: ``mode='connectivity'`` gives ones, ``'distance'`` the
        distances."""
        if mode not in ("connectivity", "distance"):
            raise ValueError(f'Unsupported mode, must be one of "connectivity", or "distance" but got "{mode}" instead')
        distances, indices = self.kneighbors(X, n_neighbors, return_distance=True)
        n_queries, k = indices.shape
        data = np.ones(n_queries * k) if mode == "connectivity" else distances.ravel()
        return sparse.csr_matrix(
            (data, indices.ravel(), np.arange(0, n_queries * k + 1, k)), shape=(n_queries, self.n_samples_fit_)
        )

    def _sklearn(self):
        """scikit-learn's estimator fitted on the data given to :meth:`fit`."""
        from sklearn.neighbors import NearestNeighbors as SklearnNearestNeighbors

        return SklearnNearestNeighbors(n_neighbors=self.n_neighbors).fit(self._fit_input)

    def _excluding_self(self, points, k):
        """Each fitted row's k nearest other rows, searched on the device."""
        backend = resolve_device(self.device)
        return backend.to_host(backend.kneighbors(backend.to_device(points), k))

    @staticmethod
    def _check_k(k: int, n_samples_fit: int, n_samples: int, *, query_is_train: bool = False) -> None:
        """scikit-learn's check and message: with ``X=None`` each row's own
        entry is dropped, so ``k`` must be below ``n_samples_fit``."""
        if k + query_is_train > n_samples_fit:
            inequality = "n_neighbors < n_samples_fit" if query_is_train else "n_neighbors <= n_samples_fit"
            raise ValueError(
                f"Expected {inequality}, but n_neighbors = {k}, "
                f"n_samples_fit = {n_samples_fit}, n_samples = {n_samples}"
            )


def _checked_n_neighbors(n_neighbors) -> int:
    """``kneighbors``'s ``n_neighbors``, checked in scikit-learn's order with
    its messages (``KNeighborsMixin.kneighbors``)."""
    if n_neighbors <= 0:
        raise ValueError("Expected n_neighbors > 0. Got %d" % n_neighbors)
    if not isinstance(n_neighbors, numbers.Integral):
        raise TypeError("n_neighbors does not take %s value, enter integer value" % type(n_neighbors))
    return int(n_neighbors)


def _euclidean(queries: np.ndarray, points: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Float64 distances of each query to its neighbours ``points[indices]``.

    Squares of differences overflow above about 1e154 and underflow below
    1e-160, so each query's differences are scaled by a power of two (exact)
    that brings the largest to [0.5, 1), and the root scaled back: finite
    wherever the distance is a finite float64, and bit for bit the unscaled
    formula's where that neither under- nor overflows.
    """
    diffs = queries[:, None, :].astype(np.float64) - points[indices].astype(np.float64)
    largest = np.maximum(diffs.max(axis=(1, 2), initial=0.0), -diffs.min(axis=(1, 2), initial=0.0))
    exponents = np.frexp(largest)[1]
    diffs = np.ldexp(diffs, -exponents[:, None, None], out=diffs)
    with np.errstate(over="ignore"):  # a distance beyond float64's range is inf
        return np.ldexp(np.sqrt(np.einsum("qkf,qkf->qk", diffs, diffs)), exponents[:, None])
