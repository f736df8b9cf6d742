"""gpusmote vs imbalanced-learn's SMOTE: same data, one process, ratios.

Run ``python -m benchmarks.compare_imblearn`` (``--help`` for sizes). Both
samplers are first warmed up on a small slice (JIT loading and thread start-up
stay out of the figures). Then each runs on the full data: the first full-size
call ("first call", what a script that resamples once sees), ``--repeat`` more
calls (their median, "warm"), and one traced call for the peak of the memory
allocated through NumPy beyond the input (tracemalloc). The outputs must be
bit-identical. The table is written as Markdown and JSON under
benchmarks/results/, named after the machine, unless ``--no-save``;
``--quick`` is a smoke test (100,000 rows), saved only with ``--out DIR``.
The shared flags are in benchmarks/_flags.py (``--repeat`` is ``--runs``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc

import numpy as np
from imblearn.over_sampling import SMOTE as ImblearnSMOTE

import gpusmote
from benchmarks._flags import SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.compare import machine_name, save_report
from gpusmote import SMOTE
from gpusmote.datasets import make_fraud_like


def _measure(sampler, X, y, repeat):
    start = time.perf_counter()
    sampler.fit_resample(X, y)
    first = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sampler.fit_resample(X, y)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    result = sampler.fit_resample(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"first_s": first, "warm_s": statistics.median(times), "peak_bytes": peak}, result


def run(rows: int, features: int, minority: float, repeat: int, seed: int) -> dict:
    """Measure both samplers on one fraud-like workload; return the figures."""
    X, y = make_fraud_like(rows, features, minority, random_state=seed)
    for sampler in (ImblearnSMOTE(random_state=seed), SMOTE(random_state=seed)):
        sampler.fit_resample(X[:20_000], y[:20_000])  # warm-up
    reference, (X_ref, y_ref) = _measure(ImblearnSMOTE(random_state=seed), X, y, repeat)
    ours, (X_our, y_our) = _measure(SMOTE(random_state=seed), X, y, repeat)
    return {
        "workload": f"fraud-like {rows:,} x {features} float32, {minority:.2%} minority",
        "rows_out": int(len(y_our)),
        "output_bytes": int(X_our.nbytes),
        "machine": machine_name(),
        "versions": {
            "gpusmote": gpusmote.__version__,
            "imbalanced-learn": __import__("imblearn").__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "imbalanced-learn": reference,
        "gpusmote-cpu": ours,
        "identical": bool(np.array_equal(X_ref, X_our) and np.array_equal(y_ref, y_our)),
    }


def to_markdown(result: dict) -> str:
    ref, our = result["imbalanced-learn"], result["gpusmote-cpu"]
    mib = 2**20
    lines = [
        f"workload: {result['workload']} -> {result['rows_out']:,} rows "
        f"({result['output_bytes'] / mib:.0f} MiB output); machine: {result['machine']}",
        "",
        "| | imbalanced-learn | gpusmote (cpu) | ratio |",
        "|---|---:|---:|---:|",
        f"| first call, s | {ref['first_s']:.3f} | {our['first_s']:.3f} | {ref['first_s'] / our['first_s']:.2f}x |",
        f"| warm median, s | {ref['warm_s']:.3f} | {our['warm_s']:.3f} | {ref['warm_s'] / our['warm_s']:.2f}x |",
        f"| peak NumPy memory, MiB | {ref['peak_bytes'] / mib:.0f} | {our['peak_bytes'] / mib:.0f} | "
        f"{ref['peak_bytes'] / our['peak_bytes']:.2f}x |",
        "",
        f"identical output: {result['identical']}",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows (default: 1000000)")
    parser.add_argument("--features", type=int, default=32, help="features (default: 32)")
    parser.add_argument("--minority", type=float, default=0.01,
                        help="minority fraction (default: 0.01)")
    parser.add_argument("--random-state", "--seed", type=int, default=0, dest="seed",
                        help="seed of the data and the samplers (default: 0)")
    add_standard_flags(parser, quick="100,000 rows, 2 warm calls", runs=5,
                       runs_help="warm calls after the first")
    parser.add_argument("--repeat", type=int, dest="runs", help=argparse.SUPPRESS)  # old name
    parser.add_argument("--save", action="store_true", help=argparse.SUPPRESS)  # now the default
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.runs = min(args.rows, 100_000), min(args.runs, 2)
    result = run(args.rows, args.features, args.minority, args.runs, args.seed)
    table = to_markdown(result)
    if args.quick:
        table = f"{SMOKE_NOTE}\n\n{table}"
    print(table)
    folder = results_dir(args)
    if folder is not None:
        stem = save_report(f"inprocess-{result['machine']}{'-quick' if args.quick else ''}",
                           result, table, folder)
        print(f"saved {stem}.md and .json")
    elif not_saved_note(args):
        print(not_saved_note(args))


if __name__ == "__main__":
    main()
