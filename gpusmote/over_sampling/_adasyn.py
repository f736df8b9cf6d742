"""The ADASYN sampler: imbalanced-learn's API and semantics, gpusmote's engine.

imbalanced-learn's ``ADASYN._fit_resample`` does, per over-sampled class in
label order, with one ``RandomState`` for the whole fit::

    nns = NN(k + 1).fit(X).kneighbors(X_class)[:, 1:]      # among all rows
    ratio = (y[nns] != label).sum(1) / k;  ratio /= ratio.sum()
    g = np.rint(ratio * n).astype(int);    n = g.sum()       # counts change
    nns = NN(k + 1).fit(X_class).kneighbors(X_class)[:, 1:]
    rows = np.repeat(arange(n_class), g)
    cols = rs.choice(k, size=n)                             # = rs.randint(0, k, n)
    steps = rs.uniform(size=(n, 1))
    X_new = X_class[rows] + steps * (X_class[nns[rows, cols]] - X_class[rows])

Only the draws consume the ``RandomState``, so here every class's k-NN runs
first (phase 1) and the blocks are written afterwards (phase 2,
:func:`gpusmote.engine._resample.resample_blocks`), their draws taken in class order:
the same numbers. The draws are streamed in chunks by
:func:`gpusmote.engine._draws.iter_imblearn_draws` with a one-row table (its
integers in ``[0, k)`` are the columns, drawn before all the uniforms), and
the fixed, grouped rows are cut from the counts chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state

from gpusmote.devices._backend import Backend, array_module
from gpusmote.engine._draws import DrawChunk, iter_imblearn_draws, iter_philox_draws, philox_seed
from gpusmote.engine._labels import plain_dtype, sorted_labels
from gpusmote.engine._resample import Block, resample_blocks
from gpusmote.engine._timing import PhaseTimes
from gpusmote.neighbors._query import NeighborQuery
from gpusmote.neighbors._sparse import canonical_csr
from gpusmote.over_sampling._base import NEIGHBORS_PARAMETER, RNG_PARAMETER, TIES_PARAMETER, DeviceOverSampler

#: imbalanced-learn's messages, verbatim (its typo included).
NO_MAJORITY_NEIGHBOURS = (
    "Not any neigbours belong to the majority class. This case will induce a NaN case with a "
    "division by zero. ADASYN is not suited for this specific dataset. Use SMOTE instead."
)
NO_SAMPLES = "No samples will be generated with the provided ratio settings."


class ADASYN(DeviceOverSampler):
    """Adaptive Synthetic over-sampling (ADASYN), exact and fast.

    A drop-in replacement for :class:`imblearn.over_sampling.ADASYN`: the same
    parameters, validation, ``sampling_strategy`` rules, per-row counts and
    random draws. With an int ``random_state`` the output is bit-identical to
    imbalanced-learn's on data without distance ties. Each minority row gets a
    share of the new rows proportional to the share of other-class rows among
    its neighbours in the whole data set, so the counts generated may differ
    slightly from the ones requested (rounding), as in imbalanced-learn.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes to over-sample and (before ADASYN's rounding) to what
        count, exactly as in imbalanced-learn: ``'auto'`` (= ``'not
        majority'``), ``'minority'``, ``'not minority'``, ``'all'``, a float
        ratio (binary only), a dict ``{label: target count}`` or a callable
        ``y -> dict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws. One ``RandomState`` serves the whole fit (classes
        draw one after another), as in imbalanced-learn; an instance is
        advanced and left where imbalanced-learn leaves it.
    n_neighbors : int or estimator, default=5
        Neighbours per row, both for the class mix (among all rows) and for
        the interpolation (within the class). An int uses gpusmote's exact
        k-NN (ties by lower row index; a row is never its own neighbour). An
        object with ``kneighbors`` and ``kneighbors_graph`` is cloned, fitted
        and queried like imbalanced-learn does (its ``n_neighbors`` counts the
        row itself, column 0 is dropped).
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where k-NN and generation run. ``'auto'`` picks the best available.
        Sparse input always runs on the CPU, on its nonzeros (never densified).
    rng : {'imblearn', 'philox'}, default='imblearn'
        The random stream. ``'imblearn'`` consumes a ``RandomState`` exactly as
        imbalanced-learn does (bit-identical output). ``'philox'`` is
        counter-based (Philox4x32-10): the neighbour column and step of
        synthetic row j of a class depend only on (seed, class, j), so they are
        drawn where the kernels run and are identical on every device and for
        any chunking (the rows per base row are deterministic anyway); valid
        ADASYN, not imbalanced-learn's rows. An int ``random_state`` is its
        key; a ``RandomState`` or None gives one draw.

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
        Synthetic rows requested per class, in label order (before ADASYN's
        rounding, as imbalanced-learn keeps it).
    nn_ : estimator
        The neighbours object: with an int ``n_neighbors``, an unfitted
        :class:`gpusmote.NearestNeighbors` with ``n_neighbors = k + 1`` (as
        imbalanced-learn's) that computes the same tables as the search used;
        with an object, its clone, fitted last on the last over-sampled class.
    device_ : str
        The device that ran the last ``fit_resample``.
    timings_ : dict
        Seconds the last ``fit_resample`` spent per phase: ``"knn"`` (class
        rows, neighbour tables, counts), ``"copy"`` (output allocation and
        original rows) and ``"generate"`` (draws and synthetic rows).
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import ADASYN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 3)).astype(np.float32)
    >>> y = np.array([0] * 100 + [1] * 20)
    >>> X[y == 1] += 0.5
    >>> X_res, y_res = ADASYN(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res), X_res.dtype
    (array([100, 100]), dtype('float32'))
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "n_neighbors": NEIGHBORS_PARAMETER,
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        n_neighbors=5,
        device="auto",
        rng="imblearn",
        ties="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.n_neighbors = n_neighbors
        self.device = device
        self.rng = rng
        self.ties = ties

    def _resample(self, X, y, backend):
        self.device_ = backend.name
        self.timings_ = PhaseTimes()
        query = NeighborQuery("n_neighbors", self.n_neighbors, backend, self.ties)
        self.nn_ = query.estimator
        # One RandomState for the whole fit, resolved before any draw (as
        # imbalanced-learn does); philox keys from it once.
        rs = check_random_state(self.random_state) if self.rng == "imblearn" else None
        seed = philox_seed(self.random_state) if self.rng == "philox" else None
        with self.timings_.phase("knn", backend.synchronize):
            classes = _adaptive_classes(X, y, self.sampling_strategy_, query, backend, rs)
        labels = sorted_labels(y)
        blocks = []
        for mix in classes:
            if rs is not None:
                draws = _imblearn_draws_factory(rs, mix.counts, query.k, backend)
            else:
                position = int(np.flatnonzero(labels == mix.label)[0])
                draws = _philox_draws_factory(seed, position, mix.counts, query.k, backend)
            blocks.append(Block(mix.label, mix.n_samples, mix.base, mix.base, mix.table, draws))
        return resample_blocks(X, y, blocks, self.timings_, backend)


@dataclass(frozen=True)
class _AdaptiveClass:
    """One over-sampled class after its k-NN: rows, table, rows per base row."""

    label: object
    base: object
    table: object
    counts: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())


