"""Speed-up against size: first call and warm, NumPy and DataFrame.

Most users call SMOTE on small data in notebooks and cross-validation loops,
where a fresh process's first call and per-call overheads dominate; the big
workloads of ``benchmarks.compare`` do not show that. This sweep runs SMOTE
(``random_state=0``; ``--sampler`` picks another of the continuous samplers,
:data:`benchmarks.run_case.SAMPLERS`, with its benchmark parameters) on
fraud-shaped data (32 float32 features, 1% minority, at least 12 minority
rows) from 100 rows to 1M (to 30,000 for the cleaning and combined samplers,
whose imbalanced-learn search grows with the square of the rows), each size in
a fresh process per library: the first ``fit_resample`` after the imports (the
first call), then the median of the next calls (warm). The DataFrame variant
adds an int64 and a bool column and passes y as a Series. Outputs are compared
(digest) on every case.

    python -m benchmarks.sweep [--sampler NAME] [--sizes N ...] [--runs N] [--quick] [--no-save]

Writes ``benchmarks/results/sweep-<machine>[-<sampler>].{json,md,png}``: the
speed-up (imbalanced-learn's time over gpusmote's) against rows, one line per
(container, first/warm); >= 1x everywhere is the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._flags import add_standard_flags
from benchmarks.run_case import SAMPLERS

SIZES = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
#: The cleaning and combined samplers' sizes: all rows among all rows.
CLEANING_SIZES = SIZES[:6]
QUICK_SIZES = (100, 1_000, 10_000)
N_FEATURES = 32
REPO_ROOT = Path(__file__).resolve().parent.parent

_CASE = r"""
import hashlib, json, statistics, sys, time
import numpy as np
library, container, n_rows, n_warm, name = (sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                                            sys.argv[5])
import warnings
warnings.simplefilter("ignore")  # both sides' warnings (KMeansSMOTE's threadpool notes, ...)
from benchmarks.run_case import make_sampler
from benchmarks.sweep import make_data
package = "gpusmote" if library == "gpusmote" else "imblearn"
X, y = make_data(n_rows, container)
sampler = make_sampler(package, name)  # its modules imported here, as a user's import would
start = time.perf_counter()
try:
    X_res, y_res = sampler.fit_resample(X, y)
except Exception as error:  # compared with the other library's (ADASYN on tiny sets raises on both)
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    sys.exit(0)
first = time.perf_counter() - start
warm = []
for _ in range(n_warm):
    sampler = make_sampler(package, name)
    start = time.perf_counter()
    sampler.fit_resample(X, y)
    warm.append(time.perf_counter() - start)
if hasattr(X_res, "columns"):  # a frame's values by column (a mixed frame's array holds pointers)
    import pandas as pd
    values = pd.util.hash_pandas_object(X_res, index=True).to_numpy()
else:
    values = np.ascontiguousarray(X_res)
digest = hashlib.sha256(values.tobytes() + np.asarray(y_res).tobytes()).hexdigest()
dtypes = [str(t) for t in (X_res.dtypes if hasattr(X_res, "dtypes") else [X_res.dtype])]
print(json.dumps({"first_s": first, "warm_s": statistics.median(warm) if warm else None,
                  "digest": digest, "dtypes": dtypes}))
