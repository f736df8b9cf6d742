"""Wall time per phase of a resample, for ``SMOTE.timings_`` and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class PhaseTimes(dict):
    """Seconds spent per named phase, accumulated over every ``phase`` block."""

    @contextmanager
    def phase(self, name: str, synchronize: Callable[[], None] | None = None) -> Iterator[None]:
        """Time the block; ``synchronize`` (a device's wait for its queued work)
        runs before the clock stops, so asynchronous GPU work counts where it
        was launched."""
        start = time.perf_counter()
        try:
            yield
        finally:
            if synchronize is not None:
                synchronize()
            self[name] = self.get(name, 0.0) + time.perf_counter() - start
