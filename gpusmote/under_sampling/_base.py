"""What gpusmote's cleaning samplers share: the ``device`` parameter,
device-resident input, and the hand-off from imbalanced-learn's validation to
the k-NN and the row selection.

A cleaning sampler subclasses :class:`DeviceCleaningSampler` (and the
imbalanced-learn class it replaces, so imbalanced-learn's own combined samplers
accept it) and implements ``_resample(X, y, backend)`` on validated arrays.
imbalanced-learn's ``BaseCleaningSampler`` does the validation, the
``sampling_strategy`` rules (``'clean-sampling'``) and the container round trip.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings

import numpy as np
from imblearn.under_sampling.base import BaseCleaningSampler
from scipy import sparse
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import StrOptions

from gpusmote.devices._backend import CPU, CPU_SMALL, Backend, for_size
from gpusmote.devices._input import device_kind
from gpusmote.devices._resolve import DEVICES, resolve_device
from gpusmote.engine._labels import with_cached_labels
from gpusmote.kernels._cpu_jit import kernels_loaded
from gpusmote.kernels.take_in_place import take_rows_in_place
from gpusmote.over_sampling._base import DeviceOverSampler


class DeviceCleaningSampler(BaseCleaningSampler):
    """Base of gpusmote's cleaning samplers: imbalanced-learn's sampler API with
    a ``device`` and device-resident input (CuPy arrays, CUDA tensors)."""

    _parameter_constraints: dict = {
        **BaseCleaningSampler._parameter_constraints,
        "device": [StrOptions(set(DEVICES))],
    }

    def fit_resample(self, X, y, **params):
        """Resample the data set.

        Parameters
        ----------
        X : {array-like, dataframe, sparse matrix, CuPy array, CUDA tensor} of shape \
                (n_samples, n_features)
            Rows to clean. CuPy arrays and PyTorch CUDA tensors are searched on
            the GPU without a host copy (or, with ``device='cpu'``, through one).
        y : array-like, CuPy array or tensor of shape (n_samples,)
            Class labels.

        Returns
        -------
        X_resampled : same type as X, of shape (n_samples_new, n_features)
            The rows kept (``X[sample_indices_]``).
        y_resampled : same type as y, of shape (n_samples_new,)
        """
        if device_kind(X) is not None or device_kind(y) is not None:
            return self._fit_resample_device_input(X, y)
        return self._fit_resample_host(X, with_cached_labels(y), **params)

    # The host and device-input paths are the over-samplers' own, step for step
    # (imbalanced-learn's fit_resample with the faster DataFrame rebuild; they
    # read ``_sampling_type``, so the clean-sampling rules apply): one definition.
    _fit_resample_host = DeviceOverSampler._fit_resample_host
    _fit_resample_device_input = DeviceOverSampler._fit_resample_device_input
    _resample_device_arrays = DeviceOverSampler._resample_device_arrays
    _check_device_X = DeviceOverSampler._check_device_X

    def _fit_resample(self, X, y):
        if sparse.issparse(X):
            if self.device == "cuda":
                warnings.warn("sparse input is cleaned on the CPU (its k-NN works on the rows' "
                              "nonzeros); device='cuda' applies to dense input.",
                              UserWarning, stacklevel=3)
            return self._resample(X, y, CPU)
        return self._resample(X, y, cleaning_backend(resolve_device(self.device), X,
                                                      getattr(self, "ties", "imblearn")))

    def _resample(self, X, y: np.ndarray, backend: Backend):
        """Clean validated ``X`` (NumPy, SciPy sparse, or in ``backend``'s
        memory) and host ``y``; return ``(X_resampled, y_resampled)``."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.sampler_tags.sample_indices = True
        return tags


