"""The compiled MT19937 draws (kernels/mt19937.py through
gpusmote/engine/_legacy_random.py) against NumPy's ``RandomState``: the same
values and the same final state, from any state, for every range."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gpusmote.engine import _legacy_random

# 2 (mask 1), 3, a power of two and one past it, the card-fraud table's 492 x 5,
# 2**31 + 5 (most words rejected), 2**32 - 1 (the kernels' largest range)
HIGHS = [2, 3, 4096, 4097, 2460, 2**31 + 5, 2**32 - 1]
SIZES = [2048, 2049, 624 * 4 + 1, 10_000]


@pytest.fixture(autouse=True, scope="module")
def kernels_running():
    # The kernels draw only in a process that runs kernels already (see
    # kernels_loaded); one call loads them, as a search would.
    from gpusmote.kernels.mt19937 import bounded_integers

    bounded_integers(np.zeros(624, dtype=np.uint32), np.array([624]), 5, np.empty(1, dtype=np.int64))


def test_numpys_calls_until_a_kernel_is_loaded(monkeypatch):
    # On the small-data path no kernel is loaded: loading this one would cost
    # more than the draws.
    monkeypatch.setattr(_legacy_random, "kernels_loaded", lambda: False)
    ours, reference = np.random.RandomState(4), np.random.RandomState(4)
    assert _legacy_random._compiled_generator(ours, 10**6) is None
    np.testing.assert_array_equal(_legacy_random.randint(ours, 99, 5000), reference.randint(0, 99, size=5000))


def test_kernels_loaded_tells_a_process_that_ran_one():
    from gpusmote.kernels._cpu_jit import kernels_loaded

    assert kernels_loaded()


def _advanced(seed: int, words: int) -> np.random.RandomState:
    rs = np.random.RandomState(seed)
    rs.randint(0, 2**16, size=words)  # one word each: any position in the key
    return rs


def _assert_same_state(ours: np.random.RandomState, reference: np.random.RandomState) -> None:
    mine, theirs = ours.get_state(), reference.get_state()
    assert mine[0] == theirs[0] and np.array_equal(mine[1], theirs[1]) and mine[2:] == theirs[2:]


@pytest.mark.parametrize("high", HIGHS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("start", [0, 1, 623, 624, 1000])
def test_randint_then_uniform_equal_numpy(high, size, start):
    ours, reference = _advanced(start, start), _advanced(start, start)
    assert _legacy_random._compiled_generator(ours, size) is not None  # the kernels, not NumPy
    values = _legacy_random.randint(ours, high, size)
    steps = _legacy_random.uniform(ours, size)
    expected = reference.randint(low=0, high=high, size=size)
    np.testing.assert_array_equal(values, expected)
    assert values.dtype == expected.dtype
    np.testing.assert_array_equal(steps, reference.uniform(size=size))
    _assert_same_state(ours, reference)


def test_interleaved_calls_and_the_gaussian_cache_kept():
    ours, reference = np.random.RandomState(7), np.random.RandomState(7)
    ours.standard_normal(), reference.standard_normal()  # a cached second normal rides in the state
    for size in (5000, 3, 4096, 2048, 9999):
        np.testing.assert_array_equal(_legacy_random.randint(ours, 1234, size),
                                      reference.randint(0, 1234, size=size))
        np.testing.assert_array_equal(_legacy_random.uniform(ours, size), reference.uniform(size=size))
    _assert_same_state(ours, reference)
    assert ours.standard_normal() == reference.standard_normal()


@pytest.mark.parametrize(("high", "size"), [(1, 5000), (2**32, 5000), (2**40, 5000), (100, 10), (0, 0)])
def test_numpys_own_calls_elsewhere(high, size):
    ours, reference = np.random.RandomState(3), np.random.RandomState(3)
    if high == 0:
        np.testing.assert_array_equal(_legacy_random.uniform(ours, 0), reference.uniform(size=0))
    else:
        np.testing.assert_array_equal(_legacy_random.randint(ours, high, size),
                                      reference.randint(low=0, high=high, size=size))
    _assert_same_state(ours, reference)


def test_other_bit_generators_and_the_global_state():
    ours = np.random.RandomState(np.random.PCG64(5))
    reference = np.random.RandomState(np.random.PCG64(5))
    assert _legacy_random._compiled_generator(ours, 10**6) is None
    np.testing.assert_array_equal(_legacy_random.randint(ours, 77, 5000), reference.randint(0, 77, size=5000))
    np.random.seed(11)
    drawn = _legacy_random.randint(np.random.mtrand._rand, 500, 5000)
    after = np.random.random()
    np.testing.assert_array_equal(drawn, np.random.RandomState(11).randint(0, 500, size=5000))
    check = np.random.RandomState(11)
    check.randint(0, 500, size=5000)
    assert after == check.random_sample()


def test_a_shared_generator_is_stepped_once_per_call():
    # Calls from several threads hold the generator's lock, as NumPy's do: the
    # chunks drawn are the sequential stream's, in some order, none twice.
    shared, reference = np.random.RandomState(21), np.random.RandomState(21)
    calls, size = 12, 50_000
    drawn: list[bytes] = []

    def draw():
        for _ in range(calls):
            drawn.append(_legacy_random.randint(shared, 2460, size).tobytes())

    threads = [threading.Thread(target=draw) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [reference.randint(0, 2460, size=size).tobytes() for _ in range(3 * calls)]
    assert sorted(drawn) == sorted(expected)
    _assert_same_state(shared, reference)


def test_kernels_draw_nothing_for_no_values():
    from gpusmote.kernels.mt19937 import bounded_integers, unit_doubles

    rs = np.random.RandomState(2)
    rs.random_sample(312)  # pos at 624: the next draw would twist the key
    state = rs.get_state(legacy=False)["state"]
    key, pos = state["key"].copy(), np.array([state["pos"]])
    bounded_integers(key, pos, 9, np.empty(0, dtype=np.int64))
    unit_doubles(key, pos, np.empty(0))
    assert np.array_equal(key, state["key"]) and pos[0] == state["pos"] == 624


@pytest.mark.parametrize("high", HIGHS)
@pytest.mark.parametrize("start", [0, 623, 1000])
def test_integer_replay_walks_past_and_replays_numpys_integers(high, start):
    ours, reference = _advanced(start, start), _advanced(start, start)
    size = 10_000
    replay = _legacy_random.IntegerReplay.walk_past(ours, high, size)
    expected = reference.randint(low=0, high=high, size=size)
    _assert_same_state(ours, reference)  # past all of them at once, as NumPy's call leaves it
    replayed = np.concatenate([replay.randint(n) for n in (1, 2047, 5000, 2952)])
    np.testing.assert_array_equal(replayed, expected)
    assert replayed.dtype == expected.dtype
    _assert_same_state(ours, reference)  # replaying never touches the instance


@pytest.mark.parametrize(("high", "size", "generator"), [
    (1, 5000, "mt"), (2**32, 5000, "mt"), (100, 10, "mt"), (100, 5000, "pcg")])
def test_no_integer_replay_where_the_kernels_do_not_apply(high, size, generator):
    rs = np.random.RandomState(np.random.PCG64(1) if generator == "pcg" else 1)
    before = rs.get_state(legacy=False)
    assert _legacy_random.IntegerReplay.walk_past(rs, high, size) is None
    assert str(rs.get_state(legacy=False)) == str(before)  # untouched


def test_skipping_no_integers_draws_nothing():
    from gpusmote.kernels.mt19937 import skip_bounded_integers

    rs = np.random.RandomState(2)
    rs.random_sample(312)
    state = rs.get_state(legacy=False)["state"]
    key, pos = state["key"].copy(), np.array([state["pos"]])
    skip_bounded_integers(key, pos, 9, 0)
    assert np.array_equal(key, state["key"]) and pos[0] == 624
