"""The benchmark tools run and tell the truth (small sizes; run from the repo
root, since benchmarks/ is not part of the installed package)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_module(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, check=check
    )


def test_workloads_have_the_promised_shapes_and_no_duplicates():
    script = """
import json, numpy as np
from benchmarks.workloads import WORKLOADS, get_workload
out = {}
for name, w in WORKLOADS.items():
    out[name] = [w.n_rows, w.n_features, list(w.class_counts)]
X, y = get_workload("creditcard-like").build()
minority = X[y == 1]
out["creditcard-built"] = [list(X.shape), str(X.dtype), int((y == 1).sum()), len(np.unique(minority, axis=0))]
Xq, yq = get_workload("multiclass", quick=True).build()
out["multiclass-quick"] = np.bincount(yq).tolist()
print(json.dumps(out))
"""
    out = json.loads(run_module("-c", script).stdout)
    assert out["creditcard-like"][:2] == [284_807, 30] and out["creditcard-like"][2][1] == 492
    assert out["fraud-1M"] == [1_000_000, 32, [990_000, 10_000]]
    assert out["wide"] == [200_000, 256, [190_000, 10_000]]
    assert out["big-minority"] == [2_000_000, 32, [1_800_000, 200_000]]
    assert out["multiclass"] == [500_000, 64, [250_000, 125_000, 75_000, 40_000, 10_000]]
    assert out["fraud-200k"] == [200_000, 32, [198_000, 2_000]]
    assert out["creditcard-built"] == [[284_807, 30], "float32", 492, 492]
    assert out["multiclass-quick"] == [5_000, 2_500, 1_500, 800, 200]


def test_compare_quick_checks_identity_and_prints_bounds():
    result = run_module(
        "-m", "benchmarks.compare", "--quick", "--no-save", "--quiet",
        "--workloads", "creditcard-like", "multiclass",
    )
    table = result.stdout
    assert "Machine bounds: copy" in table
    rows = [line for line in table.splitlines() if line.startswith("| multiclass-quick | gpusmote-cpu")]
    assert len(rows) == 1 and rows[0].endswith("| yes |")
    assert "| creditcard-like-quick | *bounds* |" in table


def test_quality_quick_runs_and_gpusmote_matches_reference_exactly():
    result = run_module("-m", "benchmarks.quality", "--quick", "--no-save")
    line = next(l for l in result.stdout.splitlines() if l.startswith("| gpusmote |"))
    # bit-identical resampling => identical scores => zero difference
    assert "+0.0000 ± 0.0000 | +0.0000 ± 0.0000" in line


def test_pytest_benchmark_suite_is_not_collected_by_the_test_run():
    result = run_module("-m", "pytest", "--co", "-q", check=False)
    assert "benchmarks/test_bench.py" not in result.stdout


def test_torch_loader_benchmark_runs():
    result = run_module("-m", "benchmarks.torch_loader", "--rows", "20000", "--features", "8",
                        "--no-save")
    methods = [line.split("  ")[0] for line in result.stdout.splitlines() if "M rows/s" in line]
    assert len(methods) == 5 and methods[-1].startswith("BalancedBatches, CPU")


def test_cli_stream_benchmark_reports_rss_and_rate():
    result = run_module("-m", "benchmarks.cli_stream", "--rows", "30000", "--features", "4",
                        "--no-save")
    assert "30,000 ->" in result.stdout and "peak RSS" in result.stdout
    assert "M output rows/s" in result.stdout
