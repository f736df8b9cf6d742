"""TomekLinks: imbalanced-learn's API and semantics, gpusmote's k-NN.

imbalanced-learn's ``TomekLinks._fit_resample`` does::

    nn = NN(2).fit(X).kneighbors(X)[:, 1]             # each row's nearest other row
    link[i] = y[i] targeted and y[nn[i]] != y[i] and nn[nn[i]] == i
    sample_indices_ = flatnonzero(~link)               # original order

Here the nearest other row comes from gpusmote's exact k-NN (k = 1, each row
excluded by its own index; rows whose order could depend on ties asked of
scikit-learn, ``_neighbours.py``) and the link test is the same expression,
vectorised.
"""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.under_sampling import TomekLinks as _ImblearnTomekLinks

from gpusmote.engine._timing import PhaseTimes
from gpusmote.over_sampling._base import TIES_PARAMETER, searchable_rows
from gpusmote.under_sampling._base import DeviceCleaningSampler, select_rows
from gpusmote.under_sampling._neighbours import cleaning_table


class TomekLinks(DeviceCleaningSampler, _ImblearnTomekLinks):
    """Under-sample by removing Tomek's links, exact and fast.

    A drop-in replacement for :class:`imblearn.under_sampling.TomekLinks` (and
    a subclass of it, so imbalanced-learn's ``SMOTETomek(tomek=...)`` accepts
    it): the same parameters, validation, ``sampling_strategy`` rules and
    output. Two rows of different classes that are each other's nearest
    neighbour form a link; the rows of a link in a targeted class are removed.

    Parameters
    ----------
    sampling_strategy : str, list or callable, default='auto'
        The classes cleaned, as in imbalanced-learn: ``'auto'`` (= ``'not
        minority'``), ``'majority'``, ``'not majority'``, ``'all'``, a list of
        labels or a callable ``y -> dict``.
    n_jobs : int, default=None
        Accepted for compatibility; gpusmote's search uses every core (Numba's
        threads).
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
    sample_indices_ : ndarray of shape (n_new_samples,)
        Indices of the rows kept, in their original order.
    device_ : str
        The device that ran the last ``fit_resample``.
    timings_ : dict
        Seconds per phase of the last ``fit_resample``: ``"knn"`` and ``"select"``.
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Notes
    -----
    The nearest other row is found by index (a row is never its own
    neighbour); imbalanced-learn takes column 1 of a 2-NN query, assuming
    column 0 is the row itself. Both agree on data without distance ties
    (and, with ``ties='imblearn'``, where ties could matter the search is
    scikit-learn's own).

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.under_sampling import TomekLinks
    >>> X = np.array([[0.0], [1.0], [1.2], [3.0], [5.0]])
    >>> y = np.array([0, 0, 1, 0, 1])
    >>> TomekLinks().fit_resample(X, y)[1]
    array([0, 1, 0, 1])
    """

    _parameter_constraints: dict = {
        **DeviceCleaningSampler._parameter_constraints,
        "n_jobs": [numbers.Integral, None],
        "ties": TIES_PARAMETER,
    }

    def __init__(self, *, sampling_strategy="auto", n_jobs=None, device="auto", ties="imblearn"):
        super().__init__(sampling_strategy=sampling_strategy)
        self.n_jobs = n_jobs
        self.device = device
        self.ties = ties

    def _resample(self, X, y, backend):
        self.device_ = backend.name
        self.timings_ = PhaseTimes()
        with self.timings_.phase("knn", backend.synchronize):
            nearest = cleaning_table(searchable_rows(X, backend), 1, backend, self.ties)[:, 0]
        with self.timings_.phase("select"):
            links = tomek_links(y, nearest, self.sampling_strategy_)
            self.sample_indices_ = np.flatnonzero(np.logical_not(links))
            return select_rows(X, y, self.sample_indices_, backend)


def tomek_links(y: np.ndarray, nearest: np.ndarray, targets) -> np.ndarray:
    """imbalanced-learn's ``TomekLinks.is_tomek``, vectorised: True for each row
    of a targeted class whose nearest other row is of another class and has the
    row as its own nearest.

    Parameters
    ----------
    y : labels of all rows.
    nearest : each row's nearest other row (index into ``y``).
    targets : the targeted labels (``sampling_strategy_``'s keys).
    """
    targeted = np.zeros(len(y), dtype=bool)
    for label in targets:
        targeted |= y == label
    mutual = nearest[nearest] == np.arange(len(y))
    return targeted & (y[nearest] != y) & mutual
