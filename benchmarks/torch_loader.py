"""Rows per second through PyTorch: a materialised resample vs gpusmote.torch.

Run ``python -m benchmarks.torch_loader``. On fraud-like data (default 200,000 x
32 float32, 1% minority) it times one epoch of:

- ``TensorDataset`` over ``SMOTE.fit_resample``'s output through a DataLoader
  (the resample itself timed separately: it is paid once, and holds a copy);
- ``SMOTEDataset`` through a DataLoader (synthetic rows made per batch, every
  epoch new), with 0 and 2 workers, and fed whole index batches
  (``BatchSampler`` with ``batch_size=None``: no per-row collation);
- ``BalancedBatches`` (no DataLoader: one kernel call per batch), on the CPU,
  and on the GPU when one is usable (CUDA tensors).

Rows/s counts every row delivered (original and synthetic). Results go to
``benchmarks/results/torch-loader-<machine>.{json,md}``.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from benchmarks._flags import add_standard_flags, not_saved_note, results_dir
from benchmarks.compare import machine_name, save_report
from gpusmote import SMOTE
from gpusmote.devices._resolve import cuda_available
from gpusmote.datasets import make_fraud_like
from gpusmote.torch import BalancedBatches, SMOTEDataset


def _epoch_rate(batches) -> tuple[float, int]:
    """(rows/s, rows) of one pass, after one warm-up batch."""
    iterator = iter(batches)
    next(iterator)
    rows, start = 0, time.perf_counter()
    for X_batch, _ in iterator:
        rows += len(X_batch)
    if X_batch.is_cuda:
        torch.cuda.synchronize()
    return rows / (time.perf_counter() - start), rows


def run(n_rows: int, n_features: int, batch_size: int) -> list[dict]:
    X, y = make_fraud_like(n_rows, n_features, 0.01, random_state=0)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    results = []

    def record(method, rate, rows, setup=None):
        results.append({"method": method, "rows_per_s": rate, "rows": rows, "setup_s": setup})
        extra = f", set-up {setup:.2f} s" if setup is not None else ""
        print(f"{method:<44} {rate / 1e6:8.3f} M rows/s over {rows:,} rows{extra}", flush=True)

    start = time.perf_counter()
    X_res, y_res = SMOTE(random_state=0, rng="philox").fit_resample(X, y)
    setup = time.perf_counter() - start
    tensors = TensorDataset(torch.from_numpy(X_res), torch.from_numpy(y_res))
    record("TensorDataset(fit_resample) + DataLoader", *_epoch_rate(
        DataLoader(tensors, batch_size=batch_size, shuffle=True)), setup)
    start = time.perf_counter()
    lazy = SMOTEDataset(X_t, y_t, random_state=0)
    setup = time.perf_counter() - start
    for workers in (0, 2):
        loader = DataLoader(lazy, batch_size=batch_size, shuffle=True, num_workers=workers)
        record(f"SMOTEDataset + DataLoader, {workers} workers", *_epoch_rate(loader), setup)
    # Whole batches by index list: no per-row collation.
    by_batch = DataLoader(lazy, sampler=BatchSampler(RandomSampler(lazy), batch_size, False),
                          batch_size=None)
    record("SMOTEDataset, batch indices (batch_size=None)", *_epoch_rate(by_batch), setup)
    start = time.perf_counter()
    batches = BalancedBatches(X_t, y_t, batch_size=batch_size, random_state=0)
    setup = time.perf_counter() - start
    record("BalancedBatches, CPU", *_epoch_rate(batches), setup)
    if cuda_available():
        X_c, y_c = X_t.cuda(), y_t.cuda()
        start = time.perf_counter()
        batches = BalancedBatches(X_c, y_c, batch_size=batch_size, random_state=0)
        setup = time.perf_counter() - start
        record("BalancedBatches, CUDA", *_epoch_rate(batches), setup)
        big = BalancedBatches(X_c, y_c, batch_size=65_536, minority_fraction=0.9, random_state=0)
        record("BalancedBatches, CUDA, 65,536 rows, 90% synthetic", *_epoch_rate(big))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=1024)
    add_standard_flags(parser, quick="10,000 rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = min(args.rows, 10_000)
    machine = machine_name()
    print(f"{args.rows:,} x {args.features} float32, 1% minority, batch {args.batch_size}, "
          f"torch {torch.__version__}, {machine}")
    results = run(args.rows, args.features, args.batch_size)
    folder = results_dir(args)
    if folder is None:
        if not_saved_note(args):
            print(not_saved_note(args))
        return
    report = {"machine": machine, "rows": args.rows, "features": args.features,
              "batch_size": args.batch_size, "torch": torch.__version__, "results": results}
    lines = [f"# Rows/s through PyTorch on {machine}", "",
             f"fraud-like {args.rows:,} x {args.features} float32, 1% minority, batch "
             f"{args.batch_size}, torch {torch.__version__}; one epoch after a warm-up batch.", "",
             "| method | M rows/s | rows | set-up s |", "|---|---:|---:|---:|"]
    for r in results:
        setup = "" if r["setup_s"] is None else f"{r['setup_s']:.2f}"
        lines.append(f"| {r['method']} | {r['rows_per_s'] / 1e6:.3f} | {r['rows']:,} | {setup} |")
    stem = save_report(f"torch-loader-{machine}", report, "\n".join(lines), folder)
    print(f"saved {stem}.json and .md")


if __name__ == "__main__":
    main()
