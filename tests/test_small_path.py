"""Small data: the NumPy path gives the kernels' rows, and loads no kernel.

The session's conftest turns the small path off (the kernels serve every other
test); here it is turned on and compared with the kernel path, with
imbalanced-learn, and for the tie rule on tied data.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import imblearn.over_sampling as reference
import numpy as np
import pytest

import gpusmote
from gpusmote.devices import _backend
from gpusmote.neighbors import _query
from gpusmote.neighbors._cpu import kneighbors_excluding_self, kneighbors_of_queries
from gpusmote.kernels import interpolate
from gpusmote.neighbors import _numpy as numpy_search
from gpusmote.neighbors._numpy import kneighbors_excluding_self_numpy, kneighbors_of_queries_numpy
from helpers import assert_same_resample, make_classes

SAMPLERS = [
    ("SMOTE", {}),
    ("ADASYN", {}),
    ("BorderlineSMOTE", {"kind": "borderline-1"}),
    ("BorderlineSMOTE", {"kind": "borderline-2"}),
    ("SVMSMOTE", {}),
    ("KMeansSMOTE", {"cluster_balance_threshold": 0.0, "kmeans_estimator": 3}),
    ("RandomOverSampler", {}),
]
IDS = ["SMOTE", "ADASYN", "Borderline-1", "Borderline-2", "SVMSMOTE", "KMeansSMOTE", "ROS"]


def resample(name, params, X, y, small: bool, monkeypatch, **extra):
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30 if small else 0)
    sampler = getattr(gpusmote, name)(random_state=0, **params, **extra)
    result = sampler.fit_resample(X, y)
    return result


@pytest.mark.parametrize("search", ["numpy", "scikit-learn"])
@pytest.mark.parametrize("name, params", SAMPLERS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_small_path_is_the_kernel_path_and_imblearns(name, params, dtype, search, monkeypatch):
    if search == "scikit-learn":  # past this many distance terms the small path asks scikit-learn
        monkeypatch.setattr(_query, "SMALL_NUMPY_TERMS", 0)
    X, y = make_classes([150, 40, 25], n_features=5, dtype=dtype, seed=3)
    if name == "BorderlineSMOTE" and params["kind"] == "borderline-2" and dtype == np.int64:
        with pytest.raises(TypeError):  # NumPy's casting error, as in imbalanced-learn
            resample(name, params, X, y, True, monkeypatch)
        return
    small = resample(name, params, X, y, True, monkeypatch)
    assert_same_resample(small, resample(name, params, X, y, False, monkeypatch))
    assert_same_resample(small, getattr(reference, name)(random_state=0, **params).fit_resample(X, y))


@pytest.mark.parametrize("name, params", [s for s in SAMPLERS if s[0] != "RandomOverSampler"], ids=IDS[:-1])
def test_index_tie_rule_is_the_kernels_on_tied_data(name, params, monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(220, 4)).astype(np.float64)  # ties and duplicates everywhere
    y = (rng.random(220) < 0.25).astype(int)
    for extra in ({"ties": "index"}, {"ties": "index", "rng": "philox"}, {}):
        small = resample(name, params, X, y, True, monkeypatch, **extra)
        assert_same_resample(small, resample(name, params, X, y, False, monkeypatch, **extra))


@pytest.mark.parametrize("block_values", [None, 500])  # one 3-D block; per-feature chunks
@pytest.mark.parametrize("scale", [1.0, 1e-200, 1e200, 3.0])
def test_numpy_search_is_the_kernels(scale, block_values, monkeypatch):
    if block_values is not None:
        monkeypatch.setattr(numpy_search, "_BLOCK_VALUES", block_values)
    rng = np.random.default_rng(6)
    points = np.vstack([rng.normal(size=(120, 6)), np.round(rng.normal(size=(60, 6)))]) * scale
    points[5] = points[9]
    queries = np.vstack([points[:10], rng.normal(size=(30, 6)) * scale])
    for k in (1, 5, 179):
        np.testing.assert_array_equal(kneighbors_excluding_self_numpy(points, k),
                                      kneighbors_excluding_self(points, k))
    for k in (1, 7, 180):
        np.testing.assert_array_equal(kneighbors_of_queries_numpy(points, queries, k),
                                      kneighbors_of_queries(points, queries, k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_numpy_interpolation_in_chunks_is_the_whole_expression(dtype, monkeypatch):
    rng = np.random.default_rng(7)
    data = (rng.normal(size=(40, 7)) * 100).astype(dtype)
    nn_idx = rng.integers(0, 40, size=(40, 5))
    rows, cols, steps = rng.integers(0, 40, 1003), rng.integers(0, 5, 1003), rng.random(1003)
    whole = np.empty((1003, 7), dtype=dtype)
    interpolate._interpolate_array_expr(whole, data, data, nn_idx, rows, cols, steps)
    for elements in (1, 7 * 64, 1 << 13):  # a row, several rows, the default
        monkeypatch.setattr(interpolate, "NUMPY_CHUNK_ELEMENTS", elements)
        chunked = np.full_like(whole, 3)
        interpolate.interpolate_rows_numpy(chunked, data, data, nn_idx, rows, cols, steps)
        np.testing.assert_array_equal(chunked, whole)


def test_small_data_loads_no_kernel():
    """In a fresh process a small fit_resample of every sampler compiles or
    loads no Numba kernel (the first costs ~0.25 s, more than the call)."""
    script = textwrap.dedent("""
        import numpy as np
        import numba.core.registry
        import gpusmote
        rng = np.random.default_rng(0)
        # 6,000 x 8 (the small path even with ties='index'), ~4,800 new rows: more
        # draws than the compiled MT19937 takes, which waits for a loaded kernel
        X = rng.normal(size=(6000, 8)); y = (rng.random(6000) < 0.1).astype(int)
        for name in ("SMOTE", "ADASYN", "BorderlineSMOTE", "RandomOverSampler", "SVMSMOTE",
                     "SMOTEENN", "SMOTETomek"):
            getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
        gpusmote.KMeansSMOTE(random_state=0, cluster_balance_threshold=0.0).fit_resample(X, y)
        # the cleaners on 10,000 rows (more than the small path's 65,536 elements)
        X_big = rng.normal(size=(10_000, 8)); y_big = (rng.random(10_000) < 0.1).astype(int)
        from gpusmote.under_sampling import EditedNearestNeighbours, TomekLinks
        for cleaner in (EditedNearestNeighbours(), TomekLinks()):
            cleaner.fit_resample(X_big, y_big)
        codes = rng.integers(0, 4, size=(3000, 6)); y_codes = (rng.random(3000) < 0.1).astype(int)
        gpusmote.SMOTEN(random_state=0).fit_resample(codes, y_codes)
        gpusmote.SMOTENC(categorical_features=[0], random_state=0).fit_resample(
            np.column_stack([codes[:, 0], X[:3000, 1:]]), y_codes)
        from numba.core.registry import CPUDispatcher
        import gc
        loaded = [d.py_func.__qualname__ for d in gc.get_objects()
                  if isinstance(d, CPUDispatcher) and d.signatures]
        print(loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


@pytest.mark.parametrize("k", [1, 2, 5, 11, 12])
def test_k_smallest_is_the_stable_sort(k):
    rng = np.random.default_rng(k)
    for values in (rng.integers(0, 4, size=(300, 12)).astype(np.float64),  # ties everywhere
                   rng.normal(size=(300, 12))):
        values[rng.random(values.shape) < 0.05] = np.nan  # a query's own column
        values[:3] = np.nan  # rows of NaN only
        expected = np.argsort(values, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(numpy_search._k_smallest(values, k), expected)


CLEANERS = [("under_sampling.EditedNearestNeighbours", {}), ("under_sampling.TomekLinks", {}),
            ("combine.SMOTEENN", {"random_state": 0}), ("combine.SMOTETomek", {"random_state": 0})]


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("path, params", CLEANERS, ids=[c[0].split(".")[1] for c in CLEANERS])
def test_cleaners_small_path_is_imblearns(path, params, tied, monkeypatch):
    import importlib

    package, name = path.split(".")
    ours = getattr(importlib.import_module(f"gpusmote.{package}"), name)
    theirs = getattr(importlib.import_module(f"imblearn.{package}"), name)
    rng = np.random.default_rng(8)
    X = rng.integers(0, 3, size=(400, 4)).astype(np.float64) if tied else rng.normal(size=(400, 4))
    y = (rng.random(400) < 0.2).astype(int)
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30)
    monkeypatch.setattr(_backend, "SMALL_INDEX_ELEMENTS", 1 << 30)
    sampler = ours(**params)
    result = sampler.fit_resample(X, y)
    assert_same_resample(result, theirs(**params).fit_resample(X, y))


def test_cleaners_first_call_rule(monkeypatch):
    from gpusmote.under_sampling import _base as cleaning

    monkeypatch.setattr(cleaning, "COLD_SMALL_ROWS", 1 << 14)
    X = np.zeros((10_000, 8))
    monkeypatch.setattr(cleaning, "kernels_loaded", lambda: False)
    assert cleaning.cleaning_backend(_backend.CPU, X, "imblearn") is _backend.CPU_SMALL
    assert cleaning.cleaning_backend(_backend.CPU, X, "index") is _backend.CPU  # NumPy's brute force there
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((20_000, 8)), "imblearn") is _backend.CPU
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((10_000, 128)), "imblearn") is _backend.CPU
    with cleaning.cleaning_over_sampled(10_000):  # a combined sampler's: the rows it was given
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((18_000, 8)), "imblearn") is _backend.CPU_SMALL
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((18_000, 8)), "imblearn") is _backend.CPU
    with cleaning.cleaning_over_sampled(20_000):
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((36_000, 8)), "imblearn") is _backend.CPU
    with cleaning.cleaning_over_sampled(20_000, 1.5):  # SMOTETomek's scale
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((36_000, 8)), "imblearn") is _backend.CPU_SMALL
    with cleaning.cleaning_over_sampled(9_000):  # 16 features: scikit-learn's brute force, every row counts
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((17_800, 16)), "imblearn") is _backend.CPU
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((16_000, 16)), "imblearn") is _backend.CPU_SMALL
        assert cleaning.cleaning_backend(_backend.CPU, np.zeros((17_800, 15)), "imblearn") is _backend.CPU_SMALL
    monkeypatch.setattr(cleaning, "kernels_loaded", lambda: True)  # a warm process: the kernels
    assert cleaning.cleaning_backend(_backend.CPU, X, "imblearn") is _backend.CPU
    monkeypatch.setattr(cleaning, "WARM_SMALL_ROWS", 2_800)
    # ... except scikit-learn's brute force on a few thousand rows of more than 15 features
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((2_000, 34)), "imblearn") is _backend.CPU_SMALL
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((4_000, 34)), "imblearn") is _backend.CPU
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((2_000, 34)), "index") is _backend.CPU
    assert cleaning.cleaning_backend(_backend.CPU, np.zeros((9_000, 8)), "imblearn") is _backend.CPU


