"""Resample a file larger than memory: two streaming passes, a safe write.

Pass 1 streams the input once: it counts the classes and keeps the feature
rows of the classes that may be over-sampled. Which classes those are is known
only at the end, so every class is kept until the kept rows pass a memory
budget; then the largest kept class (in practice the majority) is dropped and
only counted from there on. A class that turns out to need over-sampling after
being dropped is collected by one more pass (correct, only slower).

Between the passes the over-sampled classes get their neighbour tables (the
same k-NN and draws as :class:`gpusmote.SMOTE`). Pass 2 streams every original
row to the output unchanged, in order, then each class's synthetic rows in
chunks. The output is identical to ``SMOTE.fit_resample`` on the whole file
in memory. It is written to a temporary file beside the destination and
renamed into place only when complete; any failure or interrupt removes it,
and the input is only ever read.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from gpusmote._device import resolve_device
from gpusmote._engine import ClassPlan, _synthetic_chunks
from gpusmote._progress import PassProgress
from gpusmote._tabular import (Columns, Dictionaries, check_no_nulls, csv_column_types,
                               feature_matrix, file_format, open_writer, read_batches,
                               read_schema, split_columns, synthetic_batch)
from gpusmote._timing import PhaseTimes

#: Bytes of feature rows pass 1 keeps before it drops the largest class.
COLLECT_BUDGET_BYTES = 256 * 2**20


@dataclass
class Options:
    """What ``gpusmote resample`` was asked to do."""

    input: Path
    output: Path
    target: str
    sampling_strategy: object = "auto"
    k_neighbors: int = 5
    random_state: int | None = None
    device: str = "auto"
    rng: str = "imblearn"
    chunk_rows: int = 1 << 18
    passthrough: list[str] = field(default_factory=list)
    overwrite: bool = False
    progress: bool = True
    collect_budget_bytes: int = COLLECT_BUDGET_BYTES


@dataclass
class _Collected:
    """Pass 1's result."""

    counts: Counter
    rows: dict  # label -> list of feature matrices, file order
    dropped: set
    dictionaries: Dictionaries


def _labels_of(batch, columns: Columns, first_row: int) -> np.ndarray:
    column = batch.column(columns.target)
    check_no_nulls(column, f"target column {columns.target!r}", first_row)
    y = column.to_numpy(zero_copy_only=False)
    if y.dtype.kind == "f" and np.isnan(y).any():  # fit_resample's message, with the place
        row = first_row + int(np.flatnonzero(np.isnan(y))[0])
        raise ValueError(f"Input y contains NaN: target column {columns.target!r} at row {row:,}")
    return y


def _check_finite(X: np.ndarray, columns: Columns, first_row: int) -> None:
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"feature column {columns.features[col]!r} has a non-finite value "
                         f"({X[row, col]}) at row {first_row + int(row):,}")


def _collect(options: Options, columns: Columns, wanted=None) -> _Collected:
    """Stream the input: count labels, keep rows of ``wanted`` classes (all when None)."""
    source = read_batches(options.input, options.chunk_rows, columns.read_types)
    counts, rows, dropped, kept_bytes = Counter(), {}, set(), 0
    dictionaries = Dictionaries(source.schema)
    description = "pass 1/2: count, collect" if wanted is None else "extra pass: collect"
    first_row = 0
    with PassProgress(description, source.total_rows, source.total_bytes, source.bytes_read,
                      options.progress) as progress:
        for batch in source.batches:
            y = _labels_of(batch, columns, first_row)
            dictionaries.add(batch)
            X = feature_matrix(batch, columns, first_row)
            _check_finite(X, columns, first_row)
            labels, inverse = np.unique(y, return_inverse=True)
            counts.update(dict(zip(labels.tolist(), np.bincount(inverse).tolist())))
            for code, label in enumerate(labels.tolist()):
                keep = label not in dropped if wanted is None else label in wanted
                if keep:
                    block = X[inverse == code]
                    rows.setdefault(label, []).append(block)
                    kept_bytes += block.nbytes
            while wanted is None and kept_bytes > options.collect_budget_bytes and rows:
                largest = max(rows, key=lambda lab: sum(b.nbytes for b in rows[lab]))
                kept_bytes -= sum(b.nbytes for b in rows.pop(largest))
                dropped.add(largest)
            first_row += batch.num_rows
            progress.update(batch.num_rows)
    return _Collected(counts, rows, dropped, dictionaries)


def _sampling_strategy(sampler, counts: Counter) -> tuple[list, dict]:
    """imbalanced-learn's per-class counts from the class counts alone.

    imbalanced-learn's rules take ``y``; class codes (the labels' sorted
    order) stand in for it, so memory is 4 bytes a row, whatever the labels.
    """
    from imblearn.utils import check_sampling_strategy

    labels = np.unique(np.array(list(counts), dtype=object)).tolist()
    strategy = named = sampler.sampling_strategy
    if isinstance(strategy, dict):  # command-line keys are strings: match labels by text
        by_text = {str(label): code for code, label in enumerate(labels)}
        strategy = {by_text.get(str(key), key): value for key, value in strategy.items()}
        named = {labels[by_text[str(key)]] if str(key) in by_text else key: value
                 for key, value in named.items()}
    codes = np.repeat(np.arange(len(labels), dtype=np.int32), [counts[lab] for lab in labels])
    try:
        by_code = check_sampling_strategy(strategy, codes, sampler._sampling_type)
    except ValueError as error:  # its messages show the codes: name the labels instead
        raise ValueError(str(error).replace(repr(strategy), repr(named))) from error
    return labels, {labels[code]: int(n) for code, n in by_code.items()}


