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
READ = {"parquet": pq.read_table, "csv": pa_csv.read_csv, "feather": feather.read_table}


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
    table = _table(with_time=fmt != "csv")
    source = _write(tmp_path, table, fmt)
    before = _digest(source)
    output = tmp_path / f"out.{fmt}"
    passthrough = ["id", "when"] if fmt != "csv" else ["id"]
    assert _run("resample", source, output, "--target", "label", "--random-state", 3,
                "--rng", rng, "--chunk-rows", 1_000, "--passthrough", *passthrough,
                "--quiet") == 0
    result, table = READ[fmt](output), READ[fmt](source)  # CSV: the types pyarrow infers
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
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id", "when",
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
        assert _run("resample", source, outputs[-1], "--target", "label", "--passthrough", "id",
                    "when", "--random-state", 1, "--chunk-rows", chunk, "--quiet") == 0
    tables = [feather.read_table(p) for p in outputs]
    assert all(t.equals(tables[0]) for t in tables[1:])


def test_strategies_from_the_command_line(tmp_path, capsys):
    table = _table(n_classes=2)
    source = _write(tmp_path, table, "parquet")
    for option, smote in (("0.5", 0.5), ("1=400", {1: 400}), ("minority", "minority")):
        output = tmp_path / "out.parquet"
        assert _run("resample", source, output, "--target", "label", "--passthrough", "id", "when",
                    "--sampling-strategy", option, "--random-state", 2, "--overwrite",
                    "--json") == 0
        summary = json.loads(capsys.readouterr().out)
        _, (X_ref, y_ref) = _reference(table, random_state=2, sampling_strategy=smote)
        assert summary["rows_out"] == len(y_ref)
        assert summary["counts_after"]["1"] == int((y_ref == 1).sum())
        assert set(summary["seconds"]) >= {"pass 1: count and collect", "k-NN", "total"}


def test_collection_budget_falls_back_to_an_extra_pass(tmp_path):
    from gpusmote._streaming import Options, resample_file

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


def test_bad_value_in_the_middle_of_a_csv_fails_cleanly(tmp_path, capsys):
    table = _table(n_rows=60_000, with_time=False)
    source = tmp_path / "in.csv"
    pa_csv.write_csv(table, source)
    lines = source.read_text().splitlines(keepends=True)
    middle = 45_000  # beyond the reader's first block, so type inference has passed it
    lines[middle] = lines[middle].replace(lines[middle].split(",")[3], "oops", 1)
    source.write_text("".join(lines))
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id",
                                             "--chunk-rows", "1000"], "invalid value 'oops'",
                          capsys)


def test_missing_value_in_a_feature_fails_cleanly(tmp_path, capsys):
    table = _table()
    f2 = table.column("f2").to_pylist()
    f2[3_333] = None
    table = table.set_column(table.schema.get_field_index("f2"), "f2", pa.array(f2, pa.float32()))
    source = _write(tmp_path, table, "parquet")
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id", "when"],
                          "feature column 'f2' has a missing value at row 3,333", capsys)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--target", "nope"], "target column 'nope' is not in the file"),
        (["--target", "label", "--passthrough", "id"], "feature column 'when' is not numeric"),
        (["--target", "label", "--passthrough", "id", "when", "--sampling-strategy", "9=100"],
         "target class is/are not present"),
        (["--target", "label", "--passthrough", "id", "when", "--k-neighbors", "500"],
         "n_neighbors = 501"),
        (["--target", "label", "--passthrough", "id", "when"], "unwritable: No such file"),
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
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id", "when"],
                          "needs to have more than 1 class", capsys)


def test_existing_output_needs_overwrite(tmp_path, capsys):
    source = _write(tmp_path, _table(), "parquet")
    output = tmp_path / "out.parquet"
    output.write_bytes(b"keep me")
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id",
                "when") == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert output.read_bytes() == b"keep me"
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id", "when",
                "--overwrite", "--quiet") == 0
    assert pq.read_table(output).num_rows > 6_000


def test_debug_shows_the_traceback(tmp_path, capsys):
    source = _write(tmp_path, _table(), "parquet")
    assert _run("--debug", "resample", source, tmp_path / "o.parquet", "--target", "x") == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("id, when, f0, f1, f2, f3, f4, count, label)")


def test_summary_and_progress(tmp_path, capsys, monkeypatch):
    source = _write(tmp_path, _table(), "parquet")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert _run("resample", source, tmp_path / "o.csv", "--target", "label", "--passthrough",
                "id", "when") == 0
    out = capsys.readouterr().out
    assert "class 0:" in out and "-> " in out and "total" in out
    bars = terminal.getvalue()
    assert "pass 1/2" in bars and "pass 2/2" in bars and "rows" in bars and "MiB" in bars
    terminal.truncate(0)
    assert _run("resample", source, tmp_path / "o2.csv", "--target", "label", "--passthrough",
                "id", "when", "--quiet") == 0
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

    import gpusmote._streaming as streaming

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
    _assert_clean_failure(tmp_path, source, ["--target", "label", "--passthrough", "id", "when",
                                             "--chunk-rows", "1000"],
                          "No space left on device", capsys)
