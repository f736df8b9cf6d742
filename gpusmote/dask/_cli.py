"""``gpusmote resample --scheduler``: a Parquet dataset resampled on a Dask cluster.

The input is read with ``dask.dataframe.read_parquet`` (a file, a directory
or a glob; any URL Dask reads), the features and target split as the
single-process command splits them, resampled by :func:`gpusmote.dask.fit_resample`
and written with ``to_parquet`` as a dataset directory: into a temporary
directory beside the output, renamed into place when complete (removed on
failure). The rows are those of ``gpusmote resample --rng philox`` on the same
data, in the same order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path

import numpy as np


#: Uncompressed bytes per input partition (``read_parquet``'s ``blocksize``).
PARTITION_BYTES = "64MiB"


def _client(scheduler: str):
    """A client of ``scheduler``: ``local:N`` starts N local worker processes
    (one thread each); anything else is a scheduler address."""
    from distributed import Client, LocalCluster

    if scheduler.startswith("local"):
        _, _, count = scheduler.partition(":")
        try:
            n_workers = int(count) if count else os.cpu_count() or 1
        except ValueError:
            raise ValueError(f"--scheduler {scheduler!r}: expected local:N with N a number") from None
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    return Client(scheduler), None


def _strategy_for(strategy, dtype):
    """Command-line ``LABEL=COUNT`` keys (text) as the target column's labels."""
    if not isinstance(strategy, dict):
        return strategy
    kind = np.dtype(dtype).kind if isinstance(dtype, np.dtype) else "O"
    cast = {"i": int, "u": int, "f": float, "b": lambda text: text == "True"}.get(kind, str)
    return {cast(key): value for key, value in strategy.items()}


def _check_paths(input: str, output: Path, overwrite: bool) -> None:
    """Fail on a bad input or output path before a cluster is started."""
    local = "://" not in input
    if local and not any(ch in input for ch in "*?[") and not Path(input).exists():
        raise ValueError(f"input {input} does not exist")
    if output.exists() and not overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it")
    if local and Path(input).exists() and Path(input).resolve() == output.resolve():
        raise ValueError("the output must not be the input")
    if not output.parent.is_dir():
        raise ValueError(f"output directory {output.parent} does not exist")


def resample_dataset(input: str, output: Path, *, scheduler: str, target: str,
                     features: list[str] | None, drop: list[str],
                     passthrough: list[str] = (), sampling_strategy="auto",
                     k_neighbors: int = 5, random_state: int | None = None,
                     device: str = "auto", rng: str = "imblearn", overwrite: bool = False) -> dict:
    """Resample a Parquet dataset on a Dask cluster; return a summary.

    Passthrough columns (``passthrough``, and with ``features`` every other
    column not dropped) are copied for original rows and missing in synthetic
    ones, as in the single-process command.

    Raises
    ------
    ValueError
        On bad options or input (no output is left behind); ``rng`` must be
        ``'philox'``.
    """
    import dask.dataframe as dd
    import pyarrow as pa

    from gpusmote.dask._resample import fit_resample
    from gpusmote.io._streaming import draw_seed
    from gpusmote.io._tabular import split_columns
    from gpusmote.over_sampling._smote import SMOTE

    start = time.perf_counter()
    _check_paths(input, output, overwrite)
    if rng != "philox":  # before a cluster is started
        from gpusmote.dask._resample import IMBLEARN_REFUSED

        raise ValueError(IMBLEARN_REFUSED.replace("Pass rng='philox'", "Pass --rng philox"))
    seed_drawn = random_state is None
    seed = draw_seed() if seed_drawn else random_state
    client, cluster = _client(scheduler)
    partial = output.parent / f".{output.name}.{secrets.token_hex(4)}.partial"
    try:
        # Partitions of about PARTITION_BYTES: Dask's default (256 MiB uncompressed)
        # made one partition of a 2M x 32 file, so one worker did all the work.
        frame = dd.read_parquet(input, blocksize=PARTITION_BYTES)
        # The single-process command's roles: features, passthrough (with
        # --columns every other column), dropped; the same checks and messages.
        roles = split_columns(pa.Schema.from_pandas(frame._meta, preserve_index=False), target,
                              passthrough, features, drop)
        chosen, carried = roles.features, roles.passthrough
        sampler = SMOTE(sampling_strategy=_strategy_for(sampling_strategy, frame[target].dtype),
                        random_state=seed, k_neighbors=k_neighbors, device=device, rng=rng)
        X_res, y_res = fit_resample(sampler, frame[chosen], frame[target],
                                    passthrough=frame[carried] if carried else None)
        kept = {*chosen, *carried, target}
        columns = [c for c in frame.columns if c in kept]  # the input's order
        result = X_res.assign(**{target: y_res})[columns]
        # Dictionary encoding only where values repeat, as the single-process
        # writer: tried on float columns it fails and falls back, slowly.
        repeating = [c for c in columns if getattr(result[c].dtype, "kind", "O") != "f"]
        result.to_parquet(str(partial), write_index=False, use_dictionary=repeating)
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.replace(partial, output)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        client.close()
        if cluster is not None:
            cluster.close()
    n_synthetic = int(sum(sampler.sampling_strategy_.values()))
    rows_out = int(X_res.divisions[-1]) + 1
    return {
        "input": input, "output": str(output), "scheduler": scheduler,
        "random_state": seed, "random_state_drawn": seed_drawn, "rng": rng,
        "features": list(chosen), "passthrough": list(carried), "rows_in": rows_out - n_synthetic, "rows_out": rows_out,
        "n_synthetic": n_synthetic,
        "synthetic_counts": {str(k): int(v) for k, v in sampler.sampling_strategy_.items()},
        "seconds": {"total": round(time.perf_counter() - start, 3)},
    }
