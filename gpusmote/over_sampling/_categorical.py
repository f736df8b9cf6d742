"""Over-samplers for categorical data, as imbalanced-learn's ``SMOTEN`` and
``SMOTENC`` (``imblearn/over_sampling/_smote/base.py``).

SMOTENC: imbalanced-learn one-hot encodes the categorical columns, scales a
class's one-hot entries by ``median_std / sqrt(2)``, runs SMOTE on the sparse
hstack and then, per new row and categorical feature, densifies the base row's
k neighbours' one-hot blocks (``n_new x k x n_levels``) to take the most
frequent level, ties broken by one ``permutation`` of the tied (row, level)
pairs per feature. Here the k-NN runs on the class's rows (continuous columns
plus scaled one-hot, ``n_class x (n_continuous + n_levels)``), the continuous
columns are interpolated with imbalanced-learn's arithmetic, and the levels
are counted from the neighbours' codes by a kernel (no ``n_new x k`` block):
the same tied pairs, in ``argwhere``'s order, get the same permutation draw.
With many levels the k-NN runs on the codes themselves
(:mod:`gpusmote.kernels.mixed_neighbors`), never on one-hot rows.

SMOTEN:

imbalanced-learn builds each over-sampled class's dense ``n_class x n_class``
Value Difference Metric matrix and hands it to ``NearestNeighbors(metric=
"precomputed")``. Here the same float64 distances are computed a block of rows
at a time, from per-feature tables of imbalanced-learn's own terms between the
class's levels (a pair's term depends only on the two levels; features with too
many levels for a small table get their terms per pair, in NumPy's summation
order), by ``gpusmote.kernels.value_difference`` on the CPU or the device
(NumPy for small classes), and reduced to each row's ``k + 1`` nearest with
scikit-learn's own per-row selection (``argpartition`` then ``argsort``) on the
host: the neighbour table, tie order included, is scikit-learn's, and memory is
O(block x n_class), never O(n_class^2). All tables are made before the output
is allocated, and each class's new rows are decoded into it a block at a time.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from imblearn.metrics.pairwise import ValueDifferenceMetric
from imblearn.utils import check_neighbors_object, check_target_type
from imblearn.utils._validation import _check_X
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.sparsefuncs_fast import csr_mean_variance_axis0
from sklearn.utils.validation import _num_features
from sklearn_compat.utils._dataframe import is_pandas_df
from sklearn_compat.utils._indexing import _get_column_indices
from sklearn_compat.utils.validation import validate_data

from gpusmote.devices._backend import CPU, Backend, for_size
from gpusmote.devices._input import device_kind, like, to_host
from gpusmote.devices._resolve import resolve_device
from gpusmote.engine import _legacy_random
from gpusmote.engine._draws import iter_philox_draws, philox_seed
from gpusmote.engine._labels import sorted_labels
from gpusmote.engine._memory import release_freed_memory
from gpusmote.engine._resample import ClassPlan, empty_output, plan_classes
from gpusmote.neighbors._ties import may_order_differently, sklearn_table
from gpusmote.kernels import categorical, categorical_ties, mixed_neighbors, value_difference
from gpusmote.kernels._cpu_jit import kernels_loaded
from gpusmote.kernels._row_threads import shared_pool
from gpusmote.neighbors._cpu import scale_from_ranges
from gpusmote.neighbors._query import SMALL_NUMPY_TERMS
from gpusmote.neighbors._table import checked_neighbor_table
from gpusmote.over_sampling._base import NEIGHBORS_PARAMETER, RNG_PARAMETER, TIES_PARAMETER, DeviceOverSampler

#: Elements of the blocks of VDM rows in flight (block rows x class rows,
#: float64, all threads together): 1 Mi elements, 8 MiB (each block has one
#: temporary of its size alive with it); halving it from 16 MiB cost no time on
#: 200k x 10 codes (2-core VM) and took 16 MiB off the peak.
VDM_BLOCK_ELEMENTS = 1 << 20
#: Distance terms (class rows^2 x features) up to which the CPU computes a
#: class's VDM with NumPy (no kernel loaded in a fresh process); beyond, the
#: kernel. Set from the 2-core VM's timings below.
SMALL_VDM_TERMS = 1 << 24
#: Threads computing blocks at once (sharing the budget above).
VDM_THREADS = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count() or 1, 8))


#: New elements (rows x columns) up to which small data's SMOTENC and SMOTEN
#: generation is NumPy's or SciPy's (no kernel loaded); beyond, the kernels
#: (the temporaries cost memory: several times the new rows).
SMALL_GENERATE_ELEMENTS = 1 << 18
#: Rows of SMOTEN's new codes decoded at a time into the output.
DECODE_BLOCK_ROWS = 1 << 14


#: Bytes of SMOTENC's dense per-class k-NN rows (continuous columns plus the
#: scaled one-hot columns) beyond which the k-NN runs on the codes instead.
SMOTENC_DENSE_KNN_BYTES = 64 * 2**20
#: One-hot rows wider than this many times (continuous + categorical columns)
#: are searched from the codes whatever their size: a GEMM term costs about
#: 1/16 of a brute-force one (2-core VM, 5,000 rows x (20 + 4 x 100 levels):
#: codes 0.59 s, dense 0.53 s; x (20 + 4 x 10): 10.0 s against 1.4 s at 20,000
#: rows), and the codes need no n_class x width block.
CODES_KNN_WIDTH_RATIO = 16
#: Distance terms (class rows^2 x one-hot row width) up to which the small-data
#: path asks scikit-learn for a class's SMOTENC table (ties='imblearn'): ~0.03 s
#: at 1,000 x 220 on the 2-core VM; beyond, the CPU kernels are 5-10x faster.
SMALL_SKLEARN_TERMS = 1 << 28


class _CategoricalOverSampler(DeviceOverSampler):
    """Base of SMOTEN and SMOTENC: their categories are host objects, so
    device-resident input (CuPy, CUDA tensors) is copied to the host and the
    output goes back to X's and y's type."""

    def fit_resample(self, X, y, **params):
        """Resample the data set (see :meth:`DeviceOverSampler.fit_resample`)."""
        if device_kind(X) is not None or device_kind(y) is not None:
            X_res, y_res = self.fit_resample(to_host(X), to_host(y), **params)
            return like(X_res, X), like(y_res, y)
        return super().fit_resample(X, y, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True  # categories may be strings or objects
        return tags


class SMOTEN(_CategoricalOverSampler):
    """SMOTE for nominal (categorical-only) data, exact and memory-bounded.

    A drop-in replacement for :class:`imblearn.over_sampling.SMOTEN`: the same
    parameters, validation (strings and objects accepted), encoder, Value
    Difference Metric, neighbour tie order and random draws, so with an int
    ``random_state`` the output is imbalanced-learn's, bit for bit. Per
    over-sampled class each new row starts from a random class row and takes,
    feature by feature, the most frequent category among that row's
    ``k_neighbors + 1`` nearest class rows (itself included; ties to the
    smallest code).

    Parameters
    ----------
    categorical_encoder : estimator, default=None
        Encoder with ``fit_transform`` and ``inverse_transform`` and a fitted
        ``categories_``; None means ``OrdinalEncoder(dtype=np.int32)``. Cloned.
    sampling_strategy : float, str, dict or callable, default='auto'
        As in imbalanced-learn (see :class:`gpusmote.SMOTE`).
    random_state : int, RandomState instance or None, default=None
        Seeds the base-row draws; an int restarts a ``RandomState`` for every
        class, as imbalanced-learn does.
    k_neighbors : int or estimator, default=5
        An int k searches the k + 1 nearest rows (the row itself among them)
        in blocks, never building the class's distance matrix. An estimator
        (with ``kneighbors`` and ``kneighbors_graph``) is cloned, set to
        ``metric="precomputed"`` and fitted on the dense VDM matrix, as
        imbalanced-learn does: that path holds ``n_class x n_class`` floats.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the generation (the per-feature mode) runs. The distances and
        neighbour selection always run on the host with NumPy, whose
        ``argpartition`` tie order they must reproduce.
    rng : {'imblearn', 'philox'}, default='imblearn'
        ``'imblearn'`` replays imbalanced-learn's ``RandomState`` draws;
        ``'philox'`` draws new row j's base row from (seed, class, j) only:
        the same rows on every device.

    Attributes
    ----------
    categorical_encoder_ : estimator
        The fitted encoder.
    sampling_strategy_ : dict
    nn_k_ : estimator
        With an int ``k_neighbors``, an unfitted
        ``NearestNeighbors(n_neighbors=k + 1, metric="precomputed")`` (fitting
        it would need the dense matrix); with an estimator, its clone, fitted
        on the last over-sampled class, as imbalanced-learn's.
    device_ : str
        The device that ran the last ``fit_resample``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Sparse input is densified with imbalanced-learn's ``DataConversionWarning``
    and returned in its format (CSR or CSC), as imbalanced-learn does.
    CuPy arrays and CUDA tensors are resampled through a host copy.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import SMOTEN
    >>> X = np.array(["A"] * 10 + ["B"] * 20 + ["C"] * 30, dtype=object).reshape(-1, 1)
    >>> y = np.array([0] * 20 + [1] * 40, dtype=np.int32)
    >>> X_res, y_res = SMOTEN(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res)
    array([40, 40])
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "categorical_encoder": [HasMethods(["fit_transform", "inverse_transform"]), None],
        "random_state": ["random_state"],
        "k_neighbors": NEIGHBORS_PARAMETER,
        "rng": RNG_PARAMETER,
    }

    def __init__(
        self,
        categorical_encoder=None,
        *,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        device="auto",
        rng="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.categorical_encoder = categorical_encoder
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.device = device
        self.rng = rng

    def _check_X_y(self, X, y):
        # imbalanced-learn's SMOTEN check: any dtype (strings, objects), sparse kept
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(self, X=X, y=y, reset=True, dtype=None,
                             accept_sparse=["csr", "csc"])
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        sparse_format = X.format if sparse.issparse(X) else None
        if sparse_format is not None:
            X = X.toarray()
            warnings.warn("Passing a sparse matrix to SMOTEN is not really efficient since it"
                          " is converted to a dense array internally.", DataConversionWarning)
        X_res, y_res = self._resample(X, y, resolve_device(self.device))
        if sparse_format == "csr":
            return sparse.csr_matrix(X_res), y_res
        if sparse_format == "csc":
            return sparse.csc_matrix(X_res), y_res
        return X_res, y_res

    def _resample(self, X, y: np.ndarray, backend: Backend):
        self.device_ = backend.name
        labels = sorted_labels(y)
        y = y.view(np.dtype(y.dtype.str))  # returned rows carry no cached labels
        self.nn_k_ = check_neighbors_object("k_neighbors", self.k_neighbors, additional_neighbor=1)
        self.nn_k_.set_params(metric="precomputed")
        self.categorical_encoder_ = (OrdinalEncoder(dtype=np.int32) if self.categorical_encoder is None
                                     else clone(self.categorical_encoder))
        X_encoded = self.categorical_encoder_.fit_transform(X)
        vdm = ValueDifferenceMetric(
            n_categories=[len(cat) for cat in self.categorical_encoder_.categories_]
        ).fit(X_encoded, y)
        seed = philox_seed(self.random_state) if self.rng == "philox" else None
        plans = plan_classes(X.shape[0], self.sampling_strategy_, labels)
        class_codes = [_safe_indexing(X_encoded, np.flatnonzero(y == plan.label)) for plan in plans]
        del X_encoded  # from here on only the over-sampled classes' rows are needed
        # Every table before the output exists, and the k-NN's freed blocks
        # handed back: the output then takes their place instead of adding to it.
        tables = [self._neighbor_table(vdm, codes, backend) for codes in class_codes]
        release_freed_memory()
        X_res = self._decoded_output(X, sum(plan.n_samples for plan in plans))
        start, decoded, y_resampled = X.shape[0], [X], [y.copy()]
        for plan, codes, table in zip(plans, class_codes, tables):
            blocks = self._class_code_blocks(codes, table, plan, seed, backend)
            if X_res is None:
                # a custom encoder decodes each class whole, as imbalanced-learn
                decoded.append(self.categorical_encoder_.inverse_transform(np.concatenate(list(blocks))))
            else:
                for block in blocks:
                    X_res[start:start + len(block)] = self.categorical_encoder_.inverse_transform(block)
                    start += len(block)
            y_resampled.append(np.full(plan.n_samples, fill_value=plan.label, dtype=y.dtype))
        return (np.vstack(decoded) if X_res is None else X_res), np.hstack(y_resampled)

    def _decoded_output(self, X, n_new: int) -> np.ndarray | None:
        """The output of ``np.vstack([X] + [inverse_transform(codes) ...])``,
        imbalanced-learn's, with X's rows in place and room for ``n_new`` rows,
        allocated once; None when its dtype is only known once the rows are
        decoded (a custom encoder, object data)."""
        encoder = self.categorical_encoder_
        if type(encoder) is not OrdinalEncoder or X.dtype == object:
            return None
        # the default encoder's decoded dtype is its categories', whatever the rows
        decoded_dtype = np.result_type(*[levels.dtype for levels in encoder.categories_])
        X_res = empty_output((X.shape[0] + n_new, X.shape[1]), np.result_type(X.dtype, decoded_dtype))
        X_res[:X.shape[0]] = X
        return X_res

    def _neighbor_table(self, vdm: ValueDifferenceMetric, X_class, backend: Backend) -> np.ndarray:
        """Each class row's nearest class rows (itself included), in
        scikit-learn's order for ``NearestNeighbors(metric="precomputed")``."""
        if not isinstance(self.k_neighbors, numbers.Integral):
            # A user's estimator needs imbalanced-learn's dense matrix.
            distances = vdm.pairwise(X_class)
            self.nn_k_.fit(distances)
            return np.asarray(self.nn_k_.kneighbors(distances, return_distance=False))
        codes = check_array(X_class, ensure_non_negative=True, dtype=np.int32)  # as vdm.pairwise
        return vdm_kneighbors(vdm.proba_per_class_, codes, self.nn_k_.n_neighbors, backend)

    def _class_code_blocks(self, X_class, table: np.ndarray, plan: ClassPlan, seed: int | None,
                           backend: Backend) -> Iterator[np.ndarray]:
        """The class's new rows, encoded, at most :data:`DECODE_BLOCK_ROWS` at a
        time: per feature, the mode of the drawn base rows' neighbours."""
        X_class = np.asarray(X_class)
        n_class = X_class.shape[0]
        if seed is None:
            # imbalanced-learn's draw (restarted per class for an int seed)
            rs = check_random_state(self.random_state)
            draws = [rs.choice(np.arange(n_class), size=plan.n_samples, replace=True)]
        else:
            draws = (chunk.rows for chunk in
                     iter_philox_draws(seed, plan.position, n_class, 1, plan.n_samples, backend))
        samples = (s[first:first + DECODE_BLOCK_ROWS] for s in draws for first in range(0, len(s), DECODE_BLOCK_ROWS))
        # SciPy's mode (imbalanced-learn's expression) for codes the kernels do not
        # take, and for a few new rows in a process that has loaded no kernel yet
        # (the first costs ~0.25 s, several times a small SMOTEN)
        few = (backend.name == "cpu" and not kernels_loaded()
               and plan.n_samples * X_class.shape[1] <= SMALL_GENERATE_ELEMENTS)
        if few or not categorical.kernel_applies(X_class):
            return (categorical.mode_rows_reference(X_class, table, backend.to_host(s)) for s in samples)
        return _mode_blocks(X_class, table, samples, backend)


def _mode_blocks(codes: np.ndarray, table: np.ndarray, samples, backend: Backend) -> Iterator[np.ndarray]:
    """Run the mode kernel of ``backend`` on each block of draws (host result)."""
    device_codes = backend.to_device(np.ascontiguousarray(codes))
    device_table = backend.to_device(np.ascontiguousarray(table, dtype=np.int64))
    kernel = categorical.mode_rows if backend.name == "cpu" else categorical.mode_rows_cuda
    for block in samples:
        block = backend.xp.ascontiguousarray(backend.to_device(block), dtype=np.int64)
        out = backend.xp.empty((block.shape[0], codes.shape[1]), dtype=codes.dtype)
        kernel(out, device_codes, device_table, block)
        yield backend.to_host(out)


def vdm_kneighbors(proba_per_class: list[np.ndarray], codes: np.ndarray, n_neighbors: int,
                   backend: Backend = CPU) -> np.ndarray:
    """The ``n_neighbors`` nearest rows of ``codes`` to each of its rows under
    the Value Difference Metric, as ``NearestNeighbors(n_neighbors,
    metric="precomputed").fit(D).kneighbors(D)`` on imbalanced-learn's ``D``.

    The distances are computed a block of rows at a time (by the kernels of
    ``gpusmote.kernels.value_difference`` on ``backend``, or NumPy for small
    classes and for more classes than the kernels sum in NumPy's order) and
    each block is reduced on the host by scikit-learn's own selection.

    Parameters
    ----------
    proba_per_class : list of ndarray of shape (n_levels, n_classes)
        ``ValueDifferenceMetric.proba_per_class_`` (fitted on all rows).
    codes : ndarray of shape (n_rows, n_features), int32
        The class's encoded rows.
    n_neighbors : int
        Neighbours per row, the row itself included.
    backend : Backend
        Where the distances are computed.

    Returns
    -------
    ndarray of shape (n_rows, n_neighbors), int64

    Raises
    ------
    ValueError
        scikit-learn's, when ``n_neighbors`` exceeds the number of rows.
    """
    n_rows = codes.shape[0]
    if n_neighbors > n_rows:
        raise ValueError(f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {n_neighbors}, "
                         f"n_samples_fit = {n_rows}, n_samples = {n_rows}")
    terms = [_feature_terms(proba, codes[:, f]) for f, proba in enumerate(proba_per_class)]
    n_classes = proba_per_class[0].shape[1]
    table = np.empty((n_rows, n_neighbors), dtype=np.int64)

    def select(start: int, stop: int, distance: np.ndarray) -> None:
        table[start:stop] = _select_nearest(distance, n_neighbors)

    use_kernel = value_difference.kernel_applies(n_classes) and (
        backend.name == "cuda" or n_rows * n_rows * len(terms) > SMALL_VDM_TERMS)
    if use_kernel and backend.name == "cuda":
        _select_device_blocks(_KernelTerms.pack(terms, n_rows, n_classes), backend, select)
        return table
    if use_kernel:
        packed = _KernelTerms.pack(terms, n_rows, n_classes)
        rows, width = packed.block_cpu, 1
    else:
        rows = functools.partial(_vdm_rows, terms)
        # a block row's temporaries: n_rows floats, times n_classes for direct features
        width = max([term.shape[1] for kind, term, _ in terms if kind == "direct"] + [1])
    blocks = list(_row_blocks(n_rows * width, n_rows, VDM_THREADS))
    if VDM_THREADS == 1 or len(blocks) == 1:
        for start, stop in blocks:
            select(start, stop, rows(start, stop))
    else:
        # The kernel, NumPy's take and argpartition release the GIL; blocks are
        # independent. The process's kept threads: fresh ones per call would
        # each grow a malloc arena of freed blocks (RSS, not in use).
        list(shared_pool().map(lambda block: select(*block, rows(*block)), blocks))
    return table


def _select_device_blocks(packed: _KernelTerms, backend: Backend, select) -> None:
    """Distances on the device a block at a time, each block copied to the
    host and reduced there by the pool's threads (at most ``VDM_THREADS``
    blocks on the host at once) while the device computes the next."""
    device = packed.to_device(backend)
    n_rows = packed.levels.shape[1]
    pending: list = []
    for start, stop in _row_blocks(n_rows, n_rows, VDM_THREADS):
        distance = backend.xp.empty((stop - start, n_rows), dtype=np.float64)
        value_difference.vdm_block_cuda(distance, start, *device)
        pending.append(shared_pool().submit(select, start, stop, backend.to_host(distance)))
        del distance
        if len(pending) >= VDM_THREADS:
            pending.pop(0).result()
    for future in pending:
        future.result()


@dataclass(frozen=True)
class _KernelTerms:
    """The per-feature terms in the arrays ``gpusmote.kernels.value_difference``
    takes (see :func:`~gpusmote.kernels.value_difference.vdm_block`)."""

    levels: np.ndarray
    tables: np.ndarray
    table_start: np.ndarray
    table_width: np.ndarray
    proba: np.ndarray
    direct_slot: np.ndarray

    @classmethod
    def pack(cls, terms: list[tuple[str, np.ndarray, np.ndarray]], n_rows: int, n_classes: int) -> _KernelTerms:
        n_features = len(terms)
        levels = np.zeros((n_features, n_rows), dtype=np.int32)  # a feature's levels contiguous
        table_start = np.zeros(n_features, dtype=np.int64)
        table_width = np.zeros(n_features, dtype=np.int64)
        direct_slot = np.full(n_features, -1, dtype=np.int64)
        tables, direct, offset = [], [], 0
        for f, (kind, term, feature_levels) in enumerate(terms):
            if kind == "table":
                levels[f] = feature_levels
                table_start[f], table_width[f] = offset, term.shape[0]
                tables.append(term.reshape(-1))
                offset += term.size
            else:
                direct_slot[f] = len(direct)
                direct.append(term)
        return cls(levels,
                   np.concatenate(tables) if tables else np.zeros(1),
                   table_start, table_width,
                   np.stack(direct) if direct else np.zeros((0, 1, n_classes)),
                   direct_slot)

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.levels, self.tables, self.table_start, self.table_width, self.proba, self.direct_slot)

    def to_device(self, backend: Backend) -> tuple:
        return tuple(backend.to_device(a) for a in self.arrays())

    def block_cpu(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the VDM matrix, by the CPU kernel."""
        distance = np.empty((stop - start, self.levels.shape[1]), dtype=np.float64)
        value_difference.vdm_block(distance, start, *self.arrays())
        return distance


def _feature_terms(proba: np.ndarray, column: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
    """How one feature's squared VDM terms are found for the class's rows.

    ``("table", T, levels)``: ``T[levels[i], levels[j]]`` for the levels
    present in the class, when that ``n_present x n_present`` table is small;
    else ``("direct", P, None)``, the rows' class probabilities, whose terms are
    computed block by block (a high-cardinality feature would make the table
    as big as the matrix it replaces).
    """
    present, levels = np.unique(column, return_inverse=True)
    if present.size * present.size * proba.shape[1] <= VDM_BLOCK_ELEMENTS:
        return "table", level_distances(proba[present]) ** 2, levels.reshape(-1)
    return "direct", np.ascontiguousarray(proba[column]), None


def level_distances(proba: np.ndarray) -> np.ndarray:
    """One feature's VDM term between every pair of its levels, unsquared.

    imbalanced-learn's entry (i, j) is ``scipy.spatial.distance_matrix(P, P,
    p=1)``, i.e. ``np.sum(np.abs(P[j] - P[i]), axis=-1)`` on the rows' class
    probabilities: it depends only on the two rows' levels, so this
    ``n_levels x n_levels`` table, made by the same reduction over the same
    contiguous class axis, holds the same roundings.
    """
    return np.abs(proba[None, :, :] - proba[:, None, :]).sum(axis=-1)


def _row_blocks(row_elements: int, n_rows: int, n_threads: int) -> Iterator[tuple[int, int]]:
    """Row ranges whose blocks (``row_elements`` a row), ``n_threads`` at a
    time, stay within ``VDM_BLOCK_ELEMENTS``."""
    step = max(1, VDM_BLOCK_ELEMENTS // max(1, row_elements * n_threads))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def _vdm_rows(terms: list[tuple[str, np.ndarray, np.ndarray]], start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of imbalanced-learn's VDM matrix, bit for bit: the
    squared per-feature terms added in feature order from zero, as
    ``ValueDifferenceMetric.pairwise`` adds them."""
    n_rows = len(terms[0][2]) if terms[0][0] == "table" else terms[0][1].shape[0]
    distance = np.zeros((stop - start, n_rows), dtype=np.float64)
    for kind, term, levels in terms:
        if kind == "table":
            # (block rows x n_present) of the table, then each class row's level
            distance += np.take(term[levels[start:stop]], levels, axis=1)
        else:
            # imbalanced-learn's own expression (see level_distances), in place
            diff = term[None, :, :] - term[start:stop, None, :]
            distance += np.abs(diff, out=diff).sum(axis=-1) ** 2
    return distance


