"""``numba.njit`` with the on-disk cache, where there is somewhere to keep it.

The CPU kernels are cached on disk so a process does not recompile them (seconds
per process). Numba keeps the cache beside the source, else under the user's
cache directory (or ``NUMBA_CACHE_DIR``), and refuses to define a cached function
at all when none of those is writable: a read-only install with a read-only
home (containers, locked-down service accounts) would fail ``import gpusmote``.
There the kernels are compiled in memory instead, once per process, with a
warning that says how to keep them.
"""

from __future__ import annotations

import types
import warnings

from numba import njit

from gpusmote.kernels._fork import parallel_allowed


class KernelCacheWarning(UserWarning):
    """No writable Numba cache: kernels are recompiled in every process."""


_warned = False
#: Every CPU kernel defined, for :func:`kernels_loaded`.
_kernels: list = []
_loaded = False


def kernels_loaded() -> bool:
    """Whether this process has compiled or loaded any CPU kernel yet.

    The first one costs ~0.25 s (Numba's and LLVM's start), each later one a
    few milliseconds: an optional kernel (``kernels/mt19937.py``) is worth
    loading only once a process runs kernels anyway, never on the small-data
    path, which loads none.
    """
    global _loaded
    if not _loaded:
        _loaded = any(kernel.signatures for kernel in _kernels)
    return _loaded


def cpu_kernel(**options):
    """Decorator: ``numba.njit(cache=True, **options)``, falling back to
    ``numba.njit(**options)`` when Numba finds no writable cache location."""

    def decorate(function):
        kernel = _cached_or_plain(function, options)
        _kernels.append(kernel)
        return kernel

    return decorate


def _cached_or_plain(function, options: dict):
    """``numba.njit(cache=True, **options)(function)``, or without the cache
    (once warned) where Numba has nowhere to keep it."""
    global _warned
    try:
        return njit(cache=True, **options)(function)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
        if not _warned:
            _warned = True
            warnings.warn(
                f"gpusmote: Numba has no writable cache directory ({error}); its kernels are "
                "compiled in every process. Set NUMBA_CACHE_DIR to a writable directory to "
                "keep them.",
                KernelCacheWarning,
                stacklevel=3,
            )
        return njit(**options)(function)


class ParallelKernel:
    """A CPU kernel with a ``prange`` loop, built twice: in parallel, and on the
    calling thread for forked children that must not touch Numba's thread pool
    (see ``kernels/_fork.py``). Calls go to the build this process may run; the
    serial one is compiled (or loaded from the cache) only when first needed.
    """

    def __init__(self, function, options: dict):
        self.py_func = function
        self._options = options
        self.parallel = cpu_kernel(parallel=True, **options)(function)
        self._serial = None

    @property
    def serial(self):
        """The build without threads (``prange`` runs as ``range``)."""
        if self._serial is None:
            # A copy under its own name: Numba's on-disk cache is keyed by the
            # function's qualified name, not by its compile options, so the
            # function itself would load the parallel build from the cache.
            twin = types.FunctionType(self.py_func.__code__, self.py_func.__globals__,
                                      f"{self.py_func.__name__}_serial",
                                      self.py_func.__defaults__, self.py_func.__closure__)
            twin.__qualname__ = f"{self.py_func.__qualname__}_serial"
            twin.__module__ = self.py_func.__module__
            twin.__doc__ = self.py_func.__doc__
            self._serial = cpu_kernel(**self._options)(twin)
        return self._serial

    def __call__(self, *args):
        if parallel_allowed():
            return self.parallel(*args)
        return self.serial(*args)


def parallel_cpu_kernel(**options):
    """Decorator: a :class:`ParallelKernel` (``numba.njit(parallel=True)`` and
    its serial twin, both cached like :func:`cpu_kernel`)."""

    def decorate(function) -> ParallelKernel:
        return ParallelKernel(function, options)

    return decorate
