"""Backends: the array module and kernels one device computes with.

The engine (``gpusmote/engine/_resample.py``) is written once against a
:class:`Backend`; the CPU backend is NumPy with the Numba CPU kernels, the CUDA
backend is CuPy with the Numba CUDA kernels. Under Numba's CUDA simulator the
CUDA backend keeps NumPy arrays (the simulator runs CUDA kernels on them), so
the CUDA orchestration is exercised in CI without a GPU.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from gpusmote.devices._input import to_host
from gpusmote.kernels.interpolate import interpolate_rows, interpolate_rows_cuda, interpolate_rows_numpy


@dataclass(frozen=True)
class Backend:
    """Where the k-NN and the generation of one resample run.

    Attributes
    ----------
    name : {'cpu', 'cuda'}
    xp : module
        The array module of the backend's memory (NumPy or CuPy).
    kneighbors : callable
        ``(rows, k) -> (n_rows, k)`` neighbour table, in the backend's memory.
    kneighbors_of_queries : callable
        ``(points, queries, k) -> (n_queries, k)``: the nearest points of each
        query (none excluded), in the backend's memory.
    interpolate : callable
        ``(out, base, nn_data, nn_idx, rows, cols, steps)``, writing ``out``.
    philox_draws : callable
        ``(seed, class_index, stream, start, n_base_rows, k, rows, cols,
        steps)``: the counter-based stream's draws, written where the kernels
        run (``gpusmote.kernels.philox``).
    small : bool
        The CPU backend for small data (:data:`CPU_SMALL`): NumPy k-NN and
        generation with the kernels' arithmetic, no Numba kernel loaded.
    """

    name: str
    xp: ModuleType
    kneighbors: Callable
    interpolate: Callable
    kneighbors_of_queries: Callable
    philox_draws: Callable = None
    small: bool = False

    def to_device(self, array):
        """``array`` in this backend's memory (no copy when it already is)."""
        return self.xp.asarray(array)

    def to_host(self, array) -> np.ndarray:
        """``array`` as a NumPy array (a copy from the device for CuPy)."""
        return to_host(array)

    def synchronize(self) -> None:
        """Wait until the device has run everything queued (a no-op on the CPU)."""
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()

    def holds(self, array) -> bool:
        """True when ``array`` lives in this backend's memory."""
        return array_module(array) is self.xp


def array_module(array) -> ModuleType:
    """CuPy for CuPy arrays, NumPy for everything else (CuPy's own pattern)."""
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def _kneighbors_cpu(rows, k):
    # Imported on use: the neighbours layer builds on the devices layer, not
    # the other way round.
    from gpusmote.neighbors._cpu import kneighbors_excluding_self

    return kneighbors_excluding_self(rows, k)


def _kneighbors_of_queries_cpu(points, queries, k):
    from gpusmote.neighbors._cpu import kneighbors_of_queries

    return kneighbors_of_queries(points, queries, k)


def _philox_draws_cpu(*args):
    from gpusmote.kernels.philox import philox_smote_draws  # its module loads on first use

    philox_smote_draws(*args)


def _philox_draws_cuda(*args):
    from gpusmote.kernels.philox import philox_smote_draws_cuda

    philox_smote_draws_cuda(*args)


CPU = Backend("cpu", np, _kneighbors_cpu, interpolate_rows, _kneighbors_of_queries_cpu,
              _philox_draws_cpu)


def _kneighbors_small(rows, k):
    from gpusmote.neighbors._numpy import kneighbors_excluding_self_numpy

    return kneighbors_excluding_self_numpy(rows, k)


def _kneighbors_of_queries_small(points, queries, k):
    from gpusmote.neighbors._numpy import kneighbors_of_queries_numpy

    return kneighbors_of_queries_numpy(points, queries, k)


#: Small data on the CPU: the same answers as :data:`CPU` without its kernels
#: (a fresh process's first kernel costs ~0.25 s; threads and tiles cost more
#: than they save on a few thousand rows). See :func:`for_size`.
CPU_SMALL = Backend("cpu", np, _kneighbors_small, interpolate_rows_numpy, _kneighbors_of_queries_small,
                    _philox_draws_cpu, small=True)
#: Elements (rows x features) of X up to which the CPU runs :data:`CPU_SMALL`.
#: A fresh process's first kernel costs ~0.3-0.45 s (2-core VM; 1,484 x 8,
#: yeast: 0.44 s through the kernels against imbalanced-learn's 6 ms), so the
#: kernels pay only where imbalanced-learn itself takes longer; with
#: ties='imblearn' the small path's k-NN past a few million distance terms is
#: scikit-learn's own (imbalanced-learn's speed).
SMALL_DATA_ELEMENTS = 1 << 22
#: The same with ties='index', whose small path is NumPy's brute force.
SMALL_INDEX_ELEMENTS = 1 << 16


def for_size(backend: Backend, X, ties: str = "imblearn") -> Backend:
    """:data:`CPU_SMALL` for small dense host data on the CPU, else ``backend``."""
    limit = SMALL_DATA_ELEMENTS if ties == "imblearn" else min(SMALL_DATA_ELEMENTS, SMALL_INDEX_ELEMENTS)
    if backend is CPU and getattr(X, "size", limit + 1) <= limit:
        return CPU_SMALL
    return backend


@functools.cache
def cuda_backend(simulated: bool) -> Backend:
    """The CUDA backend: CuPy on a GPU, or NumPy under Numba's simulator."""
    if simulated:
        xp = np
    else:
        import cupy as xp
    return Backend(
        "cuda", xp, functools.partial(_kneighbors_cuda, xp=xp), interpolate_rows_cuda,
        functools.partial(_kneighbors_of_queries_cuda, xp=xp), _philox_draws_cuda,
    )


def _kneighbors_cuda(rows, k, xp):
    from gpusmote.neighbors._gpu import kneighbors_excluding_self_gpu

    return kneighbors_excluding_self_gpu(rows, k, xp)


def _kneighbors_of_queries_cuda(points, queries, k, xp):
    from gpusmote.neighbors._gpu import kneighbors_of_queries_gpu

    return kneighbors_of_queries_gpu(points, queries, k, xp)