def _select_nearest(distance: np.ndarray, n_neighbors: int) -> np.ndarray:
    """scikit-learn's ``_kneighbors_reduce_func``: per row, ``argpartition``
    then ``argsort`` of the kept distances. Row by row, so blocks cannot
    change NumPy's tie order (which categorical data hits constantly)."""
    sample_range = np.arange(distance.shape[0])[:, None]
    neigh_ind = np.argpartition(distance, n_neighbors - 1, axis=1)[:, :n_neighbors]
    return neigh_ind[sample_range, np.argsort(distance[sample_range, neigh_ind])]


class SMOTENC(_CategoricalOverSampler):
    """SMOTE for mixed continuous and categorical data, exact and without
    imbalanced-learn's dense ``n_new x k x n_levels`` block.

    A drop-in replacement for :class:`imblearn.over_sampling.SMOTENC`: the same
    parameters, validation and messages, encoder, fitted attributes and random
    draws, so with an int ``random_state`` on data without distance ties the
    output is imbalanced-learn's, bit for bit. Per over-sampled class the
    continuous columns are interpolated as SMOTE does; each categorical
    feature takes the most frequent level among all ``k_neighbors`` neighbours
    of the base row, ties broken by imbalanced-learn's ``permutation`` draw.

    Parameters
    ----------
    categorical_features : 'auto' or array-like
        'auto' (a DataFrame's ``CategoricalDtype`` columns), indices, names or
        a boolean mask, as in imbalanced-learn.
    categorical_encoder : estimator, default=None
        A one-hot encoder (one column per category); None means
        ``OneHotEncoder(handle_unknown="ignore", dtype=<continuous dtype>)``.
        Cloned.
    sampling_strategy : float, str, dict or callable, default='auto'
    random_state : int, RandomState instance or None, default=None
    k_neighbors : int or estimator, default=5
        An int runs gpusmote's exact k-NN under imbalanced-learn's metric
        (continuous columns plus one-hot columns scaled by ``median_std_ /
        sqrt(2)``): on dense one-hot rows while a class's take at most
        :data:`SMOTENC_DENSE_KNN_BYTES` and are at most
        :data:`CODES_KNN_WIDTH_RATIO` times as wide as the continuous plus
        categorical columns (a GEMM search), else from the codes
        (a brute force with the same float64 distances, ``n_continuous +
        n_categorical`` operations a pair). An estimator is cloned and fitted
        on imbalanced-learn's sparse matrix, as there.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where the k-NN and the generation (interpolation and the categorical
        mode, :mod:`gpusmote.kernels.categorical_ties`) run; sparse input
        runs on the CPU. Small data (up to 4M elements) takes a NumPy path
        with the same results.
    rng : {'imblearn', 'philox'}, default='imblearn'
        ``'imblearn'``: imbalanced-learn's draws (bit-identical output).
        ``'philox'``: counter-based, new row j of a class depends only on
        (seed, class, j): SMOTE's base row, neighbour and step (stream 0), and
        per categorical feature f a uniform (stream f + 1) that picks among
        the levels tied for the mode (ascending), so the rows do not depend on
        the chunking. Equally valid SMOTE-NC, not imbalanced-learn's rows.
    ties : {'imblearn', 'index'}, default='imblearn'
        With an int ``k_neighbors``, where distances tie or nearly tie
        (categorical data: often), a class whose table could depend on the
        tie order gets scikit-learn's own search on imbalanced-learn's sparse
        matrix (its output on all data); ``'index'``: ties by the lower index.

    Attributes
    ----------
    categorical_features_ : ndarray of int
    continuous_features_ : ndarray of int
    categorical_encoder_ : estimator
    median_std_ : dict
        Per over-sampled class, the median of its continuous columns' std.
    n_features_ : int
    nn_k_ : estimator
    sampling_strategy_ : dict
    device_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "categorical_features": ["array-like", StrOptions({"auto"})],
        "categorical_encoder": [HasMethods(["fit_transform", "inverse_transform"]), None],
        "random_state": ["random_state"],
        "k_neighbors": NEIGHBORS_PARAMETER,
        "rng": RNG_PARAMETER,
        "ties": TIES_PARAMETER,
    }

    def __init__(
        self,
        categorical_features,
        *,
        categorical_encoder=None,
        sampling_strategy="auto",
        random_state=None,
        k_neighbors=5,
        device="auto",
        rng="imblearn",
        ties="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.categorical_features = categorical_features
        self.categorical_encoder = categorical_encoder
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.device = device
        self.rng = rng
        self.ties = ties

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _check_X_y(self, X, y):
        # imbalanced-learn's SMOTENC check: DataFrames passed through, any dtype
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X = _check_X(X)
        validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
        return X, y, binarize_y

    def _validate_column_types(self, X) -> None:
        """imbalanced-learn's indices of the categorical and continuous features."""
        if isinstance(self.categorical_features, str) and self.categorical_features == "auto":
            if not is_pandas_df(X):
                raise ValueError(
                    "When `categorical_features='auto'`, the input data "
                    f"should be a pandas.DataFrame. Got {type(X)} instead."
                )
            import pandas as pd

            categorical = np.array([isinstance(dtype, pd.CategoricalDtype) for dtype in X.dtypes])
            self.categorical_features_ = np.flatnonzero(categorical)
            self.continuous_features_ = np.flatnonzero(~categorical)
        else:
            self.categorical_features_ = np.array(_get_column_indices(X, self.categorical_features))
            self.continuous_features_ = np.setdiff1d(np.arange(self.n_features_), self.categorical_features_)

    def _fit_resample(self, X, y):
        self.n_features_ = _num_features(X)
        self._validate_column_types(X)
        self.nn_k_ = check_neighbors_object("k_neighbors", self.k_neighbors, additional_neighbor=1)
        if self.categorical_features_.size == self.n_features_in_:
            raise ValueError("SMOTE-NC is not designed to work only with categorical "
                             "features. It requires some numerical features.")
        if self.categorical_features_.size == 0:
            raise ValueError("SMOTE-NC is not designed to work only with numerical "
                             "features. It requires some categorical features.")
        is_sparse = sparse.issparse(X)
        if is_sparse and self.device == "cuda":
            warnings.warn("sparse input is resampled on the CPU; device='cuda' applies to dense input.",
                          UserWarning, stacklevel=3)
        backend = for_size(CPU if is_sparse else resolve_device(self.device), X, self.ties)
        self.device_ = backend.name
        y = y.view(np.dtype(y.dtype.str))  # returned rows carry no cached labels

        X_continuous = check_array(_safe_indexing(X, self.continuous_features_, axis=1),
                                   accept_sparse=["csr", "csc"])
        X_categorical = _safe_indexing(X, self.categorical_features_, axis=1)
        dtype = X_continuous.dtype if X_continuous.dtype.name != "object" else np.dtype(np.float64)
        self.categorical_encoder_ = (OneHotEncoder(handle_unknown="ignore", dtype=dtype)
                                     if self.categorical_encoder is None
                                     else clone(self.categorical_encoder))
        X_ohe = self.categorical_encoder_.fit_transform(
            X_categorical.toarray() if sparse.issparse(X_categorical) else X_categorical)
        if not sparse.issparse(X_ohe):
            X_ohe = sparse.csr_matrix(X_ohe, dtype=dtype)
        widths = [categories.size for categories in self.categorical_encoder_.categories_]
        n_categories = sum(widths)
        if X_ohe.shape[1] != n_categories:
            raise ValueError(
                "SMOTENC requires a one-hot encoding with one column per category "
                "for the categorical features. The provided `categorical_encoder` "
                f"produced {X_ohe.shape[1]} columns for {n_categories} categories. "
                "This happens when the encoder drops columns (e.g. "
                "`OneHotEncoder(drop=...)`) or merges infrequent categories, which "
                "is not supported. Pass an encoder that keeps all categories, such "
                "as `OneHotEncoder(handle_unknown='ignore')`."
            )
        codes = _one_hot_codes(X_ohe, widths)
        # imbalanced-learn's continuous block goes through a CSR matrix: dense,
        # in the one-hot dtype, zeros (including -0.0) as stored zeros (+0.0)
        X_continuous = X_continuous.toarray() if sparse.issparse(X_continuous) else np.asarray(X_continuous)
        del X_categorical, X_ohe
        encoder = self.categorical_encoder_
        plans = [(label, n_samples) for label, n_samples in self.sampling_strategy_.items() if n_samples]
        y_res = np.hstack([y.copy()] + [np.full(n, fill_value=label, dtype=y.dtype) for label, n in plans])
        self.median_std_ = {}
        labels = list(sorted_labels(y))
        # the over-sampled classes' rows (minorities: small), in the one-hot dtype
        class_inputs = [(label, n_samples, _stored_zeros(X_continuous[indices].astype(dtype)), codes[indices])
                        for label, n_samples in plans for indices in [np.flatnonzero(y == label)]]

        def class_rows():
            while class_inputs:
                label, n_samples, class_continuous, class_codes = class_inputs.pop(0)
                yield self._class_samples(class_continuous, class_codes, widths, label, n_samples,
                                          backend, labels.index(label))

        out_dtype = (np.result_type(dtype, *[levels.dtype for levels in encoder.categories_])
                     if _plain_one_hot(encoder) else None)
        if is_sparse or out_dtype is None or out_dtype.kind != "f":
            continuous = _stored_zeros(X_continuous.astype(dtype, copy=True))  # the caller's X is never written
            del X_continuous
            parts = [(continuous, codes), *class_rows()]
            continuous_res = np.concatenate([part[0] for part in parts])
            codes_res = np.concatenate([part[1] for part in parts])
            return self._assemble(continuous_res, codes_res, widths, dtype, is_sparse), y_res
        # imbalanced-learn's hstack of continuous and decoded columns, put back
        # in the input's order: here one float output, the original rows copied
        # into it (no copy of the continuous block) and each class written as made
        n_rows = len(codes)
        if isinstance(X, np.ndarray) and X.dtype == X_continuous.dtype == dtype:
            # the same values straight from X, column by column: the selected
            # block need not live beside the output
            del X_continuous
            X_res = np.empty((y_res.size, self.n_features_), dtype=out_dtype)
            for column in self.continuous_features_:
                X_res[:n_rows, column] = X[:, column]
            self._write_rows(X_res, 0, None, codes)
        else:
            X_res = np.empty((y_res.size, self.n_features_), dtype=out_dtype)
            self._write_rows(X_res, 0, X_continuous.astype(dtype, copy=False), codes)
            del X_continuous
        for column in self.continuous_features_:
            _stored_zeros(X_res[:n_rows, column])
        del codes  # written: from here on only the class rows are needed
        columns = self._continuous_columns()
        # continuous columns side by side, same dtype: new values go straight into the output
        direct = out_dtype == dtype and isinstance(columns, slice)
        start = n_rows
        while class_inputs:
            label, n_samples, class_continuous, class_codes = class_inputs.pop(0)
            out = X_res[start:start + n_samples, columns] if direct else None
            new_continuous, new_codes = self._class_samples(class_continuous, class_codes, widths, label,
                                                            n_samples, backend, labels.index(label), out)
            self._write_rows(X_res, start, None if direct else new_continuous, new_codes)
            start += n_samples
            del new_continuous, new_codes, class_continuous, class_codes
        return X_res, y_res

    def _continuous_columns(self) -> slice | np.ndarray:
        """The output's continuous columns: a slice when they sit side by side
        (a view of the output), else their indices."""
        columns = self.continuous_features_
        first = int(columns[0]) if columns.size else 0
        if np.array_equal(columns, np.arange(first, first + columns.size)):
            return slice(first, first + columns.size)
        return columns

    def _write_rows(self, X_res: np.ndarray, start: int, continuous: np.ndarray | None,
                    codes: np.ndarray) -> None:
        """Rows ``start ..`` of the output: the continuous columns (unless
        None) and the decoded levels (``categories_[i][codes]``), each in its
        input column."""
        stop = start + len(codes)
        if continuous is not None:  # (a slice of columns takes it without a temporary)
            X_res[start:stop, self._continuous_columns()] = continuous
        for i, levels in enumerate(self.categorical_encoder_.categories_):
            X_res[start:stop, self.categorical_features_[i]] = levels[codes[:, i]]

    def _class_samples(self, continuous: np.ndarray, codes: np.ndarray, widths: list[int], label,
                       n_samples: int, backend: Backend, position: int,
                       out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One class's new rows: continuous values and categorical codes
        (``position``: the class's place among the sorted labels, the
        counter-based stream's class index). With ``out`` (a host view of the
        output, the data's dtype) the continuous values are written there."""
        dtype = continuous.dtype
        _, var = csr_mean_variance_axis0(sparse.csr_matrix(continuous))
        median_std = np.median(np.sqrt(var))
        self.median_std_[label] = median_std
        # the value imbalanced-learn writes into the class's one-hot entries
        scaled = np.array([median_std / np.sqrt(2)]).astype(dtype)[0]
        table = self._neighbor_table(continuous, codes, widths, scaled, backend)
        k = table.shape[1]

        if self.rng == "philox":
            # SMOTE's counter-based draws (stream 0); feature f's ties take
            # stream f + 1's uniforms: each row from (seed, class, j) alone.
            seed = philox_seed(self.random_state)
            rows, cols, steps = (np.concatenate(parts) for parts in zip(*(
                (c.rows, c.cols, c.steps) for c in
                iter_philox_draws(seed, position, len(continuous), k, n_samples, CPU))))
        else:
            # imbalanced-learn's _make_samples draws, then _generate_samples' rs2
            random_state = check_random_state(self.random_state)
            samples_indices = _legacy_random.randint(random_state, table.size, n_samples)
            steps = 1.0 * _legacy_random.uniform(random_state, n_samples)
            rows = np.floor_divide(samples_indices, k)
            cols = np.mod(samples_indices, k)
        one = np.ones(1, dtype=dtype)[0] if math.isclose(median_std, 0) else scaled
        ties = _tie_table(one, k)
        if self.rng == "philox":
            # feature f's ties take stream f + 1's uniforms
            tie_break = np.stack([np.concatenate([c.steps for c in iter_philox_draws(
                seed, position, 1, 1, n_samples, CPU, stream=f + 1)]) for f in range(len(widths))], axis=1)
        else:
            # after the rows and steps, imbalanced-learn's one permutation per feature
            tie_break = check_random_state(self.random_state)
        if backend.small and n_samples * (continuous.shape[1] + len(widths)) <= SMALL_GENERATE_ELEMENTS:
            generate = _generate_numpy
        else:  # NumPy's temporaries would be several times the new rows: the kernels write them once
            generate = functools.partial(_generate, CPU if backend.small else backend)
        return generate(continuous, codes, table, rows, cols, steps, widths, ties, tie_break, out)

    def _neighbor_table(self, continuous, codes, widths, scaled, backend: Backend) -> np.ndarray:
        """Each class row's k nearest other class rows under imbalanced-learn's
        metric (continuous columns + one-hot columns scaled by ``scaled``)."""
        n_rows = continuous.shape[0]
        offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        def imblearn_matrix():
            one_hot = _one_hot(codes, widths, offsets, continuous.dtype, scaled)
            return sparse.hstack((sparse.csr_matrix(continuous), one_hot), format="csr",
                                 dtype=continuous.dtype)

        if not isinstance(self.k_neighbors, numbers.Integral):
            X_class = imblearn_matrix()
            self.nn_k_.fit(X_class)
            table = self.nn_k_.kneighbors(X_class, return_distance=False)[:, 1:]
            return checked_neighbor_table(table, n_rows)
        k = int(self.k_neighbors)
        if n_rows <= k:
            raise ValueError(f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k + 1}, "
                             f"n_samples_fit = {n_rows}, n_samples = {n_rows}")
        # One more than k with ties='imblearn': the k-th against the next is checked too.
        width = k if self.ties == "index" else min(k + 1, n_rows - 1)
        terms = n_rows * n_rows * (continuous.shape[1] + sum(widths))
        if backend.small and terms > SMALL_NUMPY_TERMS:
            # past NumPy's brute force (small X, but one-hot rows can be wide):
            # scikit-learn's own search while it is quick, else the kernels
            if self.ties == "imblearn" and terms <= SMALL_SKLEARN_TERMS:
                return sklearn_table(imblearn_matrix(), k)
            backend = CPU
        n_one_hot_columns = continuous.shape[1] + sum(widths)
        if (n_rows * n_one_hot_columns * 8 > SMOTENC_DENSE_KNN_BYTES
                or n_one_hot_columns > CODES_KNN_WIDTH_RATIO * (continuous.shape[1] + len(widths))):
            # Many levels: the distances from the codes (the one-hot rows'
            # bit for bit); the scikit-learn check gets the rows as CSR.
            table = _mixed_kneighbors(continuous, codes, widths, scaled, width, backend)
            one_hot = _one_hot(codes, widths, offsets, np.float64, float(scaled))
            rows = sparse.hstack((sparse.csr_matrix(continuous.astype(np.float64)), one_hot),
                                 format="csr")
        else:
            # dense rows whose squared Euclidean distances are imbalanced-learn's
            rows = np.zeros((n_rows, continuous.shape[1] + sum(widths)), dtype=np.float64)
            rows[:, :continuous.shape[1]] = continuous
            rows[np.arange(n_rows)[:, None], continuous.shape[1] + offsets + codes] = float(scaled)
            table = np.asarray(backend.to_host(backend.kneighbors(backend.to_device(rows), width)),
                               dtype=np.int64)
            rows = sparse.csr_matrix(rows)  # the tie check reads nonzeros only
        if self.ties == "imblearn" and may_order_differently(rows, table):
            return sklearn_table(imblearn_matrix(), k)  # imbalanced-learn's own search
        return np.ascontiguousarray(table[:, :k])

    def _assemble(self, continuous: np.ndarray, codes: np.ndarray, widths: list[int], dtype,
                  is_sparse: bool):
        """imbalanced-learn's output: continuous columns, decoded categories,
        columns back in the input's order."""
        decoded = _decode(self.categorical_encoder_, codes, widths, dtype)
        order = np.argsort(np.hstack((self.continuous_features_, self.categorical_features_)))
        if is_sparse:
            X_res = sparse.hstack((sparse.csr_matrix(continuous), decoded), format="csr")
            col_indices = X_res.indices.copy()
            for idx, col_idx in enumerate(order):
                col_indices[X_res.indices == col_idx] = idx
            X_res.indices = col_indices
            return X_res
        # one output, each block written into its columns
        X_res = np.empty((continuous.shape[0], order.size), dtype=np.result_type(continuous, decoded))
        X_res[:, self.continuous_features_] = continuous
        X_res[:, self.categorical_features_] = decoded
        return X_res


def _mixed_kneighbors(continuous: np.ndarray, codes: np.ndarray, widths: list[int], scaled,
                      width: int, backend: Backend) -> np.ndarray:
    """Each class row's ``width`` nearest other rows of ``[continuous |
    one-hot * scaled]`` (host int64 table), computed from the codes by
    :mod:`gpusmote.kernels.mixed_neighbors` on ``backend``'s device: the
    dense search's table, with its scale from the one-hot rows' column ranges."""
    n_rows = continuous.shape[0]
    level = float(scaled)
    lowest, highest = [continuous.min(axis=0).astype(np.float64)], [continuous.max(axis=0).astype(np.float64)]
    for f, n_levels in enumerate(widths):
        counts = np.bincount(codes[:, f], minlength=n_levels)
        # a level's one-hot column holds `level` in its rows, 0.0 in the others
        everywhere, somewhere = counts == n_rows, counts > 0
        lowest.append(np.where(everywhere, level, np.where(somewhere, min(level, 0.0), 0.0)))
        highest.append(np.where(everywhere, level, np.where(somewhere, max(level, 0.0), 0.0)))
    scale = scale_from_ranges(np.concatenate(lowest), np.concatenate(highest))
    difference = level * scale  # exact: a power of two
    xp = backend.xp
    out_d = xp.empty((n_rows, width), dtype=np.float64)
    out_j = xp.empty((n_rows, width), dtype=np.int64)
    mixed_neighbors.mixed_kneighbors(backend.to_device(np.ascontiguousarray(continuous)),
                                     backend.to_device(np.ascontiguousarray(codes)), scale,
                                     difference * difference, out_d, out_j, on_cuda=backend.name == "cuda")
    return np.asarray(backend.to_host(out_j), dtype=np.int64)


def _generate_numpy(continuous: np.ndarray, codes: np.ndarray, table: np.ndarray, rows: np.ndarray,
                    cols: np.ndarray, steps: np.ndarray, widths: list[int], ties: np.ndarray,
                    tie_break, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One class's new rows with NumPy (small data: no kernel is loaded).

    ``tie_break``: the counter-based uniforms, shape ``(n_new, n_features)``,
    or imbalanced-learn's RandomState (one permutation per feature). ``out``:
    where the continuous values go (a new array when None)."""
    diffs = continuous[table[rows, cols]] - continuous[rows]
    new_continuous = (continuous[rows] + steps[:, np.newaxis] * diffs).astype(continuous.dtype)
    if out is not None:
        out[...] = new_continuous
        new_continuous = out
    _stored_zeros(new_continuous)  # a sparse sum stores no -0.0
    neighbors = table[rows]
    new_codes = np.empty((rows.size, len(widths)), dtype=np.int64)
    for f, width in enumerate(widths):
        if isinstance(tie_break, np.ndarray):
            new_codes[:, f] = _mode_with_uniforms(codes[:, f][neighbors], width, ties, tie_break[:, f])
        else:
            new_codes[:, f] = _mode_with_ties(codes[:, f][neighbors], width, ties, tie_break)
    return new_continuous, new_codes


def _generate(backend: Backend, continuous: np.ndarray, codes: np.ndarray, table: np.ndarray,
              rows: np.ndarray, cols: np.ndarray, steps: np.ndarray, widths: list[int], ties: np.ndarray,
              tie_break, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_generate_numpy` with the kernels, on ``backend``'s device: the
    continuous columns by SMOTE's interpolation kernel (imbalanced-learn's
    arithmetic; into ``out`` when given, a host view, CPU only), the levels by
    :mod:`gpusmote.kernels.categorical_ties`. Returns host arrays."""
    xp, on_cuda = backend.xp, backend.name == "cuda"
    continuous_d, table_d, rows_d = (backend.to_device(np.ascontiguousarray(a))
                                     for a in (continuous, table, rows))
    new_continuous = (out if out is not None and not on_cuda
                      else xp.empty((rows.size, continuous.shape[1]), dtype=continuous.dtype))
    backend.interpolate(new_continuous, continuous_d, continuous_d, table_d, rows_d,
                        backend.to_device(cols), backend.to_device(steps))
    _stored_zeros(new_continuous)  # a sparse sum stores no -0.0
    args = (backend.to_device(np.ascontiguousarray(codes)), table_d, rows_d,
            backend.to_device(np.asarray(widths, dtype=np.int64)), backend.to_device(ties))
    new_codes = xp.empty((rows.size, len(widths)), dtype=np.int64)
    if isinstance(tie_break, np.ndarray):
        categorical_ties.pick_by_uniforms(new_codes, *args, backend.to_device(tie_break), on_cuda=on_cuda)
    else:
        n_tied = xp.empty_like(new_codes)
        categorical_ties.tied_counts(n_tied, *args, on_cuda=on_cuda)
        positions, offsets = _permutation_positions(backend.to_host(n_tied), tie_break)
        categorical_ties.pick_by_positions(new_codes, *args, backend.to_device(positions),
                                           backend.to_device(offsets), on_cuda=on_cuda)
    new_continuous = backend.to_host(new_continuous)
    if out is not None and new_continuous is not out:
        out[...] = new_continuous
    return out if out is not None else new_continuous, backend.to_host(new_codes)


def _permutation_positions(n_tied: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """imbalanced-learn's permutations of the tied (row, level) pairs, one per
    feature in order: ``positions[p]`` is pair p's place in its feature's
    permutation; ``offsets[j, f]`` is where element (j, f)'s pairs start
    (pairs listed feature by feature, rows ascending, as ``argwhere``)."""
    offsets = np.empty(n_tied.shape, dtype=np.int64)
    parts, start = [], 0
    for f in range(n_tied.shape[1]):
        counts = n_tied[:, f]
        offsets[:, f] = start + np.cumsum(counts) - counts
        m = int(counts.sum())
        position = np.empty(m, dtype=np.int32 if m < 2**31 else np.int64)
        position[rng.permutation(m)] = np.arange(m)
        parts.append(position)
        start += m
    positions = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)  # int32 when every part is
    return positions, offsets


def _one_hot(codes: np.ndarray, widths: list[int], offsets: np.ndarray, dtype, value) -> sparse.csr_matrix:
    """The CSR one-hot matrix of ``codes`` with every entry ``value``."""
    n_rows, n_features = codes.shape
    indices = (codes + offsets).reshape(-1)
    data = np.full(indices.size, value, dtype=dtype)
    indptr = np.arange(0, n_rows * n_features + 1, n_features, dtype=np.int64)
    return sparse.csr_matrix((data, indices, indptr), shape=(n_rows, sum(widths)))


def _stored_zeros(values: np.ndarray) -> np.ndarray:
    """``values`` with every zero (-0.0 too) written as +0.0, in place, as a
    CSR matrix stores them (imbalanced-learn's continuous block is one)."""
    values[values == 0] = 0
    return values


def _plain_one_hot(encoder) -> bool:
    """A plain ``OneHotEncoder`` (no dropped or infrequent columns): decoded
    as ``categories_[i][codes]``, in its categories' dtype."""
    return (type(encoder) is OneHotEncoder and encoder.drop is None
            and not getattr(encoder, "_infrequent_enabled", False))


def _decode(encoder, codes: np.ndarray, widths: list[int], dtype) -> np.ndarray:
    """``encoder.inverse_transform`` of the one-hot matrix of ``codes``.

    A plain ``OneHotEncoder`` (no dropped or infrequent columns; every row has
    one active column per feature) is decoded as its ``inverse_transform``
    does (the same result dtype, ``categories_[i][labels]``) without its
    per-row sparse ``argmax`` loop; other encoders get the CSR matrix, as
    imbalanced-learn passes it.
    """
    if _plain_one_hot(encoder):
        categories = encoder.categories_
        decoded = np.empty((codes.shape[0], len(categories)),
                           dtype=np.result_type(*[cat.dtype for cat in categories]))
        for i, cats in enumerate(categories):
            decoded[:, i] = cats[codes[:, i]]
        return decoded
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    return encoder.inverse_transform(_one_hot(codes, widths, offsets, dtype, 1))


def _one_hot_codes(X_ohe, widths: list[int]) -> np.ndarray:
    """Each row's level per categorical feature, read from the encoder's
    one-hot matrix (exactly one stored entry per feature block)."""
    X_ohe = sparse.csr_matrix(X_ohe)
    X_ohe.sort_indices()
    n_rows, n_features = X_ohe.shape[0], len(widths)
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    counts = np.diff(X_ohe.indptr)
    if np.all(counts == n_features):
        codes = X_ohe.indices.reshape(n_rows, n_features).astype(np.int64) - offsets
        if np.all((codes >= 0) & (codes < np.asarray(widths))):
            return codes
    raise ValueError("SMOTENC needs exactly one active one-hot column per categorical feature "
                     "and row from `categorical_encoder`.")


def _tie_table(one, k: int) -> np.ndarray:
    """``ties[c, m]``: whether imbalanced-learn's ``np.isclose`` takes a level
    counted c times among the k neighbours as tied with the mode counted m
    times. Its column sums are ``one`` added c times, in the one-hot dtype."""
    sums = np.zeros(k + 1, dtype=np.asarray(one).dtype)
    for c in range(1, k + 1):
        sums[c] = sums[c - 1] + one
    return np.isclose(sums[:, None], sums[None, :])


def _tied_pairs(neighbor_codes: np.ndarray, width: int, ties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, levels) of imbalanced-learn's ``argwhere(is_max)`` for one
    feature: each new row's levels tied with its mode, rows ascending, then
    levels ascending."""
    n_new, k = neighbor_codes.shape
    ordered = np.sort(neighbor_codes, axis=1).reshape(-1)
    starts = np.ones(n_new * k, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    starts[::k] = True
    run_starts = np.flatnonzero(starts)
    run_counts = np.diff(np.append(run_starts, n_new * k))
    run_rows = run_starts // k
    run_levels = ordered[run_starts]
    first_run = np.searchsorted(run_rows, np.arange(n_new))
    mode_count = np.maximum.reduceat(run_counts, first_run)
    tied = ties[run_counts, mode_count[run_rows]]
    pair_rows, pair_levels = run_rows[tied], run_levels[tied]
    zero_tied = np.flatnonzero(ties[0, mode_count])
    if zero_tied.size:
        # tiny scaled entries: levels absent from the neighbours tie too
        present = np.zeros((zero_tied.size, width), dtype=bool)
        present[np.searchsorted(zero_tied, run_rows[np.isin(run_rows, zero_tied)]),
                run_levels[np.isin(run_rows, zero_tied)]] = True
        absent_rows, absent_levels = np.nonzero(~present)
        pair_rows = np.concatenate([pair_rows, zero_tied[absent_rows]])
        pair_levels = np.concatenate([pair_levels, absent_levels])
        order = np.lexsort((pair_levels, pair_rows))
        pair_rows, pair_levels = pair_rows[order], pair_levels[order]
    return pair_rows, pair_levels


def _mode_with_ties(neighbor_codes: np.ndarray, width: int, ties: np.ndarray, rng) -> np.ndarray:
    """imbalanced-learn's categorical draw for one feature, from codes.

    ``neighbor_codes`` (n_new, k): the neighbours' levels. imbalanced-learn
    forms ``is_max`` (n_new, width), takes ``rng.permutation(np.argwhere(
    is_max))`` and keeps, per row, its first pair in that order. Here the same
    pairs are listed (row, then level, as ``argwhere``), the same permutation
    is drawn (``permutation(m)`` shuffles as ``permutation`` of m rows) and
    each row keeps the pair of smallest permuted position.
    """
    n_new = neighbor_codes.shape[0]
    pair_rows, pair_levels = _tied_pairs(neighbor_codes, width, ties)
    m = pair_rows.size
    perm = rng.permutation(m)
    position = np.empty(m, dtype=np.int64)
    position[perm] = np.arange(m)
    first_pair = np.searchsorted(pair_rows, np.arange(n_new))
    return pair_levels[perm[np.minimum.reduceat(position, first_pair)]]


def _mode_with_uniforms(neighbor_codes: np.ndarray, width: int, ties: np.ndarray,
                        uniforms: np.ndarray) -> np.ndarray:
    """The counter-based twin of :func:`_mode_with_ties`: row i keeps its
    tied level number ``floor(uniforms[i] * n_tied)`` (levels in ascending
    order), so each row depends only on its own draw, not on the chunk."""
    n_new = neighbor_codes.shape[0]
    pair_rows, pair_levels = _tied_pairs(neighbor_codes, width, ties)
    n_tied = np.bincount(pair_rows, minlength=n_new)
    first_pair = np.searchsorted(pair_rows, np.arange(n_new))
    pick = np.minimum((uniforms * n_tied).astype(np.int64), n_tied - 1)
    return pair_levels[first_pair + pick]
