"""Columnar files through pyarrow: formats by extension, streaming readers and
writers, and the split of a schema into target, features and passthrough.

Parquet (``.parquet``, ``.pq``), CSV (``.csv``) and Arrow IPC / Feather v2
(``.arrow``, ``.feather``, ``.ipc``). Nothing here parses by hand.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".arrow": "arrow",
           ".feather": "arrow", ".ipc": "arrow"}

#: Bytes of a CSV file whose values give the target column its type. Fixed, so
#: the types never depend on ``--chunk-rows`` (which sets the read block size).
CSV_INFERENCE_BYTES = 1 << 20


def file_format(path: Path) -> str:
    """'parquet', 'csv' or 'arrow' from the file's extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"{path}: unknown file type {path.suffix!r}; use one of {', '.join(sorted(FORMATS))}"
        ) from None


@dataclass
class Batches:
    """A pass over a file: its batches, the schema, and progress information.

    ``total_rows`` is known up front for Parquet and Arrow files (None for CSV);
    ``bytes_read()`` is how far into the file the reader is.
    """

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    total_rows: int | None
    total_bytes: int
    bytes_read: Callable[[], int]


def read_schema(path: Path) -> pa.Schema:
    """The file's schema; for a CSV file, the types pyarrow infers from its
    first :data:`CSV_INFERENCE_BYTES` (see :func:`csv_column_types`)."""
    kind = file_format(path)
    if kind == "parquet":
        return pq.ParquetFile(path).schema_arrow
    if kind == "arrow":
        return _ipc_batches(path)[0]
    with pa.OSFile(str(path)) as source:
        return pa_csv.open_csv(source, read_options=pa_csv.ReadOptions(
            block_size=CSV_INFERENCE_BYTES)).schema


def _ipc_batches(path: Path) -> tuple[pa.Schema, list[pa.RecordBatch], pa.MemoryMappedFile]:
    """An Arrow IPC file's batches, or an IPC *stream*'s (the other layout
    pyarrow writes, often named .arrow too), memory-mapped: the list holds
    views of the mapped file, not copies."""
    source = pa.memory_map(str(path))
    try:
        reader = pa_ipc.open_file(source)
        return reader.schema, [reader.get_batch(i) for i in range(reader.num_record_batches)], source
    except pa.ArrowInvalid:  # no file footer: try the stream format
        source.seek(0)
        reader = pa_ipc.open_stream(source)
        return reader.schema, list(reader), source


def read_batches(path: Path, chunk_rows: int,
                 column_types: dict[str, pa.DataType] | None = None,
                 include: list[str] | None = None) -> Batches:
    """Stream ``path`` in record batches of at most ``chunk_rows`` rows
    (a CSV file's columns in ``column_types``, when given; only the columns
    ``include`` names, in the file's order, when given)."""
    kind, size = file_format(path), os.path.getsize(path)
    if include is not None:
        kept = set(include)
        include = [name for name in read_schema(path).names if name in kept]
    if kind == "parquet":
        # pre_buffer would read ahead every requested row group, i.e. the
        # whole file: 1.1 GB of buffers for a 0.9 GB file (measured).
        parquet = pq.ParquetFile(path, pre_buffer=False)
        meta = parquet.metadata
        done = {"rows": 0}

        def batches():
            for batch in parquet.iter_batches(batch_size=chunk_rows, columns=include):
                done["rows"] += batch.num_rows
                yield batch

        schema = parquet.schema_arrow
        if include is not None:
            schema = pa.schema([schema.field(name) for name in include], schema.metadata)
        return Batches(schema, batches(), meta.num_rows, size,
                       lambda: int(size * done["rows"] / max(meta.num_rows, 1)))
    if kind == "arrow":
        schema, file_batches, source = _ipc_batches(path)
        n_rows = sum(batch.num_rows for batch in file_batches)

        if include is not None:
            schema = pa.schema([schema.field(name) for name in include], schema.metadata)

        def batches():
            for batch in file_batches:  # memory-mapped: slices cost nothing
                if include is not None:
                    batch = batch.select(include)
                for start in range(0, batch.num_rows, chunk_rows):
                    yield batch.slice(start, chunk_rows)

        return Batches(schema, batches(), n_rows, size, source.tell)
    source = pa.OSFile(str(path))
    reader = pa_csv.open_csv(
        source, read_options=pa_csv.ReadOptions(
            block_size=max(1 << 20, min(64 << 20, chunk_rows * 64))),
        convert_options=pa_csv.ConvertOptions(column_types=column_types,
                                              include_columns=include))

    def batches():
        for batch in reader:
            for start in range(0, batch.num_rows, chunk_rows):
                yield batch.slice(start, chunk_rows)

    return Batches(reader.schema, batches(), None, size, source.tell)


