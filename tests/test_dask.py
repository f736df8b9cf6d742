"""SMOTE on Dask collections, on a real ``distributed.LocalCluster`` (worker
processes, no mocks): the lazy output equals in-memory
``SMOTE(rng='philox')`` bit for bit across chunkings, partitionings, worker
counts, tie rules and a worker killed mid-computation; bad input fails as in
memory; ``rng='imblearn'`` and other samplers are refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from sklearn.neighbors import NearestNeighbors as SklearnNeighbors  # noqa: E402

from gpusmote import ADASYN, SMOTE  # noqa: E402
from gpusmote.dask import fit_resample  # noqa: E402
from gpusmote.dask._resample import check_class_fits  # noqa: E402
from gpusmote.datasets import make_fraud_like  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, memory_limit="2GiB") as cluster:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(2)
            _small_path_up_to(client, 0)
            yield client


def _small_path_up_to(client, n_elements: int) -> None:
    """Set the workers' small-data size, as tests/conftest.py sets this
    session's (0: the kernels run at every size, so the k-NN query blocks and
    the Philox kernel are what the workers run)."""
    def set_size():
        from gpusmote.devices import _backend

        _backend.SMALL_DATA_ELEMENTS = _backend.SMALL_INDEX_ELEMENTS = n_elements

    client.run(set_size)


def _workers(client) -> list[str]:
    return sorted(client.scheduler_info()["workers"])


def _compute(client, collections, workers=None):
    futures = client.compute(list(collections), workers=workers, allow_other_workers=False)
    return client.gather(futures)


def _fraud(n_rows=6_000, n_features=16, seed=0):
    # 6,000 x 16 is above the small-data size: the Numba k-NN and its query blocks run.
    return make_fraud_like(n_rows, n_features, 0.05, random_state=seed)


def _tied(n_rows=3_000, seed=1):
    """Integer rows with many exact ties and duplicates, three classes."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, size=(n_rows, 12)).astype(np.float64)
    return X, rng.choice([0, 1, 2], p=[0.8, 0.15, 0.05], size=n_rows)


def _assert_same(result, expected) -> None:
    (X_res, y_res), (X_ref, y_ref) = result, expected
    assert X_res.dtype == X_ref.dtype and y_res.dtype == y_ref.dtype
    np.testing.assert_array_equal(X_res, X_ref, strict=True)
    np.testing.assert_array_equal(y_res, y_ref, strict=True)


@pytest.mark.parametrize("chunks", [(500, -1), (1237, 5), (6_000, -1)])
@pytest.mark.parametrize("n_workers", [1, 2])
def test_arrays_equal_in_memory_philox_for_any_chunking_and_workers(client, chunks, n_workers):
    X, y = _fraud()
    expected = SMOTE(rng="philox", random_state=3).fit_resample(X, y)
    X_res, y_res = SMOTE(rng="philox", random_state=3).fit_resample(
        da.from_array(X, chunks=chunks), da.from_array(y, chunks=chunks[0]))
    assert isinstance(X_res, da.Array) and isinstance(y_res, da.Array)
    assert X_res.shape == expected[0].shape  # known before computing
    _assert_same(_compute(client, (X_res, y_res), workers=_workers(client)[:n_workers]), expected)


@pytest.mark.parametrize("ties", ["imblearn", "index"])
@pytest.mark.parametrize("k_neighbors", [5, SklearnNeighbors(n_neighbors=4)], ids=["int", "estimator"])
def test_tied_data_and_every_tie_rule(client, ties, k_neighbors):
    X, y = _tied()
    params = dict(rng="philox", random_state=11, ties=ties, k_neighbors=k_neighbors)
    expected = SMOTE(**params).fit_resample(X, y)
    # Small k-NN and output blocks: a class's table comes from many query tasks.
    out = fit_resample(SMOTE(**params), da.from_array(X, chunks=(611, -1)),
                       da.from_array(y, chunks=400), knn_block_rows=97, block_rows=101)
    _assert_same(_compute(client, out), expected)


