"""EditedNearestNeighbours: imbalanced-learn's API and semantics, gpusmote's k-NN.

imbalanced-learn's ``EditedNearestNeighbours._fit_resample`` does::

    nn = NN(k + 1).fit(X)
    for c in np.unique(y):                       # label order
        if c in sampling_strategy_:
            nns = nn.kneighbors(X[y == c])[:, 1:]    # among all rows
            keep = all(y[nns] == c, 1)               # kind_sel='all'
                 | mode(y[nns], 1) == c              # kind_sel='mode'
        sample_indices_ += flatnonzero(y == c)[keep or every row]

so the output is regrouped by class. Here the neighbours of every targeted row
come from one search of gpusmote's exact k-NN on the backend (each row excluded
by its own index; rows whose order could depend on ties asked of scikit-learn,
``_neighbours.py``), and the decisions are imbalanced-learn's expressions on
the whole table at once.
"""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.under_sampling import EditedNearestNeighbours as _ImblearnENN
from scipy.stats import mode
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from gpusmote.devices._backend import Backend
from gpusmote.engine._labels import sorted_labels
from gpusmote.engine._timing import PhaseTimes
from gpusmote.neighbors._query import NeighborQuery, too_few_rows_error
from gpusmote.over_sampling._base import TIES_PARAMETER, searchable_rows
from gpusmote.under_sampling._base import DeviceCleaningSampler, class_rows, select_rows
from gpusmote.under_sampling._neighbours import cleaning_table