@pytest.mark.parametrize("name, small_path", [("SMOTEENN", False), ("SMOTETomek", True)])
def test_combined_samplers_first_call_row_limit(monkeypatch, name, small_path):
    # 130 rows given against a limit of 100: past SMOTEENN's, within SMOTETomek's 1.5x
    from gpusmote.under_sampling import _base as cleaning

    monkeypatch.setattr(cleaning, "COLD_SMALL_ROWS", 100)
    monkeypatch.setattr(cleaning, "kernels_loaded", lambda: False)
    monkeypatch.setattr(_backend, "SMALL_INDEX_ELEMENTS", 0)
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 0)
    chosen = []
    original = cleaning.cleaning_backend
    monkeypatch.setattr(cleaning, "cleaning_backend", lambda *args: chosen.append(original(*args)) or chosen[-1])
    X, y = make_classes([100, 30], n_features=4, seed=4)
    getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
    assert chosen == [_backend.CPU_SMALL if small_path else _backend.CPU]


def test_cleaners_small_path_fits_scikit_learn_once(monkeypatch):
    from gpusmote.under_sampling import EditedNearestNeighbours

    fits = []
    original = _query.fitted_sklearn_search
    monkeypatch.setattr(_query, "fitted_sklearn_search", lambda *args: fits.append(1) or original(*args))
    monkeypatch.setattr(_backend, "SMALL_INDEX_ELEMENTS", 1 << 30)
    monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30)
    monkeypatch.setattr(_query, "SMALL_NUMPY_TERMS", 0)  # scikit-learn's search for every class
    X, y = make_classes([150, 40, 25], n_features=5, seed=9)
    EditedNearestNeighbours(sampling_strategy="all").fit_resample(X, y)
    assert len(fits) == 1  # one fit for the three classes' queries, as imbalanced-learn's nn_
