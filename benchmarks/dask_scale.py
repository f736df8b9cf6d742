"""SMOTE on a Dask LocalCluster against the single-process ``gpusmote resample``.

Run ``python -m benchmarks.dask_scale`` (default: 20,000,000 x 32 float32 rows,
1% minority, plus a passed-through int64 row_id, in one Parquet file of
256,000-row row groups, built as benchmarks/cli_stream.py builds it; ``--rows`` for less, ``--quick`` for
200,000). It runs, on the same file and with the same seed:

- ``gpusmote resample --rng philox`` in a child process (wall time, peak RSS);
- ``gpusmote resample --rng philox --scheduler`` on a LocalCluster of 1, then 2
  worker processes (one thread each): wall time, each worker's peak RSS
  (polled every 0.1 s) and the seconds spent per kind of task (Dask's task
  stream), which is what a larger cluster divides;

and checks that every output holds the same rows, column for column (and,
up to ``--check-in-memory`` rows, that they are in-memory
``SMOTE(rng='philox').fit_resample``'s). Results: benchmarks/results/
dask-scale-<machine>.{json,md} (the shared flags: benchmarks/_flags.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from benchmarks._flags import SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.cli_stream import build_parquet
from benchmarks.compare import machine_name, save_report

SEED = 0


def _files(path: Path) -> list[Path]:
    """A Parquet file, or a dataset directory's files in part order (part.10 after part.9)."""
    if path.is_file():
        return [path]
    number = lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]  # noqa: E731
    return sorted(path.glob("*.parquet"), key=number)


def column_digests(path: Path) -> dict[str, str]:
    """SHA-256 of every column's values, in row order, whatever the batches."""
    hashes = defaultdict(hashlib.sha256)
    for file in _files(path):
        for batch in pq.ParquetFile(file).iter_batches(batch_size=1 << 18):
            for name, column in zip(batch.schema.names, batch.columns):
                # Which rows are null, and the other values in their own type:
                # the same bytes whatever the batch boundaries.
                hashes[name + " (nulls)"].update(
                    column.is_null().to_numpy(zero_copy_only=False).tobytes())
                values = column.drop_null().to_numpy(zero_copy_only=False)
                hashes[name].update(values.tobytes() if values.dtype != object
                                    else repr(values.tolist()).encode())
    return {name: h.hexdigest() for name, h in hashes.items()}


def in_memory_digests(source: Path, features: list[str]) -> dict[str, str]:
    """The digests of in-memory ``SMOTE(rng='philox')`` on the whole file."""
    from gpusmote import SMOTE

    table = pq.read_table(source, columns=[*features, "label"])
    X = np.column_stack([table.column(name).to_numpy() for name in features])
    y = table.column("label").to_numpy()
    X_res, y_res = SMOTE(rng="philox", random_state=SEED).fit_resample(X, y)
    digests = {name: hashlib.sha256(np.ascontiguousarray(X_res[:, j]).tobytes()).hexdigest()
               for j, name in enumerate(features)}
    digests["label"] = hashlib.sha256(np.ascontiguousarray(y_res).tobytes()).hexdigest()
    no_nulls = hashlib.sha256(np.zeros(len(y_res), dtype=bool).tobytes()).hexdigest()
    digests.update({f"{name} (nulls)": no_nulls for name in [*features, "label"]})
    return digests


def run_single_process(source: Path, output: Path) -> dict:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "gpusmote", "resample", str(source), str(output), "--target",
         "label", "--passthrough", "row_id", "--rng", "philox", "--random-state", str(SEED),
         "--device", "cpu", "--overwrite", "--json", "--quiet"],
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    summary = json.loads(result.stdout)
    return {"wall_s": wall, "rows_in": summary["rows_in"], "rows_out": summary["rows_out"],
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            "stages_s": summary["seconds"]}


