"""CUDA plumbing shared by the kernel modules."""

from __future__ import annotations


def bind(module_globals: dict):
    """Put ``numba.cuda`` in a kernel module's ``cuda`` global and return it.

    Kernel modules keep ``cuda = None`` until a CUDA kernel is first built, so
    CPU-only users never import ``numba.cuda``; it must be a module global
    because Numba's simulator runs a kernel with every global that holds the
    real module swapped for its fake one.
    """
    if module_globals.get("cuda") is None:
        from numba import cuda

        module_globals["cuda"] = cuda
    return module_globals["cuda"]
