"""Tensor checks and zero-copy conversions between PyTorch and NumPy."""

from __future__ import annotations

import numpy as np
import torch

FLOAT_DTYPES = (torch.float32, torch.float64)


def check_xy(X, y, *, float_only: bool = True) -> None:
    """Raise a clear error for inputs the torch API cannot take.

    Raises
    ------
    TypeError
        X or y is not a tensor, or X is not float32/float64 (``float_only``).
    ValueError
        X is not 2-D, y is not 1-D, their lengths differ, or they are on
        different devices.
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
    if float_only and X.dtype not in FLOAT_DTYPES:
        raise TypeError(f"X must be a float32 or float64 tensor, got {X.dtype}.")
    if y.is_floating_point() or y.is_complex():
        raise TypeError(f"y must hold integer class labels, got {y.dtype}.")


def host_view(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy array of a tensor: a view for a CPU tensor, a host copy for a CUDA one."""
    return tensor.detach().cpu().numpy()


def to_tensor(array: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``array`` as a tensor on ``like``'s device (no copy on the CPU)."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.device)
