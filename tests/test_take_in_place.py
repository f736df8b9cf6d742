"""Selecting rows into an array's own first rows (kernels/take_in_place.py)
and the cleaners' use of it (``select_rows`` within ``consumable``), against
NumPy's fancy indexing."""

from __future__ import annotations

import numpy as np
import pytest

from gpusmote.devices._backend import CPU
from gpusmote.kernels.take_in_place import take_rows_in_place
from gpusmote.under_sampling import _base as cleaning_base
from gpusmote.under_sampling._base import consumable, select_rows


@pytest.fixture
def in_place_at_any_size(monkeypatch):
    """Permitted arrays of any size are selected in place, whether or not this
    process has loaded a kernel yet (which these small arrays depend on)."""
    monkeypatch.setattr(cleaning_base, "IN_PLACE_MIN_BYTES", 0)


def _selections(n_rows: int, rng):
    yield np.arange(n_rows)  # every row in place
    yield np.arange(n_rows)[::-1]  # one permutation of 2-cycles
    yield rng.permutation(n_rows)
    yield np.sort(rng.choice(n_rows, size=n_rows // 2, replace=False))  # TomekLinks: ascending
    yield rng.choice(n_rows, size=n_rows // 3, replace=False)  # any order
    yield np.array([n_rows - 1])
    yield np.empty(0, dtype=np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.complex128, np.bool_])
@pytest.mark.parametrize("shape", [(37, 5), (37,), (37, 2, 3), (1, 4)])
def test_equals_fancy_indexing_and_keeps_the_rest(dtype, shape):
    rng = np.random.default_rng(len(shape) * 7 + np.dtype(dtype).itemsize)
    original = (rng.normal(size=shape) * 50).astype(dtype)
    for indices in _selections(shape[0], rng):
        rows = original.copy()
        take_rows_in_place(rows, indices)
        np.testing.assert_array_equal(rows[: len(indices)], original[indices])
        # the rows not taken are still there (a permutation): nothing lost or duplicated
        left = np.setdiff1d(np.arange(shape[0]), indices)
        assert sorted(row.tobytes() for row in rows[len(indices):]) == sorted(
            row.tobytes() for row in original[left])


def test_int32_indices_and_many_rows():
    rng = np.random.default_rng(1)
    original = rng.normal(size=(20_000, 3)).astype(np.float32)
    indices = rng.choice(20_000, size=15_000, replace=False).astype(np.int32)
    rows = original.copy()
    take_rows_in_place(rows, indices)
    np.testing.assert_array_equal(rows[:15_000], original[indices])


def _labelled(n_rows=30, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n_rows, n_features)), rng.integers(0, 3, size=n_rows)


def test_select_rows_in_place_only_for_the_permitted_array(in_place_at_any_size):
    X, y = _labelled()
    indices = np.array([5, 2, 29, 0, 17])
    expected = X[indices]
    with consumable(X):
        X_res, y_res = select_rows(X, y, indices, CPU)
    assert X_res is X and X.shape == (5, 4) and X.flags.owndata
    np.testing.assert_array_equal(X_res, expected)
    np.testing.assert_array_equal(y_res, y[indices])

    X, y = _labelled(seed=1)
    other = X.copy()
    with consumable(other):  # permitted: another array, so X is copied from
        X_res, _ = select_rows(X, y, indices, CPU)
    assert X_res is not X and X.shape == (30, 4)
    np.testing.assert_array_equal(X_res, X[indices])


@pytest.mark.parametrize("make", [
    lambda X: X[2:],  # a view: its rows belong to another array
    lambda X: np.asfortranarray(X),
    lambda X: X.astype(object),
])
def test_consumable_refuses_what_it_cannot_shrink(make, in_place_at_any_size):
    X, y = _labelled(seed=2)
    candidate = make(X.copy())
    before = candidate.copy()
    indices = np.array([3, 1])
    with consumable(candidate):
        X_res, _ = select_rows(candidate, y[: len(candidate)], indices, CPU)
    assert X_res is not candidate
    np.testing.assert_array_equal(candidate, before)
    np.testing.assert_array_equal(X_res, before[indices])


def test_permission_ends_with_the_block(in_place_at_any_size):
    X, y = _labelled(seed=3)
    with consumable(X):
        pass
    X_res, _ = select_rows(X, y, np.array([1, 0]), CPU)
    assert X_res is not X and X.shape == (30, 4)


@pytest.mark.parametrize("loaded", [False, True])
def test_small_arrays_are_copied_from_until_kernels_are_loaded(loaded, monkeypatch):
    # the in-place move is a kernel: a process that has loaded none (the
    # small-data path) copies a small X rather than pay the first load
    monkeypatch.setattr(cleaning_base, "kernels_loaded", lambda: loaded)
    X, y = _labelled(seed=4)
    before, indices = X.copy(), np.array([7, 3, 11])
    with consumable(X):
        X_res, _ = select_rows(X, y, indices, CPU)
    assert (X_res is X) is loaded
    np.testing.assert_array_equal(X_res, before[indices])
    if not loaded:
        np.testing.assert_array_equal(X, before)
        monkeypatch.setattr(cleaning_base, "IN_PLACE_MIN_BYTES", X.nbytes)  # large enough: in place
        with consumable(X):
            X_res, _ = select_rows(X, y, indices, CPU)
        assert X_res is X and X.shape == (3, 4)
        np.testing.assert_array_equal(X_res, before[indices])
