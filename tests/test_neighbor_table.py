"""A neighbours estimator's table is checked before any kernel reads it (issue 13, item 2).

imbalanced-learn fails with an IndexError on out-of-range or non-integer
indices; before the check gpusmote wrote garbage rows (or crashed the process
for large indices) and gave a long Numba TypingError for float ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE as ReferenceSMOTE
from sklearn.base import BaseEstimator

from gpusmote import SMOTE
from gpusmote.neighbors._table import checked_neighbor_table
from helpers import make_classes


class FixedTable(BaseEstimator):
    """A neighbours estimator whose ``kneighbors`` returns ``table(n_rows)``."""

    def __init__(self, n_neighbors=4, kind="global_ids"):
        self.n_neighbors = n_neighbors
        self.kind = kind

    def fit(self, X, y=None):
        self.n_fit_ = X.shape[0]
        return self

    def kneighbors(self, X, n_neighbors=None, return_distance=True):
        n, k = X.shape[0], self.n_neighbors
        base = np.arange(n)[:, None] + np.arange(k)[None, :]
        table = {
            "good": base % n,
            "global_ids": base % n + 1000,      # row ids of the whole data set
            "huge": base % n + 2**40,           # would read far outside memory
            "negative": base % n - n - 3,
            "float": (base % n).astype(np.float64),
            "bool": (base % 2).astype(bool),
            "one_dimensional": (base % n)[:, 0],
            "short": (base % n)[: n - 1],
            "fortran": np.asfortranarray(base % n),
        }[self.kind]
        return (np.zeros(table.shape), table) if return_distance else table

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        raise NotImplementedError


@pytest.fixture(scope="module")
def data():
    return make_classes([80, 20, 12], n_features=5, seed=17)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("kind", ["global_ids", "huge", "negative"])
def test_out_of_range_indices_raise_index_error(data, device, kind):
    X, y = data
    X_before = X.copy()
    with pytest.raises(IndexError, match=r"kneighbors returned neighbour index -?\d+, out of bounds "
                                         r"for the \d+ rows it was fitted on"):
        SMOTE(device=device, random_state=0, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_non_integer_indices_raise_index_error_like_imblearn(data, device, kind):
    X, y = data
    with pytest.raises(IndexError, match=f"neighbour indices of dtype {np.dtype(kind if kind == 'bool' else 'float64')}"):
        SMOTE(device=device, random_state=0, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)
    if kind == "float":
        with pytest.raises(IndexError):
            ReferenceSMOTE(random_state=0, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)


@pytest.mark.parametrize("kind", ["global_ids", "huge"])
def test_imblearn_raises_index_error_too(data, kind):
    X, y = data
    with pytest.raises(IndexError):
        ReferenceSMOTE(random_state=0, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("kind", ["short"])
def test_wrong_shape_is_named(data, device, kind):
    X, y = data
    with pytest.raises(ValueError, match=r"neighbour table of shape \(\d+, 3\) for \d+ rows"):
        SMOTE(device=device, random_state=0, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)


def test_one_dimensional_table_fails_like_imblearn(data):
    X, y = data
    with pytest.raises(IndexError):  # column 0 cannot be dropped: NumPy's error, as imbalanced-learn's
        SMOTE(random_state=0, k_neighbors=FixedTable(kind="one_dimensional")).fit_resample(X, y)
    with pytest.raises(IndexError):
        ReferenceSMOTE(random_state=0, k_neighbors=FixedTable(kind="one_dimensional")).fit_resample(X, y)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("kind", ["good", "fortran"])
def test_valid_tables_in_any_layout_give_imblearns_rows(data, device, kind):
    X, y = data
    ours = SMOTE(device=device, random_state=5, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)
    reference = ReferenceSMOTE(random_state=5, k_neighbors=FixedTable(kind=kind)).fit_resample(X, y)
    np.testing.assert_array_equal(ours[0], reference[0], strict=True)
    np.testing.assert_array_equal(ours[1], reference[1], strict=True)


def test_checked_table_is_contiguous_int64():
    table = np.asfortranarray(np.arange(12, dtype=np.int32).reshape(4, 3) % 4)[:, 1:]
    checked = checked_neighbor_table(table, 4)
    assert checked.dtype == np.int64 and checked.flags.c_contiguous
    np.testing.assert_array_equal(checked, table)
    for bad in (np.array([[0, 4]]), np.array([[0, -1]])):
        with pytest.raises(IndexError):
            checked_neighbor_table(np.repeat(bad, 4, axis=0), 4)
    with pytest.raises(ValueError, match=r"shape \(4, 0\)"):
        checked_neighbor_table(np.empty((4, 0), dtype=np.int64), 4)