def _adaptive_classes(X, y: np.ndarray, sampling_strategy: Mapping, query: NeighborQuery,
                      backend: Backend, rs: np.random.RandomState | None) -> list[_AdaptiveClass]:
    """Phase 1: every over-sampled class's k-NN and counts, in label order.

    imbalanced-learn fails on class i after drawing for the classes before it;
    on such a failure ``rs`` (when given) is advanced past those draws first,
    so a caller's ``RandomState`` is left where imbalanced-learn leaves it.
    """
    points = _search_points(X, query, backend)
    done: list[_AdaptiveClass] = []
    try:
        for label, n_samples in sampling_strategy.items():
            if n_samples == 0:
                continue
            done.append(_adaptive_class(X, points, y, label, n_samples, query, backend))
    except Exception:
        if rs is not None:
            for mix in done:
                for _ in iter_imblearn_draws(rs, 1, query.k, mix.n_samples):
                    pass
        raise
    return done


def _search_points(X, query: NeighborQuery, backend: Backend):
    """All rows as the class-mix search reads them: backend memory, contiguous,
    for gpusmote's dense search; as validated otherwise (sparse stays sparse,
    an estimator gets host rows)."""
    if sparse.issparse(X) or not query.own:
        return X
    return backend.xp.ascontiguousarray(backend.to_device(X), dtype=plain_dtype(X.dtype))


