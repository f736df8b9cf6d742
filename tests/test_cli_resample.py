"""``gpusmote resample``: streaming two-pass resampling of Parquet/CSV/Arrow files."""

import hashlib
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from gpusmote import SMOTE
from gpusmote.cli import main
from gpusmote.datasets import make_fraud_like

FEATURES = [f"f{i}" for i in range(5)]
WRITE = {"parquet": pq.write_table, "csv": pa_csv.write_csv, "feather": feather.write_feather}
# CSV: the types gpusmote reads it with (features float64, passthrough text, target inferred).
CSV_TYPES = {name: pa.float64() for name in [*FEATURES, "count"]} | {"id": pa.string(),
                                                                    "when": pa.string()}
READ = {"parquet": pq.read_table, "feather": feather.read_table,
        "csv": lambda path: pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(column_types=CSV_TYPES,
                                                        strings_can_be_null=True))}


def _table(n_rows=6_000, n_classes=3, seed=0, with_time=True):
    X, y = make_fraud_like(n_rows, len(FEATURES), 0.05, n_classes=n_classes, random_state=seed)
    columns = {"id": pa.array(np.arange(n_rows) * 7)}
    if with_time:
        columns["when"] = pa.array(np.arange(n_rows).astype("datetime64[s]"))
    columns |= {name: pa.array(X[:, j]) for j, name in enumerate(FEATURES)}
    columns["count"] = pa.array((np.abs(X[:, 0]) * 100).astype(np.int32))
    columns["label"] = pa.array(y)
    return pa.table(columns)


def _write(tmp_path, table, fmt):
    path = tmp_path / f"in.{fmt}"
    WRITE[fmt](table, path)
    return path


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _run(*args):
    return main([str(a) for a in args])


def _reference(table, **smote):
    feature_names = [n for n in table.column_names if n not in ("id", "when", "label")]
    X = table.select(feature_names).to_pandas().to_numpy()
    y = table.column("label").to_numpy()
    return feature_names, SMOTE(**smote).fit_resample(X, y)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "feather"])
@pytest.mark.parametrize("rng", ["imblearn", "philox"])
def test_output_equals_in_memory_fit_resample(tmp_path, fmt, rng):
    table = _table()
    source = _write(tmp_path, table, fmt)
    before = _digest(source)
    output = tmp_path / f"out.{fmt}"
    passthrough = ["id", "when"]
    assert _run("resample", source, output, "--target", "label", "--random-state", 3,
                "--rng", rng, "--chunk-rows", 1_000, "--passthrough", ",".join(passthrough),
                "--quiet") == 0
    result, table = READ[fmt](output), READ[fmt](source)
    assert result.schema.names == table.schema.names
    assert result.schema.types == table.schema.types
    names, (X_ref, y_ref) = _reference(table, random_state=3, rng=rng)
    for j, name in enumerate(names):  # each column in its own type, cast as astype does
        column = result.column(name).to_numpy()
        np.testing.assert_array_equal(column, X_ref[:, j].astype(column.dtype), strict=True)
    np.testing.assert_array_equal(result.column("label").to_numpy(), y_ref)
    n = table.num_rows
    assert result.slice(0, n).equals(table)  # originals unchanged, in order
    for name in passthrough:
        assert result.column(name).slice(n).null_count == len(y_ref) - n
    assert _digest(source) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, output.name])


def test_mixed_int_and_float_features_follow_numpy_casting(tmp_path):
    table = _table()
    source = _write(tmp_path, table, "parquet")
    output = tmp_path / "out.parquet"
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id,when",
                "--random-state", 0, "--quiet") == 0
    _, (X_ref, _) = _reference(table, random_state=0)
    result = pq.read_table(output)
    assert X_ref.dtype == np.float64  # float32 + int32 columns -> float64 matrix
    np.testing.assert_array_equal(result.column("count").to_numpy(),
                                  X_ref[:, FEATURES.__len__()].astype(np.int32))


