"""The whole GPU check in one call: identity, then timings.

``python -m benchmarks.gpu_check`` (on a machine with a CUDA GPU, CuPy and
numba-cuda) does, in order:

1. **Identity.** Many random cases (dtypes float32/float64/int64/uint8, 2-5
   classes, k from 1 to 12, strategies, small and multi-chunk sizes, several
   GEMM tiles): ``SMOTE(device="cuda")`` must return exactly what
   ``SMOTE(device="cpu")`` returns (and imbalanced-learn, for int seeds), and
   the GPU k-NN table must equal the CPU one. Each case runs with our own GPU
   k-NN and, when a FAISS build with GPU support is importable, with FAISS's
   candidates too; FAISS's float32 distances are also checked against the
   error bound the exactness proof assumes. Device-resident inputs (CuPy
   arrays, PyTorch CUDA tensors) are checked when this build accepts them.
   The rest of the family (RandomOverSampler, ADASYN, BorderlineSMOTE of both
   kinds, SVMSMOTE, KMeansSMOTE) gets the same check on overlapping classes: GPU = CPU =
   imbalanced-learn with an int seed, GPU = CPU with ``rng="philox"``, and CuPy
   input answered on the device with the CPU's rows; SMOTENC (its one-hot
   search and, with 400 levels, its search from the codes) and SMOTEN on mixed
   data get the first two; the cleaners (EditedNearestNeighbours of both
   kinds, TomekLinks) and the combined samplers (SMOTEENN, SMOTETomek) get
   GPU = CPU = imbalanced-learn and the CuPy-input check.
2. **CUDA kernels on the device**: the kernel tests of tests/test_cuda_kernels.py,
   tests/test_cuda_engine.py and the other files of :func:`run_kernel_tests` are
   run with ``GPUSMOTE_TEST_REAL_GPU=1``; SMOTEN's k-NN with the VDM distances
   on the GPU is timed against the CPU kernel (same table).
3. **Timings**: every workload of benchmarks/workloads.py (``--quick`` for the
   2% variants): imbalanced-learn, imbalanced-learn with our CUDA k-NN plugged
   in, gpusmote CPU, gpusmote GPU (host input; also with the FAISS k-NN when
   available) and gpusmote GPU with the input
   already on the device, on the same data in one process, with the k-NN /
   generation split, the device's copy bandwidth and the bytes-written bound.
4. **PyTorch**: ``BalancedBatches`` on CUDA tensors equals the CPU batches, and
   its rows/s at 32 float32 features.
5. **Cleaning timings**: SMOTEENN and SMOTETomek on fraud-200k (their k-NN
   over all ~400,000 rows; ``--quick``: 2%): imbalanced-learn, gpusmote CPU,
   GPU and GPU with the input on the device, outputs compared.
6. **Dask** (when Dask is importable): ``SMOTE(rng="philox", device="cuda")``
   on dask arrays of NumPy and of CuPy chunks, computed on the threads
   scheduler, against in-memory SMOTE on the CPU.

``--only SECTION ...`` runs some of them (identity, family, cleaning,
device-inputs, kernel-tests, vdm, torch, timings, cleaning-timings, dask), so
a short device session can rerun what failed, or time the full-size cleaning
workload alone (``--only cleaning-timings``, without ``--quick``).

Everything is printed and written to benchmarks/results/gpu-check-<device>.md
(and the JSON beside it). Exit status 1 if any identity check failed.

On this workplace's GPU machine (which lacks imbalanced-learn and Dask), first
run ``benchmarks/gpu_check_wheels.sh`` here, then one device call with ``carry``
``[".whl"]``::

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
      && export PYTHONPATH=/tmp/site:$PWD && python3 -m benchmarks.gpu_check --quick
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def device_name() -> str:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.runtime.getDevice())
    return props["name"].decode()


def knn_engines() -> list[str]:
    """The GPU k-NN engines to check: ours, and FAISS's when it has GPU support."""
    from gpusmote.neighbors._faiss import faiss_gpu_status

    return ["own", "faiss"] if faiss_gpu_status()[0] else ["own"]


@contextlib.contextmanager
def knn_engine(name: str):
    saved = os.environ.get("GPUSMOTE_GPU_KNN")
    os.environ["GPUSMOTE_GPU_KNN"] = name
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("GPUSMOTE_GPU_KNN")
        else:
            os.environ["GPUSMOTE_GPU_KNN"] = saved


