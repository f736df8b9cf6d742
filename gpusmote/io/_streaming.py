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
chunks (one progress bar over both: it reaches 100% with the last synthetic
row). A run without ``random_state`` draws a seed and reports it, so that it
can be repeated. The output is identical to ``SMOTE.fit_resample`` on the whole file
in memory. It is written to a temporary file beside the destination and
renamed into place only when complete; any failure or interrupt removes it,
and the input is only ever read.

With categorical feature columns (``--categorical``, dictionary columns) the
sampler is SMOTENC: pass 1 keeps the over-sampled classes' feature rows as
Arrow batches and every categorical column's levels, and after the original
rows each class is resampled by the public :class:`gpusmote.SMOTENC` on its own
rows (see gpusmote.io._categorical); the output is SMOTENC's on the whole file.

A run holds an exclusive ``flock`` on its temporary file for as long as it
lives; the kernel drops it when the process dies, even by SIGKILL. So a later
run to the same destination can tell the temporary files of dead runs (it can
lock them: it removes them) from those of runs still going (it cannot: it
leaves them), whatever became of their process ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locks, so leftovers are never taken for dead
    fcntl = None

import numpy as np
import pyarrow as pa

from gpusmote.devices._resolve import resolve_device
from gpusmote.engine._resample import ClassPlan, synthetic_chunks
from gpusmote.engine._timing import PhaseTimes
from gpusmote.io._progress import PassProgress, stage_progress
from gpusmote.io._tabular import (
    Columns,
    Dictionaries,
    check_no_nulls,
    csv_column_types,
    feature_matrix,
    file_format,
    has_rows,
    open_writer,
    read_batches,
    read_schema,
    split_columns,
    synthetic_batch,
    unwritable_reason,
    with_indicator,
)

#: Bytes of feature rows pass 1 keeps before it drops the largest class.
COLLECT_BUDGET_BYTES = 256 * 2**20

#: A temporary file's name ends in this many random hex digits and ``.partial``.
_TOKEN_HEX = 8
_SUFFIX = ".partial"

_FORMAT_NAMES = {"parquet": "Parquet", "arrow": "Arrow", "csv": "CSV"}


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
    #: The feature columns (``--columns``); None: every column not otherwise named.
    features: list[str] | None = None
    #: Columns neither read nor written (``--drop``).
    drop: list[str] = field(default_factory=list)
    #: Name of an added boolean column, True on synthetic rows (``--indicator``).
    indicator: str | None = None
    #: Categorical feature columns (``--categorical``): SMOTENC instead of SMOTE
    #: (dictionary feature columns are categorical without it).
    categorical: list[str] = field(default_factory=list)
    overwrite: bool = False
    #: Progress bars and notes (removed leftovers) on stderr.
    progress: bool = True
    #: Refuse up front an output that cannot fit in the destination's free space.
    space_check: bool = True
    collect_budget_bytes: int = COLLECT_BUDGET_BYTES


@dataclass
class _Collected:
    """Pass 1's result."""

    counts: Counter
    rows: dict  # label -> list of feature matrices (SMOTENC: feature batches), file order
    dropped: set
    dictionaries: Dictionaries
    #: SMOTENC only: label -> list of label arrays beside ``rows``; label ->
    #: (first feature row, its label array); the categorical levels.
    labels: dict = field(default_factory=dict)
    firsts: dict = field(default_factory=dict)
    levels: object = None


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
    source = read_batches(options.input, options.chunk_rows, columns.read_types, columns.kept)
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


