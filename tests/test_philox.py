"""Philox4x32-10 (kernels/philox.py): Random123's and randomgen's stream bit
for bit, CPU == CUDA.

randomgen (by NumPy's bit-generator author; NumPy itself only has Philox4x64)
is the independent reference, with Random123's published known-answer vectors.
The CUDA builds run under Numba's CUDA simulator here (tests/conftest.py), so
their sizes stay at a few thousand rows.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import cuda
from randomgen import Philox as ReferencePhilox
from scipy import stats

from gpusmote.kernels import philox
from gpusmote.kernels.philox import (
    MAX_HIGH,
    bounded_high,
    cuda_kernels,
    mulhilo64,
    philox4x32_10,
    philox_smote_draws,
    philox_smote_draws_cuda,
    smote_draws_kernel,
    uniform_from_words,
)

U64 = 2**64
U32 = 2**32
WORDS = [0, 1, 2**32 - 1, 2**32, 2**63, U64 - 2, U64 - 1]


def words(value, n):
    """Little-endian 32-bit words of a non-negative integer."""
    return [(value >> (32 * i)) % U32 for i in range(n)]


def u64(values):
    """np.uint64 scalars (what the CPU builds take from Python)."""
    return [np.uint64(v) for v in values]


def reference_blocks(counter, key, n_blocks):
    """randomgen's Philox4x32-10 blocks; it increments the counter, then generates."""
    raw = ReferencePhilox(number=4, width=32, counter=counter, key=key).random_raw(4 * n_blocks)
    return [tuple(int(v) for v in raw[4 * b: 4 * b + 4]) for b in range(n_blocks)]


def bounded_reference(x, y, high):
    """Lemire's rule with Python's exact integers."""
    threshold = (U64 - high) % high
    if (x * high) % U64 < threshold:
        x = y
    return (x * high) >> 64


def draws_cpu(seed, class_index, stream, start, n, n_base_rows, k):
    rows, cols, steps = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.float64)
    philox_smote_draws(seed, class_index, stream, start, n_base_rows, k, rows, cols, steps)
    return rows, cols, steps


def draws_cuda(seed, class_index, stream, start, n, n_base_rows, k, **kwargs):
    rows, cols, steps = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.float64)
    philox_smote_draws_cuda(seed, class_index, stream, start, n_base_rows, k, rows, cols, steps,
                            **kwargs)
    return rows, cols, steps


def assert_draws_equal(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y, strict=True)


# --- the block function ----------------------------------------------------------

# Random123 1.14, examples/kat_vectors: "philox4x32 10" (counter, key, result).
RANDOM123_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,expected", RANDOM123_KAT)
def test_block_matches_random123_known_answers(counter, key, expected):
    assert tuple(int(v) for v in philox4x32_10(*u64(counter + key))) == expected
    # ... and randomgen agrees with Random123 (so it can stand in below).
    packed_counter = sum(w << (32 * i) for i, w in enumerate(counter))
    packed_key = sum(w << (32 * i) for i, w in enumerate(key))
    assert reference_blocks((packed_counter - 1) % 2**128, packed_key, 1)[0] == expected


@pytest.mark.parametrize("counter", [0, 1, 12345, U32 - 1, U32 - 2, U64 - 1, 2**96 - 1,
                                     2**128 - 2, 2**128 - 1, 3 * 2**32 + 2**70 + 7])
@pytest.mark.parametrize("key", [0, 1, U32, U64 - 1, 0x0123456789ABCDEF])
def test_block_matches_randomgen_philox(counter, key):
    # randomgen increments the 128-bit counter (with carry, mod 2**128) and
    # then generates: random_raw's block b is philox(counter + 1 + b, key).
    for b, expected in enumerate(reference_blocks(counter, key, 3)):
        got = philox4x32_10(*u64(words((counter + 1 + b) % 2**128, 4) + words(key, 2)))
        assert tuple(int(v) for v in got) == expected


def test_block_matches_randomgen_on_random_keys_and_counters():
    rng = np.random.default_rng(11)
    for _ in range(50):
        counter, key = (int.from_bytes(rng.bytes(n), "little") for n in (16, 8))
        got = philox4x32_10(*u64(words((counter + 1) % 2**128, 4) + words(key, 2)))
        assert tuple(int(v) for v in got) == reference_blocks(counter, key, 1)[0]