def identity_cases(n_cases: int, seed: int):
    rng = np.random.default_rng(seed)
    dtypes = [np.float32, np.float64, np.int64, np.uint8]
    for case in range(n_cases):
        n_classes = int(rng.integers(2, 6))
        k = int(rng.integers(1, 13))
        counts = [int(rng.integers(k + 2, 3000 if case % 4 else 60)) for _ in range(n_classes)]
        n_features = int(rng.choice([1, 3, 8, 30, 64, 130]))
        dtype = dtypes[case % len(dtypes)]
        strategy = ["auto", "all", "minority", "not minority"][case % 4]
        yield dict(counts=counts, n_features=n_features, dtype=dtype, k=k, strategy=strategy, seed=case)


def make_case(counts, n_features, dtype, seed):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    if np.dtype(dtype).kind == "f":
        X = (rng.normal(size=(len(y), n_features)) + y[:, None] * 0.3).astype(dtype)
    else:
        hi = 250 if np.dtype(dtype) == np.uint8 else 2**40
        X = rng.integers(0, hi, size=(len(y), n_features)).astype(dtype)
    return X, y


def check_identity(n_cases: int) -> list[dict]:
    from imblearn.over_sampling import SMOTE as ReferenceSMOTE

    import gpusmote.neighbors._cuda as knn_cuda
    import gpusmote.neighbors._faiss as knn_faiss
    import gpusmote.engine._draws as random_module
    from gpusmote import SMOTE

    rows, engines = [], knn_engines()
    for params in identity_cases(n_cases, seed=2026):
        X, y = make_case(params["counts"], params["n_features"], params["dtype"], params["seed"])
        kwargs = dict(random_state=params["seed"], k_neighbors=params["k"], sampling_strategy=params["strategy"])
        small_tiles = params["seed"] % 3 == 0  # several query blocks, GEMM tiles and draw chunks
        cpu = SMOTE(device="cpu", **kwargs).fit_resample(X, y)
        ref = ReferenceSMOTE(**kwargs).fit_resample(X, y)
        for engine in engines:
            saved = (knn_cuda.CUDA_QUERY_BLOCK_ROWS, knn_faiss.FAISS_QUERY_BLOCK_ROWS,
                     random_module.DRAW_CHUNK_ROWS)
            try:
                if small_tiles:
                    knn_cuda.CUDA_QUERY_BLOCK_ROWS, knn_faiss.FAISS_QUERY_BLOCK_ROWS = 256, 256
                    random_module.DRAW_CHUNK_ROWS = 1000
                with knn_engine(engine):
                    gpu = SMOTE(device="cuda", **kwargs).fit_resample(X, y)
                same_cpu = all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(gpu, cpu))
                same_ref = all(np.array_equal(a, b) for a, b in zip(gpu, ref))
                error = ""
            except Exception as exc:  # reported, and counted as a failure
                same_cpu = same_ref = False
                error = f"{type(exc).__name__}: {exc}"
            finally:
                (knn_cuda.CUDA_QUERY_BLOCK_ROWS, knn_faiss.FAISS_QUERY_BLOCK_ROWS,
                 random_module.DRAW_CHUNK_ROWS) = saved
            rows.append({**{k: str(v) for k, v in params.items()}, "knn": engine, "small_tiles": small_tiles,
                         "gpu_equals_cpu": same_cpu, "gpu_equals_imblearn": same_ref, "error": error})
    return rows


#: name -> (gpusmote.over_sampling and imblearn.over_sampling class, parameters)
FAMILY = {
    "RandomOverSampler": ("RandomOverSampler", {}),
    "ADASYN": ("ADASYN", {}),
    "BorderlineSMOTE-1": ("BorderlineSMOTE", {"kind": "borderline-1"}),
    "BorderlineSMOTE-2": ("BorderlineSMOTE", {"kind": "borderline-2"}),
    "SVMSMOTE": ("SVMSMOTE", {}),
    # three clusters, every one valid: random overlapping classes may have no cluster past 'auto'
    "KMeansSMOTE": ("KMeansSMOTE", {"kmeans_estimator": 3, "cluster_balance_threshold": 0.0}),
}


def family_cases(n_cases: int, seed: int):
    """Overlapping classes (so Borderline has danger rows and SVMSMOTE support
    vectors), float dtypes, a few shapes."""
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        counts = [int(rng.integers(400, 2500))] + [int(rng.integers(40, 300)) for _ in range(int(rng.integers(1, 3)))]
        yield dict(counts=counts, n_features=int(rng.choice([2, 8, 33])),
                   dtype=[np.float32, np.float64][case % 2], seed=1000 + case)


def _same(a, b) -> bool:
    return all(np.array_equal(np.asarray(u), np.asarray(v)) and np.asarray(u).dtype == np.asarray(v).dtype
               for u, v in zip(a, b))


def _cupy_input_gives(sampler, X, y, expected) -> bool:
    """Whether ``sampler`` answers X as a CuPy array with a CuPy array holding ``expected``'s rows."""
    import cupy

    X_dev, y_dev = sampler.fit_resample(cupy.asarray(X), y)
    return type(X_dev) is cupy.ndarray and _same((cupy.asnumpy(X_dev), y_dev), expected)