def open_writer(path: Path | pa.NativeFile, schema: pa.Schema, kind: str):
    """A writer with ``write_batch`` and ``close`` writing ``kind`` (a
    :func:`file_format` value) to ``path`` (whatever its extension) or to a stream."""
    where = path if isinstance(path, pa.NativeFile) else str(path)
    if kind == "parquet":
        # Dictionary encoding only where values repeat: tried on float columns
        # it fails and falls back, and made writes about 12x slower (measured).
        repeating = [f.name for f in schema if not pa.types.is_floating(f.type)]
        return pq.ParquetWriter(where, schema, use_dictionary=repeating)
    if kind == "arrow":
        return pa_ipc.new_file(where, schema)
    return pa_csv.CSVWriter(where, schema)


def unwritable_reason(schema: pa.Schema, kind: str) -> str | None:
    """Why ``kind`` output cannot hold columns of ``schema`` (pyarrow's words),
    or None if it can.

    Found by writing one null row to memory: the writers accept or refuse a
    type whatever its values (CSV has no list or struct, Parquet no union),
    so this answers before any data is read.
    """
    schema = pa.schema([field.with_nullable(True) for field in schema])
    try:
        batch = pa.record_batch([pa.nulls(1, field.type) for field in schema], schema=schema)
    except (pa.ArrowException, TypeError):  # a type without nulls to try: let the write tell
        return None
    try:
        writer = open_writer(pa.BufferOutputStream(), schema, kind)
        try:
            writer.write_batch(batch)
        finally:
            writer.close()
    except pa.ArrowException as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def has_rows(path: Path) -> bool:
    """Whether the file holds at least one row (a CSV file: beyond its header).

    Reads metadata only, or a CSV file's first block.
    """
    kind = file_format(path)
    if kind == "parquet":
        return pq.ParquetFile(path).metadata.num_rows > 0
    if kind == "arrow":
        return any(batch.num_rows for batch in _ipc_batches(path)[1])
    with pa.OSFile(str(path)) as source:
        reader = pa_csv.open_csv(source, read_options=pa_csv.ReadOptions(
            block_size=CSV_INFERENCE_BYTES))
        return any(batch.num_rows for batch in reader)  # stops at the first block with rows


#: Names ``DataFrame.to_csv()`` gives its index column: empty in the file,
#: ``Unnamed: 0`` once the file went through ``read_csv`` and was written again.
UNNAMED_INDEX_NAMES = ("", "Unnamed: 0")


@dataclass(frozen=True)
class Columns:
    """How the columns of a file are used.

    Every column of the input is exactly one of: the target, a feature, a
    passthrough column (copied for original rows, null in synthetic ones) or
    dropped (not read, not written).
    """

    target: str
    features: list[str]
    passthrough: list[str]  # --passthrough, other non-features, then the index columns
    feature_dtype: np.dtype
    #: A CSV file's column types for :func:`read_batches` (None for other formats).
    read_types: dict[str, pa.DataType] | None = None
    #: Index columns found (pandas metadata, an unnamed first CSV column); part of passthrough.
    index: tuple[str, ...] = ()
    #: Columns left out of the reads and the output (``--drop``).
    dropped: tuple[str, ...] = ()
    #: Name of the added boolean column marking synthetic rows (``--indicator``), or None.
    indicator: str | None = None
    #: The categorical feature columns (``--categorical`` and dictionary columns),
    #: in ``features`` order; empty: plain SMOTE on numeric features.
    categorical: tuple[str, ...] = ()

    @property
    def continuous(self) -> list[str]:
        """The feature columns that are not categorical (all of them for SMOTE)."""
        return [name for name in self.features if name not in self.categorical]

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        """The schema of the kept columns, passthrough columns nullable (null in
        synthetic rows), the indicator column last."""
        if self.dropped:
            schema = pa.schema([f for f in schema if f.name not in self.dropped])
            # pandas metadata that names a dropped column would break to_pandas().
            metadata = {k: v for k, v in (schema.metadata or {}).items() if k != b"pandas"}
            schema = schema.with_metadata(metadata or None)
        for name in self.passthrough:
            index = schema.get_field_index(name)
            schema = schema.set(index, schema.field(index).with_nullable(True))
        if self.indicator is not None:
            schema = schema.append(pa.field(self.indicator, pa.bool_(), nullable=False))
        return schema

    @property
    def kept(self) -> list[str] | None:
        """What the reads must include: None for every column (nothing dropped)."""
        return None if not self.dropped else [*self.features, *self.passthrough, self.target]


