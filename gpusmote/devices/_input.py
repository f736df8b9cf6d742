"""Device-resident input: CuPy arrays and PyTorch CUDA tensors, taken without a copy.

``SMOTE.fit_resample`` hands such input to the CUDA engine as CuPy views
(``cupy.from_dlpack``: no copy, same memory) and answers in the input's own
type on its device. Only ``y`` (one label per row) is copied to the host, where
imbalanced-learn's target checks and sampling-strategy rules run.
"""

from __future__ import annotations

import numpy as np


def device_kind(array) -> str | None:
    """'cupy' for a CuPy array, 'torch' for a CUDA tensor, None for host data."""
    module = type(array).__module__
    if module.startswith("cupy"):
        return "cupy"
    if module.startswith("torch") and getattr(array, "is_cuda", False):
        return "torch"
    return None


def as_cupy(array):
    """A CuPy view of a device array (the same memory)."""
    import cupy

    return array if device_kind(array) == "cupy" else cupy.from_dlpack(array.detach())


def to_host(array) -> np.ndarray:
    """A NumPy copy of a device array; host data as a NumPy array."""
    kind = device_kind(array)
    if kind == "cupy":
        return array.get()
    if kind == "torch":
        return array.detach().cpu().numpy()
    return np.asarray(array)


def like(result, original):
    """``result`` (a NumPy or CuPy array) in ``original``'s type and place
    (no copy when it is already there)."""
    on_device = type(result).__module__.startswith("cupy")
    kind = device_kind(original)
    if kind is None:
        return result.get() if on_device else result
    if kind == "torch":
        import torch

        if on_device:
            return torch.from_dlpack(result)
        return torch.from_numpy(result).to(original.device)
    import cupy

    return cupy.asarray(result)


def check_device_X(X, xp, estimator_name: str = "SMOTE", min_samples: int = 1) -> None:
    """scikit-learn's checks of ``X`` (same messages), computed where X lives.

    ``min_samples=0`` accepts a block without rows (one chunk of a dask array).

    Raises
    ------
    ValueError
        X is not 2-D, has fewer than ``min_samples`` rows or no columns, is not
        numeric, or holds NaN or infinity.
    """
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got {X.ndim}D array instead.")
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] < (min_samples if axis == 0 else 1):
            raise ValueError(f"Found array with 0 {what}(s) (shape={tuple(X.shape)}) while a "
                             f"minimum of 1 is required.")
    if X.dtype.kind not in "fiu":
        raise ValueError(f"X must hold numbers, got dtype {X.dtype}.")
    if X.dtype.kind == "f" and not bool(xp.isfinite(X).all()):
        # scikit-learn's own message, raised on a one-value host array holding the culprit
        from sklearn.utils.validation import _assert_all_finite

        bad = np.nan if bool(xp.isnan(X).any()) else np.inf
        _assert_all_finite(np.array([bad], dtype=X.dtype), estimator_name=estimator_name,
                           input_name="X")
