"""``RandomState.randint`` and ``RandomState.uniform`` as the samplers call
them, through the compiled MT19937 of ``kernels/mt19937.py`` where it applies.

The result and the generator's final state are NumPy's own, bit for bit: the
kernels read the caller's MT19937 state, step it over the same words, and
write it back, holding the bit generator's lock (as NumPy's own calls do), so
a generator shared with other threads is never stepped twice. A ``RandomState``
over another bit generator, ranges the kernels do not cover (``high - low``
of 1, or above ``2**32 - 1``), small draws (where NumPy's calls cost no more
than reading and writing the state) and a process that has loaded no kernel
yet (the small-data path: loading the first kernel costs ~0.25 s, far more
than the draws) take NumPy's calls.
"""

from __future__ import annotations

import numpy as np

from gpusmote.kernels._cpu_jit import kernels_loaded
from gpusmote.kernels.mt19937 import bounded_integers, skip_bounded_integers, unit_doubles

#: Draws from which the kernels replace NumPy's calls (1.0 ms against 4.6 ms
#: for the card-fraud shape's 283,823 integers and uniforms).
COMPILED_MIN_DRAWS = 2048


def _compiled_generator(rs, size: int):
    """``rs``'s MT19937 when the kernels should draw ``size`` values from it."""
    if size < COMPILED_MIN_DRAWS or not isinstance(rs, np.random.RandomState) or not kernels_loaded():
        return None
    bit_generator = getattr(rs, "_bit_generator", None)
    return bit_generator if isinstance(bit_generator, np.random.MT19937) else None


def _read_state(bit_generator) -> tuple[np.ndarray, np.ndarray]:
    """The MT19937 key and position as the kernels take them (copies); hold
    the generator's lock around reading, stepping and writing back."""
    state = bit_generator.state["state"]
    return np.array(state["key"], dtype=np.uint32), np.array([state["pos"]], dtype=np.int64)


def _write_state(bit_generator, key: np.ndarray, pos: np.ndarray) -> None:
    bit_generator.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": int(pos[0])}}


def _draw(bit_generator, kernel, *args) -> None:
    with bit_generator.lock:
        key, pos = _read_state(bit_generator)
        kernel(key, pos, *args)
        _write_state(bit_generator, key, pos)


def randint(rs: np.random.RandomState, high: int, size: int) -> np.ndarray:
    """``rs.randint(low=0, high=high, size=size)`` (NumPy's default int),
    advancing ``rs``."""
    bit_generator = _compiled_generator(rs, size)
    if bit_generator is None or not 1 < high < 2**32:
        return rs.randint(low=0, high=high, size=size)
    out = np.empty(size, dtype=np.int_)
    _draw(bit_generator, bounded_integers, high - 1, out)
    return out


def uniform(rs: np.random.RandomState, size: int) -> np.ndarray:
    """``rs.uniform(size=size)``: float64 in [0, 1), advancing ``rs``."""
    bit_generator = _compiled_generator(rs, size)
    if bit_generator is None:
        return rs.uniform(size=size)
    out = np.empty(size, dtype=np.float64)
    _draw(bit_generator, unit_doubles, out)
    return out


class IntegerReplay:
    """``rs.randint(low=0, high=high, size=size)``'s integers, drawn chunk by
    chunk from a private copy of ``rs``'s state, while ``rs`` itself has
    already been walked past all of them (see :meth:`walk_past`).

    imbalanced-learn draws all of a class's integers before its uniforms; a
    walk that keeps nothing and a replay that draws each chunk when it is
    needed hold one chunk of integers instead of all of them (fresh memory,
    page-faulted in on every call: 2.3 MB for the card-fraud shape).
    """

    def __init__(self, key: np.ndarray, pos: np.ndarray, high: int):
        self._key, self._pos, self._high = key, pos, high

    @classmethod
    def walk_past(cls, rs: np.random.RandomState, high: int, size: int) -> IntegerReplay | None:
        """Advance ``rs`` past ``size`` integers below ``high`` and return
        their replay; None (``rs`` untouched) where the kernels do not apply."""
        bit_generator = _compiled_generator(rs, size)
        if bit_generator is None or not 1 < high < 2**32:
            return None
        with bit_generator.lock:
            key, pos = _read_state(bit_generator)
            replay = cls(key.copy(), pos.copy(), high)
            skip_bounded_integers(key, pos, high - 1, size)
            _write_state(bit_generator, key, pos)
        return replay

    def randint(self, size: int) -> np.ndarray:
        """The next ``size`` integers (NumPy's default int)."""
        out = np.empty(size, dtype=np.int_)
        bounded_integers(self._key, self._pos, self._high - 1, out)
        return out