@pytest.mark.parametrize("ties", ["imblearn", "index"])
def test_small_data_path_and_host_y(client, monkeypatch, ties):
    """The small-data path (NumPy k-NN; scikit-learn's table for
    ties='imblearn') here and on the workers; y a NumPy array."""
    from gpusmote.devices import _backend

    X, y = _tied(400)
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", X.size)
    monkeypatch.setattr(_backend, "SMALL_INDEX_ELEMENTS", X.size)
    expected = SMOTE(rng="philox", random_state=0, ties=ties).fit_resample(X, y)
    _small_path_up_to(client, X.size)
    try:
        out = SMOTE(rng="philox", random_state=0, ties=ties).fit_resample(
            da.from_array(X, chunks=(90, -1)), y)
        _assert_same(_compute(client, out), expected)
    finally:
        _small_path_up_to(client, 0)


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
                    and os.environ.get("GPUSMOTE_TEST_REAL_GPU") != "1",
                    reason="needs a GPU or Numba's CUDA simulator")
def test_cuda_engine_on_the_workers(client):
    """device='cuda' resolves on each worker (simulated there too: the workers
    inherit this session's environment) and gives the in-memory rows."""
    from gpusmote.devices._resolve import resolve_device

    assert set(client.run(lambda: resolve_device("cuda").name).values()) == {"cuda"}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    y = np.array([0] * 500 + [1] * 100)
    expected = SMOTE(rng="philox", random_state=2, device="cuda").fit_resample(X, y)
    out = SMOTE(rng="philox", random_state=2, device="cuda").fit_resample(
        da.from_array(X, chunks=(150, -1)), da.from_array(y, chunks=150))
    _assert_same(_compute(client, out), expected)


@pytest.fixture
def numpy_as_cupy_chunks(monkeypatch):
    """Dask arrays of NumPy chunks taken for CuPy chunks (no CuPy here): the
    chunk-kind plumbing and the device checks run, with NumPy as the device's
    array module, on the synchronous scheduler (the patches hold in-process).
    ``benchmarks/gpu_check.py`` runs the same path on real CuPy chunks."""
    import dask

    from gpusmote.dask import _collections, _tasks
    from gpusmote.devices._input import to_host

    kinds = []
    monkeypatch.setattr(_collections, "chunk_kind", lambda meta: kinds.append(type(meta)) or "cupy")
    monkeypatch.setattr(_tasks, "chunk_module", lambda kind: np)
    monkeypatch.setattr(_tasks, "as_chunk", lambda array, kind: to_host(array))
    with dask.config.set(scheduler="sync"):
        yield kinds


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
                    and os.environ.get("GPUSMOTE_TEST_REAL_GPU") != "1",
                    reason="needs a GPU or Numba's CUDA simulator")
@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_cupy_chunk_path(numpy_as_cupy_chunks, device):
    X, y = _fraud(n_rows=2_000, n_features=6)
    expected = SMOTE(rng="philox", random_state=4, device="cpu").fit_resample(X, y)
    out = SMOTE(rng="philox", random_state=4, device=device).fit_resample(
        da.from_array(X, chunks=(300, -1)), da.from_array(y, chunks=300))
    _assert_same(tuple(part.compute() for part in out), expected)
    assert numpy_as_cupy_chunks  # every chunk kind was asked of the stand-in


@pytest.mark.parametrize("bad, match", [("nan", "Input X contains NaN"), ("bool", "X must hold numbers")])
def test_cupy_chunks_checked_as_in_memory_cupy_input(numpy_as_cupy_chunks, bad, match):
    from gpusmote.devices._input import check_device_X

    X, y = _fraud(n_rows=400, n_features=3)
    if bad == "nan":
        X[350, 1] = np.nan
    else:
        X = X > 0
    with pytest.raises(ValueError, match=match) as in_memory:
        check_device_X(X, np, "SMOTE")  # what in-memory CuPy input is checked with
    with pytest.raises(ValueError, match=match) as on_dask:
        out = SMOTE(rng="philox", random_state=0).fit_resample(da.from_array(X, chunks=(100, -1)),
                                                               da.from_array(y, chunks=100))
        out[0].compute()
    assert str(on_dask.value) == str(in_memory.value)


def test_other_chunk_kinds_refused():
    from gpusmote.dask._collections import check_pandas_backed, chunk_kind

    cudf_frame = type("DataFrame", (), {"__module__": "cudf.core.dataframe"})
    with pytest.raises(TypeError, match="dask DataFrames of cudf partitions are not supported"):
        check_pandas_backed(cudf_frame())
    check_pandas_backed(pd.DataFrame())
    check_pandas_backed(pd.Series(dtype=float))

    assert chunk_kind(np.empty((0, 2))) == "numpy"
    with pytest.raises(TypeError, match="MaskedArray chunks are not supported; NumPy and CuPy"):
        chunk_kind(np.ma.masked_array(np.empty((0, 2))))


