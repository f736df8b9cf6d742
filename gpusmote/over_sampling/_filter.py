"""SMOTE variants that filter the rows they sample from, as imbalanced-learn's
``imblearn/over_sampling/_smote/filter.py``: :class:`BorderlineSMOTE` and
:class:`SVMSMOTE`.

Per over-sampled class the k-NN decides which rows are "in danger" (mostly,
but not only, other-class rows among their m nearest neighbours in all of X);
only those are interpolated from. The class blocks (rows, neighbour tables,
draws) are built first, then gpusmote's engine writes them all into one
allocation (:func:`gpusmote.engine._resample.resample_blocks`).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.svm import SVC
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from gpusmote.devices._backend import Backend
from gpusmote.engine._draws import DrawChunk, iter_imblearn_draws, iter_philox_draws, philox_seed
from gpusmote.engine._labels import sorted_labels
from gpusmote.engine._resample import Block, ClassPlan, plan_classes, resample_blocks
from gpusmote.engine._timing import PhaseTimes
from gpusmote.neighbors._query import NeighborQuery
from gpusmote.over_sampling._base import (
    NEIGHBORS_PARAMETER,
    RNG_PARAMETER,
    TIES_PARAMETER,
    DeviceOverSampler,
    searchable_rows,
    take_rows,
)


class BorderlineSMOTE(DeviceOverSampler):
    """Borderline-SMOTE over-sampling, exact and fast.

    A drop-in replacement for :class:`imblearn.over_sampling.BorderlineSMOTE`:
    the same parameters, validation, ``sampling_strategy`` rules, danger rule
    and random draws. With an int ``random_state`` the output is bit-identical
    to imbalanced-learn's on data without distance ties.

    Per over-sampled class (in label order), a row is *in danger* when at
    least half, but not all, of its ``m_neighbors`` nearest rows of the whole
    data set belong to other classes; a class without such rows is skipped
    (no new rows, no warning, as imbalanced-learn does). New rows start from
    the danger rows only: ``'borderline-1'`` moves towards one of their
    ``k_neighbors`` nearest rows of the same class, ``'borderline-2'`` towards
    one of their nearest rows of any class, at most half-way when that row is
    of another class.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes to over-sample and to what count, exactly as in
        imbalanced-learn: ``'auto'`` (= ``'not majority'``), ``'minority'``,
        ``'not minority'``, ``'all'``, a float ratio (binary only), a dict
        ``{label: target count}`` or a callable ``y -> dict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. An int restarts a ``RandomState`` for every class (and,
        for ``'borderline-2'``, once more for the scales), as imbalanced-learn
        does, so repeated calls give identical output.
    k_neighbors : int or estimator, default=5
        Neighbours to interpolate towards. An int uses gpusmote's exact k-NN
        (ties by lower row index; a row is never its own neighbour). An object
        with ``kneighbors`` and ``kneighbors_graph`` is cloned, fitted and
        queried like imbalanced-learn does (its ``n_neighbors`` counts the row
        itself; column 0 is dropped).
    m_neighbors : int or estimator, default=10
        Neighbours (among all rows) that decide whether a row is in danger; an
        int or an estimator, as ``k_neighbors``.
    kind : {'borderline-1', 'borderline-2'}, default='borderline-1'
        ``'borderline-1'`` takes neighbours from the class itself,
        ``'borderline-2'`` from every class, scaling a difference towards
        another class's row by a uniform factor in [0, 0.5). As in
        imbalanced-learn, ``'borderline-2'`` needs floating-point X (integer X
        raises NumPy's ``UFuncTypeError``) and, when sparse, a SciPy sparse
        *array* (a sparse *matrix* raises ``ValueError``).
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where k-NN and generation run. ``'auto'`` picks the best available.
        Sparse input always runs on the CPU, on its nonzeros (never densified).
    rng : {'imblearn', 'philox'}, default='imblearn'
        The random stream. ``'imblearn'`` consumes a ``RandomState`` exactly as
        imbalanced-learn does (bit-identical output). ``'philox'`` is
        counter-based (Philox4x32-10): synthetic row j of a class (and its
        ``'borderline-2'`` scale, from a second stream) depends only on (seed,
        class, j), so it is identical on every device and for any chunking.

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
        Synthetic rows to generate per class, in label order (a class without
        danger rows gets none, whatever this says).
    nn_k_ : estimator
        The ``k_neighbors`` neighbours object: with an int, an unfitted
        :class:`gpusmote.NearestNeighbors` with ``n_neighbors = k + 1`` (as
        imbalanced-learn's); with an object, its clone, fitted by the last
        class that had danger rows.
    nn_m_ : estimator
        The ``m_neighbors`` neighbours object, likewise (a clone is fitted on
        all of X).
    in_danger_indices : dict of ndarray
        Per class that had danger rows, their row indices in X (no trailing
        underscore, as in imbalanced-learn).
    device_ : str
        The device that ran the last ``fit_resample``.
    timings_ : dict
        Seconds the last ``fit_resample`` spent per phase: ``"knn"`` (class
        rows, danger rows and neighbour tables), ``"copy"`` (output allocation
        and original rows) and ``"generate"`` (draws and synthetic rows).
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import BorderlineSMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0.0, 1.0, size=(200, 2)),
    ...                rng.normal(1.0, 1.0, size=(40, 2))]).astype(np.float32)
    >>> y = np.array([0] * 200 + [1] * 40)
    >>> sampler = BorderlineSMOTE(random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y_res), X_res.dtype
    (array([200, 200]), dtype('float32'))
    >>> sorted(sampler.in_danger_indices) == [1]
    True
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_PARAMETER,
        "m_neighbors": NEIGHBORS_PARAMETER,
        "kind": [StrOptions({"borderline-1", "borderline-2"})],
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        m_neighbors=10,
        kind="borderline-1",
        device="auto",
        rng="imblearn",
        ties="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind
        self.device = device
        self.rng = rng
        self.ties = ties

    def _resample(self, X, y: np.ndarray, backend: Backend):
        self.device_ = backend.name
        self.timings_ = PhaseTimes()
        k_query = NeighborQuery("k_neighbors", self.k_neighbors, backend, self.ties)
        m_query = NeighborQuery("m_neighbors", self.m_neighbors, backend, self.ties)
        self.nn_k_, self.nn_m_ = k_query.estimator, m_query.estimator
        self.in_danger_indices = {}
        draws = self._draw_source(backend)
        plans = plan_classes(X.shape[0], self.sampling_strategy_, sorted_labels(y))
        blocks = []
        with self.timings_.phase("knn", backend.synchronize):
            points = searchable_rows(X, backend)
            for plan in plans:
                block = self._class_block(points, y, plan, k_query, m_query, draws, backend)
                if block is not None:
                    blocks.append(block)
        return resample_blocks(X, y, blocks, self.timings_, backend)

    def _class_block(self, points, y: np.ndarray, plan: ClassPlan, k_query: NeighborQuery,
                     m_query: NeighborQuery, draws, backend: Backend) -> Block | None:
        """One class's danger rows, their neighbour table and draws; ``None``
        when the class has no danger row (imbalanced-learn skips it)."""
        class_indices = np.flatnonzero(y == plan.label)
        shared = self._shares_search(points, k_query, m_query)
        wide = None
        if shared:
            search = NeighborQuery("m_neighbors", max(k_query.k, m_query.k), backend, self.ties)
            wide = search.among(points, class_indices, fallback=False)
        if wide is None:
            # Separate searches, as imbalanced-learn's: where ties could order
            # the wide table differently, each is scikit-learn's own call.
            shared = False
            wide = m_query.among(points, class_indices)
        wide = backend.to_host(wide)
        danger = _in_danger(wide[:, : m_query.k], y, plan.label, m_query.k)
        if not danger.any():
            return None
        danger_indices = class_indices[danger]
        self.in_danger_indices[plan.label] = danger_indices
        if self.kind == "borderline-1":
            X_class = take_rows(points, class_indices, backend)
            table = backend.to_host(k_query.among(X_class, np.flatnonzero(danger)))
            source, other_class = X_class, None
        else:
            _check_scalable(points)
            # The k nearest of all rows are the first k of the wider exact search.
            table = (wide[danger, : k_query.k] if shared
                     else backend.to_host(k_query.among(points, danger_indices)))
            source, other_class = points, y[table] != plan.label
        nn_data, table = _compact(source, table, backend)
        base = take_rows(points, danger_indices, backend)
        return Block(plan.label, plan.n_samples, base, nn_data, backend.to_device(table),
                     draws(plan, len(danger_indices), table.shape[1], other_class))

    def _shares_search(self, points, k_query: NeighborQuery, m_query: NeighborQuery) -> bool:
        """Whether Borderline-2's two searches among all rows are one.

        Both are exact with the same tie rule, so the k and the m nearest rows
        are prefixes of the max(k, m) nearest: one search serves both. Only for
        gpusmote's own searches, and only when that search cannot fail (else
        the error is the one of imbalanced-learn's separate searches).
        """
        return (self.kind == "borderline-2" and k_query.own and m_query.own
                and points.shape[0] > max(k_query.k, m_query.k))

    def _draw_source(self, backend: Backend) -> Callable:
        """``(plan, n_base_rows, k, other_class) -> (() -> iterator of DrawChunk)``.

        ``other_class`` (Borderline-2) flags the table entries of another class,
        whose differences get a random scale; ``None`` for Borderline-1.
        """
        if self.rng == "philox":
            seed = philox_seed(self.random_state)  # once per fit_resample

            def philox(plan, n_base, k, other_class):
                return lambda: _philox_draws(seed, plan, n_base, k, other_class, backend)

            return philox

        def imblearn(plan, n_base, k, other_class):
            return lambda: _imblearn_draws(self.random_state, n_base, k, plan.n_samples,
                                           other_class, backend)

        return imblearn



