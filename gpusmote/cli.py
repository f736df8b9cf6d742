"""``gpusmote`` command line: ``gpusmote demo`` and ``gpusmote --version``."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import gpusmote


def _counts(y: np.ndarray) -> str:
    labels, counts = np.unique(y, return_counts=True)
    return ", ".join(f"{label}: {count:,}" for label, count in zip(labels, counts))


def run_demo(args: argparse.Namespace) -> int:
    """Resample a built-in fraud-like data set and print counts and timings."""
    from gpusmote import SMOTE
    from gpusmote.datasets import make_fraud_like

    start = time.perf_counter()
    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.seed)
    made = time.perf_counter() - start
    print(f"data: {X.shape[0]:,} x {X.shape[1]} {X.dtype} (built in {made:.2f} s)")
    print(f"classes before: {_counts(y)}")

    sampler = SMOTE(random_state=args.seed, k_neighbors=args.k_neighbors, device=args.device)
    sampler.fit_resample(X[: min(len(X), 5_000)], y[: min(len(y), 5_000)])  # JIT warm-up
    start = time.perf_counter()
    X_res, y_res = sampler.fit_resample(X, y)
    ours = time.perf_counter() - start
    print(f"classes after:  {_counts(y_res)}")
    print(f"gpusmote SMOTE on {sampler.device_}: {ours:.3f} s -> {X_res.shape[0]:,} rows, "
          f"{X_res.dtype}, {X_res.nbytes / 2**20:.0f} MiB")

    if args.compare:
        from imblearn.over_sampling import SMOTE as ImblearnSMOTE

        reference = ImblearnSMOTE(random_state=args.seed, k_neighbors=args.k_neighbors)
        start = time.perf_counter()
        X_ref, y_ref = reference.fit_resample(X, y)
        theirs = time.perf_counter() - start
        same = np.array_equal(X_ref, X_res) and np.array_equal(y_ref, y_res)
        print(f"imbalanced-learn SMOTE: {theirs:.3f} s ({theirs / ours:.1f}x slower); "
              f"identical output: {same}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpusmote", description=gpusmote.__doc__)
    parser.add_argument("--version", action="version", version=f"gpusmote {gpusmote.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="resample built-in fraud-like data, print counts and timings")
    demo.add_argument("--rows", type=int, default=1_000_000)
    demo.add_argument("--features", type=int, default=32)
    demo.add_argument("--minority", type=float, default=0.01, help="fraction of minority rows")
    demo.add_argument("--k-neighbors", type=int, default=5)
    demo.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-compare", dest="compare", action="store_false",
                      help="skip the side-by-side run of imbalanced-learn")
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, RuntimeError) as error:
        print(f"gpusmote: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
