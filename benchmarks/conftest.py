"""pytest-benchmark suite set-up: ``pytest benchmarks/ --benchmark-only``.

The normal test run (``pytest`` from the repository root) does not collect this
folder. Set GPUSMOTE_BENCH_QUICK=1 for the 2% workloads.
"""

import sys
from pathlib import Path

# The workload module lives beside this file, outside the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
