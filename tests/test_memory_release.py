"""gpusmote.engine._memory: freed heap pages go back to the system."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from gpusmote.engine import _memory

# A worker thread's freed blocks stay resident in its malloc arena (the 4 MiB
# block raises glibc's mmap threshold, so the 2 MiB ones come from the arena):
# the pattern of SMOTEN's VDM blocks, in a fresh process.
SCRIPT = textwrap.dedent("""
    import threading
    import numpy as np
    from gpusmote.engine._memory import release_freed_memory

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    def work():
        big = np.ones(4 << 17)
        del big
        blocks = [np.ones(2 << 17) for _ in range(16)]
        del blocks

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = rss_mib()
    released = release_freed_memory()
    print(released, before, rss_mib())
""")


@pytest.mark.skipif(_memory._malloc_trim() is None, reason="no glibc malloc_trim here")
def test_freed_arena_blocks_leave_the_rss():
    released, before, after = subprocess.run([sys.executable, "-c", SCRIPT], check=True,
                                             capture_output=True, text=True).stdout.split()
    assert released == "True"
    assert float(before) - float(after) > 24  # of the 32 MiB freed


def test_no_malloc_trim_is_a_no_op(monkeypatch):
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: None)
    assert _memory.release_freed_memory() is False
