"""The chunked draw stream equals imbalanced-learn's one-shot draws."""

from __future__ import annotations

import numpy as np
import pytest

from gpusmote._random import iter_imblearn_draws


def imblearn_draws(rs, n_rows, k, n):
    idx = rs.randint(low=0, high=n_rows * k, size=n)
    steps = rs.uniform(size=n)
    return idx // k, idx % k, steps


@pytest.mark.parametrize("chunk", [1, 7, 1000, None])
@pytest.mark.parametrize("n_rows,k,n", [(10, 5, 333), (3, 1, 50), (100_000, 7, 1000)])
def test_chunks_concatenate_to_one_shot(chunk, n_rows, k, n):
    chunks = list(iter_imblearn_draws(17, n_rows, k, n, chunk))
    rows, cols, steps = imblearn_draws(np.random.RandomState(17), n_rows, k, n)
    np.testing.assert_array_equal(np.concatenate([c.rows for c in chunks]), rows)
    np.testing.assert_array_equal(np.concatenate([c.cols for c in chunks]), cols)
    np.testing.assert_array_equal(np.concatenate([c.steps for c in chunks]), steps)
    assert [c.start for c in chunks] == list(range(0, n, chunk or n))[: len(chunks)]


def test_instance_is_advanced_like_imblearn():
    ours, reference = np.random.RandomState(5), np.random.RandomState(5)
    list(iter_imblearn_draws(ours, 20, 5, 99, 10))
    imblearn_draws(reference, 20, 5, 99)
    assert ours.get_state()[2] == reference.get_state()[2]
    np.testing.assert_array_equal(ours.get_state()[1], reference.get_state()[1])
