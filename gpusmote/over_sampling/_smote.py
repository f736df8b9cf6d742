"""The SMOTE sampler: imbalanced-learn's API and semantics, gpusmote's engine."""

from __future__ import annotations

import numbers

from imblearn.utils import check_neighbors_object
from scipy import sparse

from gpusmote.engine._draws import DrawChunk, iter_imblearn_draws, iter_philox_draws, philox_seed
from gpusmote.engine._resample import DrawSource, NeighborFinder, resample_dense, resample_sparse
from gpusmote.engine._timing import PhaseTimes
from gpusmote.neighbors import NearestNeighbors
from gpusmote.neighbors._query import NeighborQuery
from gpusmote.neighbors._table import checked_neighbor_table
from gpusmote.over_sampling._base import NEIGHBORS_PARAMETER, RNG_PARAMETER, TIES_PARAMETER, DeviceOverSampler


class SMOTE(DeviceOverSampler):
    """Synthetic Minority Over-sampling Technique, exact and fast.

    A drop-in replacement for :class:`imblearn.over_sampling.SMOTE`: the same
    parameters, validation, ``sampling_strategy`` rules and random draws. With
    an int ``random_state`` the output is bit-identical to imbalanced-learn's on
    data without distance ties.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes to over-sample and to what count, exactly as in
        imbalanced-learn: ``'auto'`` (= ``'not majority'``), ``'minority'``,
        ``'not minority'``, ``'all'``, a float ratio (binary only), a dict
        ``{label: target count}`` or a callable ``y -> dict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. An int restarts a ``RandomState`` for every class, as
        imbalanced-learn does, so repeated calls give identical output.
    k_neighbors : int or estimator, default=5
        Neighbours per minority row. An int uses gpusmote's exact k-NN (ties by
        lower row index; a row is never its own neighbour). An object with
        ``kneighbors`` and ``kneighbors_graph`` is cloned, fitted on each class
        and queried like imbalanced-learn does (its ``n_neighbors`` counts the
        row itself, column 0 is dropped).
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where k-NN and generation run. ``'auto'`` picks the best available.
        Sparse input always runs on the CPU, on its nonzeros (never densified).
    rng : {'imblearn', 'philox'}, default='imblearn'
        The random stream. ``'imblearn'`` consumes a ``RandomState`` exactly as
        imbalanced-learn does (bit-identical output). ``'philox'`` is
        counter-based (Philox4x32-10): synthetic row j of a class depends only
        on (seed, class, j), so it is drawn where the kernels run, in parallel,
        and is identical on every device and for any chunking; its output is
        equally valid SMOTE but not imbalanced-learn's rows. An int
        ``random_state`` is its key; a ``RandomState`` or None gives one draw.

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
        Synthetic rows to generate per class, in label order.
    nn_k_ : estimator
        The neighbours object: with an int ``k_neighbors``, an unfitted
        :class:`gpusmote.NearestNeighbors` with ``n_neighbors = k + 1`` (as
        imbalanced-learn's) that computes the same tables as the search used;
        with an object, its clone fitted on the last over-sampled class.
    k_neighbors_ : int
        Neighbours per row actually used.
    device_ : str
        The device that ran the last ``fit_resample``.
    timings_ : dict
        Seconds the last ``fit_resample`` spent per phase: ``"copy"`` (output
        allocation and original rows), ``"knn"`` (class rows and neighbour
        tables) and ``"generate"`` (draws and synthetic rows). Validation and
        container conversion are outside these.
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote import SMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(110, 3)).astype(np.float32)
    >>> y = np.array([0] * 100 + [1] * 10)
    >>> X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res), X_res.dtype
    (array([100, 100]), dtype('float32'))
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_PARAMETER,
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        device="auto",
        rng="imblearn",
        ties="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.device = device
        self.rng = rng
        self.ties = ties

    def _neighbor_finder(self, backend):
        """Return ``rows -> (n_rows, k) neighbour table`` for this sampler
        (sets ``nn_k_`` and ``k_neighbors_``)."""
        find, self.nn_k_, self.k_neighbors_ = neighbor_finder(self.k_neighbors, backend, self.ties)
        return find

    def _resample(self, X, y, backend):
        self.device_ = backend.name
        find_neighbors = self._neighbor_finder(backend)
        resample = resample_sparse if sparse.issparse(X) else resample_dense
        self.timings_ = PhaseTimes()
        return resample(
            X, y, self.sampling_strategy_, find_neighbors, self._draw_source(backend),
            times=self.timings_, backend=backend,
        )

    def _draw_source(self, backend):
        """Per class, its (rows, cols, steps) chunks in the backend's memory."""
        return draw_source(self.rng, self.random_state, backend)