def check_family_identity(n_cases: int, device_inputs: bool = True) -> list[dict]:
    """Every sampler of the family: GPU = CPU = imbalanced-learn (int seed),
    GPU = CPU (``rng="philox"``), and CuPy input (when ``device_inputs``)."""
    import imblearn.over_sampling as reference

    import gpusmote.over_sampling as family

    rows = []
    for params in family_cases(n_cases, seed=2027):
        X, y = make_case(params["counts"], params["n_features"], params["dtype"], params["seed"])
        for name, (class_name, extra) in FAMILY.items():
            ours, theirs = getattr(family, class_name), getattr(reference, class_name)
            row = {**{k: str(v) for k, v in params.items()}, "sampler": name, "error": ""}
            try:
                seed = params["seed"]
                cpu = ours(device="cpu", random_state=seed, **extra).fit_resample(X, y)
                gpu = ours(device="cuda", random_state=seed, **extra).fit_resample(X, y)
                row["gpu_equals_cpu"] = _same(gpu, cpu)
                row["gpu_equals_imblearn"] = _same(gpu, theirs(random_state=seed, **extra).fit_resample(X, y))
                philox = [ours(device=d, random_state=seed, rng="philox", **extra).fit_resample(X, y)
                          for d in ("cpu", "cuda")]
                row["philox_gpu_equals_cpu"] = _same(*philox)
                if device_inputs:
                    row["cupy_input_equals_cpu"] = _cupy_input_gives(
                        ours(device="cuda", random_state=seed, **extra), X, y, cpu)
            except Exception as exc:  # reported, and counted as a failure
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
    return rows


#: name -> (gpusmote module and imblearn module, class, parameters, takes a seed)
CLEANING = {
    "EditedNearestNeighbours": ("under_sampling", "EditedNearestNeighbours", {}, False),
    "EditedNearestNeighbours-mode": ("under_sampling", "EditedNearestNeighbours", {"kind_sel": "mode"}, False),
    "TomekLinks": ("under_sampling", "TomekLinks", {}, False),
    "SMOTEENN": ("combine", "SMOTEENN", {}, True),
    "SMOTETomek": ("combine", "SMOTETomek", {}, True),
}


def check_cleaning_identity(n_cases: int, device_inputs: bool = True) -> list[dict]:
    """The cleaners and the combined samplers (their k-NN over all rows on the
    GPU): GPU = CPU = imbalanced-learn, and CuPy input (when ``device_inputs``)
    answered on the device with the CPU's rows; rows as :func:`check_family_identity`'s."""
    rows = []
    for params in family_cases(n_cases, seed=2028):
        X, y = make_case(params["counts"], params["n_features"], params["dtype"], params["seed"])
        for name, (module, class_name, extra, seeded) in CLEANING.items():
            ours = getattr(importlib.import_module(f"gpusmote.{module}"), class_name)
            theirs = getattr(importlib.import_module(f"imblearn.{module}"), class_name)
            kwargs = {**extra, **({"random_state": params["seed"]} if seeded else {})}
            row = {**{k: str(v) for k, v in params.items()}, "sampler": name, "error": ""}
            try:
                cpu = ours(device="cpu", **kwargs).fit_resample(X, y)
                gpu = ours(device="cuda", **kwargs).fit_resample(X, y)
                row["gpu_equals_cpu"] = _same(gpu, cpu)
                row["gpu_equals_imblearn"] = _same(gpu, theirs(**kwargs).fit_resample(X, y))
                if device_inputs:
                    row["cupy_input_equals_cpu"] = _cupy_input_gives(ours(device="cuda", **kwargs), X, y, cpu)
            except Exception as exc:  # reported, and counted as a failure
                row["error"] = f"{type(exc).__name__}: {exc}"
            rows.append(row)
    return rows