def _collect_categorical(options: Options, columns: Columns, schema: pa.Schema,
                         wanted=None) -> _Collected:
    """:func:`_collect` for SMOTENC: the kept rows are Arrow batches of the
    feature columns (with their labels); also every categorical column's
    levels and the first row of every class."""
    from gpusmote.io._categorical import Levels

    source = read_batches(options.input, options.chunk_rows, columns.read_types, columns.kept)
    counts, rows, labels_kept, firsts, dropped, kept_bytes = Counter(), {}, {}, {}, set(), 0
    dictionaries, levels = Dictionaries(source.schema), Levels(columns, schema)
    continuous = dataclasses.replace(columns, features=columns.continuous)
    description = "pass 1/2: count, collect" if wanted is None else "extra pass: collect"
    first_row = 0
    with PassProgress(description, source.total_rows, source.total_bytes, source.bytes_read,
                      options.progress) as progress:
        for batch in source.batches:
            y = _labels_of(batch, columns, first_row)
            dictionaries.add(batch)
            for name in columns.categorical:
                check_no_nulls(batch.column(name), f"categorical column {name!r}", first_row)
            _check_finite(feature_matrix(batch, continuous, first_row), continuous, first_row)
            levels.add(batch)
            features = batch.select(columns.features)
            labels, first, inverse = np.unique(y, return_index=True, return_inverse=True)
            counts.update(dict(zip(labels.tolist(), np.bincount(inverse).tolist())))
            for code, label in enumerate(labels.tolist()):
                if label not in firsts:
                    firsts[label] = (features.take([int(first[code])]),  # a copy
                                     y[int(first[code]) : int(first[code]) + 1])
                keep = label not in dropped if wanted is None else label in wanted
                if keep:
                    mask = inverse == code
                    block = features.filter(pa.array(mask))
                    rows.setdefault(label, []).append(block)
                    labels_kept.setdefault(label, []).append(y[mask])
                    kept_bytes += block.nbytes
            while wanted is None and kept_bytes > options.collect_budget_bytes and rows:
                largest = max(rows, key=lambda lab: sum(b.nbytes for b in rows[lab]))
                kept_bytes -= sum(b.nbytes for b in rows.pop(largest))
                labels_kept.pop(largest)
                dropped.add(largest)
            first_row += batch.num_rows
            progress.update(batch.num_rows)
    return _Collected(counts, rows, dropped, dictionaries, labels_kept, firsts, levels)


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
    """Fail on a bad input or output path before anything is read."""
    output, directory = options.output, options.output.parent
    if not options.input.is_file():
        raise ValueError(f"input file {options.input} does not exist")
    if options.input.resolve() == output.resolve():
        raise ValueError("the output must not be the input file")
    if not directory.exists():
        raise ValueError(f"output directory {directory} does not exist")
    if not directory.is_dir():
        raise ValueError(f"output directory {directory} is not a directory")
    if output.is_dir():  # otherwise found only by the rename, after all the work
        raise ValueError(f"output {output} is a directory; name a file")
    if output.exists() and not options.overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it")
    file_format(options.input), file_format(output)  # known extensions, or a clear error


def _read_columns(options: Options) -> tuple[pa.Schema, Columns]:
    """The input's schema (as the reads will give it) and how its columns are used."""
    schema = None
    try:
        schema = read_schema(options.input)
        if not has_rows(options.input):  # a header-only CSV reads as null-typed columns
            only_header = " (only a header)" if file_format(options.input) == "csv" else ""
            raise ValueError(f"{options.input} has no rows{only_header}")
        split = dict(target=options.target, passthrough=options.passthrough,
                     features=options.features, drop=options.drop, indicator=options.indicator,
                     categorical=list(options.categorical))
        if file_format(options.input) == "csv":  # categorical CSV columns are read as text
            schema = pa.schema([f.with_type(pa.string()) if f.name in options.categorical else f
                                for f in schema])
        columns = split_columns(schema, **split)
        if file_format(options.input) == "csv":  # types that do not depend on the rows read first
            read_types = csv_column_types(schema, columns)
            # Every column has an explicit type: the schema the reads will have.
            schema = pa.schema([field.with_type(read_types[field.name]) for field in schema])
            columns = dataclasses.replace(split_columns(schema, **split), read_types=read_types)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:  # opening reads the first block
        raise _unparsable(options, error, schema and schema.names) from error
    return schema, columns


def _check_output_types(options: Options, columns: Columns, schema: pa.Schema) -> None:
    """Fail up front on a column the output format cannot hold (a list in CSV),
    naming it and the formats that can."""
    kind = file_format(options.output)
    if unwritable_reason(schema, kind) is None:  # one try; column by column only to name it
        return
    for field_ in schema:
        reason = unwritable_reason(pa.schema([field_]), kind)
        if reason is None:
            continue
        role = ("target" if field_.name == columns.target else
                "passthrough" if field_.name in columns.passthrough else "feature")
        others = [f".{other}" for other in _FORMAT_NAMES
                  if other != kind and unwritable_reason(pa.schema([field_]), other) is None]
        instead = f"; write {' or '.join(others)} output instead" if others else ""
        raise ValueError(f"{_FORMAT_NAMES[kind]} output cannot hold {role} column "
                         f"{field_.name!r} ({field_.type}): {reason}{instead}")