def _is_numeric(type_: pa.DataType) -> bool:
    return pa.types.is_integer(type_) or pa.types.is_floating(type_)


def is_auto_categorical(type_: pa.DataType) -> bool:
    """Whether a feature column of this type is categorical without
    ``--categorical``: a dictionary column, what a pandas ``category`` column
    becomes in Parquet/Arrow, as imbalanced-learn's ``categorical_features="auto"``
    takes exactly the ``CategoricalDtype`` columns (not text or bool ones)."""
    return pa.types.is_dictionary(type_)


def can_be_categorical(type_: pa.DataType) -> bool:
    """Whether ``--categorical`` takes a column of this type: numbers, bool,
    text or a dictionary of those (values pandas and ``OneHotEncoder`` sort)."""
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    return (_is_numeric(type_) or pa.types.is_boolean(type_) or pa.types.is_string(type_)
            or pa.types.is_large_string(type_))


def pandas_index_columns(schema: pa.Schema) -> list[str]:
    """The columns holding a pandas index (``__index_level_0__``, ...), from the
    pandas metadata that ``DataFrame.to_parquet``/``to_feather`` store."""
    try:
        meta = json.loads((schema.metadata or {})[b"pandas"])
    except (KeyError, ValueError):
        return []
    # A RangeIndex is stored as a dict of its bounds, not as a column.
    return [name for name in meta.get("index_columns", [])
            if isinstance(name, str) and name in schema.names]


def unnamed_index_column(schema: pa.Schema) -> str | None:
    """The first column's name if it is the index ``DataFrame.to_csv()`` wrote
    (named ``""``, or ``"Unnamed: 0"`` after a trip through ``read_csv``), else None.

    pandas users read such a file with ``index_col=0``: the column is row
    labels, never a feature.
    """
    if schema.names and schema.names[0] in UNNAMED_INDEX_NAMES:
        return schema.names[0]
    return None


def _missing(names: list[str], what: str, schema_names: list[str]) -> None:
    """Raise naming the first of ``names`` not in the file; ``what`` has a
    ``{name}`` field (``"target column {name}"``)."""
    for name in names:
        if name not in schema_names:
            raise ValueError(f"{what.format(name=repr(name))} is not in the file (columns: "
                             f"{', '.join(map(repr, schema_names))})")


