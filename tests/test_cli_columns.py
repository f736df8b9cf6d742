"""``gpusmote resample``: column control, index detection, the indicator
column, seeds and the JSON summary, progress of every long stage, and the
parser (defaults in the help, ``--debug`` anywhere, lazy imports)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gpusmote import SMOTE
from gpusmote.cli import build_parser, main
from gpusmote.datasets import make_fraud_like

FEATURES = ["f0", "f1", "f2", "f3"]


def _frame(n_rows=2_000, seed=0) -> pd.DataFrame:
    X, y = make_fraud_like(n_rows, len(FEATURES), 0.05, random_state=seed)
    frame = pd.DataFrame(X.astype(np.float64), columns=FEATURES)
    frame.insert(0, "tx", [f"t{i}" for i in range(n_rows)])
    frame["label"] = y
    return frame


def _run(*args) -> int:
    return main([str(a) for a in args])


def _json_run(capsys, *args) -> dict:
    assert _run("resample", *args, "--json") == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _expected(frame: pd.DataFrame, features: list[str], **smote):
    return SMOTE(**smote).fit_resample(frame[features].to_numpy(), frame["label"].to_numpy())


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- column control ---------------------------------------------------------

def test_columns_picks_features_and_passes_the_others_through(tmp_path, capsys):
    frame = _frame()
    source, output = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.to_parquet(source, index=False)
    summary = _json_run(capsys, source, output, "--target", "label", "--columns", "f2,f0",
                        "--random-state", 1)
    assert summary["features"] == ["f2", "f0"]
    assert summary["passthrough"] == ["tx", "f1", "f3"]
    result = pq.read_table(output).to_pandas()
    assert result.columns.tolist() == frame.columns.tolist()  # nothing dropped, order kept
    X_ref, y_ref = _expected(frame, ["f2", "f0"], random_state=1)
    np.testing.assert_array_equal(result[["f2", "f0"]].to_numpy(), X_ref)
    np.testing.assert_array_equal(result["label"].to_numpy(), y_ref)
    n = len(frame)
    assert result["f1"].iloc[n:].isna().all() and result["tx"].iloc[n:].isna().all()
    pd.testing.assert_frame_equal(result.iloc[:n], frame)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "feather"])
def test_drop_removes_columns_from_features_and_output(tmp_path, capsys, fmt):
    frame = _frame()
    source, output = tmp_path / f"in.{fmt}", tmp_path / "out.parquet"
    {"csv": lambda path: frame.to_csv(path, index=False),
     "parquet": frame.to_parquet, "feather": frame.to_feather}[fmt](source)
    # Repeated flags and commas mix; the positional files may come after a list option.
    assert _run("resample", "--drop", "f1", "--drop", "f3,tx", source, output, "--target",
                "label", "--random-state", 2, "--quiet") == 0
    result = pq.read_table(output).to_pandas()
    assert result.columns.tolist() == ["f0", "f2", "label"]
    X_ref, y_ref = _expected(frame, ["f0", "f2"], random_state=2)
    np.testing.assert_array_equal(result[["f0", "f2"]].to_numpy(), X_ref)
    np.testing.assert_array_equal(result["label"].to_numpy(), y_ref)


def test_passthrough_does_not_swallow_the_file_names(tmp_path):
    args = build_parser().parse_args(
        ["resample", "--passthrough", "a,b", "--passthrough", "c", "in.csv", "out.csv",
         "--target", "y"])
    assert args.passthrough == ["a", "b", "c"]
    assert (args.input, args.output) == ("in.csv", "out.csv")


def test_space_separated_list_gets_a_hint(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["resample", "in.csv", "out.csv", "--target", "y", "--passthrough", "a", "b"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: b; column lists take commas or repeated flags" in err


@pytest.mark.parametrize(
    "args, match",
    [
        (["--columns", "nope"], "--columns column 'nope' is not in the file"),
        (["--drop", "nope"], "--drop column 'nope' is not in the file"),
        (["--columns", "f0", "--drop", "f0"], "column 'f0' cannot be both --columns and --drop"),
        (["--drop", "label"], "column 'label' cannot be both target and --drop"),
        (["--indicator", "f1"], "--indicator column 'f1' is already in the file"),
        (["--columns", "tx"], "feature column 'tx' is not numeric"),
    ],
)
def test_bad_column_requests_fail_before_any_work(tmp_path, capsys, args, match):
    source = tmp_path / "in.parquet"
    _frame(300).to_parquet(source, index=False)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label", *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("gpusmote: error: ") and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


# -- the index column pandas writes -----------------------------------------

@pytest.mark.parametrize("round_trips", [0, 1])  # "" as to_csv writes it; "Unnamed: 0" after read_csv
def test_unnamed_csv_index_is_passed_through_not_a_feature(tmp_path, capsys, round_trips):
    frame = _frame().drop(columns="tx").sample(frac=1.0, random_state=0)  # a shuffled index
    source = tmp_path / "in.csv"
    frame.to_csv(source)  # writes the index as an unnamed first column
    for _ in range(round_trips):
        pd.read_csv(source).to_csv(source, index=False)
    name = "Unnamed: 0" if round_trips else ""
    output = tmp_path / "out.csv"
    assert _run("resample", source, output, "--target", "label", "--random-state", 0) == 0
    captured = capsys.readouterr()
    assert f"column {name!r} (unnamed first column" in captured.err
    assert "passed through, not a feature" in captured.err
    X_ref, y_ref = _expected(frame, FEATURES, random_state=0)
    result = pd.read_csv(output, index_col=0)
    np.testing.assert_array_equal(result[FEATURES].to_numpy(), X_ref)
    np.testing.assert_array_equal(result["label"].to_numpy(), y_ref)
    assert result.index[: len(frame)].tolist() == frame.index.tolist()
    assert result.index[len(frame):].isna().all()


def test_unnamed_index_is_a_feature_when_named_in_columns(tmp_path, capsys):
    frame = _frame(500).drop(columns="tx")
    source = tmp_path / "in.csv"
    frame.to_csv(source)
    summary = _json_run(capsys, source, tmp_path / "o.csv", "--target", "label", "--columns",
                        "", "--columns", "f0", "--random-state", 0)
    assert summary["features"] == ["", "f0"] and summary["index_columns"] == []


def test_a_named_first_column_is_a_feature(tmp_path, capsys):
    frame = _frame(500).drop(columns="tx")
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    summary = _json_run(capsys, source, tmp_path / "o.csv", "--target", "label")
    assert summary["features"] == FEATURES and summary["index_columns"] == []


# -- indicator ----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv", "feather"])
def test_indicator_marks_synthetic_rows(tmp_path, capsys, fmt):
    frame = _frame(1_000)
    source, output = tmp_path / "in.parquet", tmp_path / f"out.{fmt}"
    frame.to_parquet(source, index=False)
    summary = _json_run(capsys, source, output, "--target", "label", "--passthrough", "tx",
                        "--indicator", "is_synthetic", "--random-state", 0)
    result = pd.read_parquet(output) if fmt == "parquet" else (
        pd.read_csv(output) if fmt == "csv" else pd.read_feather(output))
    assert result.columns[-1] == "is_synthetic" and result["is_synthetic"].dtype == bool
    flags = result["is_synthetic"].to_numpy()
    assert not flags[: len(frame)].any() and flags[len(frame):].all()
    assert flags.sum() == summary["n_synthetic"] == len(result) - len(frame) > 0
    assert summary["indicator"] == "is_synthetic"


# -- seeds and the JSON summary -------------------------------------------------

JSON_KEYS = {
    "schema_version", "input", "output", "parameters", "random_state", "random_state_drawn",
    "device", "rng", "features", "passthrough", "index_columns", "dropped", "indicator",
    "rows_in", "rows_out", "n_synthetic", "counts_before", "counts_after", "synthetic_counts",
    "removed_leftovers", "seconds",
}
PARAMETER_KEYS = {"target", "sampling_strategy", "k_neighbors", "random_state", "device", "rng",
                  "chunk_rows", "columns", "drop", "passthrough", "indicator"}


def test_drawn_seed_is_reported_and_repeats_the_run(tmp_path, capsys):
    source = tmp_path / "in.parquet"
    _frame().to_parquet(source, index=False)
    first, again = tmp_path / "first.parquet", tmp_path / "again.parquet"
    summary = _json_run(capsys, source, first, "--target", "label", "--passthrough", "tx")
    seed = summary["random_state"]
    assert summary["random_state_drawn"] is True and isinstance(seed, int) and 0 <= seed < 2**32
    assert summary["parameters"]["random_state"] == seed
    repeat = _json_run(capsys, source, again, "--target", "label", "--passthrough", "tx",
                       "--random-state", seed)
    assert repeat["random_state_drawn"] is False and repeat["random_state"] == seed
    assert _digest(first) == _digest(again)
    # Another unseeded run draws another seed (1 in 2**32 to collide) and so other rows.
    other = _json_run(capsys, source, tmp_path / "other.parquet", "--target", "label",
                      "--passthrough", "tx")
    assert other["random_state"] != seed
    assert _digest(tmp_path / "other.parquet") != _digest(first)


def test_summary_line_names_the_drawn_seed(tmp_path, capsys):
    source = tmp_path / "in.parquet"
    _frame(500).to_parquet(source, index=False)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label",
                "--passthrough", "tx") == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "random_state" in line)
    seed = int(line.split()[1])
    assert f"add --random-state {seed} to repeat this run" in line


def test_json_keys_are_the_documented_ones(tmp_path, capsys):
    from gpusmote.cli import JSON_SCHEMA

    frame = _frame(1_000)
    source = tmp_path / "in.parquet"
    frame.to_parquet(source, index=False)
    summary = _json_run(capsys, source, tmp_path / "o.parquet", "--target", "label",
                        "--passthrough", "tx", "--drop", "f3", "--sampling-strategy", "1=300",
                        "--random-state", 5, "--k-neighbors", 4)
    assert set(summary) == JSON_KEYS
    assert set(summary["parameters"]) == PARAMETER_KEYS
    assert summary["parameters"] | {"device": "auto"} == {
        "target": "label", "sampling_strategy": {"1": 300}, "k_neighbors": 4, "random_state": 5,
        "device": "auto", "rng": "imblearn", "chunk_rows": 262144, "columns": None,
        "drop": ["f3"], "passthrough": ["tx"], "indicator": None}
    counts = np.bincount(frame["label"])
    assert summary["counts_before"] == {"0": int(counts[0]), "1": int(counts[1])}
    new = 300 - int(counts[1])  # a count asks for the class's size after resampling
    assert summary["synthetic_counts"] == {"0": 0, "1": new} and summary["n_synthetic"] == new
    assert summary["counts_after"] == {"0": int(counts[0]), "1": 300}
    assert summary["rows_out"] - summary["rows_in"] == new
    assert set(summary["seconds"]) == {"pass1_count_collect", "knn", "pass2_write_originals",
                                       "generate_write_synthetic", "total"}
    keys = [*summary, *summary["parameters"], *summary["seconds"]]
    assert all(key.replace("_", "").isalnum() and key == key.lower() for key in keys)
    for key in JSON_KEYS | {"pass1_count_collect", "generate_write_synthetic"}:
        assert key in JSON_SCHEMA  # documented in the help's epilog


# -- progress -------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_every_long_stage_shows_progress(tmp_path, capsys, monkeypatch):
    import gpusmote.io._progress as progress_module
    import gpusmote.io._streaming as streaming
    import gpusmote.over_sampling._smote as smote_module

    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.02)
    real_finder = smote_module.neighbor_finder

    def slow_finder(*args):  # a k-NN long enough for the bar to tick
        find, *rest = real_finder(*args)

        def slow(X):
            time.sleep(0.3)
            return find(X)

        return (slow, *rest)

    monkeypatch.setattr(smote_module, "neighbor_finder", slow_finder)
    bars, events = [], []
    real_init, real_batch = progress_module.PassProgress.__init__, streaming.synthetic_batch

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        bars.append(self)

    def recording_batch(*args, **kwargs):  # where the pass-2 bar stands at each synthetic write
        pass2 = next(bar for bar in bars if bar.description.startswith("pass 2/2"))
        events.append((pass2.rows, pass2.total_rows, pass2.description))
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(progress_module.PassProgress, "__init__", recording_init)
    monkeypatch.setattr(streaming, "synthetic_batch", recording_batch)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    source = tmp_path / "in.parquet"
    frame = _frame()
    frame.to_parquet(source, index=False)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label", "--passthrough",
                "tx", "--chunk-rows", 500, "--random-state", 0) == 0
    text = terminal.getvalue()
    n_minority = int((frame["label"] == 1).sum())
    knn_frames = [frame for frame in text.split("\r") if frame.startswith("k-NN")]
    searching = [f for f in knn_frames if f"class 1: {n_minority:,} rows" in f]
    assert len(searching) >= 3, text  # redrawn while the search runs, not only at its ends
    assert f"{n_minority}/{n_minority}" in knn_frames[-1] and "class 1 done" in knn_frames[-1]
    assert "pass 2/2: write synthetic" in text
    n_rows, rows_out = len(frame), 2 * int((frame["label"] == 0).sum())
    # The pass-2 bar counts the synthetic rows too: short of 100% until the last is written.
    assert events and events[0][:2] == (n_rows, rows_out)
    assert all(rows < total for rows, total, _ in events)
    assert all(description == "pass 2/2: write synthetic" for *_, description in events)
    pass2 = next(bar for bar in bars if bar.description.startswith("pass 2/2"))
    assert pass2.rows == pass2.total_rows == rows_out
    assert "100%" in [f for f in text.split("\r") if "write synthetic" in f][-1]


def test_quiet_and_non_terminal_stderr_get_no_bars(tmp_path, capsys):
    source = tmp_path / "in.parquet"
    _frame(500).to_parquet(source, index=False)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label",
                "--passthrough", "tx", "--random-state", 0) == 0
    assert capsys.readouterr().err == ""  # not a terminal: the summary has the stage times
    assert _run("resample", source, tmp_path / "o2.parquet", "--target", "label",
                "--passthrough", "tx", "--quiet") == 0
    assert capsys.readouterr() == ("", "")


# -- the parser -----------------------------------------------------------------

def test_every_option_states_its_default():
    parsers = build_parser()._subparsers._group_actions[0].choices
    for name, parser in parsers.items():
        for action in parser._actions:
            if action.option_strings and action.dest != "help" and not action.required:
                assert "default" in (action.help or ""), (name, action.option_strings)


def test_debug_works_after_the_subcommand(tmp_path, capsys):
    source = tmp_path / "in.parquet"
    _frame(300).to_parquet(source, index=False)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "x", "--debug") == 1
    assert "Traceback" in capsys.readouterr().err
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "x") == 1
    assert "Traceback" not in capsys.readouterr().err


def test_help_and_argument_errors_import_nothing_heavy():
    script = """
import sys
from gpusmote.cli import main
for argv in (["--help"], ["resample", "--help"], ["demo", "--help"], ["resample", "x.csv"]):
    try:
        main(argv)
    except SystemExit:
        pass
heavy = ["numpy", "pyarrow", "sklearn", "imblearn", "scipy", "numba", "tqdm", "torch", "cupy"]
print([name for name in heavy if name in sys.modules], file=sys.stderr)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
    assert "the following arguments are required: output, --target" in result.stderr
    assert "--indicator COL" in result.stdout and "random_state_drawn" in result.stdout
