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


def _results_state() -> dict:
    return {p.name: p.stat().st_mtime_ns for p in (REPO_ROOT / "benchmarks" / "results").iterdir()}


def test_compare_quick_checks_identity_and_prints_bounds():
    before = _results_state()
    result = run_module(  # no --no-save: --quick alone must not write results
        "-m", "benchmarks.compare", "--quick", "--quiet",
        "--workloads", "creditcard-like", "multiclass",
    )
    table = result.stdout
    assert "Machine bounds: copy" in table
    rows = [line for line in table.splitlines() if line.startswith("| multiclass-quick | gpusmote-cpu")]
    assert len(rows) == 1 and rows[0].endswith("| yes |")
    assert "| creditcard-like-quick | *bounds* |" in table
    assert table.splitlines()[0].endswith("(quick smoke test: tiny sizes, timings mean nothing)")
    assert " ms |" in rows[0] or " s |" in rows[0]  # units, not bare numbers
    assert "not saved (quick smoke test" in table and "saved benchmarks" not in table
    assert _results_state() == before
    assert result.stderr == ""  # --quiet


@pytest.fixture
def compare(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    import benchmarks.compare as compare

    return compare


def _report(quick=False, runs=3) -> dict:
    def case(wall, spread):
        walls = [wall * f for f in spread][:runs]
        return {"wall_s": wall, "runs_wall_s": walls, "knn_s": wall / 2, "generate_s": wall / 4,
                "peak_extra_bytes": 2**20, "output_bytes": 2**21, "digest": "d"}

    rows = [{"workload": "small", "cases": {"imbalanced-learn": case(0.06, (0.9, 1.0, 1.3)),
                                            "gpusmote-cpu": case(0.02, (0.95, 1.0, 1.1))}},
            {"workload": "big", "cases": {"imbalanced-learn": case(40.0, (0.9, 1.0, 1.2)),
                                          "gpusmote-cpu": case(50.0, (0.9, 1.0, 1.1))}}]
    for row in rows:
        row["bounds"] = {"knn_floor_s": 0.01, "output_floor_s": 0.001}
    return {"machine": "test-machine", "sampler": "SMOTE", "quick": quick, "runs": runs,
            "workloads": rows, "bounds": {"copy_bytes_per_s": 1e10, "gemm_flop_per_s": 1e11},
            "versions": {}}


def test_times_read_in_ms_and_s(compare):
    assert [compare.format_seconds(s) for s in (0.0004, 0.06, 0.1234, 1.5, 42.0, 1234.0)] == [
        "400 µs", "60 ms", "123 ms", "1.5 s", "42 s", "1,234 s"]
    assert compare.speedup_label(3.0) == "3.0x faster"
    assert compare.speedup_label(0.8) == "1.2x slower"


def test_compare_plot_is_readable_at_a_glance(compare):
    import matplotlib.pyplot as plt

    fig = compare.figure(_report())
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith((" ms", " s")) for t in ticks), ticks
    assert "lower is better" in ax.get_ylabel()
    labels = [t.get_text() for t in ax.texts]
    assert "20 ms\n3.0x faster" in labels and "50 s\n1.2x slower" in labels
    assert "60 ms" in labels  # the reference's bar has its time, no speed-up
    dots = [c for c in ax.collections if len(c.get_offsets())]
    assert len(dots) == 4 and all(len(c.get_offsets()) == 3 for c in dots)  # every run shown
    assert "median of 3" in ax.get_title() and "smoke test" not in ax.get_title()
    plt.close(fig)


def test_compare_plot_marks_a_quick_run_as_a_smoke_test(compare):
    import matplotlib.pyplot as plt

    fig = compare.figure(_report(quick=True, runs=1))
    ax = fig.axes[0]
    assert "quick smoke test" in ax.get_title() and "SMOKE TEST" in [t.get_text() for t in ax.texts]
    assert not [c for c in ax.collections if len(c.get_offsets())]  # one run: no dots
    assert compare.to_markdown(_report(quick=True)).startswith(
        "# SMOTE: gpusmote vs imbalanced-learn on test-machine (quick smoke test")
    plt.close(fig)