def split_columns(schema: pa.Schema, target: str, passthrough: list[str],
                  features: list[str] | None = None, drop: list[str] = (),
                  indicator: str | None = None,
                  categorical: list[str] | None = None) -> Columns:
    """Target, features, passthrough and dropped columns, with clear errors.

    Parameters
    ----------
    schema : pyarrow.Schema
        The input's columns.
    target : str
        The class label column.
    passthrough : list of str
        Columns copied for original rows and null in synthetic ones.
    features : list of str, optional
        The feature columns (``--columns``); every other column that is not the
        target or dropped is passed through. Default: every numeric-or-not
        column that is not the target, passthrough, dropped or an index.
    drop : list of str
        Columns neither read nor written (``--drop``).
    indicator : str, optional
        Name of a boolean column to add, True on synthetic rows.
    categorical : list of str, optional
        Categorical feature columns (``--categorical``; added to ``features``
        when that is given); dictionary feature columns are categorical too
        (:func:`is_auto_categorical`). None: the caller runs plain SMOTE only
        (every feature must be numeric; no detection).

    A pandas index (:func:`pandas_index_columns`, :func:`unnamed_index_column`)
    is passed through, never a feature, unless ``features`` names it.

    Raises
    ------
    ValueError
        If column names repeat, a named column is missing or has two roles,
        a continuous feature column is not numeric (integer or floating
        point), a categorical one has a type :func:`can_be_categorical`
        refuses, or every feature is categorical.
    """
    names = schema.names
    repeated = sorted(name for name, n in Counter(names).items() if n > 1)
    if repeated:  # a name must say which column it means
        raise ValueError(f"the file has more than one column named "
                         f"{', '.join(map(repr, repeated))}; rename them to be unique")
    _missing([target], "target column {name}", names)
    _missing(passthrough, "passthrough column {name}", names)
    _missing(features or [], "--columns column {name}", names)
    _missing(drop, "--drop column {name}", names)
    _missing(categorical or [], "--categorical column {name}", names)
    roles = [("target", [target]), ("--passthrough", passthrough),
             ("--columns", features or []), ("--drop", drop), ("--categorical", categorical or [])]
    for i, (role, listed) in enumerate(roles):
        for other, other_listed in roles[i + 1:]:
            if {role, other} == {"--columns", "--categorical"}:
                continue  # categorical columns are features: both is fine
            both = [name for name in listed if name in other_listed]
            if both:
                raise ValueError(f"column {both[0]!r} cannot be both {role} and {other}")
    if features is not None and categorical:
        features = [*features, *categorical]
    if indicator is not None and indicator in names and indicator not in drop:
        raise ValueError(f"--indicator column {indicator!r} is already in the file; "
                         f"name another or --drop it")
    unnamed = unnamed_index_column(schema)
    index = [n for n in [*pandas_index_columns(schema), *([unnamed] if unnamed is not None else [])]
             if n != target and n not in drop and n not in (features or [])
             and n not in (categorical or [])]
    if features is None:
        passthrough = list(dict.fromkeys([*passthrough, *index]))
        features = [n for n in names if n != target and n not in passthrough and n not in drop]
    else:
        features = list(dict.fromkeys(features))
        # Everything else is kept and passed through, as with a DataFrame's other columns.
        passthrough = list(dict.fromkeys(
            [*passthrough, *(n for n in names
                             if n != target and n not in features and n not in drop)]))
    if not features:
        raise ValueError("no feature columns: every column is the target, passthrough or dropped")
    chosen = set() if categorical is None else set(categorical)
    if categorical is not None:
        chosen |= {n for n in features if is_auto_categorical(schema.field(n).type)}
    for name in features:
        type_ = schema.field(name).type
        if name in chosen and not can_be_categorical(type_):
            raise ValueError(f"categorical column {name!r} has type {type_}; --categorical takes "
                             f"integer, floating point, boolean, string or dictionary columns")
        if name not in chosen and not _is_numeric(type_):
            hint = ("" if categorical is None or not can_be_categorical(type_)
                    else f"--categorical {name}, ")
            raise ValueError(f"feature column {name!r} is not numeric ({type_}); pass it with "
                             f"{hint}--passthrough {name} or --drop it")
    continuous = [n for n in features if n not in chosen]
    if not continuous:  # SMOTENC's own message
        raise ValueError("SMOTE-NC is not designed to work only with categorical features. "
                         "It requires some numerical features.")
    dtype = np.result_type(*(schema.field(n).type.to_pandas_dtype() for n in continuous))
    return Columns(target, features, passthrough, np.dtype(dtype), index=tuple(index),
                   dropped=tuple(dict.fromkeys(drop)), indicator=indicator,
                   categorical=tuple(n for n in features if n in chosen))


def csv_column_types(schema: pa.Schema, columns: Columns) -> dict[str, pa.DataType]:
    """Explicit types for reading a CSV file, so they do not depend on which
    rows a read block holds: features float64 (an integer-looking column may
    hold 1.5 further down), passthrough columns text (copied verbatim), the
    target as :func:`read_schema` infers it (the labels pyarrow reads);
    categorical features text too (their levels as written)."""
    types = {name: pa.float64() for name in columns.features}
    types |= {name: pa.string() for name in columns.categorical}
    types |= {name: pa.string() for name in columns.passthrough}
    types |= {name: pa.string() for name in columns.dropped}  # never read: any type parses
    types[columns.target] = schema.field(columns.target).type
    return types


def check_no_nulls(column: pa.Array, what: str, first_row: int) -> None:
    """Raise a ValueError naming ``what`` and the file row of the first null."""
    if column.null_count:
        bad = int(np.flatnonzero(np.asarray(column.is_null()))[0])
        raise ValueError(f"{what} has a missing value at row {first_row + bad:,}")


def feature_matrix(batch: pa.RecordBatch, columns: Columns, first_row: int,
                   rows: np.ndarray | None = None) -> np.ndarray:
    """The batch's features (only ``rows`` of it, if given) as one matrix of
    ``columns.feature_dtype``.

    Raises
    ------
    ValueError
        On a missing value, naming the column and the row in the file.
    """
    n = batch.num_rows if rows is None else len(rows)
    matrix = np.empty((n, len(columns.features)), dtype=columns.feature_dtype)
    for j, name in enumerate(columns.features):
        column = batch.column(name)
        check_no_nulls(column, f"feature column {name!r}", first_row)
        values = column.to_numpy(zero_copy_only=False)
        matrix[:, j] = values if rows is None else values[rows]
    return matrix


