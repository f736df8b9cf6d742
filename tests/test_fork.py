"""Forked children after the parent used gpusmote (issue 13, item 1).

Numba's GNU OpenMP pool does not survive ``fork``: before the fix a fork pool's
workers were terminated ("fork() called from a process already using GNU
OpenMP") and the pool waited for them forever. Each scenario runs in its own
interpreter with a timeout, so a regression fails instead of hanging the suite.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gpusmote.kernels import _fork
from gpusmote.kernels.interpolate import _interpolate_kernel
from gpusmote.kernels.philox import smote_draws_kernel

_SCRIPT = textwrap.dedent(
    """
    import hashlib
    import multiprocessing as mp
    import threading

    import numpy as np
    import numba.np.ufunc.parallel as numba_parallel
    import torch

    from gpusmote import ADASYN, SMOTE, SVMSMOTE, BorderlineSMOTE, NearestNeighbors, RandomOverSampler
    from gpusmote.engine import _prefault
    from gpusmote.torch import BalancedBatches, SMOTEDataset, resample

    _prefault.MIN_POPULATE_BYTES = 0  # the background thread at every size: the children need their own

    rng = np.random.default_rng(0)
    X = rng.random((20_000, 4))
    y = (np.arange(20_000) < 2_000).astype(np.int64)

    def digest(array):
        array = array.numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
        return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()

    def every_entry_point(seed):
        X_res, y_res = SMOTE(random_state=seed, device="cpu").fit_resample(X, y)
        X_philox, _ = SMOTE(random_state=seed, device="cpu", rng="philox").fit_resample(X, y)
        table = NearestNeighbors(n_neighbors=3, device="cpu").fit(X[:500]).kneighbors(X[:50])[1]
        X_torch, _ = resample(torch.from_numpy(X), torch.from_numpy(y), random_state=seed)
        dataset = SMOTEDataset(torch.from_numpy(X), torch.from_numpy(y), random_state=seed)
        rows = dataset.rows(list(range(len(X) - 5, len(X) + 1000)))[0]
        batch = next(iter(BalancedBatches(torch.from_numpy(X), torch.from_numpy(y),
                                          batch_size=512, random_state=seed)))[0]
        small = (X[::10], y[::10])  # the rest of the family (SVMSMOTE's SVM grows with the rows squared)
        family = [sampler(random_state=seed, device="cpu").fit_resample(*small)[0]
                  for sampler in (RandomOverSampler, ADASYN, BorderlineSMOTE, SVMSMOTE)]
        return [digest(a) for a in (X_res, y_res, X_philox, table, X_torch, rows, batch, *family)]

    def threaded(seed):
        # The same work from two threads at once, inside the child.
        results = [None, None]
        def run(slot):
            results[slot] = every_entry_point(seed)
        threads = [threading.Thread(target=run, args=(slot,)) for slot in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results[0] == results[1], results
        return results[0]

    def grandchild(seed, queue):
        queue.put(every_entry_point(seed))

    def child_then_grandchild(seed, queue):
        every_entry_point(seed)
        process = mp.get_context("fork").Process(target=grandchild, args=(seed, queue))
        process.start()
        process.join(240)

    if __name__ == "__main__":
        expected = {seed: every_entry_point(seed) for seed in (1, 2)}
        assert numba_parallel._is_initialized, "the parent never started Numba's pool"
        print("layer", numba_parallel._threading_layer)
        context = mp.get_context("fork")
        with context.Pool(2) as pool:
            got = pool.map_async(threaded, [1, 2]).get(timeout=240)
        assert got == [expected[1], expected[2]], (got, expected)
        from joblib import Parallel, delayed
        got = Parallel(n_jobs=2, backend="multiprocessing")(delayed(every_entry_point)(s) for s in (1, 2))
        assert got == [expected[1], expected[2]]
        # A grandchild: forked from a forked child that used gpusmote too.
        queue = context.Queue()
        child = context.Process(target=child_then_grandchild, args=(2, queue))
        child.start()
        assert queue.get(timeout=240) == expected[2]
        child.join(60)
        assert child.exitcode == 0
        print("OK")
    """
)


def test_fork_pool_after_parent_used_every_entry_point(tmp_path):
    script = tmp_path / "fork_after_use.py"
    script.write_text(_SCRIPT)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path)
    except subprocess.TimeoutExpired as error:  # the bug: the pool waits for dead workers
        pytest.fail(f"fork pool hung after the parent used gpusmote: {error.stderr}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK"), done.stdout


def test_parallel_allowed_follows_the_inherited_pool(monkeypatch):
    monkeypatch.setattr(_fork, "_inherited_unsafe_pool", False)
    monkeypatch.setattr(_fork, "_gnu_openmp_pool_started", lambda: True)
    assert _fork.parallel_allowed()
    _fork._after_fork_in_child()
    assert not _fork.parallel_allowed()


def test_no_pool_started_means_parallel_in_children(monkeypatch):
    monkeypatch.setattr(_fork, "_inherited_unsafe_pool", False)
    monkeypatch.setattr(_fork, "_gnu_openmp_pool_started", lambda: False)
    _fork._after_fork_in_child()
    assert _fork.parallel_allowed()


def _kernel_cases():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 7)).astype(np.float32)
    nn_idx = rng.integers(0, 300, size=(300, 5)).astype(np.int64)
    rows = rng.integers(0, 300, size=1000).astype(np.int64)
    cols = rng.integers(0, 5, size=1000).astype(np.int64)
    steps = rng.random(1000)
    return {
        "interpolate": (_interpolate_kernel, lambda: np.empty((1000, 7), np.float32),
                        lambda out: (out, data, data, nn_idx, rows, cols, steps)),
        "draws": (smote_draws_kernel, lambda: np.empty((3, 1000)),
                  lambda out: (np.uint64(9), np.uint64(1), np.uint64(0), np.int64(0), np.int64(300),
                               np.int64(5), out[0].view(np.int64), out[1].view(np.int64), out[2])),
    }


@pytest.mark.parametrize("name", ["interpolate", "draws"])
def test_serial_builds_match_the_parallel_ones(name):
    kernel, empty, arguments = _kernel_cases()[name]
    parallel_out, serial_out = empty(), empty()
    kernel.parallel(*arguments(parallel_out))
    kernel.serial(*arguments(serial_out))
    np.testing.assert_array_equal(serial_out, parallel_out)
    assert kernel.serial is not kernel.parallel


def test_a_forked_child_runs_the_serial_build(monkeypatch):
    kernel, empty, arguments = _kernel_cases()["interpolate"]
    calls = []
    monkeypatch.setattr(_fork, "_inherited_unsafe_pool", True)
    monkeypatch.setattr(type(kernel), "serial", property(lambda self: lambda *a: calls.append(a)))
    kernel(*arguments(empty()))
    assert len(calls) == 1
