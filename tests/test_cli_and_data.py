"""The built-in data set, the command line and the benchmark script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gpusmote.cli import main
from gpusmote.datasets import make_fraud_like


def test_fraud_like_is_seeded_imbalanced_float32_without_duplicates():
    X, y = make_fraud_like(20_000, 8, 0.01, random_state=3)
    X2, y2 = make_fraud_like(20_000, 8, 0.01, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert X.dtype == np.float32 and X.shape == (20_000, 8)
    assert np.bincount(y).tolist() == [19_800, 200]
    assert len(np.unique(X, axis=0)) == len(X)
    assert not np.array_equal(np.flatnonzero(y)[:5], np.arange(5))  # shuffled


def test_fraud_like_multiclass_shares():
    _, y = make_fraud_like(10_000, 4, 0.1, n_classes=4, random_state=0)
    counts = np.bincount(y)
    assert 9_000 <= counts[0] <= 9_003 and counts[1] > counts[2] > counts[3] > 0


@pytest.mark.parametrize("bad", [{"minority_fraction": 0.0}, {"n_classes": 1}])
def test_fraud_like_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        make_fraud_like(100, 2, **{"minority_fraction": 0.1, **bad})


def test_demo_prints_counts_and_identity(capsys):
    assert main(["demo", "--rows", "20000", "--features", "6", "--minority", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "classes before: 0: 19,000, 1: 1,000" in out
    assert "classes after:  0: 19,000, 1: 19,000" in out
    assert "identical output: True" in out
    # Like with like: both libraries get a first-call and a warm-call time.
    header = next(line for line in out.splitlines() if "first call" in line)
    assert "warm call" in header
    for name in ("imbalanced-learn", "gpusmote", "speed-up"):
        row = next(line for line in out.splitlines() if line.startswith(name))
        assert len(row.split()) == (3 if name == "speed-up" else 5), row  # two figures each


def test_demo_and_resample_share_option_names():
    from gpusmote.cli import build_parser

    choices = build_parser()._subparsers._group_actions[0].choices
    options = {name: {s for a in p._actions for s in a.option_strings}
               for name, p in choices.items()}
    shared = {"--k-neighbors", "--device", "--rng", "--random-state", "--debug"}
    assert shared <= options["demo"] and shared <= options["resample"]


def test_demo_error_is_one_line(capsys, monkeypatch):
    import gpusmote.devices._resolve as device_module

    monkeypatch.setattr(device_module, "cuda_simulated", lambda: False)
    monkeypatch.setattr(device_module, "cuda_status", lambda: (False, "no CUDA device is visible"))
    assert main(["demo", "--rows", "2000", "--device", "cuda", "--no-compare"]) == 1
    assert capsys.readouterr().err.strip() == (
        "gpusmote: error: device='cuda' was requested, but no CUDA device is visible."
    )


def test_version_and_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "gpusmote", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("gpusmote ")


def test_benchmark_script_runs_small():
    repo_root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.compare_imblearn", "--rows", "30000", "--features", "8",
         "--repeat", "1", "--no-save"],
        cwd=repo_root, capture_output=True, text=True, check=True,
    )
    assert "identical output: True" in result.stdout and "| warm median, s |" in result.stdout
