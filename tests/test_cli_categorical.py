"""``gpusmote resample`` with categorical features (SMOTENC): ``--categorical``,
dictionary columns found automatically, equality with the in-memory
estimator (and imbalanced-learn), types kept, errors, CSV."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from gpusmote import SMOTENC
from gpusmote.cli import main

CONTINUOUS = ["a", "b", "count"]


def _run(*args) -> int:
    return main([str(a) for a in args])


def _table(n_rows=500, n_classes=3, seed=0, tiny_class=False) -> pa.Table:
    """Continuous a (float64), b (float32), count (int32); categorical color
    (dictionary), shop (string), flag (bool), level (int64); an id; the label.
    "z" shops exist only in the majority class; with ``tiny_class`` the last
    class's continuous values barely vary (its one-hot entries are tiny: every
    level of the file ties in SMOTENC's vote)."""
    rng = np.random.default_rng(seed)
    p = {2: [0.8, 0.2], 3: [0.7, 0.2, 0.1]}[n_classes]
    label = rng.choice(n_classes, n_rows, p=p)
    a, b = rng.normal(size=n_rows), rng.normal(size=n_rows).astype(np.float32)
    if tiny_class:
        last = label == n_classes - 1
        a[last] = 1 + 1e-13 * rng.normal(size=last.sum())
        b[last] = 2
    shop = rng.choice(["x", "y", "w"], n_rows)
    # not in the first rows: the first row of each class is none of them
    shop[(label == 0) & (rng.random(n_rows) < 0.1) & (np.arange(n_rows) >= 50)] = "z"
    return pa.table({
        "id": pa.array(np.arange(n_rows) * 3),
        "a": pa.array(a), "b": pa.array(b),
        "color": pa.array(rng.choice(["red", "green", "blue", "teal"], n_rows)).dictionary_encode(),
        "count": pa.array(rng.integers(0, 50, n_rows).astype(np.int32)),
        "shop": pa.array(shop),
        "flag": pa.array(rng.random(n_rows) < 0.3),
        "level": pa.array(rng.integers(1, 12, n_rows)),
        "label": pa.array(label),
    })


def _reference(frame: pd.DataFrame, features: list[str], categorical: list[str], **params):
    return SMOTENC(categorical_features=categorical, device="cpu", **params).fit_resample(
        frame[features], frame["label"])


def _assert_same(result: pd.DataFrame, X_ref: pd.DataFrame, y_ref, features: list[str]) -> None:
    assert len(result) == len(X_ref)
    np.testing.assert_array_equal(result["label"].to_numpy(), np.asarray(y_ref))
    for name in features:
        got, want = result[name], X_ref[name]
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        np.testing.assert_array_equal(got.astype(object).to_numpy(), want.astype(object).to_numpy(),
                                      err_msg=name)


@pytest.mark.parametrize("rng", ["imblearn", "philox"])
@pytest.mark.parametrize("n_classes, fmt", [(2, "parquet"), (3, "parquet"), (3, "feather")])
def test_output_is_in_memory_smotenc(tmp_path, capsys, rng, n_classes, fmt):
    table = _table(n_classes=n_classes, tiny_class=n_classes == 3)
    source, output = tmp_path / f"in.{fmt}", tmp_path / f"out.{fmt}"
    if fmt == "parquet":  # several row groups, several batches
        pq.write_table(table, source, row_group_size=150)
    else:
        feather.write_feather(table, source)
    assert _run("resample", source, output, "--target", "label", "--passthrough", "id",
                "--categorical", "shop,flag", "--categorical", "level", "--random-state", 7,
                "--rng", rng, "--k-neighbors", 4, "--chunk-rows", 64, "--device", "cpu",
                "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    features = ["a", "b", "color", "count", "shop", "flag", "level"]
    categorical = ["color", "shop", "flag", "level"]  # color: a dictionary column, found
    assert summary["features"] == features and summary["categorical"] == categorical
    assert summary["sampler"] == "SMOTENC"
    assert summary["parameters"]["categorical"] == ["shop", "flag", "level"]
    read = pq.read_table if fmt == "parquet" else feather.read_table
    result_table = read(output)
    for name in [*features, "label"]:  # dictionary, string, bool and int columns keep their types
        assert result_table.schema.field(name).type == table.schema.field(name).type, name
    X_ref, y_ref = _reference(table.to_pandas(), features, categorical, random_state=7, rng=rng,
                              k_neighbors=4)
    result = result_table.to_pandas()
    _assert_same(result, X_ref, y_ref, features)
    assert summary["n_synthetic"] == len(X_ref) - table.num_rows > 0
    # passthrough: copied for original rows, null in synthetic ones
    assert result["id"].iloc[: table.num_rows].tolist() == table.column("id").to_pylist()
    assert result["id"].iloc[table.num_rows :].isna().all()


def test_binary_output_is_imbalanced_learns(tmp_path):
    from imblearn.over_sampling import SMOTENC as ImblearnSMOTENC

    table = _table(n_classes=2, seed=3).drop_columns(["id", "flag", "level"])
    source, output = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source)
    assert _run("resample", source, output, "--target", "label", "--categorical", "shop",
                "--random-state", 11, "--quiet") == 0
    frame = pd.read_parquet(source)
    features = ["a", "b", "color", "count", "shop"]
    X_ref, y_ref = ImblearnSMOTENC(categorical_features=["color", "shop"],
                                   random_state=11).fit_resample(frame[features], frame["label"])
    _assert_same(pd.read_parquet(output), X_ref, y_ref, features)


