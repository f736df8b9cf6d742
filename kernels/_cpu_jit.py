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

import warnings

from numba import njit


class KernelCacheWarning(UserWarning):
    """No writable Numba cache: kernels are recompiled in every process."""


_warned = False


def cpu_kernel(**options):
    """Decorator: ``numba.njit(cache=True, **options)``, falling back to
    ``numba.njit(**options)`` when Numba finds no writable cache location."""

    def decorate(function):
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
                    stacklevel=2,
                )
            return njit(**options)(function)

    return decorate
