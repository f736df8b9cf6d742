"""SMOTE after a clustering, as imbalanced-learn's
``imblearn/over_sampling/_smote/cluster.py``: :class:`KMeansSMOTE`.

Per over-sampled class the clustering (scikit-learn's, on the host; see
:mod:`gpusmote.over_sampling._minibatch_draws` for how its default is fitted
faster to the same clusters) is fitted on all of X; the clusters where the class is common enough get a share of the
class's new rows that grows with how sparse the class is in them, and each
such cluster is SMOTE'd on its own rows of the class. Each valid cluster is one
:class:`gpusmote.engine._resample.Block`: its rows, neighbour table and draws,
written by gpusmote's engine into one allocation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import pairwise_distances
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from gpusmote.devices._backend import Backend
from gpusmote.engine._draws import DrawChunk, iter_imblearn_draws, iter_philox_draws, philox_seed
from gpusmote.engine._labels import sorted_labels
from gpusmote.engine._resample import Block, resample_blocks
from gpusmote.engine._timing import PhaseTimes
from gpusmote.neighbors._query import NeighborQuery
from gpusmote.over_sampling import _minibatch_draws as minibatch_draws
from gpusmote.over_sampling._base import (
    NEIGHBORS_PARAMETER,
    RNG_PARAMETER,
    TIES_PARAMETER,
    DeviceOverSampler,
    searchable_rows,
    take_rows,
)


class KMeansSMOTE(DeviceOverSampler):
    """K-Means SMOTE: SMOTE within the clusters where a class is sparse.

    A drop-in replacement for :class:`imblearn.over_sampling.KMeansSMOTE`: the
    same parameters, validation, cluster selection, draws and output
    (bit-identical with an int ``random_state`` on data without distance
    ties). The clustering is scikit-learn's, fitted on the host exactly as
    imbalanced-learn fits it (once per over-sampled class, on all rows; any
    estimator with ``fit_predict`` and ``n_clusters`` works, so a GPU k-means
    can be passed); the k-NN within the clusters and the generation run on
    gpusmote's engine.

    Per over-sampled class (in label order), a non-empty cluster is *valid*
    when the class's share of its rows is at least the balance threshold and
    the class has at least ``k_neighbors + 1`` rows in it. Each valid cluster,
    in cluster-index order, gets ``ceil(n * weight)`` new rows (so a class may
    get a few more than ``sampling_strategy_`` asks), its weight proportional
    to its sparsity: the mean distance between the class's rows in it, to the
    density exponent, over their number.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        As in imbalanced-learn (see :class:`gpusmote.SMOTE`).
    random_state : int, RandomState instance or None, default=None
        Seeds the default clustering (``MiniBatchKMeans(random_state=...)``)
        and the draws, consumed as imbalanced-learn consumes them: an int
        restarts a ``RandomState`` for every valid cluster; an instance (or
        None, NumPy's global one) is shared by the k-means and the draws.
    k_neighbors : int or estimator, default=2
        Neighbours (within the cluster's rows of the class) used to make the
        new rows; an int uses gpusmote's exact k-NN, an object with
        ``kneighbors`` is cloned, fitted per cluster and queried as
        imbalanced-learn does (its ``n_neighbors`` counts the row itself).
    n_jobs : int, default=None
        Passed, as by imbalanced-learn, to scikit-learn's
        ``pairwise_distances`` for the clusters' sparsity.
    kmeans_estimator : int or estimator, default=None
        The clustering: None means ``MiniBatchKMeans(random_state=
        random_state)``, an int ``MiniBatchKMeans(n_clusters=int,
        random_state=random_state)``; an estimator is cloned.
    cluster_balance_threshold : 'auto' or float, default='auto'
        The class's share of a cluster's rows below which the cluster is
        skipped; ``'auto'`` is half the class's share of all new rows. With a
        single cluster every share passes (as in imbalanced-learn).
    density_exponent : 'auto' or float, default='auto'
        The exponent of the mean distance in the sparsity; ``'auto'`` is
        ``log(n, 1.6) ** 1.8 * 0.16`` for n rows of the class in the cluster.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the k-NN and the generation run (the clustering always on the
        host). Sparse input always runs on the CPU.
    rng : {'imblearn', 'philox'}, default='imblearn'
        ``'imblearn'`` replays imbalanced-learn's draws; ``'philox'`` draws
        row j of a cluster's block from (seed, class, cluster index, j), the
        same rows on every device and for any chunking (the clustering still
        uses ``random_state``).

    ties : {'imblearn', 'index'}, default='imblearn'
        Neighbour order where distances tie or nearly tie (integer, count and
        duplicated data). ``'imblearn'``: a class whose table could depend on
        ties gets scikit-learn's own search, called as imbalanced-learn calls
        it, so the output is imbalanced-learn's on all data (at its speed for
        that class). ``'index'``: gpusmote's exact search everywhere, ties by
        the lower row index (fast; the same rows on data without ties).

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows asked for per class (valid clusters may add a few, see above).
    kmeans_estimator_ : estimator
        The clustering, fitted on the data (by the last over-sampled class).
    nn_k_ : estimator
        The ``k_neighbors`` neighbours object (see :class:`gpusmote.SMOTE`'s
        ``nn_k_``); an estimator's clone is fitted by the last valid cluster.
    cluster_balance_threshold_ : float or 'auto'
        The threshold used (``-inf`` with a single cluster).
    device_ : str
    timings_ : dict
        Seconds spent in ``"cluster"`` (clustering and sparsities, on the
        host), ``"knn"``, ``"copy"`` and ``"generate"``.
    n_features_in_ : int
    feature_names_in_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import KMeansSMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0.0, 1.0, size=(300, 2)),
    ...                rng.normal(2.0, 0.5, size=(60, 2))])
    >>> y = np.array([0] * 300 + [1] * 60)
    >>> sampler = KMeansSMOTE(kmeans_estimator=4, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> bool(np.bincount(y_res)[1] >= 300)
    True
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_PARAMETER,
        "kmeans_estimator": [
            HasMethods(["fit", "predict"]),
            Interval(numbers.Integral, 1, None, closed="left"),
            None,
        ],
        "cluster_balance_threshold": [StrOptions({"auto"}), numbers.Real],
        "density_exponent": [StrOptions({"auto"}), numbers.Real],
        "n_jobs": [numbers.Integral, None],
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, k_neighbors=2,
                 n_jobs=None, kmeans_estimator=None, cluster_balance_threshold="auto",
                 density_exponent="auto", device="auto", rng="imblearn", ties="imblearn"):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.n_jobs = n_jobs
        self.kmeans_estimator = kmeans_estimator
        self.cluster_balance_threshold = cluster_balance_threshold
        self.density_exponent = density_exponent
        self.device = device
        self.rng = rng
        self.ties = ties

    def _resample(self, X, y: np.ndarray, backend: Backend):
        self.device_ = backend.name
        self.timings_ = times = PhaseTimes()
        k_query = NeighborQuery("k_neighbors", self.k_neighbors, backend, self.ties)
        self.nn_k_ = k_query.estimator
        self._validate_kmeans()
        seed = philox_seed(self.random_state) if self.rng == "philox" else None
        X_host = X if sparse.issparse(X) else backend.to_host(X)  # the clustering fits on the host
        points = searchable_rows(X, backend)
        labels = sorted_labels(y)
        y = np.asarray(y)
        n_total = sum(self.sampling_strategy_.values())
        blocks = []
        for label, n_samples in self.sampling_strategy_.items():
            if n_samples == 0:
                continue
            position = int(np.flatnonzero(labels == label)[0])
            with times.phase("cluster"):
                clusters, weights = self._valid_clusters(X_host, y, label, n_samples, n_total)
            for (cluster_index, rows), weight in zip(clusters, weights):
                # The table even for a block of no rows: imbalanced-learn fits
                # its neighbours (so a user's estimator ends as it ends there).
                with times.phase("knn", backend.synchronize):
                    X_class = take_rows(points, rows, backend)
                    table = k_query.within(X_class)
                n_block = int(math.ceil(n_samples * weight))
                if n_block > 0:  # no rows: no draws either, in imbalanced-learn too
                    draws = self._draws(seed, position, cluster_index, len(rows), k_query.k,
                                        n_block, backend)
                    blocks.append(Block(label, n_block, X_class, X_class, table, draws))
        return resample_blocks(X, y, blocks, times, backend)

    def _validate_kmeans(self) -> None:
        """imbalanced-learn's ``kmeans_estimator_`` and
        ``cluster_balance_threshold_`` (same checks, same errors)."""
        # ``isinstance(.., int)`` as imbalanced-learn: a NumPy integer goes to
        # ``clone`` and fails there, as it does in imbalanced-learn.
        if self.kmeans_estimator is None:
            self.kmeans_estimator_ = MiniBatchKMeans(random_state=self.random_state)
        elif isinstance(self.kmeans_estimator, int):
            self.kmeans_estimator_ = MiniBatchKMeans(n_clusters=self.kmeans_estimator,
                                                     random_state=self.random_state)
        else:
            self.kmeans_estimator_ = clone(self.kmeans_estimator)
        self.cluster_balance_threshold_ = (
            self.cluster_balance_threshold if self.kmeans_estimator_.n_clusters != 1 else -np.inf
        )

    def _valid_clusters(self, X_host, y: np.ndarray, label, n_samples: int,
                        n_total: int) -> tuple[list[tuple[int, np.ndarray]], np.ndarray]:
        """The class's valid clusters, as ``(cluster index, the class's row
        indices in X)`` in cluster-index order, and their weights.

        The clustering is re-fitted for every class (and consumes a shared
        ``RandomState`` then), as imbalanced-learn does.

        Raises
        ------
        RuntimeError
            If no cluster is valid (imbalanced-learn's message).
        """
        assignment = np.asarray(minibatch_draws.fit_predict(self.kmeans_estimator_, X_host))
        if self.cluster_balance_threshold_ == "auto":
            threshold = n_samples / n_total / 2
        else:
            threshold = self.cluster_balance_threshold_
        clusters, sparsities = [], []
        for cluster_index, members in _cluster_members(assignment, self.kmeans_estimator_.n_clusters):
            in_class = y[members] == label
            # imbalanced-learn's arithmetic, float for float: a share at the
            # threshold, or a count at k + 1, is decided the same way.
            class_share = in_class.mean()
            if class_share < threshold:
                continue  # balanced already
            if class_share * members.size < self.nn_k_.n_neighbors:
                continue  # too few rows of the class for the k-NN
            rows = members[in_class]
            clusters.append((cluster_index, rows))
            sparsities.append(self._sparsity(_safe_indexing(X_host, rows)))
        if not clusters:
            raise RuntimeError(
                f"No clusters found with sufficient samples of class {label}. Try lowering "
                "the cluster_balance_threshold or increasing the number of clusters."
            )
        sparsities = np.array(sparsities)
        return clusters, sparsities / sparsities.sum()

    def _sparsity(self, X_class) -> float:
        """imbalanced-learn's ``_find_cluster_sparsity``, bit for bit.

        Its mean distance is scikit-learn's full ``pairwise_distances`` matrix
        summed (O(n^2) memory and time for n rows of the class in the
        cluster): the same call, so the same sum in the same order.
        """
        n_rows = X_class.shape[0]
        distances = pairwise_distances(X_class, metric="euclidean", n_jobs=self.n_jobs)
        np.fill_diagonal(distances, 0)
        mean_distance = distances.sum() / (n_rows**2 - n_rows)
        exponent = (math.log(n_rows, 1.6) ** 1.8 * 0.16 if self.density_exponent == "auto"
                    else self.density_exponent)
        return (mean_distance**exponent) / n_rows

    def _draws(self, seed: int | None, position: int, cluster_index: int, n_base: int, k: int,
               n_samples: int, backend: Backend) -> Callable[[], Iterator[DrawChunk]]:
        """One cluster's draws.

        A ``RandomState`` instance (or None, the global one) is shared with
        the next class's clustering: its draws are taken now, in
        imbalanced-learn's order. An int seed restarts per cluster, so those
        are drawn when the block is written (bounded memory).
        """
        if self.rng == "philox":
            return lambda: iter_philox_draws(seed, position, n_base, k, n_samples, backend,
                                             stream=cluster_index)

        def imblearn() -> Iterator[DrawChunk]:
            for c in iter_imblearn_draws(self.random_state, n_base, k, n_samples):
                yield DrawChunk(c.start, *(backend.to_device(a) for a in (c.rows, c.cols, c.steps)))

        if isinstance(self.random_state, numbers.Integral):
            return imblearn
        chunks = list(imblearn())
        return lambda: iter(chunks)


def _cluster_members(assignment: np.ndarray, n_clusters: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(i, flatnonzero(assignment == i))`` for the non-empty clusters
    ``i < n_clusters``, from one stable sort instead of a scan per cluster."""
    order = np.argsort(assignment, kind="stable")
    ordered = assignment[order]
    indices = np.arange(n_clusters)
    starts = np.searchsorted(ordered, indices, side="left")
    ends = np.searchsorted(ordered, indices, side="right")
    for i, start, end in zip(indices, starts, ends):
        if end > start:
            yield int(i), order[start:end]