def categorical_case(n_rows: int, n_levels: int, seed: int):
    """Mixed data: 4 continuous float64 columns, then 3 categorical code
    columns (``n_levels`` levels), 2-3 classes."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n_rows, p=[0.8, 0.15, 0.05])
    continuous = rng.normal(size=(n_rows, 4)) + y[:, None]
    codes = (rng.integers(0, n_levels, size=(n_rows, 3)) + y[:, None]) % n_levels
    return np.hstack([continuous, codes]), y


def check_categorical_identity(n_cases: int) -> list[dict]:
    """SMOTENC (one-hot GEMM search and, with many levels, the search from the
    codes) and SMOTEN: GPU = CPU = imbalanced-learn (int seed) and GPU = CPU
    (``rng="philox"``), in the rows' format of :func:`check_family_identity`."""
    import imblearn.over_sampling as reference

    import gpusmote.over_sampling as family
    from gpusmote.over_sampling import _categorical as categorical

    rows, dense_bytes = [], categorical.SMOTENC_DENSE_KNN_BYTES
    for case in range(n_cases):
        for name, n_levels in (("SMOTENC", 6), ("SMOTENC-codes-kNN", 400), ("SMOTEN", 6)):
            seed = 3000 + case
            X, y = categorical_case(int(np.random.default_rng(seed).integers(600, 4000)), n_levels, seed)
            class_name = name.split("-")[0]
            extra = {} if class_name == "SMOTEN" else {"categorical_features": [4, 5, 6]}
            if class_name == "SMOTEN":
                X = X[:, 4:].astype(np.int64)
            row = {"counts": str(np.bincount(y).tolist()), "n_levels": str(n_levels), "seed": str(seed),
                   "sampler": name, "error": ""}
            # the many-level case is searched from the codes at any size
            categorical.SMOTENC_DENSE_KNN_BYTES = 0 if name.endswith("codes-kNN") else dense_bytes
            try:
                ours, theirs = getattr(family, class_name), getattr(reference, class_name)
                cpu = ours(device="cpu", random_state=seed, **extra).fit_resample(X, y)
                gpu = ours(device="cuda", random_state=seed, **extra).fit_resample(X, y)
                row["gpu_equals_cpu"] = _same(gpu, cpu)
                row["gpu_equals_imblearn"] = _same(gpu, theirs(random_state=seed, **extra).fit_resample(X, y))
                philox = [ours(device=d, random_state=seed, rng="philox", **extra).fit_resample(X, y)
                          for d in ("cpu", "cuda")]
                row["philox_gpu_equals_cpu"] = _same(*philox)
            except Exception as exc:  # reported, and counted as a failure
                row["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                categorical.SMOTENC_DENSE_KNN_BYTES = dense_bytes
            rows.append(row)
    return rows


def family_ok(row: dict) -> bool:
    checks = ("gpu_equals_cpu", "gpu_equals_imblearn", "philox_gpu_equals_cpu", "cupy_input_equals_cpu")
    return not row["error"] and all(row.get(check, True) for check in checks)


def check_faiss_bound(xp=None, n_rows: int = 20_000) -> dict:
    """FAISS's distances against float64 ones of the same float32 rows, as a
    share of the error bound the proof assumes (must stay below 1; a TF32 GEMM
    would overshoot it). ``xp`` is CuPy (FAISS on the GPU) by default, NumPy
    for FAISS on the CPU."""
    if xp is None:
        if knn_engines() == ["own"]:
            return {}
        import cupy as xp

    from gpusmote.neighbors._faiss import faiss_error_ratio

    worst = max(faiss_error_ratio(xp, n_rows, n_features, seed)
                for seed, n_features in enumerate([8, 30, 130]))
    return {"worst_error_over_bound": worst}


def check_device_inputs() -> list[dict]:
    """CuPy and torch CUDA inputs, when this build accepts them."""
    from gpusmote import SMOTE

    X, y = make_case([3000, 200, 90], 16, np.float32, 7)
    expected = SMOTE(device="cpu", random_state=0).fit_resample(X, y)
    rows = []
    for kind in ("cupy", "torch"):
        try:
            if kind == "cupy":
                import cupy

                X_dev, to_host = cupy.asarray(X), cupy.asnumpy
            else:
                import torch

                X_dev, to_host = torch.as_tensor(X, device="cuda"), lambda t: t.cpu().numpy()
            X_res, y_res = SMOTE(device="cuda", random_state=0).fit_resample(X_dev, y)
            same = np.array_equal(to_host(X_res), expected[0]) and np.array_equal(np.asarray(y_res), expected[1])
            rows.append({"input": kind, "same_type_out": type(X_res) is type(X_dev), "identical": same, "error": ""})
        except Exception as exc:
            rows.append({"input": kind, "same_type_out": False, "identical": False,
                         "error": f"{type(exc).__name__}: {exc}"})
    return rows


def run_kernel_tests() -> tuple[int, str]:
    env = {**os.environ, "GPUSMOTE_TEST_REAL_GPU": "1"}
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_cuda_kernels.py", "tests/test_cuda_engine.py",
         "tests/test_synthesize.py", "tests/test_categorical_ties.py", "tests/test_value_difference.py",
         "-p", "no:cacheprovider"],
        cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip().splitlines()[-1]


