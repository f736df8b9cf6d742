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
    """In a fresh process a small fit_resample compiles or loads no Numba kernel."""
    script = textwrap.dedent("""
        import numpy as np
        import numba.core.registry
        import gpusmote
        rng = np.random.default_rng(0)
        # 6,000 x 8 (the small path even with ties='index'), ~4,800 new rows: more
        # draws than the compiled MT19937 takes, which waits for a loaded kernel
        X = rng.normal(size=(6000, 8)); y = (rng.random(6000) < 0.1).astype(int)
        for name in ("SMOTE", "ADASYN", "BorderlineSMOTE", "RandomOverSampler"):
            getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
        from numba.core.registry import CPUDispatcher
        import gc
        loaded = [d.py_func.__qualname__ for d in gc.get_objects()
                  if isinstance(d, CPUDispatcher) and d.signatures]
        print(loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