def test_mulhilo_is_the_exact_128_bit_product():
    rng = np.random.default_rng(12)
    pairs = [(a, b) for a in WORDS for b in WORDS]
    pairs += [tuple(int(v) for v in rng.integers(0, U64, 2, dtype=np.uint64)) for _ in range(200)]
    for a, b in pairs:
        high, low = mulhilo64(np.uint64(a), np.uint64(b))
        assert (int(high) << 64) | int(low) == a * b


# --- converters ---------------------------------------------------------------


def test_uniform_matches_generator_random():
    # randomgen's Generator.random() on a 32-bit stream takes two words per double.
    raw = ReferencePhilox(number=4, width=32, key=5).random_raw(1000)
    expected = np.random.Generator(ReferencePhilox(number=4, width=32, key=5)).random(500)
    got = np.array([uniform_from_words(a, b) for a, b in zip(raw[0::2], raw[1::2])])
    np.testing.assert_array_equal(got, expected, strict=True)
    assert uniform_from_words(np.uint64(0), np.uint64(0)) == 0.0
    top = np.uint64(U32 - 1)
    assert uniform_from_words(top, top) == 1.0 - 2.0**-53  # stays below 1


def test_bounded_high_is_lemires_rule_exactly():
    rng = np.random.default_rng(13)
    highs = [1, 2, 3, 7, 1000, 2**31 + 11, 2**61 + 1, 3 * 2**60 + 5, MAX_HIGH - 1]
    xs = WORDS + [int(v) for v in rng.integers(0, U64, 30, dtype=np.uint64)]
    cases = [(x, h) for h in highs for x in xs]
    # Rejection happens with probability (2**64 % h) / 2**64: force it with x
    # whose low product bits fall below the threshold (x = 0 always does).
    for high in highs:
        threshold = (U64 - high) % high
        if threshold:
            x = (U64 - 1) // high + 1  # low product bits = x * high - 2**64 < high
            if (x * high) % U64 < threshold:
                cases.append((x, high))
    cases += [(int(rng.integers(0, U64, dtype=np.uint64)), int(rng.integers(1, MAX_HIGH)))
              for _ in range(300)]
    n_rejected = 0
    for x, high in cases:
        value, rejected = bounded_high(np.uint64(x), high)
        assert value == (x * high) >> 64, (x, high)
        assert rejected == ((x * high) % U64 < (U64 - high) % high), (x, high)
        assert 0 <= value < high
        n_rejected += rejected
    assert n_rejected > 20  # the rejection test was exercised


# --- the SMOTE draws ------------------------------------------------------------


@pytest.mark.parametrize("seed,class_index,stream,start,n,n_base_rows,k", [
    (2**63 + 9, 3, 4, 50, 40, 13, 6),
    (7, 1, 3, 2**40 - 20, 300, 3 * 2**59, 2),  # high near 2**62: retries, j crossing 2**40
])
def test_draws_follow_the_documented_recipe(seed, class_index, stream, start, n, n_base_rows, k):
    # Independently of the kernels: randomgen's Philox4x32-10 on counter
    # (j, class, stream), 64-bit words as (first << 32) | second, as randomgen reads them.
    rows, cols, steps = draws_cpu(seed, class_index, stream, start, n, n_base_rows, k)
    high, retries = n_base_rows * k, 0
    for i in range(n):
        j = start + i
        counter = j + (class_index << 64) + (stream << 96)
        r0, r1, r2, r3 = reference_blocks(counter - 1, seed, 1)[0]
        s0, s1, _, _ = reference_blocks(counter + (1 << 63) - 1, seed, 1)[0]
        flat = bounded_reference(r2 << 32 | r3, s0 << 32 | s1, high)
        retries += ((r2 << 32 | r3) * high) % U64 < (U64 - high) % high
        assert (rows[i], cols[i]) == divmod(flat, k)
        assert steps[i] == ((r0 >> 5) * 2**26 + (r1 >> 6)) * 2.0**-53
    assert retries > 0 if high > 2**61 else retries == 0