#: Rows, and rows^2 x features, up to which a cleaner in a process that has
#: loaded no kernel yet searches on the small-data path (with ties='imblearn',
#: scikit-learn's search: imbalanced-learn's speed) rather than load the kernels
#: (~0.25 s first). EditedNearestNeighbours, fresh processes on the 2-core VM:
#: 10,000 x 8 rows, imbalanced-learn 188 ms, the kernels 268 ms (68 ms once
#: loaded); 20,000 x 8, 490 ms against 387 ms; 10,000 x 32, 159 against 306 ms;
#: 20,000 x 32, 600 against 450 ms. TomekLinks: 16,000 x 8, 374 against 346 ms.
COLD_SMALL_ROWS = 1 << 14
COLD_SMALL_TERMS = 1 << 33
#: Features up to which scikit-learn's ``algorithm='auto'`` searches with a
#: tree (above, brute force: its cost grows with all the rows' pairs).
SKLEARN_TREE_MAX_FEATURES = 15
#: Rows up to which a cleaner in a process with the kernels loaded still takes
#: the small-data path (scikit-learn's brute force) on data of more than
#: SKLEARN_TREE_MAX_FEATURES features: the kernels' fixed costs (threads, the
#: float64 re-rank and tie check) lose there. Warm calls on the 2-core VM,
#: sampling_strategy='all', scikit-learn against the kernels: ENN 1,500 x 34,
#: 7.7 against 11.9 ms; 2,000 x 34, 12.5 against 13.7; 2,800 x 34, 19.4 against
#: 18.7; 4,000 x 34, 32.8 against 28.6; TomekLinks 2,000 x 34, 9.5 against
#: 13.1; 2,800 x 64, 21.4 against 21.4; 4,000 x 16, 22.7 against 19.8 ms.
WARM_SMALL_ROWS = 2_800


def cleaning_backend(backend: Backend, X, ties: str) -> Backend:
    """The backend a cleaner searches ``X`` on.

    A cleaner searches all rows among all rows (n^2 distance terms, not a
    class's), so the kernels pay from the smaller of the small-data limits
    (``SMALL_INDEX_ELEMENTS``), except on a first call: a process that has
    loaded no kernel takes the small-data path, with ``ties='imblearn'``, up
    to :data:`COLD_SMALL_ROWS` rows (of the data a combined sampler was given,
    where scikit-learn would search with a tree: see
    :func:`cleaning_over_sampled`) and :data:`COLD_SMALL_TERMS` distance
    terms, where loading them costs more than they save. The answer is the
    same either way; a process that stays on that path (its calls all this
    small) stays at imbalanced-learn's speed. With the kernels loaded, data of
    more than 15 features on up to :data:`WARM_SMALL_ROWS` rows still takes
    scikit-learn's search (faster there).
    """
    if ties != "imblearn" or backend is not CPU or getattr(X, "ndim", 0) != 2:
        return for_size(backend, X, "index")
    if kernels_loaded():
        if X.shape[1] > SKLEARN_TREE_MAX_FEATURES and X.shape[0] <= WARM_SMALL_ROWS:
            return CPU_SMALL  # scikit-learn's brute force beats the kernels' fixed costs there
        return for_size(backend, X, "index")
    over_sampled = _over_sampled_rows.get()
    if over_sampled is not None and X.shape[1] <= SKLEARN_TREE_MAX_FEATURES:
        n_rows, row_scale = over_sampled
    else:  # no combined sampler, or scikit-learn's brute force: every row counts
        n_rows, row_scale = X.shape[0], 1.0
    if n_rows <= row_scale * COLD_SMALL_ROWS and n_rows * n_rows * X.shape[1] <= COLD_SMALL_TERMS:
        return CPU_SMALL
    return for_size(backend, X, "index")


#: Rows of the data whose over-sampled output a combined sampler's cleaner is
#: given, and the scale of its row limit (None outside one).
_over_sampled_rows: contextvars.ContextVar = contextvars.ContextVar("gpusmote_over_sampled_rows", default=None)


