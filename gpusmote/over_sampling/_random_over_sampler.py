"""RandomOverSampler: imbalanced-learn's (smoothed) bootstrap on gpusmote's engine.

imbalanced-learn 0.14.2 (``imblearn/over_sampling/_random_over_sampler.py``)
does, with one ``rs = check_random_state(random_state)`` for the whole fit::

    for c, n in sampling_strategy_.items():            # sorted labels, n == 0 too
        boot = rs.choice(flatnonzero(y == c), size=n, replace=True)
        if shrinkage_ is None:
            X_new = X[boot]
        else:
            h = (4 / ((d + 2) * N)) ** (1 / (d + 4))
            X_new = rs.randn(n, d).dot(diagflat(shrink[c] * h * std(X[y == c]))) + X[boot]
    X_res = vstack([X.copy(), X_new, ...])

``rs.choice(a, size=n, replace=True)`` is ``a[rs.randint(0, len(a), size=n)]``
(same values, same state after; ``size=0`` consumes nothing), and the product
with a diagonal matrix is, element for element, one rounded product plus exact
zeros: ``r * s + 0.0`` (the ``+ 0.0`` turns the ``-0.0`` a product may give into
the ``+0.0`` the BLAS sum gives). Both were checked against NumPy 2.4's
``RandomState`` and OpenBLAS, signed zeros, infinities and NaN included; the
tests hold the rest to imbalanced-learn's output. So the bootstrap is a gather
into the output, allocated once, and the noise is made chunk by chunk
(``randn`` in pieces draws the same numbers).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real

import numpy as np
from imblearn.over_sampling import RandomOverSampler as _ImblearnRandomOverSampler
from scipy import sparse
from sklearn.utils import _safe_indexing, check_array, check_random_state
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_consistent_length

from gpusmote.devices._backend import CPU, Backend, array_module
from gpusmote.devices._input import to_host
from gpusmote.devices._resolve import resolve_device
from gpusmote.engine import _legacy_random
from gpusmote.engine._draws import iter_philox_draws, philox_seed
from gpusmote.engine._labels import plain_dtype, sorted_labels
from gpusmote.engine._prefault import faulting_in
from gpusmote.engine._resample import empty_output
from gpusmote.kernels.copy_rows import copy_rows
from gpusmote.kernels.gather_rows import gather_rows
from gpusmote.over_sampling._base import RNG_PARAMETER, DeviceOverSampler
from gpusmote.over_sampling._frames import frame_rows, takes_frame_rows

#: Elements of noise drawn per chunk of a smoothed bootstrap (32 MiB of float64).
NOISE_CHUNK_ELEMENTS = 1 << 22

_NOT_NUMERIC = ("When shrinkage is not None, X needs to contain only numerical data to later "
                "generate a smoothed bootstrap sample.")


@dataclass(frozen=True)
class _ClassBlock:
    """One class's bootstrap: ``count`` rows at ``offset`` in the output.

    ``position`` is the label's index among y's sorted labels (its key in the
    counter-based stream); ``rows`` are the class's row numbers in X.
    """

    label: object
    position: int
    count: int
    offset: int
    rows: np.ndarray


class RandomOverSampler(DeviceOverSampler):
    """Random over-sampling (bootstrap, optionally smoothed), exact and fast.

    A drop-in replacement for :class:`imblearn.over_sampling.RandomOverSampler`:
    the same parameters, validation (any dtype, strings, NaN; DataFrames
    passed through), ``sampling_strategy`` rules and random draws, so with the
    same ``random_state`` the output, ``sample_indices_`` included, is
    bit-identical to imbalanced-learn's. The output is allocated once and the
    drawn rows are gathered straight into it, on every core.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes to over-sample and to what count, exactly as in
        imbalanced-learn: ``'auto'`` (= ``'not majority'``), ``'minority'``,
        ``'not minority'``, ``'all'``, a float ratio (binary only), a dict
        ``{label: target count}`` or a callable ``y -> dict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws: one ``RandomState`` for the whole fit, as in
        imbalanced-learn (an instance is advanced and left where
        imbalanced-learn leaves it; None is NumPy's global one).
    shrinkage : float, dict or None, default=None
        ``None``: a plain bootstrap (copies of drawn rows). A float ``>= 0``
        (every over-sampled class) or a dict ``{label: factor}`` (every
        over-sampled class needed): a smoothed bootstrap, each copy plus
        Gaussian noise of per-feature scale ``factor * h * std(class)``,
        ``h = (4 / ((d + 2) * n)) ** (1 / (d + 4))``. X must then be numeric and
        finite, and the output is float64 (as in imbalanced-learn, whatever X's
        dtype; sparse X keeps its dtype). ``shrinkage=0`` still draws the noise,
        so it changes later classes' rows. Not available with ``rng='philox'``.
    device : {'auto', 'cpu', 'cuda'}, default='auto'
        Where device-resident input (CuPy arrays, PyTorch CUDA tensors) is
        resampled: ``'auto'`` and ``'cuda'`` on its GPU, ``'cpu'`` through a host
        copy. Host input (NumPy, lists, pandas, sparse) is gathered in host
        memory, where its output goes (a bootstrap is pure data movement, so a
        round trip through a GPU would only add two copies); ``'cuda'`` still
        raises when no GPU is usable.
    rng : {'imblearn', 'philox'}, default='imblearn'
        The random stream. ``'imblearn'`` consumes a ``RandomState`` exactly as
        imbalanced-learn does (bit-identical output). ``'philox'`` is
        counter-based (Philox4x32-10, gpusmote's SMOTE stream with one
        neighbour): bootstrap row j of a class depends only on (seed, the
        class's position among the sorted labels, j), so it is drawn where the
        data lives, and is identical on every device and for any chunking; an
        int ``random_state`` is its key, a ``RandomState`` or None gives one
        draw. It has no noise stream: ``shrinkage`` must be None.

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows to add per class, in label order.
    sample_indices_ : ndarray of shape (n_samples_new,)
        Row of X behind each output row: ``0 .. n - 1``, then each class's
        drawn rows (a NumPy array, also for device input).
    shrinkage_ : dict or None
        Shrinkage factor per over-sampled class (the ``shrinkage`` dict itself
        when one was given); None for a plain bootstrap.
    device_ : str
        Where the last ``fit_resample`` gathered the rows: ``'cpu'`` or
        ``'cuda'``.
    n_features_in_ : int
        Number of features seen during ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gpusmote.over_sampling import RandomOverSampler
    >>> X = np.arange(24, dtype=np.float32).reshape(12, 2)
    >>> y = np.array([0] * 9 + [1] * 3)
    >>> ros = RandomOverSampler(random_state=0)
    >>> X_res, y_res = ros.fit_resample(X, y)
    >>> np.bincount(y_res), X_res.dtype
    (array([9, 9]), dtype('float32'))
    >>> ros.sample_indices_[12:]
    array([ 9, 10,  9, 10, 10, 11])
    """

    _parameter_constraints: dict = {
        **DeviceOverSampler._parameter_constraints,
        "shrinkage": _ImblearnRandomOverSampler._parameter_constraints["shrinkage"],
        "rng": RNG_PARAMETER,
    }

    def __init__(
        self,
        *,
        sampling_strategy="auto",
        random_state=None,
        shrinkage=None,
        device="auto",
        rng="imblearn",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.random_state = random_state
        self.shrinkage = shrinkage
        self.device = device
        self.rng = rng

    def _check_X_y(self, X, y):
        # imbalanced-learn's own validation: no dtype conversion (object
        # arrays, strings and NaN pass), DataFrames passed through ...
        X, y, binarize_y = _ImblearnRandomOverSampler._check_X_y(self, X, y)
        # ... which skips the length check (0.14.2 returns an X and a y of
        # different lengths, or fails with an IndexError): scikit-learn's.
        check_consistent_length(X, y)
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        backend = resolve_device(self.device)
        if sparse.issparse(X) or not backend.holds(X):
            backend = CPU  # host data is gathered where its output goes
        return self._resample(X, y, backend)

    def _check_device_X(self, X, backend: Backend) -> None:
        """imbalanced-learn's ``_check_X`` rules on the device (NaN allowed)."""
        _check_device_X(X)

    def _resample(self, X, y: np.ndarray, backend: Backend):
        self.device_ = backend.name
        # imbalanced-learn's order: the random state, then the shrinkage checks
        random_state = check_random_state(self.random_state) if self.rng == "imblearn" else None
        self.shrinkage_ = _checked_shrinkage(self.shrinkage, self.sampling_strategy_)
        if self.shrinkage_ is not None:
            if self.rng == "philox":
                raise ValueError("shrinkage (a smoothed bootstrap) needs rng='imblearn': the "
                                 "counter-based stream has no Gaussian noise that is "
                                 "bit-identical on every device.")
            X = _numeric(X)
        draw = self._draw_source(random_state, backend)
        blocks = _class_blocks(y, self.sampling_strategy_)
        if self.shrinkage_ is None and takes_frame_rows(X):
            # the frame's own rows: no object array of mixed dtypes (see _frames.py)
            y_out = self._bootstrap(y, blocks, draw, lambda block, drawn: None)
            return frame_rows(X, self.sample_indices_), y_out
        if sparse.issparse(X):
            return self._resample_sparse(X, y, blocks, draw, random_state)
        if not hasattr(X, "dtype"):
            X = np.asarray(X)  # a DataFrame: the array imbalanced-learn's vstack makes of it
        return self._resample_dense(X, y, blocks, draw, random_state)

    def _draw_source(self, random_state, backend: Backend) -> Callable[[_ClassBlock], object]:
        """``block -> its bootstrap row numbers`` (int64, host or backend memory)."""
        if self.rng == "philox":
            seed = philox_seed(self.random_state)
            return lambda block: _philox_bootstrap(seed, block, backend)
        # rs.choice(rows, size=n, replace=True), without its copy of rows
        return lambda block: block.rows[_legacy_random.randint(random_state, len(block.rows), block.count)]

    def _bootstrap(self, y: np.ndarray, blocks: list[_ClassBlock], draw, write_rows):
        """Draw every class in label order, hand each to ``write_rows(block,
        indices)`` and fill ``sample_indices_``; return the resampled y."""
        n = len(y)
        n_total = n + sum(block.count for block in blocks)
        indices = np.arange(n_total, dtype=np.int64)  # the originals' part is right
        y_out = np.empty(n_total, dtype=plain_dtype(y.dtype))
        y_out[:n] = y
        for block in blocks:
            drawn = draw(block)
            host = to_host(drawn)
            span = slice(block.offset, block.offset + block.count)
            indices[span] = host
            y_out[span] = y[host]  # y's own values (labels equal to the class's may differ in bits)
            write_rows(block, drawn)
        self.sample_indices_ = indices
        return y_out

    def _resample_dense(self, X, y, blocks, draw, random_state):
        xp = array_module(X)
        dtype = X.dtype
        if self.shrinkage_ is not None and blocks:
            dtype = np.result_type(dtype, np.float64)  # the noise is float64, and so is vstack's result
        # The engine's empty_output (no transparent-huge-page advice): with the
        # advice, a fresh process's first touch of the output waits for the
        # kernel to compact memory whenever no huge page is free. fraud-1M on
        # the 2-core VM, fresh processes: 126-319 ms with the advice, 160-165 ms
        # without (imbalanced-learn, advised: 219-1,194 ms).
        X_out = empty_output((len(X) + sum(b.count for b in blocks), X.shape[1]), plain_dtype(dtype), xp)

        def write_rows(block: _ClassBlock, drawn) -> None:
            out = X_out[block.offset : block.offset + block.count]
            drawn = xp.asarray(drawn)
            if self.shrinkage_ is None:
                gather_rows(out, X, drawn)
            else:
                _smoothed_rows(out, X, drawn, block.rows, self.shrinkage_[block.label],
                               random_state)

        # the new rows' pages faulted in while the originals are copied and the rows drawn
        with faulting_in(X_out[len(X):]):
            copy_rows(X_out, X)
            y_out = self._bootstrap(y, blocks, draw, write_rows)
        return X_out, y_out

    def _resample_sparse(self, X, y, blocks, draw, random_state):
        """Sparse X (host): imbalanced-learn's own sparse expressions."""
        parts = [X]

        def write_rows(block: _ClassBlock, drawn) -> None:
            if self.shrinkage_ is None:
                parts.append(_safe_indexing(X, drawn))
                return
            _, variance = mean_variance_axis(X[block.rows, :], axis=0)
            scale = np.sqrt(variance, out=variance)
            smoothing = np.diagflat(self.shrinkage_[block.label] * _bandwidth(X.shape) * scale)
            X_new = random_state.randn(block.count, X.shape[1]).dot(smoothing) + X[drawn, :]
            parts.append(sparse.csr_matrix(X_new, dtype=X.dtype))

        y_out = self._bootstrap(y, blocks, draw, write_rows)
        return sparse.vstack(parts, format=X.format), y_out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.sampler_tags.sample_indices = True
        return tags


def _class_blocks(y: np.ndarray, sampling_strategy: Mapping) -> list[_ClassBlock]:
    """Every class of ``sampling_strategy`` (n == 0 too: imbalanced-learn draws
    ``choice(size=0)``, which consumes nothing), laid out after the originals.

    Raises
    ------
    TypeError
        A count that is not an integer (a dict of float targets), with the
        message imbalanced-learn's ``choice(size=count)`` gets from NumPy.
    """
    labels = sorted_labels(y)
    blocks, offset = [], len(y)
    for label, count in sampling_strategy.items():
        count = _integer_count(count)
        position = int(np.flatnonzero(labels == label)[0])
        blocks.append(_ClassBlock(label, position, count, offset, np.flatnonzero(y == label)))
        offset += count
    return blocks


def _integer_count(count) -> int:
    try:
        return operator.index(count)
    except TypeError:
        np.empty(count)  # raises NumPy's message, the one imbalanced-learn's choice(size=count) gives
        raise


def _philox_bootstrap(seed: int, block: _ClassBlock, backend: Backend):
    """Counter-based bootstrap rows of one class, drawn in backend memory:
    gpusmote's SMOTE draws with one neighbour (the base row is the pick)."""
    rows = backend.to_device(block.rows)
    picked = backend.xp.empty(block.count, dtype=np.int64)
    for chunk in iter_philox_draws(seed, block.position, len(rows), 1, block.count, backend):
        picked[chunk.start : chunk.start + len(chunk.rows)] = rows[chunk.rows]
    return picked


def _checked_shrinkage(shrinkage, sampling_strategy: Mapping) -> dict | None:
    """imbalanced-learn's ``shrinkage_`` and its checks (same messages)."""
    if isinstance(shrinkage, Real):
        shrinkage = {klass: shrinkage for klass in sampling_strategy}
    if shrinkage is None:
        return None
    missing = sampling_strategy.keys() - shrinkage.keys()
    if missing:
        raise ValueError("`shrinkage` should contain a shrinkage factor for each class that will "
                         f"be resampled. The missing classes are: {repr(missing)}")
    for klass, factor in shrinkage.items():
        if factor < 0:
            raise ValueError(f"The shrinkage factor needs to be >= 0. Got {factor} for class {klass}.")
    return shrinkage


def _numeric(X):
    """X as imbalanced-learn checks it for a smoothed bootstrap: numeric and
    finite (a device array is checked where it lives)."""
    if array_module(X) is not np:
        if X.dtype.kind == "f" and not bool(array_module(X).isfinite(X).all()):
            raise ValueError(_NOT_NUMERIC)
        return X
    try:
        return check_array(X, accept_sparse=["csr", "csc"], dtype="numeric")
    except ValueError as exc:
        raise ValueError(_NOT_NUMERIC) from exc


def _bandwidth(shape: tuple[int, int]) -> float:
    """imbalanced-learn's smoothing constant (Silverman's rule of thumb)."""
    n_samples, n_features = shape
    return (4 / ((n_features + 2) * n_samples)) ** (1 / (n_features + 4))


def _smoothed_rows(out, X, drawn, class_rows: np.ndarray, factor, random_state) -> None:
    """``out = randn(n, d) * scale + 0.0 + X[drawn]`` in float64, chunk by chunk.

    ``scale`` is imbalanced-learn's expression on the host (NumPy's ``std`` in
    X's dtype), so its rounding is imbalanced-learn's on any device.
    """
    xp = array_module(X)
    X_class = to_host(X[xp.asarray(class_rows)])
    scale = factor * _bandwidth(X.shape) * np.std(X_class, axis=0)
    scale = xp.asarray(np.asarray(scale, dtype=np.float64))
    chunk = max(1, NOISE_CHUNK_ELEMENTS // X.shape[1])
    for start in range(0, len(drawn), chunk):
        picks = drawn[start : start + chunk]
        dest = out[start : start + len(picks)]
        xp.multiply(xp.asarray(random_state.randn(len(picks), X.shape[1])), scale, out=dest)
        dest += 0.0  # the BLAS sum of the zero products: a -0.0 product becomes +0.0
        dest += X[picks]


def _check_device_X(X) -> None:
    """imbalanced-learn's ``_check_X`` (``check_array(dtype=None,
    ensure_all_finite=False)``) for a device array, with its messages."""
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
    if X.shape[0] < 1:
        raise ValueError(f"Found array with {X.shape[0]} sample(s) while a minimum of 1 is "
                         f"required.")
    if X.shape[1] < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={tuple(X.shape)}) while a "
                         f"minimum of 1 is required.")
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