@pytest.mark.parametrize("seed,class_index,stream,start,n,n_base_rows,k,threads", [
    (0, 0, 0, 0, 300, 10, 5, 256),         # 300 rows: not a multiple of the block size
    (42, 2, 0, 777, 100, 1, 1, 32),        # high = 1: rows and cols all 0
    (U64 - 1, 5, 9, 2**40, 150, 2**40 + 3, 7, 64),  # large seed, start and high
    (7, 1, 3, 0, 65, 3 * 2**59, 2, 256),   # high close to 2**62, rejections frequent
])
def test_cuda_twin_is_bit_identical(seed, class_index, stream, start, n, n_base_rows, k, threads):
    cpu = draws_cpu(seed, class_index, stream, start, n, n_base_rows, k)
    cuda_draws = draws_cuda(seed, class_index, stream, start, n, n_base_rows, k, threads=threads)
    assert_draws_equal(cuda_draws, cpu)


def test_cuda_twin_writes_device_arrays_in_place():
    n = 200
    cpu = draws_cpu(99, 1, 2, 10, n, 50, 5)
    outputs = [cuda.to_device(np.zeros(n, dtype)) for dtype in (np.int64, np.int64, np.float64)]
    philox_smote_draws_cuda(99, 1, 2, 10, 50, 5, *outputs)
    assert_draws_equal([array.copy_to_host() for array in outputs], cpu)


@functools.cache
def block_kernel():
    """A test kernel around the device build of the block function."""
    philox_device = cuda_kernels().philox4x32_10

    @cuda.jit
    def kernel(counters, keys, out):
        for i in range(cuda.grid(1), counters.shape[0], cuda.gridsize(1)):
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = philox_device(
                counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3],
                keys[i, 0], keys[i, 1])

    return kernel


def test_cuda_block_function_is_bit_identical():
    rng = np.random.default_rng(14)
    counters = rng.integers(0, U32, (70, 4), dtype=np.uint64)
    counters[:4, 0] = np.array([0, 1, U32 - 2, U32 - 1], np.uint64)
    counters[7, :] = U32 - 1
    keys = rng.integers(0, U32, (70, 2), dtype=np.uint64)
    out = np.zeros((70, 4), np.uint64)
    block_kernel()[3, 32](counters, keys, out)
    expected = np.array([philox4x32_10(*c, *k) for c, k in zip(counters, keys)], np.uint64)
    np.testing.assert_array_equal(out, expected)


def test_chunks_concatenate_to_one_shot():
    n, rng = 10_000, np.random.default_rng(15)
    whole = draws_cpu(5, 1, 2, 0, n, 97, 5)
    cuts = np.sort(rng.choice(np.arange(1, n), 8, replace=False))
    bounds = [0, *cuts.tolist(), n]
    chunks = [draws_cpu(5, 1, 2, a, b - a, 97, 5) for a, b in zip(bounds, bounds[1:])]
    assert_draws_equal([np.concatenate(parts) for parts in zip(*chunks)], whole)
    # The same on the CUDA twin, on a prefix (the simulator is slow).
    cuda_chunks = [draws_cuda(5, 1, 2, a, b - a, 97, 5) for a, b in [(0, 1), (1, 70), (70, 200)]]
    assert_draws_equal([np.concatenate(parts) for parts in zip(*cuda_chunks)],
                       [part[:200] for part in whole])