"""


def make_data(n_rows: int, container: str):
    """Fraud-shaped (X, y) of ``n_rows`` rows: NumPy float32, or a DataFrame
    with an extra int64 and bool column and y as a Series."""
    import numpy as np

    from gpusmote.datasets import make_imbalanced

    n_minority = max(12, n_rows // 100)
    X, y = make_imbalanced((n_rows - n_minority, n_minority), N_FEATURES, random_state=0)
    if container == "numpy":
        return X, y
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(X, columns=[f"v{i}" for i in range(N_FEATURES)])
    frame["count"] = rng.integers(0, 50, n_rows).astype(np.int64)
    frame["flag"] = rng.random(n_rows) < 0.3
    return frame, pd.Series(y, name="fraud")


def run_case(library: str, container: str, n_rows: int, sampler: str = "SMOTE") -> dict:
    n_warm = 3 if n_rows <= 100_000 else 1
    result = subprocess.run(
        [sys.executable, "-c", _CASE, library, container, str(n_rows), str(n_warm), sampler],
        capture_output=True, text=True, cwd=REPO_ROOT, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{library} {container} {n_rows}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _median_case(cases: list[dict]) -> dict:
    """One library's runs of a cell: the medians of its first and warm times
    (the first run's digest and dtypes; an error if any run raised)."""
    errors = [case for case in cases if "error" in case]
    if errors:
        return errors[0]
    warm = [case["warm_s"] for case in cases if case["warm_s"] is not None]
    return {**cases[0], "first_s": statistics.median(case["first_s"] for case in cases),
            "warm_s": statistics.median(warm) if warm else None,
            "identical_runs": all(case["digest"] == cases[0]["digest"] for case in cases)}


def sweep(sizes, containers=("numpy", "dataframe"), quiet: bool = False, sampler: str = "SMOTE",
          runs: int = 1) -> dict:
    rows = []
    for container in containers:
        for n_rows in sizes:
            # fresh processes in pairs of alternating order: a process started right
            # after the other library's is a little slower either way
            cases = {"imbalanced-learn": [], "gpusmote": []}
            for run in range(runs):
                for library in (("imbalanced-learn", "gpusmote") if run % 2 == 0 else ("gpusmote", "imbalanced-learn")):
                    cases[library].append(run_case(library, container, n_rows, sampler))
            theirs, ours = _median_case(cases["imbalanced-learn"]), _median_case(cases["gpusmote"])
            if "error" in theirs or "error" in ours:
                if theirs.get("error") != ours.get("error"):
                    raise RuntimeError(f"{container} {n_rows}: imbalanced-learn {theirs.get('error')!r}, "
                                       f"gpusmote {ours.get('error')!r}")
                rows.append({"container": container, "rows": n_rows, "error": theirs["error"]})
                if not quiet:
                    print(f"{container:9} {n_rows:>9,} rows: both raise {theirs['error']}", flush=True)
                continue
            row = {
                "container": container, "rows": n_rows,
                "imblearn_first_s": theirs["first_s"], "gpusmote_first_s": ours["first_s"],
                "imblearn_warm_s": theirs["warm_s"], "gpusmote_warm_s": ours["warm_s"],
                "first_speedup": theirs["first_s"] / ours["first_s"],
                "warm_speedup": theirs["warm_s"] / ours["warm_s"],
                "identical": (theirs["digest"] == ours["digest"] and theirs["dtypes"] == ours["dtypes"]
                              and ours.get("identical_runs", True)),
            }
            rows.append(row)
            if not quiet:
                print(f"{container:9} {n_rows:>9,} rows: first {row['imblearn_first_s']:.4f} / "
                      f"{row['gpusmote_first_s']:.4f} s = {row['first_speedup']:.2f}x, warm "
                      f"{row['imblearn_warm_s']:.4f} / {row['gpusmote_warm_s']:.4f} s = "
                      f"{row['warm_speedup']:.2f}x, identical: {row['identical']}", flush=True)
    return {"sampler": sampler, "runs": runs, "rows": rows}


def markdown(report: dict) -> str:
    lines = [f"# {report.get('sampler', 'SMOTE')} speed-up against size on {report['machine']}", "",
             f"Fraud-shaped data ({N_FEATURES} float32 features, 1% minority, >= 12 minority rows); "
             "the DataFrame adds an int64 and a bool column, y a Series. Each size and library in a "
             "fresh process: the first fit_resample after the imports, then the median of the next "
             "calls (3 up to 100k rows, else 1)"
             + (f"; {report['runs']} processes per size and library, in pairs of alternating order, "
                "medians" if report.get("runs", 1) > 1 else "")
             + ". Speed-up = imbalanced-learn's time / gpusmote's.", "",
             "| container | rows | first: imblearn s | first: gpusmote s | first speed-up | "
             "warm: imblearn s | warm: gpusmote s | warm speed-up | identical |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in report["rows"]:
        if "error" in row:
            lines.append(f"| {row['container']} | {row['rows']:,} | both raise {row['error'].split(':')[0]} "
                         "| | | | | | same error |")
            continue
        lines.append(f"| {row['container']} | {row['rows']:,} | {row['imblearn_first_s']:.4f} | "
                     f"{row['gpusmote_first_s']:.4f} | {row['first_speedup']:.2f}x | "
                     f"{row['imblearn_warm_s']:.4f} | {row['gpusmote_warm_s']:.4f} | "
                     f"{row['warm_speedup']:.2f}x | {'yes' if row['identical'] else 'NO'} |")
    return "\n".join(lines)


def plot(report: dict, path: Path) -> bool:
    """Speed-up against rows (log-log), one line per container and call; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2))
    for container in dict.fromkeys(row["container"] for row in report["rows"]):
        rows = [row for row in report["rows"] if row["container"] == container and "error" not in row]
        sizes = [row["rows"] for row in rows]
        for call, style in (("first", "--"), ("warm", "-")):
            axes.plot(sizes, [row[f"{call}_speedup"] for row in rows], style, marker="o",
                      label=f"{container}, {call} call")
    axes.axhline(1.0, color="grey", linewidth=1)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("rows")
    axes.set_ylabel("speed-up over imbalanced-learn (higher is better)")
    axes.set_title(f"{report.get('sampler', 'SMOTE')}, gpusmote vs imbalanced-learn, {report['machine']}")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="row counts (default: 100 to 1M; to 30,000 for the cleaning and combined samplers)")
    parser.add_argument("--sampler", choices=list(SAMPLERS), default="SMOTE",
                        help="the sampler swept, with its benchmark parameters on both sides (default: SMOTE)")
    add_standard_flags(parser, quick=f"sizes {', '.join(map(str, QUICK_SIZES))}", runs=1,
                       runs_help="fresh processes per size and library, in pairs of alternating order")
    args = parser.parse_args(argv)
    from benchmarks._flags import not_saved_note, results_dir
    from benchmarks.compare import machine_name, save_report

    cleaning = "." in SAMPLERS[args.sampler][0]  # under_sampling.* and combine.*
    sizes = args.sizes or (QUICK_SIZES if args.quick else CLEANING_SIZES if cleaning else SIZES)
    report = {"machine": machine_name(), **sweep(sizes, quiet=args.quiet, sampler=args.sampler, runs=args.runs)}
    timed = [row for row in report["rows"] if "error" not in row]  # not the sizes where both raise
    report["min_first_speedup"] = min((row["first_speedup"] for row in timed), default=None)
    report["min_warm_speedup"] = min((row["warm_speedup"] for row in timed), default=None)
    folder = results_dir(args)
    if folder is not None:
        suffix = "" if args.sampler == "SMOTE" else f"-{args.sampler}"
        stem = save_report(f"sweep-{report['machine']}{suffix}", report, markdown(report), folder)
        plot(report, Path(f"{stem}.png"))
        print(f"saved {stem}.json, .md, .png")
    elif not_saved_note(args):
        print(not_saved_note(args))
    return report


if __name__ == "__main__":
    main()
