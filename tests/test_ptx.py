"""Every CUDA kernel compiled for real (Hopper PTX, Numba's CUDA typing and
NVVM, no GPU needed), and no fused float64 multiply-add in any of them.

The simulator runs the kernels' Python source, so it cannot show what NVVM
makes of them; this does. A fused multiply-add rounds once where the CPU
rounds twice, so it would break CPU/GPU identity in the last bit (it did, in
the k-NN re-rank's float64 distances, until they used dmul_rn/dadd_rn).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "ptx_kernels.py"


@pytest.fixture(scope="module")
def ptx_report() -> dict:
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_ENABLE_CUDASIM"}
    proc = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_every_kernel_compiles_for_the_gpu(ptx_report):
    failed = {name: entry["error"] for name, entry in ptx_report.items() if not entry["ok"]}
    assert not failed, failed
    assert len(ptx_report) == 18


def test_no_fused_float64_multiply_add(ptx_report):
    # the control proves the count sees contraction when NVVM does it
    assert ptx_report.pop("control a*b+c")["fma_f64"] == 1
    fused = {name: entry["fma_f64"] for name, entry in ptx_report.items() if entry["fma_f64"]}
    assert not fused, fused
