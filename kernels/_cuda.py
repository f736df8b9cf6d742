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


#: The most blocks one launch asks for: the kernels loop grid-stride over the rest.
MAX_BLOCKS = 65_535 * 32


def grid_blocks(n_items: int, threads: int) -> int:
    """Blocks for ``n_items`` work items at ``threads`` per block (capped)."""
    return min(MAX_BLOCKS, -(-n_items // threads))


def launch_over_elements(kernel, out, *args, threads: int = 256) -> None:
    """Launch a grid-stride ``kernel(out, *args)`` with one thread per element
    of the 2-D ``out`` (nothing to do for an empty one)."""
    n_elements = out.shape[0] * out.shape[1]
    if n_elements:
        kernel[grid_blocks(n_elements, threads), threads](out, *args)
