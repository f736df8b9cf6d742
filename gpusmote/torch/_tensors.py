"""Tensor checks and conversions between PyTorch and NumPy."""

from __future__ import annotations

import numpy as np
import torch

FLOAT_DTYPES = (torch.float32, torch.float64)
#: Computed in float32 and returned in their own dtype: NumPy has no bfloat16,
#: and the kernels read float32 or float64 only.
HALF_DTYPES = (torch.float16, torch.bfloat16)


def as_tensor(value, name: str) -> torch.Tensor:
    """``value`` as a tensor: a tensor unchanged, a NumPy array without a copy
    (unless it has negative strides or a foreign byte order).

    Raises
    ------
    TypeError
        ``value`` is neither a tensor nor a NumPy array.
    """
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        if not value.dtype.isnative:
            value = value.astype(value.dtype.newbyteorder("="))
        return torch.from_numpy(np.ascontiguousarray(value) if value.ndim else value)
    raise TypeError(f"{name} must be a torch.Tensor or a NumPy array, got {type(value).__name__}.")


def check_xy(X: torch.Tensor, y: torch.Tensor, *, float_only: bool = True) -> None:
    """Raise a clear error for inputs the torch API cannot take.

    Float labels are accepted when they are whole numbers (``0.`` and ``1.``
    for ``BCEWithLogitsLoss`` targets), as :class:`gpusmote.SMOTE` accepts them.

    Raises
    ------
    TypeError
        X or y is not a tensor, X is not a float tensor (``float_only``), or y
        holds complex numbers.
    ValueError
        X is not 2-D, y is not 1-D, their lengths differ, they are on different
        devices, or y holds floats that are not whole numbers.
    """
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {tuple(X.shape)}.")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {tuple(y.shape)}.")
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}.")
    if X.device != y.device:
        raise ValueError(f"X and y are on different devices: {X.device} and {y.device}.")
    if float_only and X.dtype not in FLOAT_DTYPES + HALF_DTYPES:
        raise TypeError(f"X must be a float32 or float64 tensor (float16 and bfloat16 are "
                        f"computed in float32), got {X.dtype}.")
    if y.is_complex():
        raise TypeError(f"y must hold integer class labels, got {y.dtype}.")
    if y.is_floating_point():
        whole = torch.isfinite(y) & (y == torch.round(y))
        if not bool(whole.all()):
            bad = y[~whole][0].item()
            raise ValueError(f"y must hold integer class labels (floats are accepted when they "
                             f"are whole numbers, such as 0. and 1.), got {y.dtype} {bad!r}.")


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the kernels compute X in: float32 for float16 and bfloat16."""
    return torch.float32 if dtype in HALF_DTYPES else dtype


def host_view(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array of a tensor: a view for a CPU tensor, a host copy for a CUDA one."""
    return tensor.detach().cpu().numpy()


def to_tensor(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``array`` as a tensor on ``like``'s device (no copy on the CPU)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.device)


def plain_label(label):
    """A label as a plain Python value: NumPy scalars unwrapped, whole floats as ints."""
    value = label.item() if isinstance(label, np.generic) else label
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain_strategy(strategy: dict) -> dict:
    """``{label: n_synthetic}`` with plain Python keys and int values."""
    return {plain_label(label): int(n) for label, n in strategy.items()}
