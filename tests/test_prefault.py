"""The background page population of fresh outputs (gpusmote/engine/_prefault.py)
changes no contents and never fails a resample."""

from __future__ import annotations

import numpy as np

from gpusmote.engine import _prefault
from gpusmote.engine._resample import empty_output


def _wait_for_prefault_thread() -> None:
    _prefault._thread().submit(lambda: None).result(timeout=60)


def test_populating_written_pages_keeps_their_contents():
    values = np.arange(6_000_000, dtype=np.float64)  # 46 MiB, written before the advice
    expected = values.copy()
    _prefault.prefault_async(values)
    _wait_for_prefault_thread()
    np.testing.assert_array_equal(values, expected)


def test_fresh_output_is_writable_while_populated():
    out = empty_output((3_000_000, 4), np.float32)  # populated in the background
    out[:] = 7.5
    _wait_for_prefault_thread()
    assert out.dtype == np.float32 and (out == 7.5).all()


def test_small_non_numpy_or_unsupported_arrays_are_left_alone(monkeypatch):
    submitted = []
    monkeypatch.setattr(_prefault, "_thread", lambda: type("T", (), {"submit": lambda *a: submitted.append(a)})())
    _prefault.prefault_async(np.zeros(10))
    _prefault.prefault_async([0.0] * 10)
    assert not submitted
    monkeypatch.setattr(_prefault, "_madvise", lambda: None)  # no libc madvise (not Linux)
    _prefault.prefault_async(np.zeros(4_000_000))
    assert not submitted