def _adaptive_class(X, points, y: np.ndarray, label, n_samples, query: NeighborQuery,
                    backend: Backend) -> _AdaptiveClass:
    """One class: its mix among all rows, the counts, its within-class table."""
    class_indices = np.flatnonzero(y == label)
    mix_table = backend.to_host(query.among(points, class_indices))
    counts = adasyn_counts(y, mix_table, label, n_samples, query.k)
    base = _class_rows(X, points, class_indices, backend)
    return _AdaptiveClass(label, base, backend.to_device(query.within(base)), counts)


def adasyn_counts(y: np.ndarray, mix_table: np.ndarray, label, n_samples, k: int) -> np.ndarray:
    """Synthetic rows per base row, imbalanced-learn's expression step for step.

    Parameters
    ----------
    y : ndarray of shape (n_rows,)
        Labels of all rows.
    mix_table : ndarray of shape (n_class, k)
        Each class row's k nearest other rows among all rows.
    label : the class's label.
    n_samples : int (or float, from a dict ``sampling_strategy``)
        The rows requested for the class.
    k : int

    Returns
    -------
    ndarray of shape (n_class,), int
        Non-negative counts with a positive sum (may differ from ``n_samples``).

    Raises
    ------
    RuntimeError
        If no row has a neighbour of another class (imbalanced-learn's message).
    ValueError
        If every count rounds to zero (imbalanced-learn's message).
    """
    ratio_nn = np.sum(y[mix_table] != label, axis=1) / k
    if not np.sum(ratio_nn):
        raise RuntimeError(NO_MAJORITY_NEIGHBOURS)
    ratio_nn /= np.sum(ratio_nn)
    counts = np.rint(ratio_nn * n_samples).astype(int)
    if not np.sum(counts):
        raise ValueError(NO_SAMPLES)
    return counts


def _class_rows(X, points, class_indices: np.ndarray, backend: Backend):
    """The class's rows in backend memory (sparse: canonical CSR on the host),
    gathered from ``points`` when it already holds all rows there."""
    if sparse.issparse(X):
        return canonical_csr(X[class_indices])
    source = points if backend.holds(points) else X
    rows = source[array_module(source).asarray(class_indices)]
    return backend.xp.ascontiguousarray(backend.to_device(rows), dtype=plain_dtype(X.dtype))


def repeated_rows(counts: np.ndarray, ends: np.ndarray, start: int, stop: int) -> np.ndarray:
    """``np.repeat(np.arange(len(counts)), counts)[start:stop]`` without the
    whole repeat: only the base rows that reach into the slice are repeated.

    ``ends`` is ``np.cumsum(counts)``.
    """
    first = int(np.searchsorted(ends, start, side="right"))
    last = int(np.searchsorted(ends, stop - 1, side="right"))
    rows = np.arange(first, last + 1, dtype=np.int64)
    lengths = np.minimum(ends[rows], stop) - np.maximum(ends[rows] - counts[rows], start)
    return np.repeat(rows, lengths)


def _imblearn_draws_factory(rs: np.random.RandomState, counts: np.ndarray, k: int,
                            backend: Backend):
    """``() -> chunks``: ``cols = rs.randint(0, k, n)`` (what ``rs.choice(k,
    n)`` draws) then ``steps = rs.uniform(size=n)``, advancing ``rs``."""

    def draws() -> Iterator[DrawChunk]:
        ends = np.cumsum(counts)
        # A one-row table: the flat integers in [0, k) are the columns.
        for chunk in iter_imblearn_draws(rs, 1, k, int(ends[-1])):
            stop = chunk.start + len(chunk.cols)
            rows = repeated_rows(counts, ends, chunk.start, stop)
            yield DrawChunk(chunk.start, *(backend.to_device(a) for a in (rows, chunk.cols, chunk.steps)))

    return draws


def _philox_draws_factory(seed: int, position: int, counts: np.ndarray, k: int,
                          backend: Backend):
    """``() -> chunks``: counter-based columns and steps (a one-row table, so
    columns in ``[0, k)``), drawn on the backend; rows as ADASYN fixes them."""

    def draws() -> Iterator[DrawChunk]:
        ends = np.cumsum(counts)
        for chunk in iter_philox_draws(seed, position, 1, k, int(ends[-1]), backend):
            stop = chunk.start + len(chunk.cols)
            rows = backend.to_device(repeated_rows(counts, ends, chunk.start, stop))
            yield DrawChunk(chunk.start, rows, chunk.cols, chunk.steps)

    return draws
