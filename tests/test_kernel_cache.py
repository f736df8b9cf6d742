"""Kernels still work where Numba has no writable cache directory."""

import subprocess
import sys
import textwrap

import pytest
from numba.core import caching

from gpusmote.kernels import _cpu_jit

# The class that holds Numba's cache locators (renamed in Numba 0.68).
CACHE_IMPL = getattr(caching, "CacheImpl", None) or caching._CacheImpl


def test_cached_where_numba_can_cache():
    def double(x):
        return 2 * x

    kernel = _cpu_jit.cpu_kernel(nogil=True)(double)
    assert kernel.targetoptions.get("nogil") is True
    assert kernel._cache.__class__.__name__ == "FunctionCache"
    assert kernel(21) == 42


def test_compiles_in_memory_with_a_warning_without_a_cache_location(monkeypatch):
    monkeypatch.setattr(CACHE_IMPL, "_locator_classes", [])
    monkeypatch.setattr(_cpu_jit, "_warned", False)

    def double(x):
        return 2 * x

    with pytest.warns(_cpu_jit.KernelCacheWarning, match="NUMBA_CACHE_DIR"):
        kernel = _cpu_jit.cpu_kernel(nogil=True)(double)
    assert kernel._cache.__class__.__name__ == "NullCache"
    assert kernel(21) == 42


def test_package_imports_and_resamples_without_a_cache_location():
    # A read-only install with an unwritable home: Numba finds no locator for
    # any kernel. Used to fail at `import gpusmote` with "cannot cache function".
    script = textwrap.dedent(
        """
        import warnings
        import numpy as np
        from numba.core import caching
        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl
        impl._locator_classes = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from gpusmote import SMOTE
        from imblearn.over_sampling import SMOTE as Reference
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 3)).astype(np.float32)
        y = np.array([0] * 50 + [1] * 10)
        ours = SMOTE(random_state=0).fit_resample(X, y)
        theirs = Reference(random_state=0).fit_resample(X, y)
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))
        names = [w.category.__name__ for w in caught]
        print(names.count("KernelCacheWarning"))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "1"  # warned once, not once per kernel
