"""``gpusmote resample`` on a Parquet file larger than comfortable: peak RSS and rows/s.

Run ``python -m benchmarks.cli_stream`` (default: 20,000,000 x 32 float32 rows,
1% minority; the file is about 2.5 GB and the output about 5 GB, both in a
temporary folder that is removed afterwards; ``--quick`` uses 1,000,000 rows).
The command runs in a child process (``--runs`` times, the median reported);
peak RSS is the largest child's ``ru_maxrss``. Results go to
``benchmarks/results/cli-stream-<machine>.{json,md}``; ``--quick`` is a smoke
test, saved only with ``--out DIR`` (the shared flags: benchmarks/_flags.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks._flags import SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.compare import machine_name, save_report
from gpusmote.cli import STAGE_NAMES
from gpusmote.datasets import make_fraud_like

BUILD_CHUNK = 1_000_000


def build_parquet(path: Path, n_rows: int, n_features: int, minority: float) -> None:
    """Seeded fraud-like rows written chunk by chunk (never all in memory)."""
    names = [f"f{j}" for j in range(n_features)]
    writer = None
    for i, start in enumerate(range(0, n_rows, BUILD_CHUNK)):
        X, y = make_fraud_like(min(BUILD_CHUNK, n_rows - start), n_features, minority,
                               random_state=1000 + i)
        table = pa.table({"row_id": pa.array(range(start, start + len(y)), pa.int64()),
                          **{name: X[:, j] for j, name in enumerate(names)}, "label": y})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=256_000)
    writer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows (default: 20000000)")
    parser.add_argument("--features", type=int, default=32, help="features (default: 32)")
    parser.add_argument("--minority", type=float, default=0.01,
                        help="minority fraction (default: 0.01)")
    parser.add_argument("--device", default="cpu", help="gpusmote's --device (default: cpu)")
    add_standard_flags(parser, quick="1,000,000 rows", runs=1,
                       runs_help="runs of the command, each in a fresh process")
    args = parser.parse_args(argv)

    def note(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    n_rows = 1_000_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="gpusmote-cli-") as folder:
        source, output = Path(folder) / "input.parquet", Path(folder) / "output.parquet"
        start = time.perf_counter()
        build_parquet(source, n_rows, args.features, args.minority)
        note(f"built {n_rows:,} x {args.features} float32 ({source.stat().st_size / 2**30:.2f} "
             f"GiB) in {time.perf_counter() - start:.1f} s")
        walls = []
        for i in range(args.runs):
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "gpusmote", "resample", str(source), str(output),
                 "--target", "label", "--passthrough", "row_id", "--random-state", "0",
                 "--device", args.device, "--overwrite", "--json"],
                capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - start)
            note(f"[{i + 1}/{args.runs}] {walls[-1]:.1f} s")
        wall = statistics.median(walls)
        peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        summary = json.loads(result.stdout)
        report = {
            "machine": machine_name(), "quick": args.quick, "runs_wall_s": walls,
            "rows_in": summary["rows_in"],
            "rows_out": summary["rows_out"], "features": args.features,
            "input_bytes": source.stat().st_size, "output_bytes": output.stat().st_size,
            "wall_s": wall, "peak_rss_bytes": peak_rss,
            "rows_out_per_s": summary["rows_out"] / wall, "stages_s": summary["seconds"],
        }
    if args.quick:
        print(SMOKE_NOTE)
    median = f" (median of {args.runs})" if args.runs > 1 else ""
    print(f"gpusmote resample: {report['rows_in']:,} -> {report['rows_out']:,} rows in "
          f"{wall:.1f} s{median} ({report['rows_out_per_s'] / 1e6:.2f} M output rows/s), peak RSS "
          f"{peak_rss / 2**30:.2f} GiB; input {report['input_bytes'] / 2**30:.2f} GiB, output "
          f"{report['output_bytes'] / 2**30:.2f} GiB")
    for stage, seconds in summary["seconds"].items():
        print(f"  {STAGE_NAMES.get(stage, stage):<36} {seconds:8.2f} s")
    folder = results_dir(args)
    if folder is None:
        if not_saved_note(args):
            print(not_saved_note(args))
        return
    lines = [f"# gpusmote resample on {report['machine']}"
             + (f" ({SMOKE_NOTE})" if args.quick else ""), "",
             f"Parquet, {report['rows_in']:,} x {args.features} float32 + row_id + label, "
             f"{args.minority:.0%} minority, sampling_strategy=auto, device={args.device}.", "",
             "| rows in | rows out | input GiB | output GiB | wall s | M rows out/s | peak RSS GiB |",
             "|---:|---:|---:|---:|---:|---:|---:|",
             f"| {report['rows_in']:,} | {report['rows_out']:,} | "
             f"{report['input_bytes'] / 2**30:.2f} | {report['output_bytes'] / 2**30:.2f} | "
             f"{wall:.1f} | {report['rows_out_per_s'] / 1e6:.2f} | {peak_rss / 2**30:.2f} |", "",
             "| stage | s |", "|---|---:|",
             *(f"| {STAGE_NAMES.get(stage, stage)} | {seconds:.2f} |"
               for stage, seconds in summary["seconds"].items())]
    stem = save_report(f"cli-stream-{report['machine']}{'-quick' if args.quick else ''}", report,
                       "\n".join(lines), folder)
    print(f"saved {stem}.json and .md")


if __name__ == "__main__":
    main()