def _name_max(directory: Path) -> int:
    """The longest file name ``directory``'s file system allows, in bytes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _cut(text: str, n_bytes: int) -> str:
    """The longest start of ``text`` that encodes to at most ``n_bytes``
    (file-system encoding), cut between characters."""
    used = 0
    for i, char in enumerate(text):
        used += len(os.fsencode(char))
        if used > n_bytes:
            return text[:i]
    return text


def _partial_prefix(output: Path) -> str:
    """The start of the names of ``output``'s temporary files: ``.NAME.``, or,
    where that would make a name too long for the file system,
    ``.START~HASH.`` (the name's start and a hash of all of it), so that every
    temporary name fits and stays recognisable as ``output``'s."""
    room = _name_max(output.parent) - _TOKEN_HEX - len(_SUFFIX)
    prefix = f".{output.name}."
    if len(os.fsencode(prefix)) <= room:
        return prefix
    digest = hashlib.sha256(os.fsencode(output.name)).hexdigest()[:8]
    return f".{_cut(output.name, room - len(f'.~{digest}.'))}~{digest}."


def _leftover_pattern(output: Path) -> re.Pattern:
    # [a-z0-9_]: the token alphabet of tempfile too, which named these files before.
    return re.compile(re.escape(_partial_prefix(output)) + rf"[a-z0-9_]{{{_TOKEN_HEX}}}"
                      + re.escape(_SUFFIX))


def _same_file(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        found, held = os.stat(path, follow_symlinks=False), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)


def _remove_if_dead(path: Path) -> bool:
    """Remove ``path`` if no live run holds its lock; True if removed."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # gone, or not ours to open
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by a live run (or no locks on this file system): leave it
        os.close(fd)
        return False
    try:
        if not _same_file(path, fd):
            return False
        path.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_leftovers(output: Path) -> list[Path]:
    """Remove the temporary files that dead runs (killed, say by SIGKILL) left
    beside ``output``; those of runs still going are left alone.

    Returns
    -------
    list of Path
        The files removed.
    """
    if fcntl is None:
        return []
    pattern = _leftover_pattern(output)
    try:
        names = sorted(entry.name for entry in os.scandir(output.parent)
                       if pattern.fullmatch(entry.name))
    except OSError:
        return []
    return [output.parent / name for name in names if _remove_if_dead(output.parent / name)]


class _Partial:
    """The output's temporary file, created beside it and locked for the whole
    run (see the module notes); removed on leaving the block unless
    :meth:`commit` renamed it into place."""

    def __init__(self, output: Path) -> None:
        self.output, self.path, self._fd = output, None, None

    def __enter__(self) -> _Partial:
        try:
            while not self._create():
                pass
        except BaseException:  # an interrupt in here too leaves nothing behind
            self.__exit__()
            raise
        return self

    def _create(self) -> bool:
        """Create and lock a new temporary file; False if another run removed
        it before the lock was ours (try again)."""
        name = f"{_partial_prefix(self.output)}{secrets.token_hex(_TOKEN_HEX // 2)}{_SUFFIX}"
        try:
            self._fd = os.open(self.output.parent / name, os.O_RDWR | os.O_CREAT | os.O_EXCL,
                               0o600)
        except FileExistsError:
            return False
        except OSError as error:
            raise ValueError(f"cannot write to output directory {self.output.parent}: "
                             f"{error.strerror}") from error
        self.path = self.output.parent / name
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits out a run checking it for leftovers
            except OSError:  # no locks here: other runs cannot lock it either, so never remove it
                pass
        if _same_file(self.path, self._fd):
            return True
        os.close(self._fd)  # that run removed it between our create and lock
        self.path = self._fd = None
        return False

    def commit(self, mode: int) -> None:
        """Give the file ``mode`` and rename it to the output."""
        os.chmod(self.path, mode)
        os.replace(self.path, self.output)
        self.path = None

    def __exit__(self, *exc_info) -> None:
        try:
            if self.path is not None:
                self.path.unlink(missing_ok=True)
        finally:
            if self._fd is not None:
                os.close(self._fd)  # after the unlink: no other run may take it meanwhile
            self.path = self._fd = None


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024


def estimated_output_bytes(input_bytes: int, n_rows: int, n_synthetic: int,
                           columns: Columns, schema: pa.Schema) -> int:
    """A rough, low estimate of the output's size.

    The original rows take what they take in the input; a synthetic row the
    input's bytes per row or its features' binary size, whichever is less
    (interpolated values compress badly, but its passthrough values are null).
    """
    width = sum(_value_bytes(schema.field(name).type) for name in columns.features)
    return int(input_bytes + n_synthetic * min(input_bytes / max(n_rows, 1), width))


def _value_bytes(type_: pa.DataType) -> int:
    """Bytes of one value of ``type_``; 8 for text (a guess: levels are short)."""
    try:
        return type_.bit_width // 8
    except ValueError:  # not fixed width
        return 8


def _check_space(options: Options, columns: Columns, schema: pa.Schema, counts: Counter,
                 strategy: dict) -> None:
    """Refuse an output that cannot fit in the destination's free space."""
    n_rows, n_synthetic = sum(counts.values()), sum(strategy.values())
    need = estimated_output_bytes(options.input.stat().st_size, n_rows, n_synthetic, columns,
                                  schema)
    free = shutil.disk_usage(options.output.parent).free
    if need > free:
        raise ValueError(
            f"the output would take about {_format_bytes(need)} ({n_rows + n_synthetic:,} rows) "
            f"but {options.output.parent} has {_format_bytes(free)} free; pass --no-space-check "
            f"to write anyway")


#: Seeds drawn when no ``random_state`` is given lie in [0, 2**32): what
#: NumPy's RandomState (and so imbalanced-learn) accepts.
SEED_BOUND = 2**32


def draw_seed() -> int:
    """A fresh seed for a run without ``--random-state``; reported, so the run
    can be repeated exactly."""
    return secrets.randbelow(SEED_BOUND)


def resample_file(options: Options) -> dict:
    """Run ``gpusmote resample``; return its summary (see the module notes and
    :data:`gpusmote.cli.JSON_SCHEMA`).

    Raises
    ------
    ValueError
        On bad input or options (the message names the problem); the input is
        untouched and no output is left behind.
    """
    from gpusmote.over_sampling._smote import SMOTE, draw_source, neighbor_finder

    _check_destination(options)
    seed_drawn = options.random_state is None
    seed = draw_seed() if seed_drawn else options.random_state
    sampler = SMOTE(sampling_strategy=options.sampling_strategy,
                    random_state=seed, k_neighbors=options.k_neighbors,
                    device=options.device, rng=options.rng)
    sampler._validate_params()
    times, start = PhaseTimes(), time.perf_counter()
    schema, columns = _read_columns(options)
    out_schema = columns.output_schema(schema)
    _check_output_types(options, columns, out_schema)
    _note_index_columns(options, columns)
    removed = remove_leftovers(options.output)
    if removed and options.progress:
        print(f"gpusmote: removed temporary file(s) left by killed runs: "
              f"{', '.join(map(str, removed))}", file=sys.stderr)
    # Created first: an unwritable destination fails before any work.
    categorical = bool(columns.categorical)
    collect = (_collect if not categorical else
               lambda options, columns, wanted=None: _collect_categorical(options, columns, schema,
                                                                          wanted))
    with _Partial(options.output) as partial:
        try:
            with times.phase("pass1_count_collect"):
                collected = collect(options, columns)
                labels, strategy = _sampling_strategy(sampler, collected.counts)
                if options.space_check:
                    _check_space(options, columns, out_schema, collected.counts, strategy)
                wanted = {lab for lab, n in strategy.items() if n > 0}
                if wanted & collected.dropped:
                    extra = collect(options, columns, wanted & collected.dropped)
                    collected.rows.update(extra.rows)
                    collected.labels.update(extra.labels)
            backend = resolve_device(options.device)
            sampler.device_ = device_name = backend.name
            order = sorted(wanted, key=labels.index)
            with times.phase("knn"):  # SMOTENC: inside generate_write_synthetic, class by class
                if categorical:  # SMOTENC's message, before pass 2 rather than after it
                    for label in order:
                        n_class, k = collected.counts[label], options.k_neighbors
                        if n_class <= k:
                            raise ValueError(
                                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = "
                                f"{k + 1}, n_samples_fit = {n_class}, n_samples = {n_class}")
                else:
                    find_neighbors = neighbor_finder(sampler.k_neighbors, backend)[0]
                    draws = draw_source(sampler.rng, sampler.random_state, backend)
                    classes = _neighbour_tables(options, order, collected, backend,
                                                find_neighbors)
                    collected.rows.clear()
            n_rows = sum(collected.counts.values())
            n_synthetic = sum(strategy[label] for label in order)
            writer = open_writer(partial.path, out_schema, file_format(options.output))
            try:
                # One bar for the whole pass: it reaches 100% with the last synthetic row.
                source = read_batches(options.input, options.chunk_rows, columns.read_types,
                                      columns.kept)
                with PassProgress("pass 2/2: write originals", n_rows + n_synthetic,
                                  source.total_bytes, source.bytes_read,
                                  options.progress) as progress:
                    with times.phase("pass2_write_originals"):
                        _write_originals(source, columns, writer, out_schema,
                                         collected.dictionaries, progress)
                    with times.phase("generate_write_synthetic"):
                        if categorical:
                            device = _write_synthetic_categorical(
                                options, order, collected, strategy, seed, columns, writer,
                                out_schema, progress)
                            device_name = device or device_name
                        else:
                            _write_synthetic(options, classes, strategy, labels, n_rows, draws,
                                             backend, columns, writer, out_schema,
                                             collected.dictionaries, progress)
            finally:
                writer.close()
            partial.commit(_output_mode(options.output))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:  # unparsable data in the input
            raise _unparsable(options, error, schema.names) from error
    after = Counter(collected.counts)
    for label, n in strategy.items():
        after[label] += n
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "input": str(options.input), "output": str(options.output),
        "parameters": {
            "target": options.target, "sampling_strategy": _jsonable(options.sampling_strategy),
            "k_neighbors": options.k_neighbors, "random_state": seed, "device": options.device,
            "rng": options.rng, "chunk_rows": options.chunk_rows,
            "columns": options.features, "drop": list(options.drop),
            "passthrough": list(options.passthrough), "indicator": options.indicator,
            # only where given: a SMOTE run's summary keeps its keys
            **({"categorical": list(options.categorical)} if options.categorical else {}),
        },
        "random_state": seed, "random_state_drawn": seed_drawn,
        "device": device_name, "rng": options.rng,
        "features": list(columns.features),
        # only for SMOTENC runs: a SMOTE run's summary keeps its keys
        **({"categorical": list(columns.categorical), "sampler": "SMOTENC"} if categorical
           else {}),
        "passthrough": list(columns.passthrough),
        "index_columns": list(columns.index), "dropped": list(columns.dropped),
        "indicator": columns.indicator,
        "rows_in": n_rows, "rows_out": sum(after.values()), "n_synthetic": n_synthetic,
        "counts_before": {str(lab): collected.counts[lab] for lab in labels},
        "counts_after": {str(lab): after[lab] for lab in labels},
        "synthetic_counts": {str(lab): int(strategy.get(lab, 0)) for lab in labels},
        "removed_leftovers": [str(path) for path in removed],
        "seconds": {**{k: round(v, 3) for k, v in times.items()},
                    "total": round(time.perf_counter() - start, 3)},
    }


