"""imbalanced-learn's random draws for one class, streamed in chunks.

imbalanced-learn (``BaseSMOTE._make_samples``) does, per over-sampled class::

    rs = check_random_state(random_state)      # a fresh RandomState for an int
    idx = rs.randint(low=0, high=n_rows * k, size=n)
    steps = rs.uniform(size=n)
    rows, cols = idx // k, idx % k

Each ``randint`` value (range below 2**32) consumes its own 32-bit words and
each ``uniform`` value two, so drawing in chunks gives the same numbers. The
uniforms start after *all* the integers, though, so the generator walks past
the integers first (it is the caller's object, left where imbalanced-learn
would leave it) and then yields the uniforms. With the compiled generator
(``gpusmote.engine._legacy_random``) the walk keeps nothing and a copy of the
state taken before it draws the integers again, a chunk at a time: one
chunk's draws in memory, small enough to stay in malloc's heap and cache
(whole, a class's draws were fresh pages on every call: 4.2 ms of the
card-fraud shape's draws, against 2.5 ms in 65,536-row chunks). Through
NumPy's calls, the integers of the walk's first :data:`KEEP_INDEX_ROWS` rows
are kept, and beyond that a copy of the generator taken where the kept ones
end draws them again.
"""

from __future__ import annotations

import collections
import copy
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from gpusmote.engine import _legacy_random
from gpusmote.kernels.split_index import split_flat_index

#: Synthetic rows per chunk of draws (and of the interpolation that uses them).
DRAW_CHUNK_ROWS = 1 << 16
#: Integer draws kept from the walk past the integers (8 MiB of int64); the
#: rest are drawn a second time.
KEEP_INDEX_ROWS = 1 << 20


@dataclass(frozen=True)
class DrawChunk:
    """Draws for synthetic rows ``start .. start + len(rows)`` of one class.

    ``diff_scales``, when given (Borderline-2), multiplies each row's
    difference vector, rounded to the data's dtype, before the step.
    """

    start: int
    rows: np.ndarray
    cols: np.ndarray
    steps: np.ndarray
    diff_scales: np.ndarray | None = None


def _chunk_sizes(n: int, chunk: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, chunk):
        yield start, min(chunk, n - start)


def iter_imblearn_draws(
    random_state: None | int | np.random.RandomState,
    n_base_rows: int,
    k: int,
    n_samples: int,
    chunk_rows: int | None = None,
) -> Iterator[DrawChunk]:
    """Yield imbalanced-learn's (rows, cols, steps) for one class, in chunks.

    Parameters
    ----------
    random_state : None, int or RandomState
        The sampler's ``random_state`` parameter, as imbalanced-learn takes it;
        an int restarts the stream (once per class, as imbalanced-learn does),
        an instance or None (NumPy's global state) is advanced.
    n_base_rows, k : int
        Shape of the neighbour table the draws index into.
    n_samples : int
        Synthetic rows to draw for.
    chunk_rows : int, optional
        Rows per chunk (default :data:`DRAW_CHUNK_ROWS`); never changes values.
    """
    chunk = chunk_rows or DRAW_CHUNK_ROWS
    high = n_base_rows * k
    uniform_rs = check_random_state(random_state)
    integers = (_legacy_random.IntegerReplay.walk_past(uniform_rs, high, n_samples)
                or _KeptIntegers(uniform_rs, high, n_samples, chunk))
    for start, size in _chunk_sizes(n_samples, chunk):
        flat = integers.randint(size)
        steps = _legacy_random.uniform(uniform_rs, size)
        rows, cols = split_flat_index(flat, k)
        yield DrawChunk(start=start, rows=rows, cols=cols, steps=steps)


class _KeptIntegers:
    """The class's integers through NumPy's own calls (no kernel loaded,
    another bit generator), as :class:`~gpusmote.engine._legacy_random.IntegerReplay`
    gives them: the walk past them keeps the chunks of the first
    :data:`KEEP_INDEX_ROWS` rows, and a copy of the generator taken where the
    kept ones end draws the rest again."""

    def __init__(self, uniform_rs: np.random.RandomState, high: int, n_samples: int, chunk: int):
        self._high, self._kept, self._index_rs = high, collections.deque(), None
        for start, size in _chunk_sizes(n_samples, chunk):
            if self._index_rs is None and start + size > KEEP_INDEX_ROWS:
                self._index_rs = copy.deepcopy(uniform_rs)  # draws the rest again
            flat = _legacy_random.randint(uniform_rs, high, size)
            if self._index_rs is None:
                self._kept.append(flat)

    def randint(self, size: int) -> np.ndarray:
        """The next chunk's ``size`` integers (the chunks are asked in order)."""
        if self._kept:
            return self._kept.popleft()
        return _legacy_random.randint(self._index_rs, self._high, size)


def philox_seed(random_state: None | int | np.random.RandomState) -> int:
    """The 64-bit key of the counter-based stream.

    An int is the key itself (taken mod 2**64); a ``RandomState`` (or None,
    NumPy's global one) gives one 64-bit draw, so a seeded generator still
    makes the output reproducible.
    """
    if isinstance(random_state, (int, np.integer)):
        return int(random_state) % 2**64
    rs = check_random_state(random_state)
    return int(rs.randint(0, 2**63, dtype=np.int64)) * 2 + int(rs.randint(0, 2))


def iter_philox_draws(
    seed: int,
    class_index: int,
    n_base_rows: int,
    k: int,
    n_samples: int,
    backend,
    chunk_rows: int | None = None,
    stream: int = 0,
) -> Iterator[DrawChunk]:
    """Counter-based (rows, cols, steps) for one class, drawn on the backend.

    Synthetic row ``j`` of the class at position ``class_index`` depends only
    on ``(seed, class_index, stream, j)`` (Philox4x32-10, see
    ``gpusmote.kernels.philox``): identical on every device and for any chunking,
    and drawn where the kernels run (no host-to-device copy on a GPU).
    """
    xp = backend.xp
    for start, size in _chunk_sizes(n_samples, chunk_rows or DRAW_CHUNK_ROWS):
        rows, cols = xp.empty(size, dtype=np.int64), xp.empty(size, dtype=np.int64)
        steps = xp.empty(size, dtype=np.float64)
        backend.philox_draws(seed, class_index, stream, start, n_base_rows, k, rows, cols, steps)
        yield DrawChunk(start=start, rows=rows, cols=cols, steps=steps)
