"""NumPy's legacy ``RandomState`` draws that SMOTE makes, compiled (CPU).

imbalanced-learn draws each class's synthetic rows with ``randint(0, high,
size)`` and then ``uniform(size=size)`` from a ``RandomState``: MT19937 behind
NumPy's per-value C calls, about 15 ns an integer and 8 ns a uniform (a fifth
of gpusmote's time on the card-fraud shape, where imbalanced-learn pays the
same). These kernels step the same generator over the same 32-bit words:

* MT19937 (Matsumoto and Nishimura), as NumPy's ``mt19937_gen`` and
  ``mt19937_next`` (twist the 624-word key when ``pos`` reaches 624, then
  temper the word at ``pos``);
* ``randint`` below 2**32 - 1 as NumPy's legacy ``random_bounded_uint64_fill``
  with masked rejection (``use_masked``, RandomState's only mode): a word is
  masked to the smallest ``2**b - 1 >= rng`` and redrawn while above ``rng``
  (``rng = high - low - 1``; ``rng == 0`` draws nothing);
* ``uniform`` on [0, 1) as ``mt19937_next_double``: ``(a >> 5) * 2**26 +
  (b >> 6)`` over ``2**53`` from two words (``0 + 1 * x``: exactly x).

The state is read from and written back to the caller's ``RandomState``, so it
ends where NumPy's own calls would leave it; :mod:`gpusmote.engine._legacy_random`
uses them only for MT19937 generators and ranges they cover.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gpusmote.kernels._cpu_jit import cpu_kernel

_N = 624
_M = 397
_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER_MASK = np.uint32(0x80000000)
_LOWER_MASK = np.uint32(0x7FFFFFFF)


@njit(inline="always")
def _twist(key):
    # NumPy's three loops (no index wraps inside a loop, so each vectorises)
    for i in range(_N - _M):
        y = (key[i] & _UPPER_MASK) | (key[i + 1] & _LOWER_MASK)
        key[i] = key[i + _M] ^ (y >> np.uint32(1)) ^ (-(y & np.uint32(1)) & _MATRIX_A)
    for i in range(_N - _M, _N - 1):
        y = (key[i] & _UPPER_MASK) | (key[i + 1] & _LOWER_MASK)
        key[i] = key[i + _M - _N] ^ (y >> np.uint32(1)) ^ (-(y & np.uint32(1)) & _MATRIX_A)
    y = (key[_N - 1] & _UPPER_MASK) | (key[0] & _LOWER_MASK)
    key[_N - 1] = key[_M - 1] ^ (y >> np.uint32(1)) ^ (-(y & np.uint32(1)) & _MATRIX_A)


@njit(inline="always")
def _temper(key, words):
    """``words[:] =`` the 624 tempered words of the current key."""
    for i in range(_N):
        y = key[i]
        y ^= y >> np.uint32(11)
        y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
        y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
        y ^= y >> np.uint32(18)
        words[i] = y


@njit(inline="always")
def _refill(key, words, pos):
    """Twist when the key is used up; temper the key's words (``pos`` = next)."""
    if pos == _N:
        _twist(key)
        pos = 0
    _temper(key, words)
    return pos


@njit(inline="always")
def _bounded_walk(key, pos, rng, n, out, store):
    """NumPy's masked bounded draws in ``[0, rng]`` (``0 < rng < 2**32 - 1``),
    ``n`` of them, advancing ``key``/``pos`` in place; each kept in ``out``
    when ``store`` (a constant of the caller, so the other build has no
    stores)."""
    mask = np.uint32(rng)  # the smallest 2**b - 1 >= rng (NumPy's gen_mask)
    mask |= mask >> np.uint32(1)
    mask |= mask >> np.uint32(2)
    mask |= mask >> np.uint32(4)
    mask |= mask >> np.uint32(8)
    mask |= mask >> np.uint32(16)
    bound = np.uint32(rng)
    if n == 0:
        return  # no word drawn: the key stays as it is (NumPy twists only to draw)
    words = np.empty(_N, dtype=np.uint32)
    at = _refill(key, words, pos[0])
    i = 0
    while i < n:
        if at == _N:
            at = _refill(key, words, at)
        value = words[at] & mask
        at += 1
        if store:
            out[i] = value  # kept only if in range: a rejected value is overwritten (no branch)
        i += value <= bound
    pos[0] = at


@cpu_kernel(nogil=True)
def bounded_integers(key, pos, rng, out):
    """``out[i] = `` NumPy's masked bounded draw in ``[0, rng]`` (``0 < rng <
    2**32 - 1``), advancing ``key``/``pos`` (uint32[624], int64[1]) in place."""
    _bounded_walk(key, pos, rng, out.shape[0], out, True)


@cpu_kernel(nogil=True)
def skip_bounded_integers(key, pos, rng, n):
    """Advance ``key``/``pos`` past ``n`` of :func:`bounded_integers`'s draws
    without keeping them (the words a draw rejects are skipped too)."""
    _bounded_walk(key, pos, rng, n, np.empty(0, dtype=np.int64), False)


@cpu_kernel(nogil=True)
def unit_doubles(key, pos, out):
    """``out[i] = `` NumPy's ``mt19937_next_double``, advancing ``key``/``pos``."""
    if out.shape[0] == 0:
        return
    words = np.empty(_N, dtype=np.uint32)
    at = _refill(key, words, pos[0])
    for i in range(out.shape[0]):
        if at == _N:
            at = _refill(key, words, at)
        a = np.int64(words[at] >> np.uint32(5))
        at += 1
        if at == _N:
            at = _refill(key, words, at)
        b = np.int64(words[at] >> np.uint32(6))
        at += 1
        out[i] = (a * 67108864.0 + b) / 9007199254740992.0
    pos[0] = at
