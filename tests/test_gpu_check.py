"""benchmarks/gpu_check.py's GPU-free parts, so the script works the first time
a session is lent a GPU: the identity loop over both k-NN engines (CUDA kernels
simulated, FAISS on the CPU), FAISS's distances against the proof's error
bound, and the report."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ is not installed: find it in the checkout, after site-packages, so
# the installed gpusmote is still the one under test.
sys.path.append(str(Path(__file__).resolve().parent.parent))
import benchmarks.gpu_check as gpu_check  # noqa: E402


def test_identity_loop_covers_both_engines(monkeypatch):
    cases = [dict(counts=[40, 12, 9], n_features=3, dtype=np.float32, k=3, strategy="auto", seed=0),
             dict(counts=[30, 11], n_features=2, dtype=np.int64, k=2, strategy="all", seed=1)]
    monkeypatch.setattr(gpu_check, "identity_cases", lambda n_cases, seed: iter(cases[:n_cases]))
    monkeypatch.setattr(gpu_check, "knn_engines", lambda: ["own", "faiss"])
    rows = gpu_check.check_identity(2)
    assert [(r["seed"], r["knn"]) for r in rows] == [("0", "own"), ("0", "faiss"), ("1", "own"), ("1", "faiss")]
    assert all(r["gpu_equals_cpu"] and r["gpu_equals_imblearn"] and not r["error"] for r in rows)


def test_family_identity_loop_under_the_simulator(monkeypatch):
    case = dict(counts=[150, 30, 20], n_features=3, dtype=np.float32, seed=5)
    monkeypatch.setattr(gpu_check, "family_cases", lambda n_cases, seed: iter([case]))
    rows = gpu_check.check_family_identity(1, device_inputs=False)
    assert [r["sampler"] for r in rows] == list(gpu_check.FAMILY)
    assert all(gpu_check.family_ok(r) and r["gpu_equals_imblearn"] for r in rows), rows
    text = gpu_check.to_markdown({"device": "Test GPU", "identity": [], "family": rows + [
        {**rows[0], "gpu_equals_cpu": False}], "faiss_bound": {}, "device_inputs": [],
        "kernel_tests": "", "timings": []})
    assert f"Family: {len(rows)}/{len(rows) + 1} cases x samplers" in text and "FAILED" in text


def test_categorical_identity_loop_under_the_simulator(monkeypatch):
    from gpusmote.over_sampling import _categorical

    small = gpu_check.categorical_case
    monkeypatch.setattr(gpu_check, "categorical_case", lambda n_rows, n_levels, seed: small(250, n_levels, seed))
    dense_bytes = _categorical.SMOTENC_DENSE_KNN_BYTES
    rows = gpu_check.check_categorical_identity(1)
    assert [r["sampler"] for r in rows] == ["SMOTENC", "SMOTENC-codes-kNN", "SMOTEN"]
    assert all(gpu_check.family_ok(r) and r["gpu_equals_imblearn"] for r in rows), rows
    assert _categorical.SMOTENC_DENSE_KNN_BYTES == dense_bytes  # restored


def test_vdm_knn_timing_under_the_simulator(monkeypatch):
    from gpusmote.over_sampling import _categorical

    monkeypatch.setattr(_categorical, "SMALL_VDM_TERMS", 0)  # the CPU side through its kernel too
    result = gpu_check.time_vdm_knn(60)
    assert result["identical"] and result["rows"] == 60 and result["cpu_s"] > 0 and result["cuda_s"] > 0
    text = gpu_check.to_markdown({"device": "Test GPU", "identity": [], "family": [], "faiss_bound": {},
                                  "device_inputs": [], "kernel_tests": "", "timings": [], "vdm_knn": result})
    assert "SMOTEN k-NN, 60 rows x 10 codes of 50 levels" in text and "identical=True" in text


def test_faiss_cpu_distances_stay_within_the_bound():
    worst = gpu_check.check_faiss_bound(np, n_rows=3000)["worst_error_over_bound"]
    assert 0 < worst < 0.5


def test_report_lists_failures_engines_and_the_faiss_table():
    timing = {"wall_s": 1.0, "knn_s": 0.5, "generate_s": 0.25}
    report = {
        "device": "Test GPU",
        "identity": [{"knn": "own", "gpu_equals_cpu": True, "gpu_equals_imblearn": True},
                     {"knn": "faiss", "gpu_equals_cpu": False, "gpu_equals_imblearn": False, "seed": "7"}],
        "faiss_bound": {"worst_error_over_bound": 0.01},
        "device_inputs": [], "kernel_tests": "3 passed", "copy_bandwidth": 2e12,
        "timings": [{"workload": "fraud-1M", "output_bytes": 2 * 10**9, "synthetic_bytes": 10**11,
                     **{label: timing for label in (
                         "imbalanced-learn", "imbalanced-learn + gpusmote cuda k-NN", "gpusmote cpu",
                         "gpusmote cuda", "gpusmote cuda, device-resident", "gpusmote cuda, FAISS k-NN")}}],
    }
    text = gpu_check.to_markdown(report)
    assert "Identity: 1/2 random cases x GPU k-NN engines (faiss, own)" in text
    assert "FAILED" in text and "'seed': '7'" in text
    assert "worst error / proof's bound = 0.01" in text
    assert "| 1.0x | 1.000 (0.2500 / 0.1000) | 2.50 |" in text  # 1e11 bytes written at 1e12 B/s
    assert "| fraud-1M | 1.000 (0.500) | 1.000 (0.500) |" in text


def test_cleaning_identity_loop_under_the_simulator(monkeypatch):
    case = dict(counts=[150, 30, 20], n_features=3, dtype=np.float64, seed=6)
    monkeypatch.setattr(gpu_check, "family_cases", lambda n_cases, seed: iter([case]))
    rows = gpu_check.check_cleaning_identity(1, device_inputs=False)
    assert [r["sampler"] for r in rows] == list(gpu_check.CLEANING)
    assert all(gpu_check.family_ok(r) and r["gpu_equals_imblearn"] for r in rows), rows


def _empty_report(**sections):
    return {"device": "Test GPU", "identity": [], "family": [], "faiss_bound": {}, "device_inputs": [],
            "kernel_tests": "not run", "vdm_knn": {}, "timings": [], "cleaning_timings": [], "dask": {},
            **sections}


def test_report_and_verdict_for_cleaning_timings_and_dask():
    timing = {"wall_s": 2.0}
    row = {"workload": "fraud-200k", "sampler": "SMOTEENN", "identical": True,
           "imbalanced-learn": {"wall_s": 40.0}, "gpusmote cpu": {"wall_s": 8.0},
           "gpusmote cuda": timing, "gpusmote cuda, device-resident": {"wall_s": 1.5}}
    dask_check = {"rows": 31_100, "numpy_chunks_identical": True, "numpy_s": 1.0,
                  "cupy_chunks_identical": True, "cupy_s": 0.5}
    report = _empty_report(cleaning_timings=[row], dask=dask_check)
    text = gpu_check.to_markdown(report)
    assert "| fraud-200k | SMOTEENN | 40.000 | 8.000 | 2.000 | 1.500 | 20.0x | True |" in text
    assert "numpy chunks identical=True 1.00 s, cupy chunks identical=True 0.50 s (31100 rows)" in text
    assert "| workload | imbalanced-learn s | imblearn + our cuda k-NN s" not in text  # no SMOTE timings run
    assert gpu_check.passed(report, 0)
    assert not gpu_check.passed(report, 1)  # the kernel tests failed
    assert not gpu_check.passed(_empty_report(cleaning_timings=[{**row, "identical": False}]), 0)
    assert not gpu_check.passed(_empty_report(dask={**dask_check, "cupy_chunks_identical": False}), 0)
    assert gpu_check.passed(_empty_report(dask={"skipped": "ModuleNotFoundError: dask"}), 0)
    assert "Dask (threads scheduler" in gpu_check.to_markdown(_empty_report(dask={"skipped": "no dask"}))


def test_only_runs_the_named_sections(monkeypatch, tmp_path):
    import benchmarks.compare as compare

    calls = []
    monkeypatch.setattr(gpu_check, "device_name", lambda: "Test GPU")
    monkeypatch.setattr(gpu_check, "check_cleaning_identity", lambda n: calls.append(("cleaning", n)) or [])
    monkeypatch.setattr(gpu_check, "time_cleaning", lambda quick: calls.append(("cleaning-timings", quick)) or [])
    monkeypatch.setattr(gpu_check, "check_identity", lambda n: calls.append(("identity", n)) or [])
    saved = []
    monkeypatch.setattr(compare, "save_report", lambda name, report, text: saved.append(name))
    assert gpu_check.main(["--only", "cleaning", "cleaning-timings", "--family-cases", "2"]) == 0
    assert calls == [("cleaning", 2), ("cleaning-timings", False)]
    assert saved == ["gpu-check-Test-GPU-cleaning-cleaning-timings"]


def _numpy_standing_in_for_cupy():
    """What the timing and Dask checks use of CuPy, on NumPy: no array is ever a device array."""
    from types import SimpleNamespace

    return SimpleNamespace(asarray=np.asarray, asnumpy=np.asarray, ndarray=type("NoDeviceArray", (), {}),
                           cuda=SimpleNamespace(Device=lambda: SimpleNamespace(synchronize=lambda: None)))


def test_cleaning_timings_run_under_the_simulator():
    from types import SimpleNamespace

    from gpusmote.datasets import make_imbalanced

    X, y = make_imbalanced((570, 30), 6, random_state=0)
    tiny = SimpleNamespace(name="tiny", build=lambda: (X, y))
    rows = gpu_check.time_cleaning(True, cupy=_numpy_standing_in_for_cupy(), workload=tiny)
    assert [row["sampler"] for row in rows] == list(gpu_check.CLEANING_TIMED)
    assert all(row["identical"] and row["gpusmote cuda"]["wall_s"] > 0 for row in rows)
    assert "| tiny | SMOTEENN |" in gpu_check.to_markdown(_empty_report(cleaning_timings=rows))


def test_dask_check_runs_under_the_simulator():
    pytest.importorskip("dask.array")
    result = gpu_check.check_dask(n_rows=400, cupy=_numpy_standing_in_for_cupy(), scheduler="sync")
    assert result["numpy_chunks_identical"] and "numpy_error" not in result
    # the stand-in makes NumPy chunks of the "CuPy" ones: the path runs, the kind check fails
    assert "cupy_error" not in result and result["cupy_chunks_identical"] is False