def _check_destination(options: Options) -> None:
    if options.input.resolve() == options.output.resolve():
        raise ValueError("the output must not be the input file")
    if options.output.exists() and not options.overwrite:
        raise ValueError(f"{options.output} exists; pass --overwrite to replace it")
    if not options.input.is_file():
        raise ValueError(f"input file {options.input} does not exist")
    file_format(options.input), file_format(options.output)  # known extensions, or a clear error


def resample_file(options: Options) -> dict:
    """Run ``gpusmote resample``; return its summary (see the module notes).

    Raises
    ------
    ValueError
        On bad input or options (the message names the problem); the input is
        untouched and no output is left behind.
    """
    from gpusmote import SMOTE

    _check_destination(options)
    sampler = SMOTE(sampling_strategy=options.sampling_strategy,
                    random_state=options.random_state, k_neighbors=options.k_neighbors,
                    device=options.device, rng=options.rng)
    sampler._validate_params()
    times, start = PhaseTimes(), time.perf_counter()
    schema = None
    try:
        schema = read_schema(options.input)
        columns = split_columns(schema, options.target, options.passthrough)
        if file_format(options.input) == "csv":  # types that do not depend on the rows read first
            read_types = csv_column_types(schema, columns)
            # Every column has an explicit type: the schema the reads will have.
            schema = pa.schema([field.with_type(read_types[field.name]) for field in schema])
            columns = dataclasses.replace(
                split_columns(schema, options.target, options.passthrough), read_types=read_types)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:  # opening reads the first block
        raise _unparsable(options, error, schema and schema.names) from error
    out_schema = columns.output_schema(schema)
    # Created first: an unwritable destination fails before any work.
    handle, partial = tempfile.mkstemp(dir=options.output.parent or ".",
                                       prefix=f".{options.output.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(partial)
    try:
        with times.phase("pass 1: count and collect"):
            collected = _collect(options, columns)
            labels, strategy = _sampling_strategy(sampler, collected.counts)
            wanted = {lab for lab, n in strategy.items() if n > 0}
            if wanted & collected.dropped:
                extra = _collect(options, columns, wanted & collected.dropped)
                collected.rows.update(extra.rows)
        backend = resolve_device(options.device)
        sampler.device_ = backend.name
        find_neighbors, draws = sampler._neighbor_finder(backend), sampler._draw_source(backend)
        classes = []
        with times.phase("k-NN"):
            for label in sorted(wanted, key=labels.index):
                X_class = np.concatenate(collected.rows.pop(label))
                X_class = backend.to_device(np.ascontiguousarray(X_class))
                classes.append((label, X_class, backend.to_device(find_neighbors(X_class))))
        collected.rows.clear()
        writer = open_writer(partial, out_schema, file_format(options.output))
        try:
            with times.phase("pass 2: write original rows"):
                _write_originals(options, columns, writer, out_schema, collected.dictionaries)
            with times.phase("generate and write synthetic rows"):
                n_rows = sum(collected.counts.values())
                offset = n_rows
                for label, X_class, nn_idx in classes:
                    plan = ClassPlan(label, labels.index(label), strategy[label], offset)
                    offset += plan.n_samples
                    for _, chunk in _synthetic_chunks(backend, X_class, nn_idx, plan, draws):
                        chunk = backend.to_host(chunk)
                        for lo in range(0, len(chunk), options.chunk_rows):
                            writer.write_batch(synthetic_batch(
                                chunk[lo : lo + options.chunk_rows], label, columns, out_schema,
                                collected.dictionaries))
        finally:
            writer.close()
        os.chmod(partial, _output_mode(options.output))
        os.replace(partial, options.output)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:  # unparsable data in the input
        partial.unlink(missing_ok=True)
        raise _unparsable(options, error, schema.names) from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    after = Counter(collected.counts)
    for label, n in strategy.items():
        after[label] += n
    return {
        "input": str(options.input), "output": str(options.output), "device": backend.name,
        "rng": options.rng, "rows_in": n_rows, "rows_out": sum(after.values()),
        "counts_before": {str(lab): collected.counts[lab] for lab in labels},
        "counts_after": {str(lab): after[lab] for lab in labels},
        "seconds": {**{k: round(v, 3) for k, v in times.items()},
                    "total": round(time.perf_counter() - start, 3)},
    }


def _unparsable(options: Options, error: Exception, names: list[str] | None = None) -> ValueError:
    """pyarrow's error, with the file and, for CSV, the column's name beside its number."""
    message = str(error)
    if names:
        message = re.sub(r"CSV column #(\d+)", lambda m: f"{m[0]} ({names[int(m[1])]!r})"
                         if int(m[1]) < len(names) else m[0], message)
    return ValueError(f"{options.input}: {message}")


def _output_mode(output: Path) -> int:
    """The replaced file's permissions, or a new file's (0o666 less the umask):
    not the 0o600 of the temporary file."""
    try:
        return output.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)  # the only way to read it; set straight back
        os.umask(umask)
        return 0o666 & ~umask


def _write_originals(options: Options, columns: Columns, writer, schema,
                     dictionaries: Dictionaries) -> None:
    source = read_batches(options.input, options.chunk_rows, columns.read_types)
    with PassProgress("pass 2/2: write", source.total_rows, source.total_bytes,
                      source.bytes_read, options.progress) as progress:
        for batch in source.batches:
            batch = dictionaries.conform(batch)
            if batch.schema != schema:
                batch = batch.cast(schema)  # passthrough fields made nullable
            writer.write_batch(batch)
            progress.update(batch.num_rows)
