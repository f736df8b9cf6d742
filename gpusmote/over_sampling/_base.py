"""What every gpusmote over-sampler shares: the device parameter, device-resident
input, and the hand-off from imbalanced-learn's validation to the engine.

A sampler subclasses :class:`DeviceOverSampler`, declares its own parameters
(imbalanced-learn's plus ``device``) and implements ``_resample(X, y,
backend)`` on validated arrays. imbalanced-learn's ``BaseOverSampler`` does the
validation, the ``sampling_strategy`` rules and the container round trip, so
those are imbalanced-learn's own code (its ``fit_resample`` is followed step for
step, with a faster DataFrame rebuild: ``_frames.py``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy, check_target_type
from scipy import sparse
from sklearn.base import _fit_context
from sklearn.preprocessing import label_binarize
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from gpusmote.dask._detect import is_dask_collection  # never imports Dask
from gpusmote.devices._backend import CPU, for_size
from gpusmote.devices._input import as_cupy, check_device_X, device_kind, like, to_host
from gpusmote.devices._resolve import DEVICES, resolve_device
from gpusmote.engine._labels import checked_sampling_strategy, plain_dtype, with_cached_labels
from gpusmote.neighbors._sparse import canonical_csr
from gpusmote.over_sampling._frames import FrameTransformer

#: A neighbours parameter (``k_neighbors``, ``m_neighbors``, ``n_neighbors``): an
#: int, or an object with ``kneighbors`` (imbalanced-learn's constraint).
NEIGHBORS_PARAMETER = [
    Interval(numbers.Integral, 1, None, closed="left"),
    HasMethods(["kneighbors", "kneighbors_graph"]),
]
#: The random stream: imbalanced-learn's RandomState replay, or counter-based.
RNG_PARAMETER = [StrOptions({"imblearn", "philox"})]
#: Neighbour order where distances (nearly) tie: scikit-learn's, or the lower index.
TIES_PARAMETER = [StrOptions({"imblearn", "index"})]


def checked_device_y(sampler, X, y: np.ndarray) -> np.ndarray:
    """``fit_resample``'s target checks for device-resident X (checked on
    its own): host y's labels cached and checked as imbalanced-learn does,
    the lengths compared, and ``sampler``'s feature attributes reset for X;
    returns y."""
    y = with_cached_labels(y)
    check_classification_targets(y)
    y, binarized = check_target_type(y, indicate_one_vs_all=True)
    if binarized:
        raise ValueError("y must be 1-D class labels, not a one-hot matrix.")
    if X.shape[0] != len(y):
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"[{X.shape[0]}, {len(y)}]")
    sampler.n_features_in_ = X.shape[1]
    if hasattr(sampler, "feature_names_in_"):
        del sampler.feature_names_in_
    return y


class DeviceOverSampler(BaseOverSampler):
    """Base of gpusmote's over-samplers: imbalanced-learn's sampler API with a
    ``device`` and device-resident input (CuPy arrays, CUDA tensors)."""

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "device": [StrOptions(set(DEVICES))],
    }

    def fit_resample(self, X, y, **params):
        """Resample the data set.

        Parameters
        ----------
        X : {array-like, dataframe, sparse matrix, CuPy array, CUDA tensor} of shape \
                (n_samples, n_features)
            Rows to over-sample. CuPy arrays and PyTorch CUDA tensors are taken
            without a copy and resampled on the GPU (or, with
            ``device='cpu'``, through a host copy).
        y : array-like, CuPy array or tensor of shape (n_samples,)
            Class labels.

        Returns
        -------
        X_resampled : same type as X, of shape (n_samples_new, n_features)
            The original rows first, then each over-sampled class's new rows,
            in label order; device input gives output on the same device.
        y_resampled : same type as y, of shape (n_samples_new,)
        """
        if is_dask_collection(X) or is_dask_collection(y):  # lazy in, lazy out (never imports dask)
            from gpusmote.dask import fit_resample as dask_fit_resample

            return dask_fit_resample(self, X, y, **params)
        if device_kind(X) is not None or device_kind(y) is not None:
            return self._fit_resample_device_input(X, y)
        # Every target check below finds y's labels; find them once.
        return self._fit_resample_host(X, with_cached_labels(y), **params)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit_resample_host(self, X, y, **params):
        """imbalanced-learn's ``BaseSampler.fit_resample``, step for step,
        with a DataFrame rebuild that skips its two copies (``_frames.py``)."""
        check_classification_targets(y)
        arrays_transformer = FrameTransformer(X, y)
        X, y, binarize_y = self._check_X_y(X, y)
        self.sampling_strategy_ = checked_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        output = self._fit_resample(X, y, **params)
        y_ = label_binarize(output[1], classes=np.unique(y)) if binarize_y else output[1]
        X_, y_ = arrays_transformer.transform(output[0], y_)
        return (X_, y_) if len(output) == 2 else (X_, y_, output[2])

    def _fit_resample_device_input(self, X, y):
        """CuPy / CUDA-tensor input: X stays on the device, answered in its type."""
        self._validate_params()
        backend = resolve_device(self.device)
        if backend.name == "cpu" or device_kind(X) is None:
            # device='cpu', or host X with device y: the host path, answered in each input's type
            X_res, y_res = self.fit_resample(to_host(X), to_host(y))
        else:
            X_res, y_res = self._resample_device_arrays(as_cupy(X), to_host(y), backend)
        return like(X_res, X), like(y_res, y)

    def _resample_device_arrays(self, X, y: np.ndarray, backend):
        """Validate and resample X in backend memory (no host copy of X).

        The same checks and rules as ``fit_resample`` on host data: X's are
        computed on the device, y's by imbalanced-learn on the host.
        """
        self._check_device_X(X, backend)
        y = checked_device_y(self, X, y)
        self.sampling_strategy_ = check_sampling_strategy(
            self.sampling_strategy, y, self._sampling_type
        )
        return self._resample(X, y, backend)

    def _check_device_X(self, X, backend) -> None:
        """scikit-learn's checks of device-resident X (finite numbers); a
        sampler that accepts more (RandomOverSampler: NaN) overrides this."""
        check_device_X(X, backend.xp, type(self).__name__)

    def _fit_resample(self, X, y):
        if sparse.issparse(X):
            if self.device == "cuda":
                warnings.warn("sparse input is resampled on the CPU (its k-NN and generation "
                              "work on the rows' nonzeros); device='cuda' applies to dense input.",
                              UserWarning, stacklevel=3)
            return self._resample(X, y, CPU)
        return self._resample(X, y, for_size(resolve_device(self.device), X, getattr(self, "ties", "imblearn")))

    def _resample(self, X, y: np.ndarray, backend):
        """Resample validated ``X`` (NumPy, SciPy sparse, or in ``backend``'s
        memory) and host ``y``; return ``(X_resampled, y_resampled)``."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def searchable_rows(X, backend):
    """X as the k-NN searches it: sparse as it is (host), dense contiguous in
    the backend's memory (no copy for contiguous host X on the CPU)."""
    if sparse.issparse(X):
        return X
    return backend.xp.ascontiguousarray(backend.to_device(X), dtype=plain_dtype(X.dtype))


def take_rows(points, indices: np.ndarray, backend):
    """``points[indices]``: a contiguous backend array, or canonical CSR."""
    if sparse.issparse(points):
        return canonical_csr(points[indices])
    return points[backend.xp.asarray(indices)]