class _PeakRSS:
    """Polls the worker processes' RSS in a thread; keeps each one's peak."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1) -> None:
        import psutil

        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peaks = dict.fromkeys(pids, 0)
        self.interval, self._stop = interval, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            for name, process in self.processes.items():
                try:
                    self.peaks[name] = max(self.peaks[name], process.memory_info().rss)
                except Exception:  # noqa: BLE001 - a worker that went away
                    pass
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _task_kind(key) -> str:
    name = key[0] if isinstance(key, tuple) else key
    return re.sub(r"-[0-9a-f]{8,}.*$", "", str(name))


def _warm_up() -> None:
    """SMOTE on data above the small-data size: the k-NN and Philox kernels load."""
    from gpusmote import SMOTE
    from gpusmote.datasets import make_fraud_like

    SMOTE(rng="philox", random_state=0).fit_resample(*make_fraud_like(5_000, 16, 0.05))


def run_cluster(source: Path, output: Path, n_workers: int) -> dict:
    import os

    from distributed import Client, LocalCluster, get_task_stream

    from gpusmote.dask._cli import resample_dataset

    started = time.perf_counter()
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.wait_for_workers(n_workers)
        pids = client.run(os.getpid)
        # A worker's first tasks load gpusmote and compile or load its kernels (the
        # single-process run pays this too, in its one process): warmed up, and
        # reported apart with the cluster's start.
        client.run(_warm_up)
        startup = time.perf_counter() - started
        with _PeakRSS(pids) as memory, get_task_stream(client) as stream:
            start = time.perf_counter()
            summary = resample_dataset(str(source), output, scheduler=cluster.scheduler_address,
                                       target="label", features=None, drop=[],
                                       passthrough=["row_id"],
                                       random_state=SEED, device="cpu", rng="philox",
                                       overwrite=True)
            wall = time.perf_counter() - start
        per_kind = defaultdict(float)
        for task in stream.data:
            for part in task.get("startstops", ()):
                if part["action"] == "compute":
                    per_kind[_task_kind(task["key"])] += part["stop"] - part["start"]
    return {"workers": n_workers, "wall_s": wall, "startup_s": startup,
            "rows_in": summary["rows_in"],
            "rows_out": summary["rows_out"],
            "peak_rss_per_worker_bytes": sorted(memory.peaks.values()),
            "task_seconds": dict(sorted(per_kind.items(), key=lambda kv: -kv[1]))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows (default: 20000000)")
    parser.add_argument("--features", type=int, default=32, help="features (default: 32)")
    parser.add_argument("--minority", type=float, default=0.01,
                        help="minority fraction (default: 0.01)")
    parser.add_argument("--workers", default="1,2", help="worker counts (default: 1,2)")
    parser.add_argument("--check-in-memory", type=int, default=5_000_000, metavar="ROWS",
                        help="also compare with in-memory SMOTE up to this many rows "
                             "(default: 5000000)")
    add_standard_flags(parser, quick="200,000 rows")
    args = parser.parse_args(argv)

    def note(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    n_rows = 200_000 if args.quick else args.rows
    features = [f"f{j}" for j in range(args.features)]
    with tempfile.TemporaryDirectory(prefix="gpusmote-dask-") as folder:
        source = Path(folder) / "input.parquet"
        start = time.perf_counter()
        build_parquet(source, n_rows, args.features, args.minority)
        note(f"built {n_rows:,} x {args.features} float32 ({source.stat().st_size / 2**30:.2f} "
             f"GiB) in {time.perf_counter() - start:.1f} s")
        single = run_single_process(source, Path(folder) / "single.parquet")
        note(f"single process: {single['wall_s']:.1f} s")
        reference = column_digests(Path(folder) / "single.parquet")
        identical = {"single_process_vs_in_memory": None}
        if n_rows <= args.check_in_memory:
            identical["single_process_vs_in_memory"] = all(
                reference[name] == digest
                for name, digest in in_memory_digests(source, features).items())
        runs = []
        for n_workers in (int(n) for n in args.workers.split(",")):
            output = Path(folder) / f"dask-{n_workers}"
            runs.append(run_cluster(source, output, n_workers))
            identical[f"dask_{n_workers}_workers_vs_single_process"] = (
                column_digests(output) == reference)
            note(f"{n_workers} worker(s): {runs[-1]['wall_s']:.1f} s")
    report = {"machine": machine_name(), "quick": args.quick, "rows_in": single["rows_in"],
              "rows_out": single["rows_out"], "features": args.features,
              "minority": args.minority, "single_process": single, "dask": runs,
              "identical": identical}
    lines = [f"# SMOTE on Dask (LocalCluster) on {report['machine']}"
             + (f" ({SMOKE_NOTE})" if args.quick else ""), "",
             f"Parquet, {single['rows_in']:,} x {args.features} float32, {args.minority:.0%} "
             f"minority -> {single['rows_out']:,} rows, rng=philox, device=cpu.", "",
             "Dask's wall time excludes starting the cluster and warming its workers up "
             "(column 'start s'); the single process's includes its start.", "",
             "| run | wall s | start s | M rows out/s | peak RSS GiB (per worker) |",
             "|---|---:|---:|---:|---:|",
             f"| single process (`gpusmote resample`) | {single['wall_s']:.1f} | - | "
             f"{single['rows_out'] / single['wall_s'] / 1e6:.2f} | "
             f"{single['peak_rss_bytes'] / 2**30:.2f} |",
             *(f"| Dask, {run['workers']} worker(s) | {run['wall_s']:.1f} | {run['startup_s']:.1f} | "
               f"{run['rows_out'] / run['wall_s'] / 1e6:.2f} | "
               f"{', '.join(f'{b / 2**30:.2f}' for b in run['peak_rss_per_worker_bytes'])} |"
               for run in runs), "",
             "Task seconds by kind (summed over workers):", "",
             "| task | " + " | ".join(f"{run['workers']} worker(s)" for run in runs) + " |",
             "|---|" + "---:|" * len(runs)]
    kinds = list(dict.fromkeys(kind for run in runs for kind in run["task_seconds"]))
    lines += [f"| {kind} | " + " | ".join(f"{run['task_seconds'].get(kind, 0.0):.2f}"
                                         for run in runs) + " |" for kind in kinds]
    lines += ["", "Identical output: " + ", ".join(f"{k}: {v}" for k, v in identical.items())]
    markdown = "\n".join(lines)
    print(markdown)
    folder = results_dir(args)
    if folder is None:
        if not_saved_note(args):
            print(not_saved_note(args))
        return
    stem = save_report(f"dask-scale-{report['machine']}{'-quick' if args.quick else ''}",
                       report, markdown, folder)
    print(f"saved {stem}.json and .md")


if __name__ == "__main__":
    main()
