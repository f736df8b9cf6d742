"""SMOTENC's categorical kernels (``gpusmote.kernels.categorical_ties``)
against imbalanced-learn's dense rule and the counter-based definition, the
CUDA twins against the CPU kernels, and SMOTENC's NumPy (small data) path
against its kernel path and imbalanced-learn."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn.over_sampling import SMOTENC as ImbSMOTENC

from gpusmote import SMOTENC
from gpusmote.devices import _backend
from gpusmote.kernels import categorical_ties
from gpusmote.over_sampling._categorical import _permutation_positions, _tie_table
from helpers import assert_same_resample

# (feature widths, k, one-hot value): plain, many ties, a value so tiny that
# absent levels tie too (np.isclose's atol), one-level features
CASES = [((3, 7), 5, 0.7), ((6, 2, 9), 4, 1.0), ((5, 4), 6, 1e-10), ((1, 3), 3, 0.5), ((40,), 5, 0.25)]


def _case(widths, k, seed, n_class=80, n_new=300):
    rng = np.random.RandomState(seed)
    codes = np.stack([rng.randint(0, w, n_class) for w in widths], axis=1).astype(np.int64)
    table = np.stack([rng.choice(n_class, k, replace=False) for _ in range(n_class)]).astype(np.int64)
    rows = rng.randint(0, n_class, n_new).astype(np.int64)
    return codes, table, rows, np.asarray(widths, dtype=np.int64)


def _imblearn_rule(codes, table, rows, widths, one, rng):
    """imbalanced-learn 0.14.2's SMOTENC expression: dense one-hot neighbour
    blocks, column sums, ``isclose`` to the maximum, one permutation per feature."""
    out = np.empty((rows.size, widths.size), dtype=np.int64)
    for f, width in enumerate(widths):
        dense = np.zeros((rows.size, table.shape[1], width))
        dense[np.arange(rows.size)[:, None], np.arange(table.shape[1]), codes[table[rows], f]] = one
        col_maxs = dense.sum(axis=1)
        is_max = np.isclose(col_maxs, col_maxs.max(axis=1, keepdims=True))
        max_idxs = rng.permutation(np.argwhere(is_max))
        _, first = np.unique(max_idxs[:, 0], return_index=True)
        out[:, f] = max_idxs[first, 1]
    return out


def _uniform_rule(codes, table, rows, widths, ties, uniforms):
    """The counter-based definition: tied level number floor(u * n_tied)."""
    out = np.empty((rows.size, widths.size), dtype=np.int64)
    for j, r in enumerate(rows):
        for f, width in enumerate(widths):
            counts = np.bincount(codes[table[r], f], minlength=width)
            tied = np.flatnonzero(ties[counts, counts.max()])
            out[j, f] = tied[min(int(uniforms[j, f] * tied.size), tied.size - 1)]
    return out


def _picked_by_positions(codes, table, rows, widths, ties, rng, on_cuda=False):
    n_tied = np.empty((rows.size, widths.size), dtype=np.int64)
    categorical_ties.tied_counts(n_tied, codes, table, rows, widths, ties, on_cuda=on_cuda)
    positions, offsets = _permutation_positions(n_tied, rng)
    out = np.empty_like(n_tied)
    categorical_ties.pick_by_positions(out, codes, table, rows, widths, ties, positions, offsets,
                                       on_cuda=on_cuda)
    return out, n_tied


@pytest.mark.parametrize("widths, k, one", CASES)
def test_positions_kernel_is_imblearns_dense_rule(widths, k, one):
    codes, table, rows, widths = _case(widths, k, seed=len(widths) + k)
    one = np.float64(one)
    theirs_rng, ours_rng = np.random.RandomState(5), np.random.RandomState(5)
    expected = _imblearn_rule(codes, table, rows, widths, one, theirs_rng)
    got, n_tied = _picked_by_positions(codes, table, rows, widths, _tie_table(one, k), ours_rng)
    np.testing.assert_array_equal(got, expected)
    assert theirs_rng.randint(1 << 30) == ours_rng.randint(1 << 30)  # the same draws consumed
    assert n_tied.min() >= 1 and (n_tied > 1).any()  # ties occur: the draw matters
    if one < 1e-8:
        assert (n_tied == widths).all()  # absent levels tie too


@pytest.mark.parametrize("widths, k, one", CASES)
def test_uniforms_kernel_is_the_definition(widths, k, one):
    codes, table, rows, widths = _case(widths, k, seed=7 + k)
    ties = _tie_table(np.float64(one), k)
    uniforms = np.random.RandomState(3).uniform(size=(rows.size, widths.size))
    uniforms[:5] = np.nextafter(1.0, 0)  # the last tied level, never past it
    got = np.empty((rows.size, widths.size), dtype=np.int64)
    categorical_ties.pick_by_uniforms(got, codes, table, rows, widths, ties, uniforms)
    np.testing.assert_array_equal(got, _uniform_rule(codes, table, rows, widths, ties, uniforms))


@pytest.mark.parametrize("widths, k, one", CASES[:3])
def test_cuda_twins_agree_with_the_cpu_kernels(widths, k, one):
    codes, table, rows, widths = _case(widths, k, seed=11, n_class=30, n_new=60)
    ties = _tie_table(np.float64(one), k)
    cpu = _picked_by_positions(codes, table, rows, widths, ties, np.random.RandomState(1))
    gpu = _picked_by_positions(codes, table, rows, widths, ties, np.random.RandomState(1), on_cuda=True)
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_array_equal(gpu[0], cpu[0])
    uniforms = np.random.RandomState(2).uniform(size=(rows.size, widths.size))
    picks = []
    for on_cuda in (False, True):
        out = np.full((rows.size, widths.size), -1, dtype=np.int64)
        categorical_ties.pick_by_uniforms(out, codes, table, rows, widths, ties, uniforms, on_cuda=on_cuda)
        picks.append(out)
    np.testing.assert_array_equal(picks[1], picks[0])


@pytest.mark.parametrize("rng", ["imblearn", "philox"])
@pytest.mark.parametrize("scale", [1.0, 1e-9])
def test_smotenc_small_path_is_the_kernel_path(rng, scale, monkeypatch):
    data = np.random.RandomState(4)
    continuous = data.normal(size=(400, 3)) * scale
    codes = np.stack([data.randint(0, 4, 400), data.randint(0, 9, 400)], axis=1)
    X, y = np.hstack([continuous, codes]), (data.uniform(size=400) < 0.2).astype(int)
    results = []
    for small in (True, False):
        monkeypatch.setattr(_backend, "SMALL_DATA_ELEMENTS", 1 << 30 if small else 0)
        results.append(SMOTENC([3, 4], random_state=0, rng=rng).fit_resample(X, y))
    assert_same_resample(results[0], results[1])
    if rng == "imblearn":
        assert_same_resample(results[1], ImbSMOTENC([3, 4], random_state=0).fit_resample(X, y))


@pytest.mark.parametrize("magnitude", [1.0, 1e-200, 1e200])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_codes_search_is_the_one_hot_search(magnitude, device):
    """The k-NN from codes against the dense search of the one-hot rows (the
    table imbalanced-learn's metric gives), at scales that need the power of
    two, on both engines; quantised continuous data makes distance ties."""
    from gpusmote.devices._resolve import resolve_device
    from gpusmote.neighbors._cpu import kneighbors_excluding_self
    from gpusmote.over_sampling._categorical import _mixed_kneighbors

    rng = np.random.RandomState(6)
    n, widths = (200 if device == "cpu" else 60), [7, 1, 30]
    continuous = np.round(rng.normal(size=(n, 2)), 1) * magnitude
    codes = np.stack([rng.randint(0, w, n) for w in widths], axis=1).astype(np.int64)
    for scaled in (0.35 * magnitude, 0.0):
        dense = np.zeros((n, 2 + sum(widths)))
        dense[:, :2] = continuous
        dense[np.arange(n)[:, None], 2 + np.array([0, 7, 8]) + codes] = scaled
        expected = kneighbors_excluding_self(dense, 6)
        got = _mixed_kneighbors(continuous, codes, widths, scaled, 6, resolve_device(device))
        np.testing.assert_array_equal(got, expected)