def test_chunk_size_does_not_change_the_output(tmp_path):
    source = _write(tmp_path, _table(), "feather")
    outputs = []
    for chunk in (97, 2_000, 1_000_000):
        outputs.append(tmp_path / f"out{chunk}.feather")
        assert _run("resample", source, outputs[-1], "--target", "label", "--passthrough", "id,when",
                    "--random-state", 1, "--chunk-rows", chunk, "--quiet") == 0
    tables = [feather.read_table(p) for p in outputs]
    assert all(t.equals(tables[0]) for t in tables[1:])


def test_strategies_from_the_command_line(tmp_path, capsys):
    table = _table(n_classes=2)
    source = _write(tmp_path, table, "parquet")
    for option, smote in (("0.5", 0.5), ("1=400", {1: 400}), ("minority", "minority")):
        output = tmp_path / "out.parquet"
        assert _run("resample", source, output, "--target", "label", "--passthrough", "id,when",
                    "--sampling-strategy", option, "--random-state", 2, "--overwrite",
                    "--json") == 0
        summary = json.loads(capsys.readouterr().out)
        _, (X_ref, y_ref) = _reference(table, random_state=2, sampling_strategy=smote)
        assert summary["rows_out"] == len(y_ref)
        assert summary["counts_after"]["1"] == int((y_ref == 1).sum())
        assert set(summary["seconds"]) >= {"pass1_count_collect", "knn", "total"}


def test_collection_budget_falls_back_to_an_extra_pass(tmp_path):
    from gpusmote.io._streaming import Options, resample_file

    table = _table()
    source = _write(tmp_path, table, "parquet")
    outputs = []
    for budget in (10**9, 1_000):  # 1 kB: every class dropped, then collected again
        outputs.append(tmp_path / f"out{budget}.parquet")
        resample_file(Options(source, outputs[-1], "label", random_state=4, chunk_rows=500,
                              passthrough=["id", "when"], progress=False,
                              collect_budget_bytes=budget))
    assert pq.read_table(outputs[0]).equals(pq.read_table(outputs[1]))


def _assert_clean_failure(tmp_path, source, args, match, capsys):
    before = _digest(source)
    output = tmp_path / "out" / "result.parquet" if "unwritable" in match else tmp_path / "o.parquet"
    code = _run("resample", source, output, *args)
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("gpusmote: error: ") and err.count("\n") == 1, err
    assert match.split(":")[-1] in err, err
    assert _digest(source) == before
    assert not output.exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]
    return err


@pytest.mark.parametrize("chunk_rows", ["1000", "262144"])  # found when opening, or later
def test_bad_value_in_the_middle_of_a_csv_fails_cleanly(tmp_path, capsys, chunk_rows):
    table = _table(n_rows=60_000, with_time=False)
    source = tmp_path / "in.csv"
    pa_csv.write_csv(table, source)
    lines = source.read_text().splitlines(keepends=True)
    middle = 45_000  # past the first MiB, whose values set the types
    lines[middle] = lines[middle].replace(lines[middle].split(",")[3], "oops", 1)
    source.write_text("".join(lines))
    err = _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id",
                                                   "--chunk-rows", chunk_rows],
                                "invalid value 'oops'", capsys)
    assert f"{source}: In CSV column #3 ('f2')" in err


def test_missing_value_in_a_feature_fails_cleanly(tmp_path, capsys):
    table = _table()
    f2 = table.column("f2").to_pylist()
    f2[3_333] = None
    table = table.set_column(table.schema.get_field_index("f2"), "f2", pa.array(f2, pa.float32()))
    source = _write(tmp_path, table, "parquet")
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id,when"],
                          "feature column 'f2' has a missing value at row 3,333", capsys)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--target", "nope"], "target column 'nope' is not in the file"),
        (["--target", "label", "--passthrough", "id"], "feature column 'when' is not numeric"),
        (["--target", "label", "--passthrough", "id,when", "--sampling-strategy", "9=100"],
         "target class is/are not present"),
        (["--target", "label", "--passthrough", "id,when", "--k-neighbors", "500"],
         "n_neighbors = 501"),
        (["--target", "label", "--passthrough", "id,when"], "unwritable: does not exist"),
    ],
)
def test_bad_requests_fail_cleanly(tmp_path, capsys, args, match):
    source = _write(tmp_path, _table(), "parquet")
    _assert_clean_failure(tmp_path, source, args, match, capsys)


