"""Progress bars on stderr for the long stages of ``gpusmote resample`` (tqdm).

Every bar is silent when ``enabled`` is False (``--quiet``) or stderr is not a
terminal (logs and pipes get the summary's per-stage seconds instead).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

#: Seconds between redraws of a bar whose work reports rarely (the k-NN), so
#: its elapsed time keeps moving.
TICK_SECONDS = 0.5


def _bars_wanted(enabled: bool) -> bool:
    return enabled and sys.stderr.isatty()


class _Ticker:
    """Redraw ``bar`` every :data:`TICK_SECONDS` from a daemon thread until stopped."""

    def __init__(self, bar) -> None:
        self._bar, self._stop = bar, threading.Event()
        self._thread = threading.Thread(target=self._run, name="gpusmote-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self._bar.refresh()  # tqdm takes its own lock

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class PassProgress:
    """One bar for one pass: rows (or bytes when the row count is unknown),
    with the other quantity, the rate and the ETA.

    Parameters
    ----------
    description : str
        The bar's label (:meth:`describe` changes it).
    total_rows : int or None
        Rows the pass handles; None counts bytes of the input instead.
    total_bytes : int
        The input's size.
    bytes_read : callable
        How far into the input the reader is, in bytes.
    enabled : bool
        False for no bar (``--quiet``).
    tick : bool
        Redraw twice a second even without updates (a stage that reports rarely).
    """

    def __init__(self, description: str, total_rows: int | None, total_bytes: int,
                 bytes_read: Callable[[], int], enabled: bool = True, tick: bool = False):
        self._bytes_read, self._total_bytes = bytes_read, total_bytes
        self._by_rows = total_rows is not None
        #: Rows counted so far, and the rows the pass will count (None: unknown).
        self.rows, self.total_rows = 0, total_rows
        self.description = description
        self._bar = self._ticker = None
        if _bars_wanted(enabled):
            from tqdm import tqdm

            self._bar = tqdm(
                desc=description, total=total_rows if self._by_rows else total_bytes,
                unit="rows" if self._by_rows else "B", unit_scale=True,
                unit_divisor=1000 if self._by_rows else 1024, file=sys.stderr, leave=True,
                dynamic_ncols=True,
            )
            self._ticker = _Ticker(self._bar) if tick else None

    def describe(self, description: str) -> None:
        """Relabel the bar (a new part of the pass: the synthetic rows of one class)."""
        self.description = description
        if self._bar is not None:
            self._bar.set_description_str(description, refresh=False)

    def update(self, rows: int, note: str | None = None) -> None:
        """Count ``rows`` more rows done; ``note`` replaces the MiB read as the postfix."""
        self.rows += rows
        if self._bar is None:
            return
        read = min(self._bytes_read(), self._total_bytes)
        if self._by_rows:
            if note or self._total_bytes:
                self._bar.set_postfix_str(
                    note or f"{read / 2**20:,.0f}/{self._total_bytes / 2**20:,.0f} MiB",
                    refresh=False)
            self._bar.update(rows)
        else:
            self._bar.set_postfix_str(note or f"{self.rows:,} rows", refresh=False)
            self._bar.update(read - self._bar.n)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        if self._bar is not None:
            if not self._by_rows:
                self._bar.update(self._total_bytes - self._bar.n)
            self._bar.close()

    def __enter__(self) -> PassProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def stage_progress(description: str, total_rows: int, enabled: bool = True) -> PassProgress:
    """A ticking bar over ``total_rows`` rows of work that is not a file pass
    (the k-NN of the over-sampled classes): elapsed time moves between updates."""
    return PassProgress(description, total_rows, 0, lambda: 0, enabled, tick=True)
