"""Rows on demand (gpusmote.engine._on_demand + kernels/synthesize.py) against fit_resample."""

import numpy as np
import pytest
from helpers import make_classes

from gpusmote import SMOTE
from gpusmote.engine._on_demand import build_table
from gpusmote.kernels.synthesize import fill_rows, fill_rows_cuda


def _rows(table, indices, stream=0, fill=fill_rows, **kwargs):
    where = table.locate(indices)
    out = np.empty((len(where.source), table.X.shape[1]), dtype=table.X.dtype)
    y_out = np.empty(len(where.source), dtype=table.y.dtype)
    fill(out, y_out, table.X, table.y, where.source, where.js, where.cls, *table.kernel_tables(),
         table.seed, stream, **kwargs)
    return out, y_out


CASES = [
    dict(counts=[300, 40, 25], dtype=np.float32, k=4, strategy="auto", seed=7),
    dict(counts=[200, 30], dtype=np.float64, k=5, strategy=0.6, seed=2**32 - 1),
    dict(counts=[150, 60, 20, 12], dtype=np.float32, k=3, strategy="all", seed=0),
    dict(counts=[120, 40, 30], dtype=np.float64, k=2, strategy={1: 70, 2: 31}, seed=11),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['counts']}-{np.dtype(c['dtype'])}")
def test_any_row_in_any_order_is_fit_resamples_row(case):
    X, y = make_classes(case["counts"], n_features=6, dtype=case["dtype"], seed=3)
    X_ref, y_ref = SMOTE(sampling_strategy=case["strategy"], k_neighbors=case["k"],
                         random_state=case["seed"], rng="philox").fit_resample(X, y)
    table = build_table(X, y, sampling_strategy=case["strategy"], k_neighbors=case["k"],
                        random_state=case["seed"])
    assert len(table) == len(X_ref)
    order = np.random.default_rng(1).permutation(len(table))
    for indices in (order, order[:1], order[::-1][:17], np.arange(len(table))):
        rows, labels = _rows(table, indices)
        np.testing.assert_array_equal(rows, X_ref[indices], strict=True)
        np.testing.assert_array_equal(labels, y_ref[indices], strict=True)
    rows, _ = _rows(table, order, fill=fill_rows, parallel=False)
    np.testing.assert_array_equal(rows, X_ref[order], strict=True)


def test_other_streams_give_other_rows_on_the_same_segments():
    X, y = make_classes([200, 25], n_features=3, seed=4)
    table = build_table(X, y, k_neighbors=3, random_state=5)
    synthetic = np.arange(len(X), len(table))
    stream0, _ = _rows(table, synthetic, stream=0)
    stream1, labels = _rows(table, synthetic, stream=1)
    assert not np.any(np.all(stream0 == stream1, axis=1))
    assert np.all(labels == 1)
    # every stream-1 row lies on a segment between a minority row and a neighbour
    minority = X[table.class_rows]
    for row in stream1:
        on_segment = False
        for base, neighbours in zip(minority, table.nn_table):
            for nb in minority[neighbours]:
                diff = nb - base
                t = np.dot(row - base, diff) / np.dot(diff, diff)
                if 0 <= t <= 1 and np.allclose(base + t * diff, row, atol=1e-12):
                    on_segment = True
        assert on_segment


def test_cuda_kernel_matches_cpu_kernel_under_the_simulator():
    X, y = make_classes([90, 20, 14], n_features=5, dtype=np.float32, seed=8)
    table = build_table(X, y, k_neighbors=4, random_state=9)
    indices = np.random.default_rng(2).permutation(len(table))[:70]
    for stream in (0, 3):
        cpu = _rows(table, indices, stream=stream)
        cuda = _rows(table, indices, stream=stream, fill=fill_rows_cuda)
        np.testing.assert_array_equal(cuda[0], cpu[0], strict=True)
        np.testing.assert_array_equal(cuda[1], cpu[1], strict=True)


def test_locate_bounds_and_negative_indices():
    X, y = make_classes([50, 10], n_features=2, seed=1)
    table = build_table(X, y, k_neighbors=3, random_state=0)
    assert len(table) == 100
    np.testing.assert_array_equal(_rows(table, [-1])[0], _rows(table, [99])[0])
    with pytest.raises(IndexError, match="100 is out of range"):
        table.locate([0, 100])
    with pytest.raises(IndexError, match="out of range"):
        table.locate([-101])


def test_table_memory_is_minority_times_k():
    X, y = make_classes([5000, 50], n_features=8, seed=2)
    table = build_table(X, y, k_neighbors=5, random_state=0)
    extra = sum(a.nbytes for a in (table.class_rows, table.nn_table, table.class_positions,
                                   table.offsets, table.sizes, table.labels,
                                   table.block_starts, table.n_synthetic))
    assert extra <= 50 * (5 + 1) * 8 + 8 * 8
    assert np.shares_memory(table.X, X)  # the data itself is not copied


def test_build_table_errors_match_fit_resample():
    X, y = make_classes([40, 5], n_features=2, seed=1)
    for kwargs in (dict(k_neighbors=5), dict(sampling_strategy=2.0)):
        with pytest.raises(ValueError) as ours:
            build_table(X, y, **kwargs)
        with pytest.raises(ValueError) as theirs:
            SMOTE(rng="philox", **kwargs).fit_resample(X, y)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="needs to have more than 1 class"):
        build_table(X, np.zeros(len(X), dtype=int), k_neighbors=3)
    with pytest.raises(ValueError, match="float32 or float64"):
        build_table(X.astype(np.int64), y, k_neighbors=3)
    with pytest.raises(TypeError, match="k_neighbors must be an int"):
        build_table(X, y, k_neighbors=3.0)


def test_table_built_on_the_cuda_engine_equals_the_cpu_table():
    X, y = make_classes([60, 14, 9], n_features=3, dtype=np.float32, seed=6)
    cpu = build_table(X, y, k_neighbors=3, random_state=1, device="cpu")
    cuda = build_table(X, y, k_neighbors=3, random_state=1, device="cuda")  # simulated in CI
    np.testing.assert_array_equal(cuda.nn_table, cpu.nn_table, strict=True)
    np.testing.assert_array_equal(cuda.class_rows, cpu.class_rows, strict=True)
