"""gpusmote vs imbalanced-learn's SMOTE: same data, one process, ratios.

Run ``python -m benchmarks.compare_imblearn`` (``--help`` for sizes). Both
samplers are warmed up on a small slice first (JIT and thread start-up stay out
of the figures), then each runs ``--repeat`` times on the full data; the table
reports the median wall time, the peak memory each allocated through NumPy in
one more run (tracemalloc, beyond the input), both ratios, and whether the
outputs are bit-identical.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np
from imblearn.over_sampling import SMOTE as ImblearnSMOTE

from gpusmote import SMOTE
from gpusmote.datasets import make_fraud_like


def _measure(sampler, X, y, repeat):
    """Median wall time over ``repeat`` untraced runs, then one traced run for
    the peak of NumPy allocations (tracemalloc slows Python, not NumPy)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sampler.fit_resample(X, y)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    result = sampler.fit_resample(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--minority", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.seed)
    for sampler in (ImblearnSMOTE(random_state=args.seed), SMOTE(random_state=args.seed)):
        sampler.fit_resample(X[:20_000], y[:20_000])  # warm-up

    t_ref, m_ref, (X_ref, y_ref) = _measure(ImblearnSMOTE(random_state=args.seed), X, y, args.repeat)
    t_our, m_our, (X_our, y_our) = _measure(SMOTE(random_state=args.seed), X, y, args.repeat)
    identical = np.array_equal(X_ref, X_our) and np.array_equal(y_ref, y_our)
    out_mb = X_our.nbytes / 2**20

    print(f"workload: {args.rows:,} x {args.features} float32, "
          f"{np.mean(y != 0):.2%} minority -> {len(y_our):,} rows ({out_mb:.0f} MiB output)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}")
    print(f"{'':18}{'wall s':>10}{'peak MiB':>12}")
    print(f"{'imbalanced-learn':18}{t_ref:>10.3f}{m_ref / 2**20:>12.0f}")
    print(f"{'gpusmote (cpu)':18}{t_our:>10.3f}{m_our / 2**20:>12.0f}")
    print(f"speed-up: {t_ref / t_our:.2f}x   memory ratio (imblearn/gpusmote): "
          f"{m_ref / m_our:.2f}x   identical output: {identical}")


if __name__ == "__main__":
    main()