class EditedNearestNeighbours(DeviceCleaningSampler, _ImblearnENN):
    """Under-sample by the edited nearest neighbour rule, exact and fast.

    A drop-in replacement for
    :class:`imblearn.under_sampling.EditedNearestNeighbours` (and a subclass of
    it, so imbalanced-learn's ``SMOTEENN(enn=...)`` accepts it): the same
    parameters, validation, ``sampling_strategy`` rules and output. A row of a
    targeted class is removed when all (``kind_sel='all'``: any of them is of
    another class) or most (``'mode'``) of its ``n_neighbors`` nearest rows
    among all rows are of another class.

    Parameters
    ----------
    sampling_strategy : str, list or callable, default='auto'
        The classes cleaned, as in imbalanced-learn: ``'auto'`` (= ``'not
        minority'``), ``'majority'``, ``'not majority'``, ``'all'``, a list of
        labels or a callable ``y -> dict``.
    n_neighbors : int or estimator, default=3
        Neighbours examined per row. An int uses gpusmote's exact k-NN (ties by
        lower row index; a row is excluded by its index, never by distance,
        where imbalanced-learn queries ``n_neighbors + 1`` rows and drops the
        first: the same on data without distance ties). An object with
        ``kneighbors`` and ``kneighbors_graph`` is cloned, fitted on all rows
        and queried as imbalanced-learn does (its ``n_neighbors`` counts the row
        itself).
    kind_sel : {'all', 'mode'}, default='all'
        ``'all'``: a row stays only if all its neighbours share its class;
        ``'mode'``: if the most frequent neighbour class (ties: the smallest
        label) is its class.
    n_jobs : int, default=None
        Passed to an estimator ``n_neighbors`` that has an ``n_jobs``
        parameter; gpusmote's own search uses every core (Numba's threads).
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the k-NN runs; the output is identical on every device. Sparse
        input is searched on the CPU.
    ties : {'imblearn', 'index'}, default='imblearn'
        Neighbour order where distances tie or nearly tie (integer, count and
        duplicated data), as in gpusmote's over-samplers. ``'imblearn'``: a
        search whose table could depend on ties is answered by scikit-learn's
        own, called as imbalanced-learn calls it (its output on all data, at
        its speed). ``'index'``: gpusmote's exact search everywhere, ties by
        the lower row index.

    Attributes
    ----------
    sampling_strategy_ : dict
        The cleaned classes (imbalanced-learn's dict).
    nn_ : estimator
        With an int ``n_neighbors``, an unfitted :class:`gpusmote.NearestNeighbors`
        with ``n_neighbors + 1`` neighbours (as imbalanced-learn's) that computes
        the tables used; with an object, its fitted clone.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Indices of the rows kept, grouped by class in label order.
    device_ : str
        The device that ran the last ``fit_resample``.
    timings_ : dict
        Seconds per phase of the last ``fit_resample``: ``"knn"`` and
        ``"select"`` (decisions and the output rows).
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.under_sampling import EditedNearestNeighbours
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3))
    >>> y = np.array([0] * 100 + [1] * 20)
    >>> X[y == 1] += 1.0
    >>> X_res, y_res = EditedNearestNeighbours().fit_resample(X, y)
    >>> bool(np.bincount(y_res)[0] < 100), int(np.bincount(y_res)[1])
    (True, 20)
    """

    _parameter_constraints: dict = {
        **DeviceCleaningSampler._parameter_constraints,
        "n_neighbors": [
            Interval(numbers.Integral, 1, None, closed="left"),
            HasMethods(["kneighbors", "kneighbors_graph"]),
        ],
        "kind_sel": [StrOptions({"all", "mode"})],
        "n_jobs": [numbers.Integral, None],
        "ties": TIES_PARAMETER,
    }

    def __init__(self, *, sampling_strategy="auto", n_neighbors=3, kind_sel="all", n_jobs=None,
                 device="auto", ties="imblearn"):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_neighbors = n_neighbors
        self.kind_sel = kind_sel
        self.n_jobs = n_jobs
        self.device = device
        self.ties = ties

    def _neighbor_query(self, backend: Backend) -> NeighborQuery:
        """The search, with ``nn_`` set as imbalanced-learn's ``_validate_estimator`` does."""
        query = NeighborQuery("n_neighbors", self.n_neighbors, backend, self.ties)
        if not query.own and "n_jobs" in query.estimator.get_params():
            # imbalanced-learn sets it unconditionally (and so fails on an
            # estimator without it, such as gpusmote.NearestNeighbors).
            query.estimator.set_params(n_jobs=self.n_jobs)
        self.nn_ = query.estimator
        return query

    def _resample(self, X, y, backend):
        self.device_ = backend.name
        self.timings_ = PhaseTimes()
        query = self._neighbor_query(backend)
        labels = sorted_labels(y)
        targets = [label for label in labels if label in self.sampling_strategy_]
        if targets and query.own and searches_every_row(y, targets, backend):
            # Most rows are queries (SMOTEENN's 'all', 'auto' on binary data):
            # every row's table from the symmetric search, each pair once and
            # no copy of the rows, in row order; the class indices made after
            # the search, not beside its candidates.
            with self.timings_.phase("knn", backend.synchronize):
                table = neighbours_of_every_row(X, query, backend, self.ties, y, targets)
            with self.timings_.phase("select"):
                rows = class_rows(y, labels)
                # only the targets' rows: the others' may hold no answer (sparse, small data)
                kept = {label: rows[label][edited_keep(y, y[rows[label]], table, self.kind_sel, rows[label])]
                        for label in targets}
                del table
                return self._select(X, y, labels, rows, kept, backend)
        rows = class_rows(y, labels)
        query_rows = np.concatenate([np.empty(0, dtype=np.int64)] + [rows[label] for label in targets])
        with self.timings_.phase("knn", backend.synchronize):
            table = (neighbours_among_all(X, query, query_rows, len(rows[targets[0]]), backend,
                                          self.ties, [len(rows[label]) for label in targets])
                     if targets else None)
        with self.timings_.phase("select"):
            keep = edited_keep(y, y[query_rows], table, self.kind_sel) if targets else None
            kept, start = {}, 0
            for label in targets:
                stop = start + len(rows[label])
                kept[label] = rows[label][keep[start:stop]]
                start = stop
            return self._select(X, y, labels, rows, kept, backend)

    def _select(self, X, y, labels, rows: dict, kept: dict, backend):
        """Set ``sample_indices_`` (kept rows of the targeted classes, every row
        of the others, grouped by class) and return the selection."""
        # imbalanced-learn's index dtype: np.empty(0, dtype=int) concatenated
        self.sample_indices_ = np.concatenate(
            [np.empty((0,), dtype=int)] + [kept.get(label, rows[label]) for label in labels])
        return select_rows(X, y, self.sample_indices_, backend)