def time_vdm_knn(n_rows: int) -> dict:
    """SMOTEN's k-NN of one class (10 codes of 50 levels): the VDM distances
    on the CPU kernel and on the GPU (both reduced by scikit-learn's selection
    on the host), the same table, and the seconds of each (second call)."""
    from imblearn.metrics.pairwise import ValueDifferenceMetric

    from gpusmote.devices._resolve import resolve_device
    from gpusmote.devices._backend import CPU
    from gpusmote.over_sampling._categorical import vdm_kneighbors

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 50, size=(2 * n_rows, 10)).astype(np.int32)
    y = np.repeat([0, 1], n_rows)
    vdm = ValueDifferenceMetric(n_categories=[50] * 10).fit(codes, y)
    minority = np.ascontiguousarray(codes[y == 1])
    result = {"rows": n_rows}
    tables = {}
    for name, backend in (("cpu", CPU), ("cuda", resolve_device("cuda"))):
        vdm_kneighbors(vdm.proba_per_class_, minority[:50], 6, backend)  # compile / load
        start = time.perf_counter()
        tables[name] = vdm_kneighbors(vdm.proba_per_class_, minority, 6, backend)
        result[f"{name}_s"] = time.perf_counter() - start
    result["identical"] = bool(np.array_equal(tables["cpu"], tables["cuda"]))
    return result


