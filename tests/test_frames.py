"""DataFrame output: imbalanced-learn's frame (values, dtypes, columns, index), built faster."""

from __future__ import annotations

import imblearn.over_sampling as reference
import numpy as np
import pandas as pd
import pytest

import gpusmote
from gpusmote.kernels import _row_threads
from gpusmote.over_sampling import _frames
from gpusmote.over_sampling._frames import frame_from_array


def mixed_frame(n_rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Interleaved float32, int64, bool, float64, int8 and uint16 columns, and
    a minority class of 15%."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "amount": rng.normal(size=n_rows).astype(np.float32),
        "count": rng.integers(0, 1000, n_rows),
        "v1": rng.normal(size=n_rows).astype(np.float32),
        "flag": rng.random(n_rows) < 0.3,
        "score": rng.normal(size=n_rows) * 1e3,
        "small": rng.integers(-100, 100, n_rows).astype(np.int8),
        "v2": rng.normal(size=n_rows).astype(np.float32),
        "unsigned": rng.integers(0, 60000, n_rows).astype(np.uint16),
    }, index=pd.RangeIndex(1000, 1000 + n_rows))
    y = pd.Series((rng.random(n_rows) < 0.15).astype(np.int64), name="fraud", index=frame.index)
    return frame, y


@pytest.mark.parametrize("name", ["SMOTE", "ADASYN", "RandomOverSampler", "BorderlineSMOTE"])
def test_mixed_frame_is_imblearns_frame(name, monkeypatch):
    monkeypatch.setattr(_row_threads, "MIN_THREAD_BYTES", 1)  # several threads even here
    monkeypatch.setattr(_frames, "_CACHE_BYTES", 100)  # several sub-ranges per thread
    X, y = mixed_frame()
    ours = getattr(gpusmote, name)(random_state=0).fit_resample(X, y)
    theirs = getattr(reference, name)(random_state=0).fit_resample(X, y)
    pd.testing.assert_frame_equal(ours[0], theirs[0], check_exact=True)
    pd.testing.assert_series_equal(ours[1], theirs[1], check_exact=True)
    assert list(ours[0].dtypes) == list(X.dtypes)
    assert ours[0].columns.equals(X.columns) and isinstance(ours[0].index, pd.RangeIndex)


@pytest.mark.parametrize("name, package", [("EditedNearestNeighbours", "under_sampling"),
                                           ("TomekLinks", "under_sampling"), ("SMOTEENN", "combine"),
                                           ("SMOTETomek", "combine")])
def test_cleaners_and_combined_samplers_rebuild_frames_here(name, package, monkeypatch):
    import importlib

    built = []
    original = _frames.frame_from_array
    monkeypatch.setattr(_frames, "frame_from_array", lambda *args: built.append(1) or original(*args))
    X, y = mixed_frame()
    ours, theirs = (getattr(importlib.import_module(f"{lib}.{package}"), name)
                    for lib in ("gpusmote", "imblearn"))
    seeded = {"random_state": 0} if package == "combine" else {}
    result = ours(**seeded).fit_resample(X, y)
    expected = theirs(**seeded).fit_resample(X, y)
    pd.testing.assert_frame_equal(result[0], expected[0], check_exact=True)
    pd.testing.assert_series_equal(result[1], expected[1], check_exact=True)
    assert built == [1]  # this module's rebuild, not imbalanced-learn's


@pytest.mark.parametrize("columns", [
    pd.Index(["a", "b", "a"]),  # duplicate names
    pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1)]),
    pd.Index([3, 1, 2]),  # non-string names
])
def test_frames_it_does_not_cover_take_imblearns_path(columns):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(200, 3)).astype(np.float32), columns=columns)
    y = pd.Series((rng.random(200) < 0.2).astype(int))
    try:
        theirs = reference.SMOTE(random_state=0).fit_resample(X, y)
    except Exception as error:  # scikit-learn refuses duplicate names: so do we
        with pytest.raises(type(error)):
            gpusmote.SMOTE(random_state=0).fit_resample(X, y)
        return
    ours = gpusmote.SMOTE(random_state=0).fit_resample(X, y)
    pd.testing.assert_frame_equal(ours[0], theirs[0], check_exact=True)


def test_frame_from_array_is_dataframe_then_astype(monkeypatch):
    monkeypatch.setattr(_row_threads, "MIN_THREAD_BYTES", 1)
    monkeypatch.setattr(_row_threads, "n_threads", lambda: 3)
    monkeypatch.setattr(_frames, "_CACHE_BYTES", 64)
    rng = np.random.default_rng(2)
    array = rng.normal(size=(1001, 7)) * 50
    columns = pd.Index(list("abcdefg"))
    dtypes = pd.Series([np.dtype(t) for t in (np.float32, np.int64, np.float32, bool, np.int16,
                                              np.float64, np.float32)], index=columns)
    expected = pd.DataFrame(array, columns=columns).astype(dtypes)
    got = frame_from_array(array, columns, dtypes)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.columns is columns
    # nothing to build for object or extension dtypes: imbalanced-learn's path
    assert frame_from_array(array, columns, dtypes.replace({np.dtype(bool): np.dtype(object)})) is None
    assert frame_from_array(array, columns, dtypes.astype(object).where(dtypes != np.dtype(bool),
                                                                        pd.Int64Dtype())) is None