def neighbor_finder(k_neighbors, backend, ties: str = "imblearn") -> tuple[NeighborFinder, object, int]:
    """SMOTE's neighbour search for a ``k_neighbors`` parameter, for the engine
    and for callers that drive it themselves (``gpusmote resample``,
    ``gpusmote.torch``).

    Parameters
    ----------
    k_neighbors : int or estimator
        As :class:`SMOTE`'s: an int runs gpusmote's exact k-NN on ``backend``
        (dense) or on the nonzeros (sparse); an estimator is cloned, fitted on
        each class and queried as imbalanced-learn does, its table checked.
    backend : Backend
    ties : {'imblearn', 'index'}, default='imblearn'
        As :class:`SMOTE`'s.

    Returns
    -------
    find : callable
        ``class rows -> (n_rows, k) int64 neighbour table``.
    estimator : estimator
        What ``SMOTE.nn_k_`` holds.
    k : int
        Neighbours per row.
    """
    if isinstance(k_neighbors, numbers.Integral):
        k = int(k_neighbors)

        def find(X_class):
            n_rows = X_class.shape[0]
            if n_rows <= k:
                # sklearn's message, which imbalanced-learn users know, and
                # what it means for SMOTE.
                raise ValueError(
                    f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k + 1}, "
                    f"n_samples_fit = {n_rows}, n_samples = {n_rows}. "
                    f"(k_neighbors={k} needs at least {k + 1} samples in every "
                    f"over-sampled class.)"
                )
            return query.within(X_class)

        query = NeighborQuery("k_neighbors", k, backend, ties)

        return find, NearestNeighbors(n_neighbors=k + 1, device=backend.name, ties=ties), k

    estimator = check_neighbors_object("k_neighbors", k_neighbors, additional_neighbor=1)

    def find_with_estimator(X_class):
        # The estimator gets the class's rows as imbalanced-learn gives them
        # (sparse stays sparse), in host memory.
        X_class = X_class if sparse.issparse(X_class) else backend.to_host(X_class)
        estimator.fit(X_class)
        table = estimator.kneighbors(X_class, return_distance=False)[:, 1:]
        return checked_neighbor_table(table, X_class.shape[0])

    return find_with_estimator, estimator, estimator.n_neighbors - 1


def draw_source(rng: str, random_state, backend) -> DrawSource:
    """SMOTE's draws: ``(plan, n_base_rows, k) -> iterator of DrawChunk`` in
    ``backend``'s memory, for ``rng='imblearn'`` (a RandomState consumed as
    imbalanced-learn does) or ``'philox'`` (the counter-based stream)."""
    if rng == "philox":
        seed = philox_seed(random_state)
        return lambda plan, n_base, k: iter_philox_draws(
            seed, plan.position, n_base, k, plan.n_samples, backend
        )

    def imblearn_draws(plan, n_base, k):
        for chunk in iter_imblearn_draws(random_state, n_base, k, plan.n_samples):
            yield DrawChunk(chunk.start, *(backend.to_device(a) for a in (chunk.rows, chunk.cols, chunk.steps)))

    return imblearn_draws