def test_dictionary_columns_are_found_and_indicator_added(tmp_path, capsys):
    table = _table(n_classes=2).drop_columns(["shop", "flag", "level"])
    source, output = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source)
    assert _run("resample", source, output, "--target", "label", "--random-state", 0,
                "--indicator", "synthetic", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["categorical"] == ["color"] and summary["sampler"] == "SMOTENC"
    assert "categorical" not in summary["parameters"]  # found, not asked for
    assert summary["passthrough"] == [] and summary["features"] == ["id", "a", "b", "color",
                                                                     "count"]
    result = pq.read_table(output)
    assert pa.types.is_dictionary(result.schema.field("color").type)
    assert result.column("synthetic").to_pylist() == [False] * table.num_rows + [True] * (
        result.num_rows - table.num_rows)
    X_ref, y_ref = _reference(table.to_pandas(), summary["features"], ["color"], random_state=0)
    _assert_same(result.to_pandas(), X_ref, y_ref, summary["features"])


def test_numeric_only_features_stay_smote(tmp_path, capsys):
    table = _table(n_classes=2).select(["a", "b", "count", "label"])
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label",
                "--random-state", 0, "--json") == 0
    summary = json.loads(capsys.readouterr().out)  # SMOTE's summary, as before
    assert "categorical" not in summary and "sampler" not in summary
    assert "categorical" not in summary["parameters"]


def test_csv_categorical_columns_are_text(tmp_path):
    table = _table(n_classes=3, seed=5).drop_columns(["id", "color", "flag"])
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    pa_csv.write_csv(table, source)
    assert _run("resample", source, output, "--target", "label", "--categorical", "shop,level",
                "--random-state", 2, "--quiet") == 0
    features = ["a", "b", "count", "shop", "level"]
    # What the CLI reads: continuous features float64, categorical ones text.
    dtypes = {"a": np.float64, "b": np.float64, "count": np.float64, "shop": str, "level": str}
    frame = pd.read_csv(source, dtype=dtypes)
    X_ref, y_ref = _reference(frame, features, ["shop", "level"], random_state=2)
    result = pd.read_csv(output, dtype=dtypes)
    _assert_same(result, X_ref, y_ref, features)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--categorical", "nope"], "--categorical column 'nope' is not in the file"),
        (["--categorical", "label"], "column 'label' cannot be both target and --categorical"),
        (["--passthrough", "shop", "--categorical", "shop"],
         "column 'shop' cannot be both --passthrough and --categorical"),
        (["--drop", "shop", "--categorical", "shop"],
         "column 'shop' cannot be both --drop and --categorical"),
        (["--columns", "shop,color", "--categorical", "shop"],
         "SMOTE-NC is not designed to work only with categorical features"),
        (["--categorical", "shop,flag,level", "--k-neighbors", "99"], "n_neighbors = 100"),
        ([], "feature column 'shop' is not numeric (string); pass it with --categorical shop, "
             "--passthrough shop or --drop it"),
    ],
)
def test_bad_categorical_requests_fail_before_any_work(tmp_path, capsys, args, match):
    source = tmp_path / "in.parquet"
    pq.write_table(_table(n_rows=100, n_classes=2), source)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label", *args) == 1
    err = capsys.readouterr().err
    assert err.startswith("gpusmote: error: ") and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_categorical_is_refused_with_a_scheduler(tmp_path, capsys):
    assert _run("resample", tmp_path / "in.parquet", tmp_path / "out", "--target", "label",
                "--categorical", "shop", "--scheduler", "local:1", "--rng", "philox") == 1
    assert "--categorical is not supported with --scheduler" in capsys.readouterr().err


def test_classes_dropped_in_pass_1_are_collected_again(tmp_path):
    from gpusmote.io._streaming import Options, resample_file

    table = _table(n_rows=400, n_classes=3, seed=9).drop_columns(["id", "flag", "level"])
    labels = np.array(["low", "mid", "high"], dtype=object)[table.column("label").to_numpy()]
    table = table.set_column(table.schema.get_field_index("label"), "label", pa.array(labels))
    source, output = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source, row_group_size=100)
    # A 1-byte budget: pass 1 keeps no class, an extra pass collects the over-sampled ones.
    resample_file(Options(input=source, output=output, target="label", categorical=["shop"],
                          random_state=4, device="cpu", chunk_rows=50, progress=False,
                          collect_budget_bytes=1))
    features = ["a", "b", "color", "count", "shop"]
    X_ref, y_ref = _reference(table.to_pandas(), features, ["color", "shop"], random_state=4)
    _assert_same(pd.read_parquet(output), X_ref, y_ref, features)


def test_missing_level_fails_cleanly(tmp_path, capsys):
    table = _table(n_rows=100, n_classes=2)
    shop = table.column("shop").to_pylist()
    shop[42] = None
    table = table.set_column(table.schema.get_field_index("shop"), "shop", pa.array(shop))
    source = tmp_path / "in.parquet"
    pq.write_table(table, source)
    assert _run("resample", source, tmp_path / "o.parquet", "--target", "label",
                "--categorical", "shop,flag,level") == 1
    assert "categorical column 'shop' has a missing value at row 42" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]
