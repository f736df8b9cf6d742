"""Progress bars on stderr for long passes over files (tqdm)."""

from __future__ import annotations

import sys
from collections.abc import Callable


class PassProgress:
    """One bar for one pass: rows (or bytes when the row count is unknown),
    with the other quantity, the rate and the ETA.

    Silent when ``enabled`` is False or stderr is not a terminal.
    """

    def __init__(self, description: str, total_rows: int | None, total_bytes: int,
                 bytes_read: Callable[[], int], enabled: bool = True):
        self._bytes_read, self._total_bytes = bytes_read, total_bytes
        self._by_rows = total_rows is not None
        self._rows = 0
        self._bar = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                desc=description, total=total_rows if self._by_rows else total_bytes,
                unit="rows" if self._by_rows else "B", unit_scale=True,
                unit_divisor=1000 if self._by_rows else 1024, file=sys.stderr, leave=True,
                dynamic_ncols=True,
            )

    def update(self, rows: int) -> None:
        self._rows += rows
        if self._bar is None:
            return
        read = min(self._bytes_read(), self._total_bytes)
        if self._by_rows:
            self._bar.update(rows)
            self._bar.set_postfix_str(f"{read / 2**20:,.0f}/{self._total_bytes / 2**20:,.0f} MiB",
                                      refresh=False)
        else:
            self._bar.update(read - self._bar.n)
            self._bar.set_postfix_str(f"{self._rows:,} rows", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            if not self._by_rows:
                self._bar.update(self._total_bytes - self._bar.n)
            self._bar.close()

    def __enter__(self) -> PassProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
