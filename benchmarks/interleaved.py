"""Warm calls side by side: both libraries in one process, in alternating order.

``benchmarks.sweep`` runs each library in its own fresh process, which is what
a first call needs, but its warm cells (a few calls of 1-30 ms) move with the
machine's state between the two processes: on the shared 2-core VM the same
cell read 0.45x in one sweep and 1.08x and 1.16x in two reruns. Here each case
(sampler, container, size) runs in a fresh process of its own, where both
libraries' warm calls run on the same data, in pairs whose order alternates
(the call that runs right after the other library's is a little slower either
way), until ``--seconds`` per case or 200 pairs; the medians and their ratio
are reported, with the outputs compared. (One process for all cases would let
one case's state, such as kernels a larger case loaded, decide another's path.)

    python -m benchmarks.interleaved [--samplers NAME ...] [--sizes N ...] [--seconds S]

Data: :func:`benchmarks.sweep.make_data` (fraud-shaped, 32 float32 features,
1% minority, >= 12 minority rows; the DataFrame adds an int64 and a bool
column and passes y as a Series). Writes
``benchmarks/results/interleaved-<machine>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._flags import SMOKE_NOTE, add_standard_flags
from benchmarks.run_case import SAMPLERS, make_sampler

REPO_ROOT = Path(__file__).resolve().parent.parent
SIZES = (100, 1_000, 10_000)
QUICK_SIZES = (300,)
MAX_PAIRS = 200
MIN_PAIRS = 20


def _same_output(ours, theirs) -> bool:
    """Bit-identical outputs (frames by column, arrays with their dtypes)."""
    import numpy as np

    (X_a, y_a), (X_b, y_b) = ours, theirs
    if hasattr(X_b, "columns"):
        import pandas as pd

        try:
            pd.testing.assert_frame_equal(X_a, X_b, check_exact=True)
            pd.testing.assert_series_equal(y_a, y_b, check_exact=True)
        except AssertionError:
            return False
        return True
    return (X_a.dtype == X_b.dtype and np.array_equal(X_a, X_b)
            and np.asarray(y_a).dtype == np.asarray(y_b).dtype and np.array_equal(y_a, y_b))


def measure(name: str, n_rows: int, container: str, seconds: float) -> dict:
    """One case, in this process: warm-ups, then alternating pairs; medians,
    ratio and identity."""
    from benchmarks.sweep import make_data

    X, y = make_data(n_rows, container)
    row = {"sampler": name, "rows": n_rows, "container": container}
    samplers = {"gpusmote": make_sampler("gpusmote", name), "imbalanced-learn": make_sampler("imblearn", name)}
    try:
        outputs = {library: sampler.fit_resample(X, y) for library, sampler in samplers.items()}
    except Exception as error:  # both libraries must raise the same (ADASYN on some sets)
        messages = set()
        for sampler in samplers.values():
            try:
                sampler.fit_resample(X, y)
                messages.add(None)
            except Exception as each:
                messages.add(f"{type(each).__name__}: {each}")
        if len(messages) != 1:
            raise RuntimeError(f"{name} {container} {n_rows}: only one library raises: {messages}") from error
        return {**row, "error": messages.pop()}
    for sampler in samplers.values():  # a second warm call each
        sampler.fit_resample(X, y)
    times = {library: [] for library in samplers}
    deadline = time.perf_counter() + seconds
    pairs = 0
    while pairs < MIN_PAIRS or (pairs < MAX_PAIRS and time.perf_counter() < deadline):
        order = list(samplers.items()) if pairs % 2 else list(samplers.items())[::-1]
        for library, sampler in order:
            start = time.perf_counter()
            sampler.fit_resample(X, y)
            times[library].append(time.perf_counter() - start)
        pairs += 1
    ours, theirs = statistics.median(times["gpusmote"]), statistics.median(times["imbalanced-learn"])
    return {**row, "pairs": pairs, "gpusmote_s": ours, "imblearn_s": theirs, "speedup": theirs / ours,
            "identical": _same_output(outputs["gpusmote"], outputs["imbalanced-learn"])}


_CASE = r"""
import json, sys, warnings
warnings.simplefilter("ignore")  # both sides' warnings (KMeansSMOTE's threadpool notes, ...)
from benchmarks.interleaved import measure
print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))))
"""


def run_case(name: str, n_rows: int, container: str, seconds: float) -> dict:
    """:func:`measure` in a fresh process."""
    result = subprocess.run([sys.executable, "-c", _CASE, name, str(n_rows), container, str(seconds)],
                            capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{name} {container} {n_rows}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def markdown(report: dict) -> str:
    lines = [f"# Warm calls side by side on {report['machine']}", "",
             *([f"**{SMOKE_NOTE}**", ""] if report.get("quick") else []),
             "Each case in a fresh process of its own: both libraries' warm fit_resample on the same data, "
             "in pairs of alternating order; medians over the pairs. Fraud-shaped data (32 float32 features, 1% "
             "minority, >= 12 minority rows); the DataFrame adds an int64 and a bool column, y a Series. "
             "Speed-up = imbalanced-learn's median / gpusmote's.", "",
             "| sampler | container | rows | pairs | imblearn ms | gpusmote ms | speed-up | identical |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in report["rows"]:
        if "error" in row:
            lines.append(f"| {row['sampler']} | {row['container']} | {row['rows']:,} | | both raise "
                         f"{row['error'].split(':')[0]} | | | same error |")
            continue
        lines.append(f"| {row['sampler']} | {row['container']} | {row['rows']:,} | {row['pairs']} | "
                     f"{row['imblearn_s'] * 1e3:.2f} | {row['gpusmote_s'] * 1e3:.2f} | {row['speedup']:.2f}x | "
                     f"{'yes' if row['identical'] else 'NO'} |")
    timed = [row for row in report["rows"] if "error" not in row]
    if timed:
        low = min(timed, key=lambda row: row["speedup"])
        lines += ["", f"Lowest: {low['speedup']:.2f}x ({low['sampler']}, {low['container']}, {low['rows']:,} rows)."]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samplers", nargs="+", choices=list(SAMPLERS), default=list(SAMPLERS),
                        metavar="NAME", help="samplers to compare (default: every continuous one)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help=f"row counts (default: {', '.join(map(str, SIZES))})")
    parser.add_argument("--containers", nargs="+", choices=["numpy", "dataframe"],
                        default=["numpy", "dataframe"])
    parser.add_argument("--seconds", type=float, default=4.0,
                        help=f"time per case after {MIN_PAIRS} pairs, at most {MAX_PAIRS} pairs (default: 4)")
    add_standard_flags(parser, quick=f"{', '.join(map(str, QUICK_SIZES))} rows, {MIN_PAIRS} pairs")
    args = parser.parse_args(argv)
    from benchmarks._flags import not_saved_note, results_dir
    from benchmarks.compare import machine_name, save_report

    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    rows = []
    for name in args.samplers:
        for container in args.containers:
            for n_rows in sizes:
                row = run_case(name, n_rows, container, 0.0 if args.quick else args.seconds)
                rows.append(row)
                if not args.quiet:
                    print(f"{name:24} {container:9} {n_rows:>7,} rows: " + (
                        f"both raise {row['error']}" if "error" in row else
                        f"imblearn {row['imblearn_s'] * 1e3:.2f} ms, gpusmote {row['gpusmote_s'] * 1e3:.2f} ms"
                        f" = {row['speedup']:.2f}x ({row['pairs']} pairs), identical: {row['identical']}"),
                        file=sys.stderr, flush=True)
    report = {"machine": machine_name(), "quick": args.quick, "rows": rows}
    text = markdown(report)
    print(text)
    folder = results_dir(args)
    if folder is not None:
        stem = save_report(f"interleaved-{report['machine']}", report, text, folder)
        print(f"saved {stem}.json, .md")
    elif not_saved_note(args):
        print(not_saved_note(args))
    return report


if __name__ == "__main__":
    main()