class Dictionaries:
    """One dictionary per dictionary-encoded (categorical) column for the whole file.

    An Arrow IPC file holds a single dictionary per column, while batches read
    from Parquet may each bring their own (one per row group) and synthetic
    rows need one too. Pass 1 gathers the union of the dictionaries (in order
    of first appearance, with :meth:`add`); every batch written is encoded
    against it (:meth:`conform`, :func:`synthetic_batch`).
    """

    def __init__(self, schema: pa.Schema) -> None:
        self.types = {f.name: f.type for f in schema if pa.types.is_dictionary(f.type)}
        self.values = {name: pa.array([], type_.value_type) for name, type_ in self.types.items()}

    def add(self, batch: pa.RecordBatch) -> None:
        """Add the values of ``batch``'s dictionaries."""
        for name, known in self.values.items():
            dictionary = batch.column(name).dictionary
            if not dictionary.equals(known):
                self.values[name] = pc.unique(pa.concat_arrays([known, dictionary]))

    def encode(self, name: str, indices: pa.Array) -> pa.DictionaryArray:
        """``indices`` into the file's dictionary of ``name``, in its column type."""
        type_ = self.types[name]
        return pa.DictionaryArray.from_arrays(indices.cast(type_.index_type), self.values[name],
                                              ordered=type_.ordered)

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with its dictionary columns re-encoded against the file's dictionaries."""
        if not self.types:
            return batch
        arrays = list(batch.columns)
        for name in self.types:
            j = batch.schema.get_field_index(name)
            column = arrays[j]
            # Where each of the batch's dictionary values sits in the file's one.
            where = pc.index_in(column.dictionary, value_set=self.values[name])
            arrays[j] = self.encode(name, pc.take(where, column.indices))
        return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)

    def constant(self, name: str, value, n: int) -> pa.DictionaryArray:
        """``n`` copies of ``value`` (None: nulls) encoded against the file's dictionary."""
        index_type = self.types[name].index_type
        if value is None:
            return self.encode(name, pa.nulls(n, index_type))
        where = pc.index(self.values[name], pa.scalar(value, self.types[name].value_type))
        return self.encode(name, pa.array(np.full(n, where.as_py()), index_type))


def synthetic_batch(X_new: np.ndarray, label, columns: Columns, schema: pa.Schema,
                    dictionaries: Dictionaries) -> pa.RecordBatch:
    """Synthetic rows as a batch of ``schema``: features cast to their column
    types (as ``astype`` does), the label, and nulls for passthrough columns
    (dictionary columns against the file's dictionary, see :class:`Dictionaries`)."""
    n = len(X_new)
    arrays = []
    for field in schema:
        if field.name in columns.features:
            j = columns.features.index(field.name)
            values = X_new[:, j].astype(field.type.to_pandas_dtype(), copy=False)
            arrays.append(pa.array(values, type=field.type))
        else:
            arrays.append(_non_feature_array(field, label, n, columns, dictionaries))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def synthetic_batch_from_arrays(features: dict[str, pa.Array], n: int, label, columns: Columns,
                                schema: pa.Schema, dictionaries: Dictionaries) -> pa.RecordBatch:
    """:func:`synthetic_batch` with the feature columns given as arrays of their
    output types (dictionary columns already against the file's dictionary)."""
    arrays = [features[field.name] if field.name in columns.features
              else _non_feature_array(field, label, n, columns, dictionaries) for field in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _non_feature_array(field: pa.Field, label, n: int, columns: Columns,
                       dictionaries: Dictionaries) -> pa.Array:
    """A synthetic rows' column that is not a feature: the indicator (True),
    the label, or nulls (a passthrough column)."""
    if field.name == columns.indicator:
        return pa.repeat(pa.scalar(True), n)
    value = label if field.name == columns.target else None
    if field.name in dictionaries.types:
        return dictionaries.constant(field.name, value, n)
    if value is None:
        return pa.nulls(n, type=field.type)
    return pa.repeat(pa.scalar(value, type=field.type), n)


def with_indicator(batch: pa.RecordBatch, columns: Columns) -> pa.RecordBatch:
    """``batch`` of original rows with the indicator column (all False) appended, if asked for."""
    if columns.indicator is None:
        return batch
    return batch.append_column(pa.field(columns.indicator, pa.bool_(), nullable=False),
                               pa.repeat(pa.scalar(False), batch.num_rows))
