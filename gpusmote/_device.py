"""Which device runs the work."""

from __future__ import annotations

import importlib.util

DEVICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    """True when CuPy is importable and sees at least one CUDA device."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # a broken CUDA install counts as no GPU
        return False


def resolve_device(device: str) -> str:
    """Map the ``device`` parameter to the device that will run.

    ``"auto"`` is the CPU until the GPU engine lands (issue 4); ``"cuda"`` says
    plainly that it cannot run rather than silently using the CPU.
    """
    if device in ("auto", "cpu"):
        return "cpu"
    if device == "cuda":
        raise RuntimeError(
            "device='cuda' was requested, but this build of gpusmote has no GPU "
            "engine yet; use device='cpu' or device='auto'."
        )
    raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