def test_quick_saves_only_where_asked(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    import argparse

    from benchmarks._flags import RESULTS, add_standard_flags, results_dir

    parser = argparse.ArgumentParser()
    add_standard_flags(parser, quick="tiny", runs=3)
    parse = parser.parse_args
    assert results_dir(parse([])) == RESULTS
    assert results_dir(parse(["--quick"])) is None
    assert results_dir(parse(["--quick", "--out", str(tmp_path)])) == tmp_path
    assert results_dir(parse(["--no-save", "--out", str(tmp_path)])) is None


@pytest.mark.parametrize("module", ["compare", "quality", "cli_stream", "compare_imblearn", "torch_loader",
                                    "sweep", "interleaved"])
def test_benchmark_scripts_share_their_flags(monkeypatch, capsys, module):
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    import importlib

    script = importlib.import_module(f"benchmarks.{module}")
    with pytest.raises(SystemExit):
        script.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--quick", "--no-save", "--out DIR", "--quiet"):
        assert flag in text, (module, flag)
    # quality and the loader repeat nothing (interleaved's pairs are set by --seconds)
    assert ("--runs RUNS" in text) == (module not in ("quality", "torch_loader", "interleaved"))
    assert "smoke test" in text


def test_quality_quick_runs_and_gpusmote_matches_reference_exactly():
    result = run_module("-m", "benchmarks.quality", "--quick", "--no-save")
    line = next(l for l in result.stdout.splitlines() if l.startswith("| gpusmote |"))
    # bit-identical resampling => identical scores => zero difference
    assert "+0.0000 ± 0.0000 | +0.0000 ± 0.0000" in line


@pytest.mark.parametrize("sampler", ["EditedNearestNeighbours", "TomekLinks"])
def test_quality_compares_the_cleaners_unseeded(sampler):
    # they take no random_state: passed one, both sides raised and every set was skipped
    from benchmarks.quality import OURS, SEED_1, methods

    table = methods(sampler)
    assert SEED_1 not in table and table[OURS]().get_params()["sampling_strategy"] == "auto"
    result = run_module("-m", "benchmarks.quality", "--quick", "--no-save", "--sampler", sampler)
    compared = next(l for l in result.stdout.splitlines() if l.startswith("gpusmote's scores identical"))
    assert " on 0 of 0 " not in compared and "different on" not in compared
    assert "+0.0000 ± 0.0000 | +0.0000 ± 0.0000" in next(
        l for l in result.stdout.splitlines() if l.startswith(f"| {OURS} |"))


def test_pytest_benchmark_quick_switch_is_documented():
    page = (REPO_ROOT / "docs" / "benchmarks.md").read_text()
    assert "GPUSMOTE_BENCH_QUICK=1" in page and "GPUSMOTE_BENCH_ROUNDS" in page
    assert "pytest benchmarks/ --benchmark-only" in page
    suite = (REPO_ROOT / "benchmarks" / "test_bench.py").read_text()
    assert 'os.environ.get("GPUSMOTE_BENCH_QUICK") == "1"' in suite  # the switch the page names


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


def test_sweep_quick_runs_and_checks_identity():
    result = run_module("-m", "benchmarks.sweep", "--sizes", "100", "2000", "--no-save")
    lines = [line for line in result.stdout.splitlines() if "rows: first" in line]
    assert len(lines) == 4 and all(line.endswith("identical: True") for line in lines)


def test_sweep_runs_pairs_of_processes_and_takes_medians(tmp_path):
    result = run_module("-m", "benchmarks.sweep", "--sizes", "300", "--runs", "3", "--out", str(tmp_path))
    lines = [line for line in result.stdout.splitlines() if "rows: first" in line]
    assert len(lines) == 2 and all(line.endswith("identical: True") for line in lines)
    (report,) = tmp_path.glob("sweep-*.md")
    assert "3 processes per size and library, in pairs of alternating order, medians" in report.read_text()


def test_sweep_takes_any_continuous_sampler():
    result = run_module("-m", "benchmarks.sweep", "--sampler", "SMOTEENN", "--sizes", "300", "--no-save")
    lines = [line for line in result.stdout.splitlines() if "rows: first" in line]
    assert len(lines) == 2 and all(line.endswith("identical: True") for line in lines)
    from benchmarks.sweep import CLEANING_SIZES

    assert max(CLEANING_SIZES) == 30_000  # imbalanced-learn's all-rows search: n^2


def test_sweep_reports_an_error_both_libraries_raise():
    # ADASYN on the 10,000-row NumPy set: no minority row has a majority neighbour (both raise)
    result = run_module("-m", "benchmarks.sweep", "--sampler", "ADASYN", "--sizes", "10000", "--no-save")
    lines = [line for line in result.stdout.splitlines() if "rows: " in line]
    assert len(lines) == 2
    assert "numpy" in lines[0] and "both raise RuntimeError: Not any neigbours" in lines[0]
    assert "dataframe" in lines[1] and lines[1].endswith("identical: True")


def test_interleaved_warm_calls_compare_and_check_identity():
    # ADASYN on the 10,000-row NumPy set raises on both sides; the DataFrame set is timed
    result = run_module("-m", "benchmarks.interleaved", "--samplers", "ADASYN", "--sizes", "10000",
                        "--seconds", "0", "--no-save", "--quiet")
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ADASYN |")]
    assert len(rows) == 2
    assert "numpy" in rows[0] and "both raise RuntimeError" in rows[0] and rows[0].endswith("same error |")
    assert "dataframe" in rows[1] and "| 20 |" in rows[1] and rows[1].endswith("| yes |")
    assert "Lowest: " in result.stdout


def test_compare_sweep_hands_its_flags_to_the_sweep(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks import compare, sweep

    handed = []
    monkeypatch.setattr(sweep, "main", handed.append)
    compare.main(["--sweep", "--sampler", "TomekLinks", "--runs", "3", "--no-save"])
    compare.main(["--sweep", "--quick"])
    assert handed == [["--no-save", "--sampler", "TomekLinks", "--runs", "3"], ["--quick", "--sampler", "SMOTE"]]
