"""Whether this process may run Numba's CPU thread pool.

Numba's ``omp`` threading layer (the default where TBB is not installed) runs
on GNU OpenMP, which does not survive ``fork``: a child of a process that has
started the pool is terminated by Numba on its first parallel launch ("fork()
called from a process already using GNU OpenMP"), and a ``multiprocessing``
fork pool then waits forever for its dead workers. A forked child that
inherits a started GNU OpenMP pool therefore runs gpusmote's parallel kernels'
serial builds (``kernels/_cpu_jit.py``); every other process, and children
of processes that never started the pool or use a fork-safe layer (TBB,
workqueue, Intel OpenMP), keep the parallel ones.
"""

from __future__ import annotations

import os
import sys

_inherited_unsafe_pool = False


def _gnu_openmp_pool_started() -> bool:
    """True when Numba has started its thread pool on GNU OpenMP in this
    process (or, in a forked child, in the parent whose memory it copied)."""
    parallel = sys.modules.get("numba.np.ufunc.parallel")  # never imported: never started
    if parallel is None or not parallel._is_initialized or parallel._threading_layer != "omp":
        return False
    omppool = sys.modules.get("numba.np.ufunc.omppool")
    return omppool is not None and omppool.openmp_vendor == "GNU"


def _after_fork_in_child() -> None:
    global _inherited_unsafe_pool
    if not _inherited_unsafe_pool:
        _inherited_unsafe_pool = _gnu_openmp_pool_started()


def parallel_allowed() -> bool:
    """False in a forked child that inherited a started GNU OpenMP pool."""
    return not _inherited_unsafe_pool


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