def test_single_class_target_fails_cleanly(tmp_path, capsys):
    table = _table()
    table = table.set_column(table.schema.get_field_index("label"), "label",
                             pa.array(np.zeros(table.num_rows, dtype=np.int64)))
    source = _write(tmp_path, table, "parquet")
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id,when"],
                          "needs to have more than 1 class", capsys)


def test_existing_output_needs_overwrite(tmp_path, capsys):
    source = _write(tmp_path, _table(), "parquet")
    output = tmp_path / "out.parquet"
    output.write_bytes(b"keep me")
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id,when") == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert output.read_bytes() == b"keep me"
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id,when",
                "--overwrite", "--quiet") == 0
    assert pq.read_table(output).num_rows > 6_000


def test_debug_shows_the_traceback(tmp_path, capsys):
    source = _write(tmp_path, _table(), "parquet")
    assert _run("--debug", "resample", source, tmp_path / "o.parquet", "--target", "x") == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("'id', 'when', 'f0', 'f1', 'f2', 'f3', 'f4', 'count', 'label')")


def test_summary_and_progress(tmp_path, capsys, monkeypatch):
    source = _write(tmp_path, _table(), "parquet")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert _run("resample", source, tmp_path / "o.csv", "--target", "label", "--passthrough",
                "id,when") == 0
    out = capsys.readouterr().out
    assert "class 0:" in out and "-> " in out and "total" in out
    bars = terminal.getvalue()
    assert "pass 1/2" in bars and "pass 2/2" in bars and "rows" in bars and "MiB" in bars
    terminal.truncate(0)
    assert _run("resample", source, tmp_path / "o2.csv", "--target", "label", "--passthrough",
                "id,when", "--quiet") == 0
    assert terminal.getvalue().strip("\x00") == "" and capsys.readouterr().out == ""


