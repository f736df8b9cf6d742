"""The ``device`` argument: strings such as ``'cuda:1'``, ``torch.device`` objects, checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from gpusmote.devices._resolve import cuda_simulated, cuda_status, cupy_installed

DEVICE_TYPES = ("cpu", "cuda")


def as_device(device, default: torch.device) -> torch.device:
    """``device`` (None, ``'cpu'``, ``'cuda'``, ``'cuda:N'``, an int or a
    ``torch.device``) as a ``torch.device``; None gives ``default``.

    Raises
    ------
    ValueError
        For anything else (``'auto'`` is the callers' to handle).
    """
    if device is None:
        return default
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.type not in DEVICE_TYPES:
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device of those "
                         f"types, got {device!r}.")
    return parsed


def check_engine_cuda(device: torch.device) -> None:
    """Raise a clear error when gpusmote's CUDA engine (CuPy and Numba) cannot use ``device``.

    Under Numba's CUDA simulator (the tests), device 0 runs simulated.
    """
    usable, why = cuda_status()
    if not usable:
        if cuda_simulated() and device.index in (None, 0):
            return
        raise RuntimeError(f"device={str(device)!r} was requested, but {why}.")
    import cupy

    count = cupy.cuda.runtime.getDeviceCount()
    if device.index is not None and device.index >= count:
        raise RuntimeError(f"device={str(device)!r} was requested, but {count} CUDA device(s) "
                           f"are visible.")


def check_torch_cuda(device: torch.device) -> None:
    """Raise a clear error when PyTorch cannot hold tensors on ``device``."""
    if not torch.cuda.is_available():
        raise RuntimeError(f"device={str(device)!r} was requested, but PyTorch sees no CUDA "
                           f"device (torch.cuda.is_available() is False: a CPU-only build of "
                           f"PyTorch, or no GPU).")
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise RuntimeError(f"device={str(device)!r} was requested, but PyTorch sees {count} "
                           f"CUDA device(s).")


@contextlib.contextmanager
def selected(device: torch.device | None) -> Iterator[None]:
    """Make ``device`` the current CUDA device of PyTorch, CuPy and Numba.

    The engine allocates and launches on each library's current device, so a
    tensor on ``cuda:1`` needs device 1 current; nothing changes for the CPU, a
    CUDA device without an index, or a machine with one GPU.
    """
    if (device is None or device.type != "cuda" or device.index is None or cuda_simulated()
            or (torch.cuda.is_available() and torch.cuda.device_count() < 2)):
        yield
        return
    with contextlib.ExitStack() as stack:
        if torch.cuda.is_available():
            stack.enter_context(torch.cuda.device(device.index))
        if cupy_installed():
            import cupy

            stack.enter_context(cupy.cuda.Device(device.index))
        from numba import cuda

        if cuda.is_available():
            stack.enter_context(cuda.gpus[device.index])
        yield
