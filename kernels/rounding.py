"""float64 multiply and add, each rounded to nearest on its own, for both targets.

Bit-identical results on the CPU and the GPU need the same float64 operations:
on the CPU Numba never contracts ``a + b * c`` into a fused multiply-add (no
fast-math), but NVVM does on CUDA, which changes the last bit. Kernels that
must agree take their multiply and add from here: plain operators on the CPU,
libdevice's ``dmul_rn``/``dadd_rn`` (never fused) on CUDA. tests/test_ptx.py
checks that the CUDA builds hold no ``fma.rn.f64``.
"""

from __future__ import annotations

import functools

from numba import njit

from gpusmote.kernels import _cuda


@njit(inline="always")
def mul_rn(a, b):
    """``a * b`` rounded to nearest (CPU)."""
    return a * b


@njit(inline="always")
def add_rn(a, b):
    """``a + b`` rounded to nearest (CPU)."""
    return a + b


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_rounding():
    """``(mul_rn, add_rn)`` as CUDA device functions: libdevice's ``dmul_rn``
    and ``dadd_rn``."""
    _cuda.bind(globals())
    from numba.core import config

    if config.ENABLE_CUDASIM:
        # The simulator's libdevice functions are stubs; a Python float * or +
        # is one correctly rounded double operation, exactly dmul_rn/dadd_rn.
        # Plain functions, not simulated device functions: each simulated call
        # swaps module globals under a lock, and with a hundred threads in the
        # k-NN re-rank's inner loop that took minutes.
        return mul_rn.py_func, add_rn.py_func
    from numba.cuda import libdevice

    return libdevice.dmul_rn, libdevice.dadd_rn
