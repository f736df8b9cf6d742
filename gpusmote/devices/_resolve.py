"""Which device runs the work: ``device='auto' | 'cpu' | 'cuda'`` to a backend."""

from __future__ import annotations

import functools
import importlib.util
import warnings

from gpusmote.devices._backend import CPU, Backend, cuda_backend

DEVICES = ("auto", "cpu", "cuda")


def cuda_simulated() -> bool:
    """True when Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): tests
    run the CUDA engine on the CPU with it."""
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)


@functools.cache
def cupy_installed() -> bool:
    """Whether CuPy can be imported (looked up once per process: the lookup
    walks sys.path, ~0.15 ms, and ``device='auto'`` asks on every call)."""
    return importlib.util.find_spec("cupy") is not None


def cuda_status() -> tuple[bool, str]:
    """(usable, why not): CuPy importable, a CUDA device present, numba-cuda working."""
    if not cupy_installed():
        return False, ("CuPy is not installed (the [cuda12] or [cuda13] extra: "
                       "pip install 'gpusmote[cuda12]', or '.[cuda12]' from a checkout)")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "no CUDA device is visible"
        from numba import cuda

        if not cuda.is_available():
            return False, "numba-cuda cannot use the CUDA driver"
    except Exception as error:  # a broken CUDA install counts as no GPU
        return False, f"the CUDA install is broken ({type(error).__name__}: {error})"
    return True, ""


def cuda_available() -> bool:
    """True when a real CUDA device can run the GPU engine."""
    return cuda_status()[0]


def resolve_device(device: str) -> Backend:
    """Map the ``device`` parameter to the backend that will run.

    ``'auto'`` takes the GPU when one is usable, else the CPU (warning when a
    CUDA install is present but broken); ``'cuda'`` raises a clear error when no
    GPU is usable, except under Numba's CUDA simulator, where it runs the CUDA
    kernels simulated (for tests).
    """
    if device == "cpu":
        return CPU
    if device not in ("auto", "cuda"):
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}.")
    usable, why = cuda_status()
    if usable:
        return cuda_backend(simulated=False)
    if device == "cuda":
        if cuda_simulated():
            return cuda_backend(simulated=True)
        raise RuntimeError(f"device='cuda' was requested, but {why}.")
    if cupy_installed():
        warnings.warn(f"device='auto' runs on the CPU: {why}.", RuntimeWarning, stacklevel=3)
    return CPU
