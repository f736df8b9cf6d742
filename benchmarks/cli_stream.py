"""``gpusmote resample`` on a Parquet file larger than comfortable: peak RSS and rows/s.

Run ``python -m benchmarks.cli_stream`` (default: 20,000,000 x 32 float32 rows,
1% minority; the file is about 2.5 GB and the output about 5 GB, both in a
temporary folder that is removed afterwards; ``--quick`` uses 1,000,000 rows).
The command runs in a child process; its peak RSS is the child's ``ru_maxrss``.
Results go to ``benchmarks/results/cli-stream-<machine>.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.compare import machine_name, save_report
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
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--minority", type=float, default=0.01)
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    n_rows = 1_000_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory(prefix="gpusmote-cli-") as folder:
        source, output = Path(folder) / "input.parquet", Path(folder) / "output.parquet"
        start = time.perf_counter()
        build_parquet(source, n_rows, args.features, args.minority)
        print(f"built {n_rows:,} x {args.features} float32 ({source.stat().st_size / 2**30:.2f} "
              f"GiB) in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "gpusmote", "resample", str(source), str(output), "--target",
             "label", "--passthrough", "row_id", "--random-state", "0", "--device", args.device,
             "--json"], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        peak_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        summary = json.loads(result.stdout)
        report = {
            "machine": machine_name(), "rows_in": summary["rows_in"],
            "rows_out": summary["rows_out"], "features": args.features,
            "input_bytes": source.stat().st_size, "output_bytes": output.stat().st_size,
            "wall_s": wall, "peak_rss_bytes": peak_rss,
            "rows_out_per_s": summary["rows_out"] / wall, "stages_s": summary["seconds"],
        }
    print(f"gpusmote resample: {report['rows_in']:,} -> {report['rows_out']:,} rows in "
          f"{wall:.1f} s ({report['rows_out_per_s'] / 1e6:.2f} M output rows/s), peak RSS "
          f"{peak_rss / 2**30:.2f} GiB; input {report['input_bytes'] / 2**30:.2f} GiB, output "
          f"{report['output_bytes'] / 2**30:.2f} GiB")
    for stage, seconds in summary["seconds"].items():
        print(f"  {stage:<36} {seconds:8.2f} s")
    if args.no_save:
        return
    lines = [f"# gpusmote resample on {report['machine']}", "",
             f"Parquet, {report['rows_in']:,} x {args.features} float32 + row_id + label, "
             f"{args.minority:.0%} minority, sampling_strategy=auto, device={args.device}.", "",
             "| rows in | rows out | input GiB | output GiB | wall s | M rows out/s | peak RSS GiB |",
             "|---:|---:|---:|---:|---:|---:|---:|",
             f"| {report['rows_in']:,} | {report['rows_out']:,} | "
             f"{report['input_bytes'] / 2**30:.2f} | {report['output_bytes'] / 2**30:.2f} | "
             f"{wall:.1f} | {report['rows_out_per_s'] / 1e6:.2f} | {peak_rss / 2**30:.2f} |", "",
             "| stage | s |", "|---|---:|",
             *(f"| {stage} | {seconds:.2f} |" for stage, seconds in summary["seconds"].items())]
    stem = save_report(f"cli-stream-{report['machine']}{'-quick' if args.quick else ''}", report,
                       "\n".join(lines))
    print(f"saved {stem}.json and .md")


if __name__ == "__main__":
    main()
