"""Device-resident input (CuPy / CUDA tensors): the validation and the engine path
that keeps X where it is, run here with NumPy under Numba's CUDA simulator."""

import numpy as np
import pytest
import torch
from helpers import make_classes

from gpusmote import SMOTE
from gpusmote.devices._backend import cuda_backend
from gpusmote.devices._input import device_kind, like

SIMULATED = cuda_backend(simulated=True)


def _device_path(X, y, **params):
    return SMOTE(device="cuda", **params)._resample_device_arrays(X, y, SIMULATED)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("rng", ["imblearn", "philox"])
def test_device_path_equals_fit_resample(dtype, rng):
    X, y = make_classes([150, 30, 18], n_features=4, dtype=dtype, seed=5)
    X_copy = X.copy()
    expected = SMOTE(device="cpu", random_state=3, rng=rng).fit_resample(X, y)
    X_res, y_res = _device_path(X, y, random_state=3, rng=rng)
    np.testing.assert_array_equal(X_res, expected[0], strict=True)
    np.testing.assert_array_equal(y_res, expected[1], strict=True)
    np.testing.assert_array_equal(X, X_copy)


def _host_error(X, y):
    with pytest.raises(Exception) as host:
        SMOTE(device="cpu").fit_resample(X, y)
    return host.value


@pytest.mark.parametrize(
    "case",
    ["nan", "inf", "one_d", "lengths", "single_class", "empty", "k_too_large"],
)
def test_device_path_rejects_what_fit_resample_rejects(case):
    X, y = make_classes([40, 8], n_features=3, seed=1)
    if case == "nan":
        X[7, 1] = np.nan
    elif case == "inf":
        X[7, 1] = np.inf
    elif case == "one_d":
        X = X[:, 0]
    elif case == "lengths":
        y = y[:-1]
    elif case == "single_class":
        y = np.zeros_like(y)
    elif case == "empty":
        X, y = X[:0], y[:0]
    params = {"k_neighbors": 8} if case == "k_too_large" else {}
    host = _host_error(X, y) if not params else None
    with pytest.raises(ValueError) as device:
        _device_path(X, y, **params)
    if case in ("nan", "inf", "lengths", "single_class", "k_too_large"):
        if host is not None:
            assert type(device.value) is type(host) and str(device.value) == str(host)
    if case == "k_too_large":
        assert "n_neighbors = 9" in str(device.value)


def test_device_kind_and_like_for_host_data():
    assert device_kind(np.zeros(3)) is None
    assert device_kind(torch.zeros(3)) is None  # CPU tensors are host data
    result = np.arange(3)
    assert like(result, np.zeros(3)) is result


@pytest.mark.parametrize("name, params", [
    ("RandomOverSampler", {}),
    ("ADASYN", {}),
    ("BorderlineSMOTE", {"kind": "borderline-1"}),
    ("BorderlineSMOTE", {"kind": "borderline-2"}),
    ("SVMSMOTE", {}),
])
@pytest.mark.parametrize("rng", ["imblearn", "philox"])
def test_family_device_path_equals_fit_resample(name, params, rng):
    """Every sampler of the family takes the device path (X kept in backend
    memory, validated there) to the rows its host path gives."""
    import gpusmote.over_sampling as family

    sampler = getattr(family, name)
    X, y = make_classes([120, 30, 18], n_features=3, dtype=np.float32, seed=6)
    X_copy = X.copy()
    expected = sampler(device="cpu", random_state=4, rng=rng, **params).fit_resample(X, y)
    X_res, y_res = sampler(device="cuda", random_state=4, rng=rng, **params)._resample_device_arrays(
        X, y, SIMULATED)
    np.testing.assert_array_equal(X_res, expected[0], strict=True)
    np.testing.assert_array_equal(y_res, expected[1], strict=True)
    np.testing.assert_array_equal(X, X_copy)