def test_streams_are_distinct_and_reproducible():
    base = (3, 1, 0)
    reference = draws_cpu(*base, 0, 2000, 1000, 5)
    assert_draws_equal(draws_cpu(*base, 0, 2000, 1000, 5), reference)
    assert_draws_equal(draws_cpu(np.uint64(3), np.int32(1), 0, 0, 2000, 1000, 5), reference)
    # The seed is read modulo 2**64, class and stream modulo 2**32, the same on both targets.
    assert_draws_equal(draws_cpu(3, 1 + U32, 5 * U32, 0, 2000, 1000, 5), reference)
    assert_draws_equal(draws_cuda(3, 1 + U32, 5 * U32, 0, 50, 1000, 5), [a[:50] for a in reference])
    top_seed = draws_cpu(U64 - 1, 1, 0, 0, 50, 1000, 5)
    assert_draws_equal(draws_cpu(-1, 1, 0, 0, 50, 1000, 5), top_seed)
    assert_draws_equal(draws_cuda(-1, 1, 0, 0, 50, 1000, 5), top_seed)
    for seed, class_index, stream in [(4, 1, 0), (3, 2, 0), (3, 1, 1), (3 + U64 // 2, 1, 0)]:
        other = draws_cpu(seed, class_index, stream, 0, 2000, 1000, 5)
        assert not np.array_equal(other[2], reference[2])
        # Not shifted copies either: barely any steps in common.
        assert len(np.intersect1d(other[2], reference[2])) < 5
        assert np.mean(other[0] * 5 + other[1] == reference[0] * 5 + reference[1]) < 0.01


def test_steps_mean_and_variance():
    n = 200_000
    steps = draws_cpu(2024, 0, 0, 0, n, 10, 5)[2]
    assert steps.min() >= 0.0 and steps.max() < 1.0
    # Standard errors of the uniform's mean and variance estimates: sqrt(1/12/n)
    # and sqrt((1/80 - 1/144)/n) (fourth central moment 1/80). Four of them.
    assert abs(steps.mean() - 0.5) < 4 * np.sqrt(1 / 12 / n)
    assert abs(steps.var() - 1 / 12) < 4 * np.sqrt((1 / 80 - 1 / 144) / n)


@pytest.mark.parametrize("n_base_rows,k", [(7, 1), (1, 7), (200, 5)])
def test_bounded_ints_are_uniform(n_base_rows, k):
    high, n = n_base_rows * k, 200_000
    rows, cols, _ = draws_cpu(77, 1, 0, 0, n, n_base_rows, k)
    assert rows.min() >= 0 and rows.max() < n_base_rows
    assert cols.min() >= 0 and cols.max() < k
    counts = np.bincount(rows * k + cols, minlength=high)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_bounded_ints_in_range_for_huge_high():
    n_base_rows, k = MAX_HIGH // 3 - 1, 3
    rows, cols, _ = draws_cpu(8, 0, 0, 0, 100_000, n_base_rows, k)
    assert rows.min() >= 0 and rows.max() < n_base_rows
    assert cols.min() >= 0 and cols.max() < k
    assert rows.max() > 0.99 * n_base_rows  # spans the whole range


@pytest.mark.parametrize("draw", [draws_cpu, draws_cuda])
@pytest.mark.parametrize("n_base_rows,k,start", [(0, 5, 0), (5, 0, 0), (2**31, 2**31, 0),
                                                (1, 1, -1)])
def test_bad_arguments_are_refused(draw, n_base_rows, k, start):
    with pytest.raises(ValueError):
        draw(1, 0, 0, start, 3, n_base_rows, k)


@pytest.mark.parametrize("draw", [philox_smote_draws, philox_smote_draws_cuda])
def test_bad_outputs_are_refused(draw):
    good = [np.empty(4, np.int64), np.empty(4, np.int64), np.empty(4, np.float64)]
    for i, bad in [(0, np.empty(4, np.int32)), (1, np.empty(4, np.float64)),
                   (2, np.empty(4, np.float32)), (2, np.empty(5, np.float64))]:
        with pytest.raises(ValueError):
            draw(1, 0, 0, 0, 10, 5, *good[:i], bad, *good[i + 1:])


@pytest.mark.parametrize("n_base_rows,k,start,n_steps", [(0, 5, 0, 4), (5, 0, 0, 4),
                                                         (2**31, 2**31, 0, 4), (1, 1, -1, 4),
                                                         (10, 5, 0, 3)])
def test_njit_kernel_checks_its_arguments(n_base_rows, k, start, n_steps):
    with pytest.raises(ValueError):
        smote_draws_kernel(1, 0, 0, start, n_base_rows, k, np.empty(4, np.int64),
                           np.empty(4, np.int64), np.empty(n_steps, np.float64))


def test_import_does_not_import_numba_cuda():
    # The file alone, so that nothing else in the package can import numba.cuda.
    path = str(Path(philox.__file__))
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('philox', {path!r})\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            "print('numba.cuda' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
