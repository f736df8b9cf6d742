"""imbalanced-learn's random draws for one class, streamed in chunks.

imbalanced-learn (``BaseSMOTE._make_samples``) does, per over-sampled class::

    rs = check_random_state(random_state)      # a fresh RandomState for an int
    idx = rs.randint(low=0, high=n_rows * k, size=n)
    steps = rs.uniform(size=n)
    rows, cols = idx // k, idx % k

Each ``randint`` value (range below 2**32) consumes its own 32-bit words and
each ``uniform`` value two, so drawing in chunks gives the same numbers. The
uniforms start after *all* the integers, though, so we run two copies of the
generator: one walks past the integers first and then yields the uniforms (it is
the caller's object, left where imbalanced-learn would leave it), the other
yields the integers. Memory is O(chunk), not O(n).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

#: Synthetic rows per chunk of draws.
DRAW_CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class DrawChunk:
    """Draws for synthetic rows ``start .. start + len(rows)`` of one class."""

    start: int
    rows: np.ndarray
    cols: np.ndarray
    steps: np.ndarray


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
    index_rs = copy.deepcopy(uniform_rs)
    for _, size in _chunk_sizes(n_samples, chunk):
        uniform_rs.randint(low=0, high=high, size=size)
    for start, size in _chunk_sizes(n_samples, chunk):
        flat = index_rs.randint(low=0, high=high, size=size)
        steps = uniform_rs.uniform(size=size)
        rows, cols = np.divmod(flat, k)
        yield DrawChunk(start=start, rows=rows, cols=cols, steps=steps)
