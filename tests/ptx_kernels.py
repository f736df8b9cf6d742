"""Compile every CUDA kernel of gpusmote to PTX, without a GPU.

Run as ``python tests/ptx_kernels.py`` with Numba's CUDA simulator off (it
needs NVVM and NVRTC, which ``numba-cuda[cu13]`` installs; no driver, no
device). Prints one JSON object: per kernel and argument types, whether it
compiled (Numba's real CUDA typing and lowering, libdevice calls included) and
how many fused float64 multiply-adds (``fma.rn.f64``) its PTX holds. The
control kernel ``a * b + c`` must show one: NVVM contracts plain float64 code,
which is why the interpolation goes through ``dmul_rn``/``dadd_rn``.

``tests/test_ptx.py`` runs it in a subprocess (the test session itself runs
under the simulator).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from types import SimpleNamespace

from numba import cuda

#: Hopper (H100/H200), the machines the GPU targets are set on.
COMPUTE_CAPABILITY = (9, 0)


def _control(out, a, b, c):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = a[i] * b[i] + c[i]


def kernels_and_signatures():
    """(name, python function, signature string) for every kernel we launch."""
    from gpusmote.kernels import (categorical, categorical_ties, interpolate, mixed_neighbors, neighbors, philox,
                                  synthesize, value_difference)

    interpolate_kernel = interpolate.cuda_interpolate_kernel()
    knn = neighbors.cuda_kernels()
    draws = philox.cuda_kernels().smote_draws
    fill_rows = synthesize.cuda_fill_rows_kernel()
    cases = [("control a*b+c", _control, "void(float64[::1], float64[::1], float64[::1], float64[::1])")]
    for dtype in ("float32", "float64", "int64"):
        cases.append((f"interpolate {dtype}", interpolate_kernel.py_func,
                      f"void({dtype}[:, ::1], {dtype}[:, ::1], {dtype}[:, ::1], int64[:, ::1], int64[::1], "
                      f"int64[::1], float64[::1])"))
        cases.append((f"k-NN rerank {dtype}", knn.rerank.py_func,
                      f"void({dtype}[:, ::1], {dtype}[:, ::1], float64, int64[:, ::1], float64[::1], float64[::1], "
                      f"float64[::1], int64, boolean, int64[:, ::1], int64[::1])"))
    cases.append(("k-NN select", knn.select.py_func,
                  "void(float32[:, ::1], int64, int64, float32[:, ::1], int64[:, ::1])"))
    cases.append(("philox draws", draws.py_func,
                  "void(uint64, uint64, uint64, int64, int64, int64, int64[::1], int64[::1], float64[::1])"))
    for dtype in ("float32", "float64"):
        cases.append((f"fill rows {dtype}", fill_rows.py_func,
                      f"void({dtype}[:, ::1], int64[::1], {dtype}[:, ::1], int64[::1], int64[::1], int64[::1], "
                      f"int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[:, ::1], "
                      f"uint64, uint64)"))
    cases.append(("SMOTEN mode int32", categorical.cuda_mode_kernel().py_func,
                  "void(int32[:, ::1], int32[:, ::1], int64[:, ::1], int64[::1])"))
    count, positions, uniforms = categorical_ties.cuda_kernels()
    common = "int64[:, ::1], int64[:, ::1], int64[::1], int64[::1], boolean[:, ::1]"
    cases.append(("SMOTENC tied counts", count.py_func, f"void(int64[:, ::1], {common})"))
    cases.append(("SMOTENC pick by positions", positions.py_func,
                  f"void(int64[:, ::1], {common}, int32[::1], int64[:, ::1])"))
    cases.append(("SMOTENC pick by uniforms", uniforms.py_func, f"void(int64[:, ::1], {common}, float64[:, ::1])"))
    for dtype in ("float32", "float64"):
        cases.append((f"SMOTENC codes k-NN {dtype}", mixed_neighbors.cuda_search_kernel().py_func,
                      f"void({dtype}[:, ::1], int64[:, ::1], float64, float64, float64[:, ::1], int64[:, ::1])"))
    cases.append(("SMOTEN VDM distances", value_difference.cuda_vdm_kernel().py_func,
                  "void(float64[:, ::1], int64, int32[:, ::1], float64[::1], int64[::1], int64[::1], "
                  "float64[:, :, ::1], int64[::1])"))
    return cases


def main() -> int:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "0":
        print("run with NUMBA_ENABLE_CUDASIM unset", file=sys.stderr)
        return 2
    # Device functions are compiled for the current device's compute capability,
    # which needs a driver; without one, name the target instead.
    import numba.cuda.dispatcher

    numba.cuda.dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=COMPUTE_CAPABILITY)
    report = {}
    for name, function, signature in kernels_and_signatures():
        try:
            ptx, _ = cuda.compile_ptx(function, signature, cc=COMPUTE_CAPABILITY)
            report[name] = {"ok": True, "fma_f64": ptx.count("fma.rn.f64"), "error": ""}
        except Exception as error:  # reported per kernel
            report[name] = {"ok": False, "fma_f64": None,
                            "error": f"{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}"}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
