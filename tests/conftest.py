"""Test session set-up.

CUDA kernels run under Numba's CUDA simulator unless GPUSMOTE_TEST_REAL_GPU=1
(set it on a machine with a GPU to run the same tests on the device). The
variable must be set before Numba is imported, hence here.
"""

import os

if os.environ.get("GPUSMOTE_TEST_REAL_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

# Small data takes a NumPy path (gpusmote/devices/_backend.py, CPU_SMALL) that
# would otherwise serve almost every test here; the kernels are what most tests
# exist for, so the session runs them at every size. tests/test_small_path.py
# checks the small path against them (and imbalanced-learn) on its own.
import gpusmote.devices._backend as _backend  # noqa: E402

_backend.SMALL_DATA_ELEMENTS = 0
# A cleaner's first call in a process without kernels takes that path too, up
# to a few thousand rows, and so does a warm call on under 3,000 rows of many
# features (gpusmote/under_sampling/_base.py, cleaning_backend).
import gpusmote.under_sampling._base as _cleaning  # noqa: E402

_cleaning.COLD_SMALL_ROWS = 0
_cleaning.WARM_SMALL_ROWS = 0
# Faulting the output in ahead of its writes starts at 4 MiB of output
# (gpusmote/engine/_prefault.py); every test's resample runs it here.
import gpusmote.engine._prefault as _prefault  # noqa: E402

_prefault.MIN_POPULATE_BYTES = 0
