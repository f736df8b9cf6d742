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
from gpusmote.kernels.mt19937 import bounded_integers, unit_doubles

#: Draws from which the kernels replace NumPy's calls (1.0 ms against 4.6 ms
#: for the card-fraud shape's 283,823 integers and uniforms).
COMPILED_MIN_DRAWS = 2048


def _compiled_generator(rs, size: int):
    """``rs``'s MT19937 when the kernels should draw ``size`` values from it."""
    if size < COMPILED_MIN_DRAWS or not isinstance(rs, np.random.RandomState) or not kernels_loaded():
        return None
    bit_generator = getattr(rs, "_bit_generator", None)
    return bit_generator if isinstance(bit_generator, np.random.MT19937) else None


def _draw(bit_generator, kernel, *args) -> None:
    with bit_generator.lock:
        state = bit_generator.state
        key = np.array(state["state"]["key"], dtype=np.uint32)
        pos = np.array([state["state"]["pos"]], dtype=np.int64)
        kernel(key, pos, *args)
        state["state"] = {"key": key, "pos": int(pos[0])}
        bit_generator.state = state


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