def device_copy_bandwidth() -> float:
    import cupy

    src = cupy.ones(1 << 28, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    dst[...] = src
    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(10):
        dst[...] = src
    cupy.cuda.Device().synchronize()
    return 10 * 2 * src.nbytes / (time.perf_counter() - start)  # bytes read + written per second


def time_workloads(quick: bool) -> list[dict]:
    from imblearn.over_sampling import SMOTE as ReferenceSMOTE

    from benchmarks.workloads import WORKLOADS, get_workload
    from gpusmote import SMOTE

    rows, with_faiss = [], "faiss" in knn_engines()
    for name in WORKLOADS:
        workload = get_workload(name, quick)
        X, y = workload.build()
        row = {"workload": workload.name}
        import cupy

        from gpusmote import NearestNeighbors

        X_dev = cupy.asarray(X)
        for label, sampler, data in [
            ("imbalanced-learn", ReferenceSMOTE(random_state=0), X),
            ("imbalanced-learn + gpusmote cuda k-NN",
             ReferenceSMOTE(random_state=0, k_neighbors=NearestNeighbors(6, device="cuda")), X),
            ("gpusmote cpu", SMOTE(random_state=0, device="cpu"), X),
            ("gpusmote cuda", SMOTE(random_state=0, device="cuda"), X),
            ("gpusmote cuda, device-resident", SMOTE(random_state=0, device="cuda"), X_dev),
            *([("gpusmote cuda, FAISS k-NN", SMOTE(random_state=0, device="cuda"), X)]
              if with_faiss else []),
        ]:
            with knn_engine("faiss" if "FAISS" in label else "own"):
                sampler.fit_resample(data[:5000], y[:5000])  # warm-up: JIT, cuBLAS handles
                cupy.cuda.Device().synchronize()
                start = time.perf_counter()
                sampler.fit_resample(data, y)
                cupy.cuda.Device().synchronize()
                wall = time.perf_counter() - start
            phases = getattr(sampler, "timings_", {})
            row[label] = {"wall_s": wall, "knn_s": phases.get("knn"), "generate_s": phases.get("generate")}
            print(f"{workload.name}: {label} {wall:.3f} s", flush=True)
        n_new = sum(sampler.sampling_strategy_.values())
        row["output_bytes"] = (len(X) + n_new) * X.shape[1] * X.dtype.itemsize
        row["synthetic_bytes"] = n_new * X.shape[1] * X.dtype.itemsize
        rows.append(row)
        del X_dev
    return rows


#: The combined samplers timed by :func:`time_cleaning`, on this workload.
CLEANING_TIMED = ("SMOTEENN", "SMOTETomek")
CLEANING_WORKLOAD = "fraud-200k"


def time_cleaning(quick: bool, cupy=None, workload=None) -> list[dict]:
    """SMOTEENN and SMOTETomek on fraud-200k (their k-NN over all ~400,000 rows):
    imbalanced-learn, gpusmote on the CPU, on the GPU, and on the GPU with the
    input already there; each after a warm-up on 5,000 rows, outputs compared.
    (``cupy`` and ``workload``: stand-ins for the GPU-free test.)"""
    import imblearn.combine as reference

    import gpusmote
    from benchmarks.workloads import get_workload

    cupy = cupy or importlib.import_module("cupy")
    workload = workload or get_workload(CLEANING_WORKLOAD, quick)
    X, y = workload.build()
    X_dev = cupy.asarray(X)
    rows = []
    for name in CLEANING_TIMED:
        ours, theirs = getattr(gpusmote, name), getattr(reference, name)
        row = {"workload": workload.name, "sampler": name}
        outputs = {}
        for label, sampler, data in [
            ("imbalanced-learn", theirs(random_state=0), X),
            ("gpusmote cpu", ours(random_state=0, device="cpu"), X),
            ("gpusmote cuda", ours(random_state=0, device="cuda"), X),
            ("gpusmote cuda, device-resident", ours(random_state=0, device="cuda"), X_dev),
        ]:
            sampler.fit_resample(data[:5000], y[:5000])  # warm-up: kernels, cuBLAS handles
            cupy.cuda.Device().synchronize()
            start = time.perf_counter()
            X_res, y_res = sampler.fit_resample(data, y)
            cupy.cuda.Device().synchronize()
            row[label] = {"wall_s": time.perf_counter() - start}
            outputs[label] = (cupy.asnumpy(X_res) if isinstance(X_res, cupy.ndarray) else X_res, y_res)
            print(f"{workload.name}: {name} {label} {row[label]['wall_s']:.3f} s", flush=True)
        reference_output = outputs.pop("imbalanced-learn")
        row["identical"] = all(_same(out, reference_output) for out in outputs.values())
        rows.append(row)
    return rows


def check_dask(n_rows: int = 30_000, cupy=None, scheduler: str = "threads") -> dict:
    """SMOTE(rng="philox") on dask arrays (threads scheduler: kernels launched
    from several threads at once), with the GPU engine in the tasks: NumPy
    chunks, and CuPy chunks (answered in CuPy chunks), against in-memory SMOTE
    on the CPU. Skipped without Dask. (``cupy`` and ``scheduler``: for the
    GPU-free test; Numba's CUDA simulator runs one kernel at a time.)"""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    from gpusmote import SMOTE

    cupy = cupy or importlib.import_module("cupy")

    X, y = make_case([n_rows, n_rows // 20, n_rows // 50], 16, np.float32, 11)
    expected = SMOTE(device="cpu", rng="philox", random_state=0).fit_resample(X, y)
    X_chunks, y_chunks = da.from_array(X, chunks=(4096, 16)), da.from_array(y, chunks=4096)
    result = {"rows": len(y)}
    with dask.config.set(scheduler=scheduler):
        for kind, X_in in (("numpy", X_chunks), ("cupy", X_chunks.map_blocks(cupy.asarray))):
            try:
                start = time.perf_counter()
                lazy = SMOTE(device="cuda", rng="philox", random_state=0).fit_resample(X_in, y_chunks)
                X_res, y_res = dask.compute(*lazy)
                result[f"{kind}_s"] = time.perf_counter() - start
                on_device = isinstance(X_res, cupy.ndarray)
                result[f"{kind}_chunks_identical"] = (on_device == (kind == "cupy") and _same(
                    (cupy.asnumpy(X_res) if on_device else X_res, np.asarray(y_res)), expected))
            except Exception as exc:  # reported, and counted as a failure
                traceback.print_exc()
                result[f"{kind}_chunks_identical"] = False
                result[f"{kind}_error"] = f"{type(exc).__name__}: {exc}"
    return result


def check_torch_batches(rows_target: int = 20_000_000) -> dict:
    """BalancedBatches on CUDA tensors: identical to the CPU batches, and rows/s."""
    import torch

    from gpusmote.datasets import make_fraud_like
    from gpusmote.torch import BalancedBatches

    X, y = make_fraud_like(200_000, 32, 0.01, random_state=0)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    cpu = list(BalancedBatches(X_t, y_t, batch_size=4096, random_state=0))
    gpu = list(BalancedBatches(X_t.cuda(), y_t.cuda(), batch_size=4096, random_state=0))
    identical = len(cpu) == len(gpu) and all(
        torch.equal(a[0], b[0].cpu()) and torch.equal(a[1], b[1].cpu()) for a, b in zip(cpu, gpu))
    batches = BalancedBatches(X_t.cuda(), y_t.cuda(), batch_size=262_144, minority_fraction=0.5,
                              random_state=0)
    next(iter(batches))
    torch.cuda.synchronize()
    rows, start, epoch = 0, time.perf_counter(), 0
    while rows < rows_target:
        batches.set_epoch(epoch := epoch + 1)
        for X_b, _ in batches:
            rows += len(X_b)
    torch.cuda.synchronize()
    rate = rows / (time.perf_counter() - start)
    return {"identical_to_cpu": identical, "rows_per_s": rate,
            "synthetic_rows_per_s": rate * 0.5, "batch_rows": 262_144, "features": 32}


def to_markdown(report: dict) -> str:
    lines = [f"# GPU check on {report['device']}", ""]
    ident = report["identity"]
    bad = [r for r in ident if not (r["gpu_equals_cpu"] and r["gpu_equals_imblearn"])]
    engines = sorted({r["knn"] for r in ident})
    lines.append(f"Identity: {len(ident) - len(bad)}/{len(ident)} random cases x GPU k-NN engines "
                 f"({', '.join(engines)}) bit-identical (GPU = CPU = imbalanced-learn).")
    if report.get("faiss_bound"):
        lines.append(f"FAISS GPU distances: worst error / proof's bound = "
                     f"{report['faiss_bound']['worst_error_over_bound']:.3g} (must be < 1).")
    for r in bad:
        lines.append(f"- FAILED {r}")
    family = report.get("family", [])
    if family:
        bad_family = [r for r in family if not family_ok(r)]
        samplers = sorted({r["sampler"] for r in family})
        lines.append(f"Family: {len(family) - len(bad_family)}/{len(family)} cases x samplers "
                     f"({', '.join(samplers)}) bit-identical (GPU = CPU = imbalanced-learn; philox GPU = CPU; "
                     f"CuPy input = CPU).")
        for r in bad_family:
            lines.append(f"- FAILED {r}")
    for r in report["device_inputs"]:
        lines.append(f"- {r['input']} input: identical={r['identical']} same type out={r['same_type_out']} {r['error']}")
    lines += [f"Kernel tests on the device: {report['kernel_tests']}", ""]
    vdm = report.get("vdm_knn") or {}
    if vdm:
        lines.append(f"SMOTEN k-NN, {vdm.get('rows')} rows x 10 codes of 50 levels: CPU {vdm.get('cpu_s', 0):.3f} s, "
                     f"CUDA distances {vdm.get('cuda_s', 0):.3f} s, identical={vdm.get('identical')} "
                     f"{vdm.get('error', '')}")
    if report.get("copy_bandwidth"):
        lines.append(f"Device copy bandwidth: {report['copy_bandwidth'] / 1e9:.0f} GB/s (read + write).")
    torch_check = report.get("torch_batches") or {}
    if torch_check:
        lines.append(f"BalancedBatches on CUDA: identical to CPU={torch_check.get('identical_to_cpu')}, "
                     f"{torch_check.get('rows_per_s', 0) / 1e6:.0f} M rows/s "
                     f"({torch_check.get('synthetic_rows_per_s', 0) / 1e6:.0f} M synthetic rows/s, "
                     f"32 float32 features) {torch_check.get('error', '')}")
    if report["timings"]:
        lines += ["", "| workload | imbalanced-learn s | imblearn + our cuda k-NN s | gpusmote cpu s "
                  "| gpusmote cuda s (k-NN / gen) | cuda vs imblearn | device-resident s (gen / bound) "
                  "| gen / bound (target <= 2) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
    bandwidth = report.get("copy_bandwidth") or float("nan")
    for row in report["timings"]:
        ref, plug = row["imbalanced-learn"], row["imbalanced-learn + gpusmote cuda k-NN"]
        cpu, gpu = row["gpusmote cpu"], row["gpusmote cuda"]
        dev = row["gpusmote cuda, device-resident"]
        # the synthetic rows' bytes at the copy's write rate (half its read + write rate)
        bound = row["synthetic_bytes"] / (bandwidth / 2)
        lines.append(f"| {row['workload']} | {ref['wall_s']:.3f} | {plug['wall_s']:.3f} | {cpu['wall_s']:.3f} "
                     f"| {gpu['wall_s']:.3f} ({gpu['knn_s']:.3f} / {gpu['generate_s']:.3f}) "
                     f"| {ref['wall_s'] / gpu['wall_s']:.1f}x | {dev['wall_s']:.3f} "
                     f"({dev['generate_s']:.4f} / {bound:.4f}) | {dev['generate_s'] / bound:.2f} |")
    cleaning = report.get("cleaning_timings") or []
    if cleaning:
        lines += ["", "| workload | sampler | imbalanced-learn s | gpusmote cpu s | gpusmote cuda s "
                  "| device-resident s | cuda vs imblearn | identical |", "|---|---|---:|---:|---:|---:|---:|---|"]
        for row in cleaning:
            ref, cpu, gpu = row["imbalanced-learn"], row["gpusmote cpu"], row["gpusmote cuda"]
            dev = row["gpusmote cuda, device-resident"]
            lines.append(f"| {row['workload']} | {row['sampler']} | {ref['wall_s']:.3f} | {cpu['wall_s']:.3f} "
                         f"| {gpu['wall_s']:.3f} | {dev['wall_s']:.3f} | {ref['wall_s'] / gpu['wall_s']:.1f}x "
                         f"| {row['identical']} |")
    dask_check = report.get("dask") or {}
    if dask_check:
        lines += ["", "Dask (threads scheduler, SMOTE(rng='philox', device='cuda')): " + (
            f"skipped ({dask_check['skipped']})" if "skipped" in dask_check else
            ", ".join(f"{kind} chunks identical={dask_check.get(f'{kind}_chunks_identical')} "
                      f"{dask_check.get(f'{kind}_s', float('nan')):.2f} s {dask_check.get(f'{kind}_error', '')}".strip()
                      for kind in ("numpy", "cupy")) + f" ({dask_check.get('rows')} rows)")]
    faiss_rows = [row for row in report["timings"] if "gpusmote cuda, FAISS k-NN" in row]
    if faiss_rows:
        lines += ["", "| workload | gpusmote cuda, own k-NN s (k-NN) | gpusmote cuda, FAISS k-NN s (k-NN) |",
                  "|---|---:|---:|"]
        for row in faiss_rows:
            own, fai = row["gpusmote cuda"], row["gpusmote cuda, FAISS k-NN"]
            lines.append(f"| {row['workload']} | {own['wall_s']:.3f} ({own['knn_s']:.3f}) "
                         f"| {fai['wall_s']:.3f} ({fai['knn_s']:.3f}) |")
    return "\n".join(lines)


#: What ``--only`` may name, in the order the check runs them.
SECTIONS = ("identity", "family", "cleaning", "device-inputs", "kernel-tests", "vdm", "torch", "timings",
            "cleaning-timings", "dask")


def _run_section(report: dict, key: str, run, failed) -> None:
    """``report[key] = run()``; an exception is printed and ``failed`` stored."""
    try:
        report[key] = run()
    except Exception as exc:
        traceback.print_exc()
        report[key] = failed(f"{type(exc).__name__}: {exc}")


def passed(report: dict, kernel_code: int) -> bool:
    """Every identity the report holds (sections not run count as passed)."""
    dask_check = report.get("dask") or {}
    return (all(r["gpu_equals_cpu"] and r["gpu_equals_imblearn"] for r in report["identity"])
            and kernel_code == 0
            and all(family_ok(r) for r in report["family"])
            and report["vdm_knn"].get("identical", True)
            and report["faiss_bound"].get("worst_error_over_bound", 0.0) < 1.0
            and all(r["identical"] for r in report.get("cleaning_timings", []))
            and all(v for k, v in dask_check.items() if k.endswith("_identical")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=48)
    parser.add_argument("--family-cases", type=int, default=6,
                        help="cases per sampler of the rest of the family (and of the cleaners)")
    parser.add_argument("--quick", action="store_true", help="2%% workloads for the timings")
    parser.add_argument("--skip-timings", action="store_true", help="no timings (neither kind)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), metavar="SECTION",
                        help=f"run only these sections (default: all): {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    only = set(args.only) - ({"timings", "cleaning-timings"} if args.skip_timings else set())
    report = {"device": device_name(), "identity": [], "family": [], "faiss_bound": {}, "device_inputs": [],
              "kernel_tests": "not run", "vdm_knn": {}, "timings": [], "cleaning_timings": [], "dask": {}}
    print(f"device: {report['device']}", flush=True)
    if "identity" in only:
        report["identity"] = check_identity(args.cases)
        _run_section(report, "faiss_bound", check_faiss_bound,
                     lambda error: {"worst_error_over_bound": float("inf"), "error": error})
    if "family" in only:
        report["family"] += check_family_identity(args.family_cases) + check_categorical_identity(args.family_cases)
    if "cleaning" in only:
        report["family"] += check_cleaning_identity(args.family_cases)
    if "device-inputs" in only:
        report["device_inputs"] = check_device_inputs()
    code = 0
    if "kernel-tests" in only:
        code, report["kernel_tests"] = run_kernel_tests()
    if "vdm" in only:
        _run_section(report, "vdm_knn", lambda: time_vdm_knn(5_000 if args.quick else 20_000),
                     lambda error: {"identical": False, "error": error})
    if "timings" in only or "torch" in only:
        _run_section(report, "copy_bandwidth", device_copy_bandwidth, lambda error: None)
    if "torch" in only:
        _run_section(report, "torch_batches", check_torch_batches, lambda error: {"error": error})
    if "timings" in only:
        _run_section(report, "timings", lambda: time_workloads(args.quick), lambda error: [])
    if "cleaning-timings" in only:
        _run_section(report, "cleaning_timings", lambda: time_cleaning(args.quick), lambda error: [])
    if "dask" in only:
        _run_section(report, "dask", check_dask, lambda error: {"error": error, "numpy_chunks_identical": False})
    text = to_markdown(report)
    print(text)
    from benchmarks.compare import save_report

    suffix = ("-quick" if args.quick else "") + ("" if only == set(SECTIONS) else "-" + "-".join(
        section for section in SECTIONS if section in only))
    save_report("gpu-check-" + "-".join(report["device"].split()) + suffix, report, text)
    return 0 if passed(report, code) else 1


if __name__ == "__main__":
    sys.exit(main())