@pytest.mark.parametrize("npartitions", [1, 7])
def test_dataframe_and_series(client, npartitions):
    X, y = _fraud()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["f3"] = frame["f3"].astype(np.float64)  # mixed dtypes come back per column
    frame["label"] = y
    features = frame.drop(columns="label")
    expected = SMOTE(rng="philox", random_state=5).fit_resample(features, frame["label"])
    lazy = dd.from_pandas(frame, npartitions=npartitions)
    sampler = SMOTE(rng="philox", random_state=5)
    X_res, y_res = sampler.fit_resample(lazy.drop(columns="label"), lazy["label"])
    assert isinstance(X_res, dd.DataFrame) and isinstance(y_res, dd.Series)
    assert X_res.known_divisions
    X_out, y_out = _compute(client, (X_res, y_res))
    pd.testing.assert_frame_equal(X_out, expected[0])
    pd.testing.assert_series_equal(y_out, expected[1])
    assert list(sampler.feature_names_in_) == list(features.columns)


@pytest.mark.parametrize("bad, match", [
    ("nan", "Input X contains NaN"),
    ("inf", "Input X contains infinity"),
    ("short_y", "inconsistent numbers of samples"),
    ("continuous_y", "Unknown label type"),
    ("one_class", "needs to have more than 1 class"),
    ("big_k", "Expected n_neighbors <= n_samples_fit"),
])
def test_bad_input_fails_as_in_memory(client, bad, match):
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = np.array([0] * 180 + [1] * 20)
    params = dict(rng="philox", random_state=0)
    if bad in ("nan", "inf"):
        X[150, 1] = np.nan if bad == "nan" else np.inf
    y = {"short_y": y[:150], "continuous_y": y + 0.5, "one_class": np.zeros(200)}.get(bad, y)
    if bad == "big_k":
        params["k_neighbors"] = 25
    with pytest.raises(ValueError, match=match) as in_memory:
        SMOTE(**params).fit_resample(X, y)
    with pytest.raises(ValueError, match=match) as on_dask:
        # Values of X are checked when computed (the rest at fit_resample).
        out = SMOTE(**params).fit_resample(da.from_array(X, chunks=(50, -1)),
                                           da.from_array(y, chunks=50))
        _compute(client, out)
    assert str(on_dask.value) == str(in_memory.value)


def test_imblearn_stream_and_other_samplers_refused():
    X, y = da.zeros((100, 2), chunks=50), da.from_array(np.array([0] * 90 + [1] * 10))
    with pytest.raises(ValueError, match="rng='philox'"):
        SMOTE(random_state=0).fit_resample(X, y)
    with pytest.raises(NotImplementedError, match="only SMOTE\\(rng='philox'\\)"):
        ADASYN(random_state=0).fit_resample(X, y)


def test_class_too_big_for_a_worker_is_refused_with_its_size():
    with pytest.raises(MemoryError, match="class 1 has 10,000,000 rows x 32 features"):
        check_class_fits(1, 10_000_000, 32, 4, 5, [2**30, 4 * 2**30])
    check_class_fits(1, 10_000, 32, 4, 5, [2**30])  # fits


