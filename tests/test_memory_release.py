"""gpusmote.engine._memory: freed heap pages go back to the system."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gpusmote.engine import _memory

# A worker thread's freed blocks stay resident in its malloc arena: the pattern
# of SMOTEN's VDM blocks, in a fresh process. mallopt makes the retention
# certain (blocks from the arena, no automatic trim), so the test shows what
# release_freed_memory gives back, whatever the environment's malloc settings.
SCRIPT = textwrap.dedent("""
    import ctypes
    import threading
    import numpy as np
    from gpusmote.engine._memory import release_freed_memory

    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: never trim on free
    libc.mallopt(-3, 1 << 26)  # M_MMAP_THRESHOLD: 2 MiB blocks from the arena

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    def work():
        blocks = [np.ones(2 << 17) for _ in range(16)]
        del blocks

    start = rss_mib()
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = rss_mib()
    released = release_freed_memory()
    print(released, before - start, before - rss_mib())
""")


@pytest.mark.skipif(_memory._malloc_trim() is None, reason="no glibc malloc_trim here")
def test_freed_arena_blocks_leave_the_rss():
    released, retained, given_back = subprocess.run([sys.executable, "-c", SCRIPT], check=True,
                                                     capture_output=True, text=True).stdout.split()
    assert released == "True"
    assert float(retained) > 24 and float(given_back) > 24  # of the 32 MiB freed


def test_no_malloc_trim_is_a_no_op(monkeypatch):
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: None)
    assert _memory.release_freed_memory() is False