#: Bumped when a key of the summary changes meaning or goes away (new keys do not bump it).
SUMMARY_SCHEMA_VERSION = 1


def _jsonable(strategy):
    """``sampling_strategy`` as JSON holds it (dict keys as text)."""
    if isinstance(strategy, dict):
        return {str(key): int(value) for key, value in strategy.items()}
    return strategy


def _note_index_columns(options: Options, columns: Columns) -> None:
    """Say on stderr which columns were taken for an index (so not features)."""
    if not options.progress:
        return
    for name in columns.index:
        how = ("unnamed first column, as DataFrame.to_csv() writes the index"
               if name in ("", "Unnamed: 0") else "a pandas index stored in the file")
        print(f"gpusmote: column {name!r} ({how}) is passed through, not a feature; "
              f"name it in --columns to use it as one", file=sys.stderr)


def _neighbour_tables(options: Options, order: list, collected: _Collected, backend,
                      find_neighbors) -> list[tuple]:
    """Each over-sampled class's rows and k-NN table, in backend memory, with a
    ticking bar that the CPU search moves block by block of query rows."""
    from gpusmote.neighbors._cpu import search_progress

    sizes = {label: sum(len(block) for block in collected.rows[label]) for label in order}
    classes = []
    with stage_progress("k-NN", sum(sizes.values()), options.progress) as progress:
        for label in order:
            progress.update(0, note=f"class {label}: {sizes[label]:,} rows")
            X_class = np.concatenate(collected.rows.pop(label))
            X_class = backend.to_device(np.ascontiguousarray(X_class))
            done = 0

            def advance(n_rows: int, label=label) -> None:
                nonlocal done
                n_rows = min(n_rows, sizes[label] - done)  # one search per class counts
                done += n_rows
                progress.update(n_rows, note=f"class {label}: {done:,}/{sizes[label]:,} rows")

            with search_progress(advance):
                classes.append((label, X_class, backend.to_device(find_neighbors(X_class))))
            progress.update(sizes[label] - done, note=f"class {label} done")
    return classes


