"""The chunked draw stream equals imbalanced-learn's one-shot draws."""

from __future__ import annotations

import numpy as np
import pytest

from gpusmote.engine._draws import iter_imblearn_draws


@pytest.fixture(params=["compiled", "numpy"])
def draw_path(request, monkeypatch):
    """Both ways the stream is drawn: the compiled generator (a walk that keeps
    nothing, then a replay of the integers) and NumPy's own calls (the small-data
    path, no kernel loaded: the integers kept)."""
    from gpusmote.engine import _legacy_random
    from gpusmote.kernels.mt19937 import bounded_integers

    if request.param == "compiled":
        bounded_integers(np.zeros(624, dtype=np.uint32), np.array([624]), 5, np.empty(1, dtype=np.int64))
        monkeypatch.setattr(_legacy_random, "COMPILED_MIN_DRAWS", 1)
    else:
        monkeypatch.setattr(_legacy_random, "kernels_loaded", lambda: False)
    return request.param


def imblearn_draws(rs, n_rows, k, n):
    idx = rs.randint(low=0, high=n_rows * k, size=n)
    steps = rs.uniform(size=n)
    return idx // k, idx % k, steps


@pytest.mark.parametrize("chunk", [1, 7, 1000, None])
@pytest.mark.parametrize("n_rows,k,n", [(10, 5, 333), (3, 1, 50), (100_000, 7, 1000)])
def test_chunks_concatenate_to_one_shot(chunk, n_rows, k, n, draw_path):
    chunks = list(iter_imblearn_draws(17, n_rows, k, n, chunk))
    rows, cols, steps = imblearn_draws(np.random.RandomState(17), n_rows, k, n)
    np.testing.assert_array_equal(np.concatenate([c.rows for c in chunks]), rows)
    np.testing.assert_array_equal(np.concatenate([c.cols for c in chunks]), cols)
    np.testing.assert_array_equal(np.concatenate([c.steps for c in chunks]), steps)
    assert [c.start for c in chunks] == list(range(0, n, chunk or n))[: len(chunks)]


def test_instance_is_advanced_like_imblearn(draw_path):
    ours, reference = np.random.RandomState(5), np.random.RandomState(5)
    list(iter_imblearn_draws(ours, 20, 5, 99, 10))
    imblearn_draws(reference, 20, 5, 99)
    assert ours.get_state()[2] == reference.get_state()[2]
    np.testing.assert_array_equal(ours.get_state()[1], reference.get_state()[1])


def test_the_instance_is_past_the_integers_before_the_first_chunk(draw_path):
    # imbalanced-learn's uniforms come after all of the class's integers: the
    # instance is there as soon as the stream starts, whichever path draws it.
    ours, reference = np.random.RandomState(8), np.random.RandomState(8)
    stream = iter_imblearn_draws(ours, 300, 5, 5000, 1000)
    first = next(stream)
    reference.randint(0, 1500, size=5000)
    np.testing.assert_array_equal(first.steps, reference.uniform(size=1000))
    np.testing.assert_array_equal(ours.get_state()[1], reference.get_state()[1])


@pytest.mark.parametrize("n", [1000, 300_000])
def test_integers_drawn_once_or_twice_give_the_same_stream(n, monkeypatch, draw_path):
    # Kept from the walk (all of them, some, none; the compiled path keeps
    # none whatever the limit): the same draws, and the instance is left
    # where imbalanced-learn leaves it.
    import gpusmote.engine._draws as random_module

    expected_rows, expected_cols, expected_steps = imblearn_draws(np.random.RandomState(3), 500, 5, n)
    for keep in (0, 1000, n // 2, 10 * n):
        monkeypatch.setattr(random_module, "KEEP_INDEX_ROWS", keep)
        rs = np.random.RandomState(3)
        chunks = list(iter_imblearn_draws(rs, 500, 5, n, 1000))
        np.testing.assert_array_equal(np.concatenate([c.rows for c in chunks]), expected_rows)
        np.testing.assert_array_equal(np.concatenate([c.cols for c in chunks]), expected_cols)
        np.testing.assert_array_equal(np.concatenate([c.steps for c in chunks]), expected_steps)
        reference = np.random.RandomState(3)
        imblearn_draws(reference, 500, 5, n)
        assert rs.get_state()[2] == reference.get_state()[2]


@pytest.mark.parametrize("n", [10, 100_000, 1_000_003])
@pytest.mark.parametrize("k", [1, 5, 7])
def test_split_flat_index_is_divmod(n, k):
    from gpusmote.kernels.split_index import split_flat_index

    flat = np.random.default_rng(n + k).integers(0, 2**40, size=n)
    expected_rows, expected_cols = np.divmod(flat, k)
    rows, cols = split_flat_index(flat, k)
    np.testing.assert_array_equal(rows, expected_rows, strict=True)
    np.testing.assert_array_equal(cols, expected_cols, strict=True)
    assert cols is flat  # written in place: no second fresh array