def test_interrupt_leaves_no_output(tmp_path):
    X, y = make_fraud_like(1_500_000, 16, 0.01, random_state=0)
    source = tmp_path / "big.parquet"
    pq.write_table(pa.table({**{f"f{j}": X[:, j] for j in range(16)}, "label": y}), source,
                   row_group_size=50_000)
    before = _digest(source)
    output = tmp_path / "out.parquet"
    process = subprocess.Popen(
        [sys.executable, "-m", "gpusmote", "resample", str(source), str(output), "--target",
         "label", "--chunk-rows", "20000"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.parquet.*.partial")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert process.poll() is None, "finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.parquet"]
    assert _digest(source) == before


def test_version():
    result = subprocess.run([sys.executable, "-m", "gpusmote", "--version"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("gpusmote ")


def test_full_disk_mid_write_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno

    import gpusmote.io._streaming as streaming

    real_open = streaming.open_writer

    class FillsUp:
        def __init__(self, writer):
            self.writer, self.batches = writer, 0

        def write_batch(self, batch):
            self.batches += 1
            if self.batches == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            self.writer.write_batch(batch)

        def close(self):
            self.writer.close()

    monkeypatch.setattr(streaming, "open_writer", lambda *a: FillsUp(real_open(*a)))
    source = _write(tmp_path, _table(), "parquet")
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id,when",
                                             "--chunk-rows", "1000"],
                          "No space left on device", capsys)


def _small(n_rows=600, seed=0, labels=("ok", "fraud")):
    """Two features and a string label, 10% minority."""
    rng = np.random.default_rng(seed)
    minority = rng.random(n_rows) < 0.1
    return {"f1": rng.normal(size=n_rows), "f2": rng.normal(size=n_rows),
            "label": np.where(minority, labels[1], labels[0]).astype(object)}


@pytest.mark.parametrize("fmt", ["feather", "parquet", "csv"])
def test_categorical_target_and_passthrough_to_every_format(tmp_path, fmt):
    columns = _small()
    plain = pa.table({"shop": pa.array(np.where(np.arange(600) % 3, "a", "b")), **columns})
    # Two row groups with different dictionaries, as a Parquet writer fed in pieces makes.
    pieces = [pa.table([c.dictionary_encode() if name in ("shop", "label") else c
                        for name, c in zip(piece.column_names, piece.columns)],
                       names=piece.column_names)
              for piece in (plain.slice(0, 250), plain.slice(250))]
    assert pieces[0].column("shop").chunk(0).dictionary.to_pylist() == ["b", "a"]
    assert pieces[1].column("shop").chunk(0).dictionary.to_pylist() == ["a", "b"]
    source = tmp_path / "in.parquet"
    with pq.ParquetWriter(source, pieces[0].schema) as writer:
        for piece in pieces:
            writer.write_table(piece)
    output, expected = tmp_path / f"out.{fmt}", tmp_path / "expected.parquet"
    pq.write_table(plain, tmp_path / "plain.parquet")
    for path, out in ((source, output), (tmp_path / "plain.parquet", expected)):
        assert _run("resample", path, out, "--target", "label", "--passthrough", "shop",
                    "--random-state", 0, "--chunk-rows", 100, "--quiet") == 0
    result = READ[fmt](output) if fmt != "csv" else pa_csv.read_csv(
        output, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    if fmt != "csv":
        assert pa.types.is_dictionary(result.schema.field("label").type)
        assert pa.types.is_dictionary(result.schema.field("shop").type)
    for name in ("shop", "label", "f1", "f2"):  # the same values as with plain strings
        assert result.column(name).to_pylist() == pq.read_table(expected).column(name).to_pylist()


def test_csv_passthrough_is_copied_verbatim(tmp_path):
    import csv

    columns = _small()
    lines = ["tx_id,ts,flag,amount,label"] + [
        f"{i:06d},2020-01-01T10:00:{i % 60:02d},{'TRUE' if i % 2 else 'FALSE'},{f1:.2f},{label}"
        for i, (f1, label) in enumerate(zip(columns["f1"], columns["label"]))]
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("\n".join(lines) + "\n")
    assert _run("resample", source, output, "--target", "label", "--passthrough", "tx_id",
                "--passthrough", "ts,flag", "--random-state", 0, "--quiet") == 0
    with open(output, newline="") as handle:
        rows = list(csv.reader(handle))
    originals = [line.split(",") for line in lines]
    assert [row[:3] for row in rows[: len(lines)]] == [row[:3] for row in originals]
    assert [row[4] for row in rows[: len(lines)]] == [row[4] for row in originals]
    assert all(row[:3] == ["", "", ""] for row in rows[len(lines):])


def test_pandas_index_is_passed_through_not_a_feature(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(_small()).sample(frac=1.0, random_state=0)  # a shuffled index
    with_index, without = tmp_path / "index.parquet", tmp_path / "plain.parquet"
    frame.to_parquet(with_index)
    frame.reset_index(drop=True).to_parquet(without, index=False)
    outputs = [tmp_path / "out_index.parquet", tmp_path / "out_plain.parquet"]
    for source, output in zip((with_index, without), outputs):
        assert _run("resample", source, output, "--target", "label", "--random-state", 0,
                    "--quiet") == 0
    result, plain = pq.read_table(outputs[0]), pq.read_table(outputs[1])
    assert result.drop_columns(["__index_level_0__"]).equals(plain)
    index = result.column("__index_level_0__")
    assert index.slice(0, len(frame)).to_pylist() == frame.index.tolist()
    assert index.slice(len(frame)).null_count == result.num_rows - len(frame)


def test_csv_types_do_not_depend_on_chunk_rows(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 60_000  # 1.5 MB: past the first 1 MiB that type inference reads
    qty, b = rng.integers(0, 100, n).astype(str), rng.normal(size=n)
    qty[-1] = "1.5"
    labels = (rng.random(n) < 0.05).astype(int)
    source = tmp_path / "in.csv"
    source.write_text("qty,b,label\n" + "".join(
        f"{q},{x},{y}\n" for q, x, y in zip(qty, b, labels)))
    assert source.stat().st_size > 1 << 20
    outputs = [tmp_path / "small.parquet", tmp_path / "default.parquet"]
    for output, chunk in zip(outputs, ("1000", "262144")):
        assert _run("resample", source, output, "--target", "label", "--random-state", 0,
                    "--chunk-rows", chunk, "--quiet") == 0, capsys.readouterr().err
    result = pq.read_table(outputs[0])
    assert result.equals(pq.read_table(outputs[1]))
    assert result.schema.field("qty").type == pa.float64()
    assert result.column("qty")[n - 1].as_py() == 1.5
    # A column that is text from the start is still named as not numeric.
    source.write_text("name,qty,label\n" + "".join(
        f"x{q},{q},{y}\n" for q, y in zip(qty[:1000], labels)))
    _assert_clean_failure(tmp_path, source, ["--target", "label"],
                          "feature column 'name' is not numeric", capsys)


def test_output_gets_the_usual_permissions(tmp_path):
    import os

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table(_small()), source)
    output = tmp_path / "out.csv"
    umask = os.umask(0o027)
    try:
        assert _run("resample", source, output, "--target", "label", "--quiet") == 0
    finally:
        os.umask(umask)
    assert output.stat().st_mode & 0o777 == 0o640
    output.chmod(0o604)  # a replaced file keeps its permissions
    assert _run("resample", source, output, "--target", "label", "--overwrite", "--quiet") == 0
    assert output.stat().st_mode & 0o777 == 0o604


@pytest.mark.parametrize(
    "nan, args, match",
    [
        (True, ["--target", "label"], "Input y contains NaN: target column 'label' at row 5"),
        (False, ["--target", "label", "--sampling-strategy", "fraud=-10"],
         "contains some negative value: {'fraud': -10}"),
    ],
)
def test_target_errors_name_the_labels(tmp_path, capsys, nan, args, match):
    columns = _small()
    if nan:
        columns["label"] = (columns["label"] == "fraud").astype(float)
        columns["label"][5] = np.nan
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table(columns), source)
    assert _run("resample", source, tmp_path / "o.parquet", *args) == 1
    assert match in capsys.readouterr().err
    _assert_clean_failure(tmp_path, source, args, match, capsys)


def test_duplicate_csv_header_names_fail_cleanly(tmp_path, capsys):
    columns = _small()
    source = tmp_path / "in.csv"
    source.write_text("a,a,label\n" + "".join(
        f"{a},{b},{y}\n" for a, b, y in zip(columns["f1"], columns["f2"], columns["label"])))
    _assert_clean_failure(tmp_path, source, ["--target", "label"],
                          "more than one column named 'a'", capsys)


def test_arrow_ipc_stream_input_reads_like_the_file_format(tmp_path):
    # pyarrow writes two IPC layouts, both often named .arrow: the file format
    # (Feather v2) and the stream format.
    table = _table(2_000, with_time=False)
    as_file = _write(tmp_path, table, "feather")
    as_stream = tmp_path / "stream.arrow"
    with pa.OSFile(str(as_stream), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=700):
            writer.write_batch(batch)
    outputs = []
    for source in (as_file, as_stream):
        outputs.append(tmp_path / f"out-{source.stem}.parquet")
        assert _run("resample", source, outputs[-1], "--target", "label", "--random-state", 1,
                    "--chunk-rows", 500, "--passthrough", "id", "--quiet") == 0
    assert pq.read_table(outputs[0]).equals(pq.read_table(outputs[1]))