def test_in_memory_input_never_imports_dask():
    code = ("import sys, numpy as np; from gpusmote import SMOTE; "
            "SMOTE(random_state=0).fit_resample(np.random.rand(60, 2), [0] * 50 + [1] * 10); "
            "assert 'dask' not in sys.modules, 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_killed_worker_mid_computation_gives_the_same_result(client):
    """One worker process dies while the graph runs; its tasks are retried
    (on the other worker or its restarted process) and the output is the same."""
    X, y = _fraud(60_000, 16, seed=2)
    expected = SMOTE(rng="philox", random_state=9).fit_resample(X, y)
    out = fit_resample(SMOTE(rng="philox", random_state=9), da.from_array(X, chunks=(1_000, -1)),
                       da.from_array(y, chunks=1_000), knn_block_rows=256, block_rows=1_000)
    victim = _workers(client)[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    futures = client.compute(list(out))
    deadline = time.monotonic() + 60
    while not client.has_what().get(victim) and time.monotonic() < deadline:
        time.sleep(0.005)  # until the victim holds results that the rest needs
    assert client.has_what().get(victim), "the victim never held a result"
    assert not futures[0].done(), "the computation ended before the worker could be killed"
    os.kill(pid, signal.SIGKILL)  # the worker process this test's cluster started
    _assert_same(client.gather(futures), expected)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it
    _small_path_up_to(client, 0)


def _parquet_rows(path) -> dict:
    """A Parquet file's or dataset directory's columns (Arrow types, values with nulls)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(path.glob("*.parquet"), key=lambda p: int(p.stem.split(".")[-1])) \
        if path.is_dir() else [path]
    table = pa.concat_tables([pq.read_table(f).replace_schema_metadata() for f in files])
    return {name: (table.schema.field(name).type, table.column(name).to_pylist())
            for name in table.column_names}


def test_cli_scheduler_writes_the_single_process_rows(client, tmp_path, capsys):
    """``gpusmote resample --scheduler`` on a Parquet dataset (a glob of files)
    writes a dataset with the rows, columns and Arrow types of the
    single-process ``--rng philox`` run, passthrough columns included."""
    from gpusmote.cli import main

    X, y = _fraud(4_000, 6, seed=4)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame.insert(0, "tx", [f"t{i}" for i in range(len(y))])
    frame.insert(3, "ts", np.arange(len(y), dtype=np.int64) * 7)
    frame.insert(4, "label", y)
    (tmp_path / "in").mkdir()
    for i in range(3):
        frame.iloc[i * 1_500 : (i + 1) * 1_500].to_parquet(tmp_path / "in" / f"{i}.parquet",
                                                              index=False)
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    common = ["--target", "label", "--rng", "philox", "--random-state", "8", "--quiet",
              "--passthrough", "tx,ts"]
    assert main(["resample", str(tmp_path / "whole.parquet"), str(tmp_path / "one.parquet"),
                 *common]) == 0
    address = client.scheduler.address
    assert main(["resample", str(tmp_path / "in" / "*.parquet"), str(tmp_path / "out"),
                 *common, "--scheduler", address]) == 0
    expected = _parquet_rows(tmp_path / "one.parquet")
    assert expected["tx"][1][-1] is None  # a synthetic row
    assert _parquet_rows(tmp_path / "out") == expected
    # The default stream is refused with the way out; nothing is written.
    assert main(["resample", str(tmp_path / "in"), str(tmp_path / "out2"), "--target", "label",
                 "--passthrough", "tx,ts", "--scheduler", address]) == 1
    assert "--rng philox" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()
    # A text column is not a feature: the single-process message.
    assert main(["resample", str(tmp_path / "in"), str(tmp_path / "out3"), "--target", "label",
                 "--rng", "philox", "--scheduler", address]) == 1
    assert "feature column 'tx' is not numeric" in capsys.readouterr().err


@pytest.mark.parametrize("strategy", ["all", {"b": 900, "c": 400}])
def test_string_labels_and_sampling_strategies(client, strategy):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(3_000, 5)), columns=list("vwxyz"))
    frame["t"] = rng.choice(["a", "b", "c"], p=[0.7, 0.2, 0.1], size=3_000)
    lazy = dd.from_pandas(frame, npartitions=5)
    X, y = lazy[list("vwxyz")], lazy["t"]
    # The computed input is the reference (Dask turns strings into its own dtype).
    expected = SMOTE(rng="philox", random_state=1, sampling_strategy=strategy).fit_resample(
        X.compute(), y.compute())
    X_out, y_out = _compute(client, SMOTE(rng="philox", random_state=1,
                                          sampling_strategy=strategy).fit_resample(X, y))
    pd.testing.assert_frame_equal(X_out, expected[0])
    pd.testing.assert_series_equal(y_out, expected[1])


def test_passthrough_columns_beside_the_features(client):
    """``fit_resample(..., passthrough=)``: the original rows' values, missing
    in synthetic rows; the features are those without passthrough."""
    X, y = _fraud(3_000, 4, seed=6)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["id"], frame["label"] = np.arange(len(y), dtype=np.int64), y
    lazy = dd.from_pandas(frame, npartitions=4)
    expected = SMOTE(rng="philox", random_state=0).fit_resample(frame[list("abcd")], frame["label"])
    X_res, y_res = fit_resample(SMOTE(rng="philox", random_state=0), lazy[list("abcd")],
                                lazy["label"], passthrough=lazy[["id"]])
    X_out, y_out = _compute(client, (X_res, y_res))
    pd.testing.assert_frame_equal(X_out[list("abcd")], expected[0])
    assert X_out["id"].dtype == "Int64"
    assert X_out["id"][: len(y)].tolist() == list(range(len(y)))
    assert X_out["id"][len(y):].isna().all()