class SVMSMOTE(DeviceOverSampler):
    """SVM-SMOTE: SMOTE from the support vectors of an SVM, exact and fast.

    A drop-in replacement for :class:`imblearn.over_sampling.SVMSMOTE`: the
    same parameters, validation, draws and output (bit-identical with an int
    ``random_state`` on data without distance ties). The SVM is
    scikit-learn's, fitted on the host exactly as imbalanced-learn fits it
    (any estimator with ``fit`` and a fitted ``support_`` works, so a GPU SVC
    can be passed); the k-NN of the support vectors and the generation run on
    gpusmote's engine.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        As in imbalanced-learn (see :class:`gpusmote.SMOTE`).
    random_state : int, RandomState instance or None, default=None
        Seeds the SVM (imbalanced-learn's default ``SVC(gamma="scale",
        random_state=random_state)``), the per-class ``beta(10, 10)`` split
        and the draws, consumed as imbalanced-learn consumes them.
    k_neighbors : int or estimator, default=5
        Neighbours (within the class) used to make the new rows.
    m_neighbors : int or estimator, default=10
        Neighbours (among all rows) that classify a support vector as noise
        (all of another class), in danger (half or more) or safe.
    svm_estimator : estimator, default=None
        The SVM; None means ``SVC(gamma="scale", random_state=random_state)``.
    out_step : float, default=0.5
        Step of the extrapolation from the safe support vectors.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the k-NN and the generation run (the SVM always on the host).
    rng : {'imblearn', 'philox'}, default='imblearn'
        ``'imblearn'`` replays imbalanced-learn's draws; ``'philox'`` draws
        every row from the counter-based stream (same rows on every device and
        for any chunking), with the split drawn from ``(seed, class)``.

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
    nn_k_, nn_m_ : estimator
        The neighbours objects (see :class:`gpusmote.SMOTE`'s ``nn_k_``).
    svm_estimator_ : estimator
        The SVM, fitted on the data.
    device_ : str
    timings_ : dict
        Seconds spent in ``"svm"``, ``"knn"``, ``"copy"`` and ``"generate"``.
    n_features_in_ : int
    feature_names_in_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import SVMSMOTE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + 0.5 * rng.normal(size=200) > 1.2).astype(int)
    >>> X_res, y_res = SVMSMOTE(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res)[0] == np.bincount(y)[0]
    True
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "k_neighbors": NEIGHBORS_PARAMETER,
        "m_neighbors": NEIGHBORS_PARAMETER,
        "svm_estimator": [HasMethods(["fit", "predict"]), None],
        "out_step": [Interval(numbers.Real, 0, 1, closed="both")],
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(self, *, sampling_strategy="auto", random_state=None, k_neighbors=5,
                 m_neighbors=10, svm_estimator=None, out_step=0.5, device="auto",
                 rng="imblearn", ties="imblearn"):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.svm_estimator = svm_estimator
        self.out_step = out_step
        self.device = device
        self.rng = rng
        self.ties = ties

    def _resample(self, X, y, backend):
        self.device_ = backend.name
        self.timings_ = times = PhaseTimes()
        k_query = NeighborQuery("k_neighbors", self.k_neighbors, backend, self.ties)
        m_query = NeighborQuery("m_neighbors", self.m_neighbors, backend, self.ties)
        self.nn_k_, self.nn_m_ = k_query.estimator, m_query.estimator
        self.svm_estimator_ = (SVC(gamma="scale", random_state=self.random_state)
                               if self.svm_estimator is None else clone(self.svm_estimator))
        # The split's beta draws: one RandomState for the fit (imbalanced-learn's).
        split_rs = check_random_state(self.random_state) if self.rng == "imblearn" else None
        X_host = X if sparse.issparse(X) else backend.to_host(X)  # the SVM fits on the host
        points = searchable_rows(X, backend)
        labels = list(sorted_labels(y))
        blocks = []
        for label, n_samples in self.sampling_strategy_.items():
            if n_samples == 0:
                continue
            class_rows = np.flatnonzero(y == label)
            with times.phase("svm"):
                support = self._class_support_vectors(X_host, y, label)
            with times.phase("knn", backend.synchronize):
                support, danger = self._split_support_vectors(m_query, points, y, label, support)
                X_class = take_rows(points, class_rows, backend)
                # Support vectors are rows of the class: their positions in it.
                positions = np.searchsorted(class_rows, support)
                if self.rng == "imblearn":
                    n_danger_samples = int(split_rs.beta(10, 10) * (n_samples + 1))
                else:
                    split = np.random.default_rng([philox_seed(self.random_state), labels.index(label)])
                    n_danger_samples = int(split.beta(10, 10) * (n_samples + 1))
                for stream, (mask, n_block, step) in enumerate((
                        (danger, n_danger_samples, 1.0),
                        (~danger, n_samples - n_danger_samples, -float(self.out_step)))):
                    if not mask.any():
                        continue
                    table = k_query.among(X_class, positions[mask])
                    base = take_rows(X_class, positions[mask], backend)
                    draws = self._draws(backend, labels.index(label), stream, base.shape[0],
                                        table.shape[1], n_block, step)
                    blocks.append(Block(label, n_block, base, X_class, table, draws))
        return resample_blocks(X, y, blocks, times, backend)

    def _class_support_vectors(self, X_host, y: np.ndarray, label) -> np.ndarray:
        """Indices (into X) of the class's support vectors, from an SVM fitted
        on all rows as imbalanced-learn fits it (once per class)."""
        self.svm_estimator_.fit(X_host, y)
        if not hasattr(self.svm_estimator_, "support_"):
            raise RuntimeError(
                "`svm_estimator` is required to exposed a `support_` fitted attribute. Such "
                "estimator belongs to the familly of Support Vector Machine."
            )
        support = np.asarray(self.svm_estimator_.support_)
        return support[y[support] == label]

    @staticmethod
    def _split_support_vectors(m_query: NeighborQuery, points, y, label, support):
        """Drop the noise support vectors (every m-neighbour of another class)
        and mark those in danger (half or more, not all)."""
        table = np.asarray(m_query.backend.to_host(m_query.among(points, support)))
        n_other = np.sum(y[table] != label, axis=1)
        kept = n_other != table.shape[1]  # noise: every m-neighbour of another class
        if not kept.any():
            raise ValueError("All support vectors are considered as noise. SVM-SMOTE is not "
                             "adapted to your dataset. Try another SMOTE variant.")
        return support[kept], _in_danger(table[kept], y, label, table.shape[1])

    def _draws(self, backend, position: int, stream: int, n_base: int, k: int, n_samples: int,
               step: float):
        """The block's draws, taken now (imbalanced-learn interleaves the
        SVM's, the split's and the draws' use of one RandomState class by
        class) and scaled by the step."""
        if self.rng == "philox":
            seed = philox_seed(self.random_state)

            def philox():
                for chunk in iter_philox_draws(seed, position, n_base, k, n_samples, backend,
                                               stream=stream):
                    yield DrawChunk(chunk.start, chunk.rows, chunk.cols, chunk.steps * step)

            return philox
        chunks = [DrawChunk(c.start, *(backend.to_device(a) for a in (c.rows, c.cols, c.steps * step)))
                  for c in iter_imblearn_draws(self.random_state, n_base, k, n_samples)]
        return lambda: iter(chunks)


def _in_danger(table: np.ndarray, y: np.ndarray, label, m: int) -> np.ndarray:
    """imbalanced-learn's ``_in_danger_noise(kind='danger')``: m/2 <= other-class
    neighbours < m."""
    n_other = np.sum((y[table] != label).astype(int), axis=1)
    return np.bitwise_and(n_other >= m / 2, n_other < m)


def _check_scalable(points) -> None:
    """Raise where imbalanced-learn's Borderline-2 fails: at the first class
    with danger rows (none: no error), before its k-NN and any generation.

    Its ``diffs[mask] *= uniform(...)`` is in place in X's dtype: integer X
    raises NumPy's ``UFuncTypeError`` (reproduced by the same operation on
    empty arrays, whatever the number of scaled rows), and on a SciPy sparse
    *matrix* ``*=`` is a matrix product that fails with a shape mismatch.
    """
    if isinstance(points, sparse.spmatrix):
        raise ValueError(
            "kind='borderline-2' cannot resample a SciPy sparse matrix: imbalanced-learn "
            "scales the differences with `*=`, a matrix product on sparse matrices, and "
            "fails (ValueError: matmul: dimension mismatch). Pass a sparse array "
            "(scipy.sparse.csr_array or csc_array), dense X, or use kind='borderline-1'."
        )
    if sparse.issparse(points):
        return
    rows = np.zeros((0, 1), dtype=points.dtype)
    diffs = rows - rows
    diffs[np.zeros(0, dtype=bool)] *= np.zeros((0, 1))


def _compact(source, table: np.ndarray, backend: Backend):
    """The rows of ``source`` the table refers to, and the table renumbered
    into them: a block then holds at most ``table.size`` neighbour rows, not
    its class or all of X."""
    used, renumbered = np.unique(table, return_inverse=True)
    return take_rows(source, used, backend), renumbered.reshape(table.shape)


def _imblearn_draws(random_state, n_base: int, k: int, n_samples: int,
                    other_class: np.ndarray | None, backend: Backend) -> Iterator[DrawChunk]:
    """imbalanced-learn's ``_make_samples`` draws, in chunks, in backend memory.

    Borderline-2 then calls ``check_random_state`` again (a fresh stream for an
    int seed, the same object otherwise) for one ``uniform(0, 0.5)`` per row
    whose neighbour is of another class, after all the steps: the class's
    draws are kept on the host (24 bytes a row) until its scales are drawn.
    """
    chunks = iter_imblearn_draws(random_state, n_base, k, n_samples)
    if other_class is None:
        for chunk in chunks:
            yield DrawChunk(chunk.start, *(backend.to_device(a) for a in (chunk.rows, chunk.cols, chunk.steps)))
        return
    chunks = list(chunks)
    scale_rs = check_random_state(random_state)
    for chunk in chunks:
        # uniform(size=a) then uniform(size=b) are uniform(size=a + b)'s values
        mask = other_class[chunk.rows, chunk.cols]
        scales = np.ones(len(mask))
        scales[mask] = scale_rs.uniform(low=0.0, high=0.5, size=int(np.count_nonzero(mask)))
        yield DrawChunk(chunk.start, *(backend.to_device(a) for a in (chunk.rows, chunk.cols, chunk.steps, scales)))


def _philox_draws(seed: int, plan: ClassPlan, n_base: int, k: int, other_class: np.ndarray | None,
                  backend: Backend) -> Iterator[DrawChunk]:
    """Counter-based draws; Borderline-2's scales are stream 1's steps halved
    ([0, 0.5)), so row j's scale too depends only on (seed, class, j)."""
    draws = iter_philox_draws(seed, plan.position, n_base, k, plan.n_samples, backend)
    if other_class is None:
        yield from draws
        return
    other_class = backend.to_device(other_class)
    scale_draws = iter_philox_draws(seed, plan.position, n_base, k, plan.n_samples, backend, stream=1)
    for chunk, scale_chunk in zip(draws, scale_draws):
        mask = other_class[chunk.rows, chunk.cols]
        scales = backend.xp.where(mask, scale_chunk.steps * 0.5, 1.0)
        yield DrawChunk(chunk.start, chunk.rows, chunk.cols, chunk.steps, scales)
