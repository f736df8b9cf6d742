"""Test session set-up.

CUDA kernels run under Numba's CUDA simulator unless GPUSMOTE_TEST_REAL_GPU=1
(set it on a machine with a GPU to run the same tests on the device). The
variable must be set before Numba is imported, hence here.
"""

import os

if os.environ.get("GPUSMOTE_TEST_REAL_GPU") != "1":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
