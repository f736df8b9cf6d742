"""gpusmote.engine._labels: y's sorted labels found once (by counting for
narrow integer labels) and cached where scikit-learn's checks read them."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.utils import check_sampling_strategy
from sklearn.utils._unique import cached_unique
from sklearn.utils.multiclass import type_of_target

from gpusmote import SMOTE
from gpusmote.engine import _labels
from gpusmote.engine._labels import plain_dtype, sorted_labels, with_cached_labels


@pytest.mark.parametrize("y", [
    np.array([0, 1, 1, 0, 5], dtype=np.int64),
    np.array([-3, 7, 7, -3, 2], dtype=np.int32),
    np.array([200, 3, 3], dtype=np.uint8),
    np.array([2**63 - 1, 2**63 - 2], dtype=np.int64),  # narrow range at the top
    np.array([0, 2**40], dtype=np.int64),  # wide: np.unique
    np.array([2**64 - 1, 0], dtype=np.uint64),  # wide unsigned: np.unique
    np.array([1, 0, 1], dtype=">i8"),  # big-endian
    np.array([True, False, True]),
    np.array([0.5, 2.0, 0.5]),
])
def test_cached_labels_are_np_unique(y):
    before = y.copy()
    view = with_cached_labels(y)
    expected = np.unique(y)
    for labels in (sorted_labels(view), cached_unique(view)):
        assert labels.dtype == expected.dtype and np.array_equal(labels, expected)
    assert np.array_equal(view, y) and view.dtype.metadata and np.array_equal(y, before, equal_nan=True)
    assert type_of_target(view) == type_of_target(y)
    assert plain_dtype(view.dtype) == np.dtype(y.dtype.str).newbyteorder("=")


def test_counting_is_taken_only_for_narrow_integer_ranges(monkeypatch):
    counted = []
    real = _labels._counted_labels
    monkeypatch.setattr(_labels, "_counted_labels", lambda y: counted.append(real(y)) or counted[-1])
    with_cached_labels(np.array([4, 1, 4]))
    with_cached_labels(np.array([0, _labels.COUNTED_LABEL_RANGE + 1]))
    labels, counts = counted[0]
    assert labels.tolist() == [1, 4] and counts.tolist() == [1, 2] and counted[1] is None


def test_resampled_labels_carry_no_cache():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.r_[np.zeros(50, int), np.ones(10, int)] + 3
    _, y_res = SMOTE(random_state=0, k_neighbors=3).fit_resample(X, y)
    assert y_res.dtype.metadata is None and np.array_equal(np.unique(y_res), [3, 4])


STRATEGIES = [
    ("auto", "over-sampling"), ("minority", "over-sampling"), ("not minority", "over-sampling"),
    ("not majority", "over-sampling"), ("all", "over-sampling"), ({3: 80, 5: 40}, "over-sampling"),
    ("auto", "under-sampling"), ("majority", "under-sampling"), ({3: 5, 9: 10}, "under-sampling"),
    ("auto", "clean-sampling"), ([3, 9], "clean-sampling"), ("all", "clean-sampling"),
]


@pytest.mark.parametrize("strategy, sampling_type", STRATEGIES)
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.int16])
def test_sampling_strategy_is_imblearns(strategy, sampling_type, dtype):
    y = np.repeat(np.array([9, 3, 5], dtype=dtype), [60, 20, 12])
    np.random.default_rng(0).shuffle(y)
    view = with_cached_labels(y)
    assert view.dtype.metadata["counts"].tolist() == [20, 12, 60]
    ours = _labels.checked_sampling_strategy(strategy, view, sampling_type)
    theirs = check_sampling_strategy(strategy, y, sampling_type)
    assert ours == theirs and list(ours) == list(theirs) and type(ours) is type(theirs)
    assert [type(key) for key in ours] == [type(key) for key in theirs]
    assert [type(value) for value in ours.values()] == [type(value) for value in theirs.values()]


def test_float_strategy_and_callables_as_imblearn():
    y = np.repeat([0, 1], [50, 10])
    view = with_cached_labels(y)
    assert _labels.checked_sampling_strategy(0.5, view, "over-sampling") == check_sampling_strategy(
        0.5, y, "over-sampling")
    seen = []

    def strategy(labels):
        seen.append(type(labels))
        return {1: 30}

    assert _labels.checked_sampling_strategy(strategy, view, "over-sampling") == check_sampling_strategy(
        strategy, y, "over-sampling") == {1: 20}
    assert seen == [np.ndarray, np.ndarray]  # the callable sees y itself


@pytest.mark.parametrize("strategy, sampling_type, y", [
    ({7: 10}, "over-sampling", np.repeat([0, 1], [50, 10])),
    ({1: 5}, "over-sampling", np.repeat([0, 1], [50, 10])),
    ("auto", "over-sampling", np.zeros(10, dtype=int)),
    (0.5, "over-sampling", np.repeat([0, 1, 2], [50, 10, 5])),
    (0.1, "over-sampling", np.repeat([0, 1], [50, 10])),
])
def test_sampling_strategy_errors_are_imblearns(strategy, sampling_type, y):
    with pytest.raises(ValueError) as theirs:
        check_sampling_strategy(strategy, y, sampling_type)
    with pytest.raises(ValueError) as ours:
        _labels.checked_sampling_strategy(strategy, with_cached_labels(y), sampling_type)
    assert str(ours.value) == str(theirs.value)
