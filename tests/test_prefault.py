"""Faulting a fresh output in ahead of its writes (gpusmote/engine/_prefault.py):
pages become resident, contents never change, writes racing it land, and the
engine waits for it before handing the output out."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future

import imblearn.over_sampling as reference
import numpy as np
import pytest

import gpusmote
from gpusmote.engine import _prefault, _resample
from gpusmote.kernels import _populate
from helpers import assert_same_resample, make_classes

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise(MADV_POPULATE_WRITE) is Linux's")


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _populate.mmap.PAGESIZE


def _fresh(n_bytes: int) -> np.ndarray:
    from gpusmote.engine._resample import empty_output

    return empty_output((n_bytes // 8 // 64, 64), np.float64)  # the engine's own allocation


@linux
def test_populate_makes_pages_resident_without_writing():
    array = _fresh(64 << 20)
    before = _resident_bytes()
    if not _populate.populate(array):
        pytest.skip("kernel before 5.14: no MADV_POPULATE_WRITE (the writes fault the pages in)")
    assert _resident_bytes() - before > 0.9 * array.nbytes
    array[:] = 3.5
    view = array.reshape(-1)
    assert _populate.populate(view[1:-1])  # an unaligned slice: its whole pages only
    assert not _populate.populate(array[:, ::2])  # no single block of memory: refused, untouched
    assert (array == 3.5).all()  # populating resident pages changes nothing


@linux
def test_writes_racing_the_background_populate_all_land():
    array = _fresh(48 << 20)
    expected = np.arange(array.size, dtype=np.float64).reshape(array.shape)
    future = _prefault.populate_in_background(array)
    assert future is not None
    for start in range(0, len(array), 997):  # the caller writes while the pages are faulted in
        array[start : start + 997] = expected[start : start + 997]
    future.result()
    np.testing.assert_array_equal(array, expected)


def test_nothing_in_the_background_where_it_cannot_pay(monkeypatch):
    monkeypatch.setattr(_prefault, "MIN_POPULATE_BYTES", 1 << 22)
    assert _prefault.populate_in_background(np.empty(1000)) is None  # small
    assert _prefault.populate_in_background([0.0] * (1 << 20)) is None  # not a NumPy array
    assert _prefault.populate_in_background(np.empty((1 << 20, 2))[:, 0]) is None  # not contiguous
    monkeypatch.setattr(_prefault, "n_threads", lambda: 1)
    assert _prefault.populate_in_background(np.empty(1 << 20)) is None  # one core: nothing to overlap
    monkeypatch.undo()
    monkeypatch.setattr(_prefault, "MIN_POPULATE_BYTES", 0)
    nested = _prefault.background_pool().submit(lambda: _prefault.populate_in_background(np.empty(1 << 20)))
    assert nested.result() is None  # from gpusmote's own threads (a pool task never waits on a pool)


def _watched_prefault(started: list, waited: threading.Event):
    """A stand-in for populate_in_background: records what it was given and
    when its future is waited for."""

    class Watched(Future):
        def result(self, timeout=None):
            waited.set()
            return super().result(timeout)

    def fake(*arrays):
        started.append(sum(a.nbytes for a in arrays))
        future = Watched()
        future.set_result(None)
        return future

    return fake


@pytest.mark.parametrize("fail", [False, True])
def test_the_engine_waits_for_the_prefault_before_returning(fail, monkeypatch):
    started, waited = [], threading.Event()
    monkeypatch.setattr(_prefault, "populate_in_background", _watched_prefault(started, waited))
    X, y = make_classes([300, 40], n_features=6, seed=2)
    if fail:
        monkeypatch.setattr(_resample, "_class_neighbors", lambda *args: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            gpusmote.SMOTE(random_state=0).fit_resample(X, y)
    else:
        X_res, _ = gpusmote.SMOTE(random_state=0).fit_resample(X, y)
        # the rows after the originals and their labels, not the originals' (copied now)
        assert started == [(len(X_res) - len(X)) * (X.shape[1] * X.itemsize + 8)]
    assert waited.is_set()


def test_each_class_is_faulted_in_when_its_turn_comes(monkeypatch):
    # SMOTE's classes one at a time, in label order, each block (rows and
    # labels) before its k-NN; all waited for.
    started, waited = [], threading.Event()
    monkeypatch.setattr(_prefault, "populate_in_background", _watched_prefault(started, waited))
    X, y = make_classes([300, 120, 40, 70], n_features=5, seed=4)
    searched_before = []
    original = _resample._class_neighbors
    monkeypatch.setattr(_resample, "_class_neighbors",
                        lambda *args: searched_before.append(len(started)) or original(*args))
    X_res, y_res = gpusmote.SMOTE(random_state=0).fit_resample(X, y)
    row_bytes = X.shape[1] * X.itemsize + y.itemsize
    assert started == [(300 - n) * row_bytes for n in (120, 40, 70)] and searched_before == [1, 2, 3]
    assert waited.is_set()
    assert_same_resample((X_res, y_res), reference.SMOTE(random_state=0).fit_resample(X, y))


@pytest.mark.parametrize("shrinkage", [None, 0.5])
def test_random_over_sampler_waits_for_the_prefault_of_its_new_rows(shrinkage, monkeypatch):
    started, waited = [], threading.Event()
    monkeypatch.setattr(_prefault, "populate_in_background", _watched_prefault(started, waited))
    X, y = make_classes([300, 40], n_features=6, seed=2)
    ours = gpusmote.RandomOverSampler(random_state=0, shrinkage=shrinkage).fit_resample(X, y)
    assert started == [(len(ours[0]) - len(X)) * X.shape[1] * X.itemsize] and waited.is_set()
    assert_same_resample(ours, reference.RandomOverSampler(random_state=0, shrinkage=shrinkage).fit_resample(X, y))


@pytest.mark.parametrize("name, params", [("SMOTE", {}), ("ADASYN", {}),
                                          ("BorderlineSMOTE", {"kind": "borderline-2"}),
                                          ("RandomOverSampler", {}), ("RandomOverSampler", {"shrinkage": 0.3})])
def test_outputs_past_the_threshold_are_imblearns(name, params, monkeypatch):
    # Large enough that the background thread has whole pages to fault in while
    # the rows are written (the session's threshold is 0; here the default).
    monkeypatch.setattr(_prefault, "MIN_POPULATE_BYTES", 1 << 22)
    X, y = make_classes([60_000, 4_000], n_features=24, dtype=np.float32, seed=12)
    calls = []
    original = _prefault.populate_in_background
    recording = lambda *arrays: calls.append(original(*arrays)) or calls[-1]  # noqa: E731
    monkeypatch.setattr(_prefault, "populate_in_background", recording)
    ours = getattr(gpusmote, name)(random_state=0, **params).fit_resample(X, y)
    assert calls and calls[0] is not None
    assert_same_resample(ours, getattr(reference, name)(random_state=0, **params).fit_resample(X, y))


def test_a_kernel_that_refuses_the_advice_is_asked_once(monkeypatch):
    # Linux before 5.14 answers EINVAL: the copies stop asking, the writes fault
    # the pages in as they always did, and the rows are copied all the same.
    import ctypes
    import errno

    from gpusmote.kernels.copy_rows import copy_rows

    calls = []

    def refusing(address, length, advice):
        calls.append(advice)
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(_populate, "_madvise", lambda: refusing)
    monkeypatch.setattr(_populate, "_refused", False)
    src = np.arange(1 << 20, dtype=np.float64).reshape(-1, 64)
    out = _fresh(src.nbytes)
    copy_rows(out, src)
    np.testing.assert_array_equal(out, src)
    asked = len(calls)  # once per copying thread at most (they may ask at the same moment)
    assert 1 <= asked <= 4 and set(calls) == {_populate.MADV_POPULATE_WRITE} and not _populate.can_populate()
    assert _prefault.populate_in_background(out) is None
    copy_rows(_fresh(src.nbytes), src)
    assert len(calls) == asked