def neighbours_among_all(X, query: NeighborQuery, query_rows: np.ndarray, n_first: int,
                         backend: Backend, ties: str, class_sizes=None) -> np.ndarray:
    """Host ``(len(query_rows), k)`` table: the nearest other rows of X to each
    row ``X[query_rows[i]]``.

    Parameters
    ----------
    X : validated rows (NumPy, sparse, or in backend memory).
    query : the search (gpusmote's or an estimator's).
    query_rows : int64 indices into X.
    n_first : rows of the first queried class (imbalanced-learn's query
        size, for the too-few-rows message).
    backend : where gpusmote's search runs.
    ties : the tie rule of gpusmote's search.
    class_sizes : rows of each queried class, in query_rows' order (default:
        one class).
    """
    class_sizes = [len(query_rows)] if class_sizes is None else class_sizes
    if not query.own:
        return np.asarray(backend.to_host(query.among(X, query_rows)))
    n_rows = X.shape[0]
    if n_rows <= query.k:
        raise too_few_rows_error(query.k + 1, n_rows, n_first)
    points = searchable_rows(X, backend)
    # imbalanced-learn queries each class on its own (ties: scikit-learn's
    # answers are asked the same way); ``class_sizes`` splits query_rows.
    bounds = np.cumsum([0] + list(class_sizes))
    groups = [np.arange(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]
    return cleaning_table(points, query.k, backend, ties, query_rows, groups)


#: The share of rows queried from which ENN searches every row on the CPU: its
#: symmetric search computes each pair once, for both rows, at ~1.2 times the
#: one-sided search's cost a pair (fraud-200k, 2-core VM: TomekLinks' 200,000
#: rows 11.3 s, ENN's 198,000 majority rows among them searched alone 18.8 s).
#: The GPU's search of every row computes each pair twice: only when every row
#: is queried.
EVERY_ROW_SHARE = 0.6


def searches_every_row(y: np.ndarray, targets, backend: Backend) -> bool:
    """Whether the rows of ``targets`` are enough of ``y`` to search every row."""
    share = EVERY_ROW_SHARE if backend.name == "cpu" else 1.0
    return bool(np.count_nonzero(np.isin(y, targets)) >= share * len(y))


def neighbours_of_every_row(X, query: NeighborQuery, backend: Backend, ties: str, y: np.ndarray,
                            targets) -> np.ndarray:
    """Host ``(n_rows, k)`` table, in row order: each row's nearest other rows
    of X, with gpusmote's own search (``query.own``). scikit-learn's answers,
    where ties could matter, are asked for the rows of ``targets``, class by
    class in label order, as imbalanced-learn queries (other rows' may differ)."""
    n_rows = X.shape[0]
    if n_rows <= query.k:
        raise too_few_rows_error(query.k + 1, n_rows, int(np.count_nonzero(y == targets[0])))
    return cleaning_table(searchable_rows(X, backend), query.k, backend, ties,
                          groups=lambda: list(class_rows(y, targets).values()))


#: Rows of the table whose labels :func:`edited_keep` gathers at a time.
KEEP_CHUNK_ROWS = 2**16


def edited_keep(y: np.ndarray, y_query: np.ndarray, table: np.ndarray, kind_sel: str,
                table_rows: np.ndarray | None = None) -> np.ndarray:
    """Whether each queried row stays: imbalanced-learn's decision, vectorised
    over every class (a row's own label is its class), a chunk of rows at a
    time (no labels array as large as the table).

    Parameters
    ----------
    y : labels of all rows.
    y_query : labels of the queried rows.
    table : (n, k) neighbour indices into ``y``.
    kind_sel : {'all', 'mode'}
    table_rows : int array, optional
        The queried rows' rows of ``table`` (default: all of them, in order).
    """
    n_queries = len(table) if table_rows is None else len(table_rows)
    keep = np.empty(n_queries, dtype=bool)
    for start in range(0, n_queries, KEEP_CHUNK_ROWS):
        stop = min(n_queries, start + KEEP_CHUNK_ROWS)
        neighbour_labels = y[table[start:stop] if table_rows is None else table[table_rows[start:stop]]]
        if kind_sel == "mode":
            # scipy's mode, as imbalanced-learn: the smallest of the most frequent labels
            modes, _ = mode(neighbour_labels, axis=1, keepdims=False)
            keep[start:stop] = np.ravel(modes) == y_query[start:stop]
        else:
            keep[start:stop] = np.all(neighbour_labels == y_query[start:stop, None], axis=1)
    return keep
