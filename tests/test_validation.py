"""Bad input: the same exception type (and message) as imbalanced-learn."""

from __future__ import annotations

import re

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from sklearn.utils._param_validation import InvalidParameterError

from gpusmote import SMOTE
from helpers import make_classes

X_OK, Y_OK = make_classes([40, 12], n_features=3, seed=1)


def _nan_X():
    X = X_OK.copy()
    X[3, 1] = np.nan
    return X


def _inf_X():
    X = X_OK.copy()
    X[0, 0] = np.inf
    return X


CASES = {
    "nan": (lambda: (_nan_X(), Y_OK), {}, "Input X contains NaN"),
    "inf": (lambda: (_inf_X(), Y_OK), {}, "Input X contains infinity"),
    "empty": (lambda: (np.empty((0, 3)), np.empty(0, dtype=int)), {}, "0 sample"),
    "1-D X": (lambda: (X_OK[:, 0], Y_OK), {}, "Expected 2D array, got 1D array"),
    "lengths": (lambda: (X_OK, Y_OK[:-1]), {}, "inconsistent numbers of samples"),
    "one class": (lambda: (X_OK, np.zeros(len(X_OK), dtype=int)), {}, "needs to have more than 1 class"),
    "continuous y": (lambda: (X_OK, np.linspace(0, 1, len(X_OK))), {}, "Unknown label type"),
    "complex X": (lambda: (X_OK + 1j, Y_OK), {}, "Complex data not supported"),
    "strings in X": (lambda: (np.array([["a", "b"]] * len(Y_OK), dtype=object), Y_OK), {}, "could not convert string to float"),
    "byte strings in X": (lambda: (np.array([["a", "b"]] * len(Y_OK)), Y_OK), {}, "not compatible with arrays of bytes/strings"),
    "k too large": (lambda: (X_OK, Y_OK), {"k_neighbors": 12}, "n_neighbors = 13, n_samples_fit = 12"),
    "k zero": (lambda: (X_OK, Y_OK), {"k_neighbors": 0}, "'k_neighbors' parameter of SMOTE must be an int"),
    "k float": (lambda: (X_OK, Y_OK), {"k_neighbors": 2.5}, "'k_neighbors' parameter"),
    "negative seed": (lambda: (X_OK, Y_OK), {"random_state": -1}, "'random_state' parameter"),
    "generator seed": (lambda: (X_OK, Y_OK), {"random_state": np.random.default_rng(0)}, "'random_state' parameter"),
    "bad strategy str": (lambda: (X_OK, Y_OK), {"sampling_strategy": "majority"}, "'sampling_strategy' parameter"),
    "ratio zero": (lambda: (X_OK, Y_OK), {"sampling_strategy": 0.0}, "'sampling_strategy' parameter"),
    "ratio too small": (lambda: (X_OK, Y_OK), {"sampling_strategy": 0.1}, "Please increase the ratio"),
    "ratio multiclass": (lambda: make_classes([30, 10, 8], 3), {"sampling_strategy": 0.9}, "float only when the type of target is binary"),
    "dict unknown class": (lambda: (X_OK, Y_OK), {"sampling_strategy": {5: 100}}, "not present in the data"),
    "dict negative": (lambda: (X_OK, Y_OK), {"sampling_strategy": {1: -1}}, "cannot be negative"),
    "dict below count": (lambda: (X_OK, Y_OK), {"sampling_strategy": {1: 3}}, "greater or equal to the original number"),
    "multilabel y": (lambda: (X_OK, np.ones((len(Y_OK), 2), dtype=int)), {}, "Multilabel and multioutput targets are not supported"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_exception_as_imblearn(name):
    make, params, message = CASES[name]
    X, y = make()
    with pytest.raises(Exception) as reference:
        ReferenceSMOTE(**params).fit_resample(X, y)
    with pytest.raises(type(reference.value), match=re.escape(message)) as ours:
        SMOTE(**params).fit_resample(X, y)
    assert type(ours.value) is type(reference.value)
    assert message in str(reference.value)  # the message we match is imblearn's too


def test_parameter_errors_are_invalid_parameter_errors():
    with pytest.raises(InvalidParameterError, match="'device' parameter of SMOTE"):
        SMOTE(device="tpu").fit_resample(X_OK, Y_OK)


def test_too_few_samples_message_explains_the_fix():
    with pytest.raises(ValueError, match=r"k_neighbors=12 needs at least 13 samples"):
        SMOTE(k_neighbors=12).fit_resample(X_OK, Y_OK)


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    import gpusmote.devices._resolve as device_module

    monkeypatch.setattr(device_module, "cuda_simulated", lambda: False)
    monkeypatch.setattr(device_module, "cuda_status", lambda: (False, "no CUDA device is visible"))
    with pytest.raises(RuntimeError, match="device='cuda' was requested, but no CUDA device is visible"):
        SMOTE(device="cuda").fit_resample(X_OK, Y_OK)


def test_auto_falls_back_to_cpu_with_a_warning_when_cuda_is_broken(monkeypatch):
    import gpusmote.devices._resolve as device_module

    monkeypatch.setattr(device_module, "cuda_status", lambda: (False, "the CUDA install is broken (x)"))
    monkeypatch.setattr(device_module, "cupy_installed", lambda: True)
    sampler = SMOTE(random_state=0)
    with pytest.warns(RuntimeWarning, match="runs on the CPU: the CUDA install is broken"):
        sampler.fit_resample(X_OK, Y_OK)
    assert sampler.device_ == "cpu"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_caller_arrays_are_not_modified(dtype):
    X, y = make_classes([60, 15, 9], n_features=4, dtype=dtype, seed=2)
    X_before, y_before = X.copy(), y.copy()
    X_res, _ = SMOTE(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_before, strict=True)
    np.testing.assert_array_equal(y, y_before, strict=True)
    assert not np.shares_memory(X_res, X)


def test_cached_labels_never_leave_the_call():
    """fit_resample finds y's labels once and caches them in a view's dtype
    metadata; the returned labels and the fitted strategy must be plain."""
    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.array([0] * 50 + [1] * 10)
    sampler = SMOTE(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert y_res.dtype.metadata is None and y.dtype.metadata is None
    assert [(type(label), count) for label, count in sampler.sampling_strategy_.items()] == [(np.int64, 40)]
    np.testing.assert_array_equal(np.unique(y_res), [0, 1])
    np.testing.assert_array_equal(np.bincount(y_res), [50, 50])


def test_cached_labels_never_leave_the_sparse_path_either():
    # Sparse X with nothing to over-sample: y comes back as the only block.
    from scipy import sparse

    X, y = sparse.csr_matrix(np.random.default_rng(0).normal(size=(40, 3))), np.array([0, 1] * 20)
    _, y_res = SMOTE(random_state=0).fit_resample(X, y)
    assert y_res.dtype.metadata is None
    relabelled = y_res.copy()
    relabelled[:4] = 2
    from sklearn.utils.multiclass import type_of_target

    assert type_of_target(relabelled) == "multiclass"


@pytest.mark.parametrize("target", [100.0, 100.7, np.float32(100)])
def test_float_counts_in_a_dict_strategy_are_a_type_error(target):
    X, y = make_classes([90, 12], n_features=3, seed=3)
    with pytest.raises(TypeError):
        ReferenceSMOTE(sampling_strategy={1: target}).fit_resample(X, y)
    with pytest.raises(TypeError, match="new samples of class 1; sample counts must be integers"):
        SMOTE(sampling_strategy={1: target}).fit_resample(X, y)


def test_unknown_fit_resample_parameters_are_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'backend'"):
        ReferenceSMOTE().fit_resample(X_OK, Y_OK, backend=None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'backend'"):
        SMOTE().fit_resample(X_OK, Y_OK, backend=None)


def test_big_endian_input_gives_native_output_like_imblearn():
    X, y = make_classes([60, 14], n_features=3, seed=4)
    X, y = X.astype(">f8"), y.astype(">i8")
    ours = SMOTE(random_state=0).fit_resample(X, y)
    reference = ReferenceSMOTE(random_state=0).fit_resample(X, y)
    assert ours[0].dtype == reference[0].dtype and ours[0].dtype.isnative
    assert ours[1].dtype.isnative and reference[1].dtype.isnative
    np.testing.assert_array_equal(ours[0], reference[0], strict=True)
    np.testing.assert_array_equal(ours[1], reference[1])