def _write_synthetic(options: Options, classes: list[tuple], strategy: dict, labels: list,
                     n_rows: int, draws, backend, columns: Columns, writer, schema,
                     dictionaries: Dictionaries, progress: PassProgress) -> None:
    """Generate and write every class's synthetic rows after the originals."""
    offset = n_rows
    for label, X_class, nn_idx in classes:
        plan = ClassPlan(label, labels.index(label), strategy[label], offset)
        offset += plan.n_samples
        progress.describe("pass 2/2: write synthetic")
        done = 0
        for _, chunk in synthetic_chunks(backend, X_class, X_class, nn_idx,
                                         draws(plan, len(X_class), nn_idx.shape[1])):
            chunk = backend.to_host(chunk)
            for lo in range(0, len(chunk), options.chunk_rows):
                piece = chunk[lo : lo + options.chunk_rows]
                writer.write_batch(synthetic_batch(piece, label, columns, schema, dictionaries))
                done += len(piece)
                progress.update(len(piece), note=f"class {label}: {done:,}/{plan.n_samples:,}")


def _write_synthetic_categorical(options: Options, order: list, collected: _Collected,
                                 strategy: dict, seed: int, columns: Columns, writer, schema,
                                 progress: PassProgress) -> str | None:
    """SMOTENC's synthetic rows, class by class (see gpusmote.io._categorical),
    written after the originals; returns the device that ran them (None: no class)."""
    from gpusmote.io._categorical import class_synthetic, synthetic_batches

    categories = collected.levels.categories()
    device = None
    for label in order:
        progress.describe("pass 2/2: write synthetic")
        progress.update(0, note=f"class {label}: SMOTENC on {collected.counts[label]:,} rows")
        others = [first for other, first in collected.firsts.items() if other != label]
        frame, device = class_synthetic(
            label, strategy[label], collected.rows.pop(label), np.concatenate(
                collected.labels.pop(label)), [batch for batch, _ in others],
            np.concatenate([y for _, y in others]) if others else np.array([]), columns,
            categories, k_neighbors=options.k_neighbors, random_state=seed,
            device=options.device, rng=options.rng)
        done = 0
        for batch in synthetic_batches(frame, label, options.chunk_rows, columns, schema,
                                       collected.dictionaries):
            writer.write_batch(batch)
            done += batch.num_rows
            progress.update(batch.num_rows, note=f"class {label}: {done:,}/{len(frame):,}")
    return device


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


def _write_originals(source, columns: Columns, writer, schema, dictionaries: Dictionaries,
                     progress: PassProgress) -> None:
    """Copy every original row of ``source`` (a :func:`read_batches` pass) to ``writer``."""
    for batch in source.batches:
        batch = with_indicator(dictionaries.conform(batch), columns)
        if batch.schema != schema:
            batch = batch.cast(schema)  # passthrough fields made nullable
        writer.write_batch(batch)
        progress.update(batch.num_rows)
