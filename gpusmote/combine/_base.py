"""What SMOTEENN and SMOTETomek share: over-sample with SMOTE, then clean.

imbalanced-learn's combined samplers are ``BaseSampler``s whose
``_fit_resample`` clones (or builds) the two samplers and chains them::

    smote_ = clone(smote) or SMOTE(sampling_strategy, random_state)
    cleaner_ = clone(cleaner) or Cleaner(sampling_strategy='all', n_jobs)
    sampling_strategy_ = sampling_strategy          # the raw parameter
    return cleaner_.fit_resample(*smote_.fit_resample(X, y))

:class:`CombinedSampler` does the same with gpusmote's samplers as the
defaults (on this sampler's ``device``) and accepts gpusmote's or
imbalanced-learn's objects as either step. Device-resident input stays on the
device through both gpusmote steps.
"""

from __future__ import annotations

import numbers

import numpy as np
from imblearn.base import BaseSampler
from imblearn.over_sampling import SMOTE as _ImblearnSMOTE
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_sampling_strategy
from sklearn.base import clone
from sklearn.utils._param_validation import StrOptions

from gpusmote.devices._backend import Backend
from gpusmote.devices._input import check_device_X, device_kind
from gpusmote.devices._resolve import DEVICES, resolve_device
from gpusmote.engine._labels import with_cached_labels
from gpusmote.engine._timing import PhaseTimes
from gpusmote.over_sampling._base import TIES_PARAMETER, DeviceOverSampler, checked_device_y
from gpusmote.over_sampling._categorical import SMOTEN, SMOTENC
from gpusmote.over_sampling._smote import SMOTE
from gpusmote.under_sampling._base import DeviceCleaningSampler, cleaning_over_sampled, consumable

#: What ``smote`` may be: imbalanced-learn's constraint (its SMOTE, and so its
#: SMOTENC and SMOTEN) widened to gpusmote's counterparts.
SMOTE_PARAMETER = [_ImblearnSMOTE, SMOTE, SMOTENC, SMOTEN, None]

_DEVICE_STEPS = (DeviceOverSampler, DeviceCleaningSampler)


class CombinedSampler(BaseSampler):
    """SMOTE followed by a cleaning sampler; subclasses name the cleaner's
    parameter (``_cleaner_param``) and build its default (``_default_cleaner``)."""

    _sampling_type = "over-sampling"
    _cleaner_param: str = ""
    #: Rows given, in units of ``COLD_SMALL_ROWS``, up to which the cleaner's
    #: first call in a process without kernels searches on the small-data path
    #: (see ``cleaning_over_sampled``). SMOTEENN, 8 columns, fresh processes on
    #: the 2-core VM: 10,000 rows given, imbalanced-learn 293 ms, the kernels
    #: 401 ms; 16,000 rows, 648 against 569 ms.
    _cold_row_scale: float = 1.0

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "smote": SMOTE_PARAMETER,
        "n_jobs": [numbers.Integral, None],
        "device": [StrOptions(set(DEVICES))],
        "ties": TIES_PARAMETER,
    }

    def _default_cleaner(self):
        raise NotImplementedError

    def _validate_estimator(self) -> None:
        """``smote_`` and the cleaner's fitted attribute, as imbalanced-learn builds them."""
        if self.smote is not None:
            self.smote_ = clone(self.smote)
        else:
            self.smote_ = SMOTE(sampling_strategy=self.sampling_strategy,
                                random_state=self.random_state, device=self.device, ties=self.ties)
        cleaner = getattr(self, self._cleaner_param)
        setattr(self, f"{self._cleaner_param}_",
                clone(cleaner) if cleaner is not None else self._default_cleaner())

    @property
    def _cleaner(self):
        return getattr(self, f"{self._cleaner_param}_")

    def fit_resample(self, X, y, **params):
        """Over-sample with ``smote_``, then clean with the cleaner.

        Parameters
        ----------
        X : {array-like, dataframe, sparse matrix, CuPy array, CUDA tensor} of shape \
                (n_samples, n_features)
            Rows to resample; device-resident input stays on the device through
            gpusmote's steps (imbalanced-learn's steps get a host copy).
        y : array-like, CuPy array or tensor of shape (n_samples,)
            Class labels.

        Returns
        -------
        X_resampled : same type as X, of shape (n_samples_new, n_features)
        y_resampled : same type as y, of shape (n_samples_new,)
        """
        if device_kind(X) is not None or device_kind(y) is not None:
            return self._fit_resample_device_input(X, y)
        return self._fit_resample_host(X, with_cached_labels(y), **params)

    # imbalanced-learn's fit_resample with the over-samplers' DataFrame rebuild
    _fit_resample_host = DeviceOverSampler._fit_resample_host

    def _fit_resample(self, X, y):
        self._validate_estimator()
        # imbalanced-learn re-checks y and X here (check_target_type,
        # check_X_y): the base class has validated both the same way already.
        self.sampling_strategy_ = self.sampling_strategy
        X_res, y_res = self.smote_.fit_resample(X, y)
        with consumable(self._own_output(X_res, X)), cleaning_over_sampled(X.shape[0], self._cold_row_scale):
            X_res, y_res = self._cleaner.fit_resample(X_res, y_res)
        self._record_steps()
        # an imbalanced-learn step may hand back y's cached labels in its dtype
        return X_res, y_res.view(np.dtype(y_res.dtype.str)) if y_res.dtype.metadata else y_res

    def _own_output(self, X_res, X):
        """``X_res`` when the cleaner may select from it in place: a gpusmote
        over-sampler's fresh output (allocated for this call, held by no one
        else, never the caller's X), else None."""
        fresh = isinstance(self.smote_, DeviceOverSampler) and isinstance(X_res, np.ndarray)
        return X_res if fresh and not np.may_share_memory(X_res, X) else None

    # CuPy / CUDA-tensor input: the over-samplers' path, step for step (the
    # host path through fit_resample, else _resample_device_arrays below).
    _fit_resample_device_input = DeviceOverSampler._fit_resample_device_input

    def _resample_device_arrays(self, X, y: np.ndarray, backend: Backend):
        """Validate device-resident X (on the device) and host y as
        ``fit_resample`` does, then run both steps with X in backend memory."""
        check_device_X(X, backend.xp, type(self).__name__)
        y = checked_device_y(self, X, y)
        check_sampling_strategy(self.sampling_strategy, y, self._sampling_type)
        self._validate_estimator()
        self.sampling_strategy_ = self.sampling_strategy
        X_res, y_res = _device_step(self.smote_, X, y, backend)
        result = _device_step(self._cleaner, X_res, y_res, backend)
        self._record_steps()
        return result

    def _record_steps(self) -> None:
        """``device_`` and ``timings_`` summed over the steps that report them."""
        times = PhaseTimes()
        for step in (self.smote_, self._cleaner):
            for phase, seconds in getattr(step, "timings_", {}).items():
                times[phase] = times.get(phase, 0.0) + seconds
        self.timings_ = times
        self.device_ = getattr(self._cleaner, "device_", getattr(self.smote_, "device_", "cpu"))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _device_step(sampler, X, y: np.ndarray, backend: Backend):
    """One step on backend-resident X: a gpusmote sampler on its own device
    (through a host copy when that is the CPU), any other on a host copy."""
    if isinstance(sampler, _DEVICE_STEPS):
        sampler._validate_params()
        step_backend = resolve_device(sampler.device)
        if step_backend.name == backend.name:
            return sampler._resample_device_arrays(X, y, backend)
    X_res, y_res = sampler.fit_resample(backend.to_host(X), y)
    return backend.to_device(X_res), np.asarray(y_res)