@contextlib.contextmanager
def cleaning_over_sampled(n_rows: int, row_scale: float = 1.0):
    """Within the ``with`` block a cleaner's first-call rule
    (:func:`cleaning_backend`) counts ``n_rows``, the rows a combined sampler
    was given, not the ~2x as many its over-sampler made, against
    ``row_scale`` x :data:`COLD_SMALL_ROWS` (the combined sampler's scale: see
    ``CombinedSampler._cold_row_scale``): scikit-learn's tree finds the new
    rows' neighbours quickly (they lie between their class's rows), so the
    kernels' load pays later there. Only for data of up to
    :data:`SKLEARN_TREE_MAX_FEATURES` features: above, scikit-learn's brute
    force costs every row's pairs, and the rule counts every row (SMOTEENN,
    32 columns, fresh processes on the 2-core VM: 7,000 rows given,
    imbalanced-learn 338-353 ms, the small path 340-440 ms, the kernels
    411-415 ms; 8,500, 489-634, 495-521 and 459-464 ms; 10,000, 674-675,
    658-659 and 459-510 ms; SMOTETomek at 10,000, 643-663, 636-664 and
    453-484 ms)."""
    token = _over_sampled_rows.set((n_rows, row_scale))
    try:
        yield
    finally:
        _over_sampled_rows.reset(token)


#: The rows array a cleaner may select from in place (see :func:`consumable`).
_consumable_rows: contextvars.ContextVar = contextvars.ContextVar("gpusmote_consumable_rows", default=None)


@contextlib.contextmanager
def consumable(X):
    """Within the ``with`` block a cleaner given exactly ``X`` (a NumPy array
    that owns its rows, which no one else holds) returns its selection in X
    itself: the kept rows moved to the front, the array shrunk to them (no
    second array as large as the output). ``None`` permits nothing."""
    token = _consumable_rows.set(X if _may_consume(X) else None)
    try:
        yield
    finally:
        _consumable_rows.reset(token)


#: Bytes of a permitted X from which it is selected in place even by a process
#: that has loaded no kernel yet (the in-place move is one; the first costs ~0.25 s,
#: ten times a small SMOTEENN, where a copy of X costs next to nothing).
IN_PLACE_MIN_BYTES = 1 << 26


def _may_consume(X) -> bool:
    return (isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.owndata and X.flags.c_contiguous
            and X.flags.writeable and not X.dtype.hasobject)


def _selects_in_place(X) -> bool:
    """Whether :func:`select_rows` moves X's rows in place: X is permitted
    and either large or in a process that runs kernels already."""
    return X is not None and X is _consumable_rows.get() and (kernels_loaded() or X.nbytes >= IN_PLACE_MIN_BYTES)


def select_rows(X, y: np.ndarray, indices: np.ndarray, backend: Backend):
    """``(X[indices], y[indices])`` as imbalanced-learn's ``_safe_indexing``
    returns them; X in device memory stays there, y loses the cached labels.
    X permitted by :func:`consumable` is selected in place and returned, once
    the process runs kernels or X is large (:data:`IN_PLACE_MIN_BYTES`)."""
    if _selects_in_place(X):
        take_rows_in_place(X, indices)
        # Frees the tail (realloc). No reference check: the caller permitted
        # it, and its own names are the only ones (refcounts of its frames
        # would make NumPy's check refuse).
        X.resize((len(indices), X.shape[1]), refcheck=False)
        X_res = X
    elif not sparse.issparse(X) and not isinstance(X, np.ndarray) and backend.holds(X):
        X_res = X[backend.xp.asarray(indices)]
    else:
        X_res = _safe_indexing(X, indices)
    y_res = y[indices]
    # the cached labels ride in y's dtype; byte order is kept, as imbalanced-learn keeps it
    return X_res, y_res.view(np.dtype(y_res.dtype.str)) if y_res.dtype.metadata else y_res


def class_rows(y: np.ndarray, labels) -> dict:
    """Label -> the indices of its rows, for every label of ``labels``."""
    return {label: np.flatnonzero(y == label) for label in labels}
