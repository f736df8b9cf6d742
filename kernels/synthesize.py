"""Rows on demand: originals gathered and counter-based SMOTE rows synthesised
in one pass, for data loaders.

Each output row ``i`` is either an original row (``source[i] >= 0``: copied
from ``X[source[i]]``) or synthetic row ``js[i]`` of the over-sampled class
``cls[i]``: its (base row, neighbour column, step) come from the Philox stream
(``gpusmote.kernels.philox``, key ``seed``, counter ``(js[i], class position,
stream)``) and it is interpolated with the arithmetic of
``gpusmote.kernels.interpolate``, separately rounded multiply and add in
float64. So synthetic row ``j`` of a class equals row ``j`` of that class's
block in ``SMOTE(rng="philox").fit_resample`` (stream 0), whatever batch it is
asked for in.

The neighbour tables of all over-sampled classes are stacked: class ``c``
owns rows ``offsets[c] .. offsets[c] + sizes[c]`` of ``class_rows`` (its rows'
indices in ``X``) and of ``nn_table`` (its neighbours, as indices into its own
rows). Memory beyond X is O(n_minority x k).

The row is written once (:func:`_make_fill_row`) and compiled for the CPU
(one ``prange`` iteration per row) and for CUDA (one thread per row, one
launch per batch).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda, rounding
from gpusmote.kernels import philox as _philox
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel


def _make_fill_row(jit, draw, mul_rn, add_rn):
    """Compile the per-row algorithm with the target's draw and rounding."""

    @jit
    def fill_row(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
                 class_rows, nn_table, seed, stream, i):
        n_features = out.shape[1]
        s = source[i]
        if s >= 0:
            for f in range(n_features):
                out[i, f] = X[s, f]
            y_out[i] = y[s]
            return
        c = cls[i]
        k = nn_table.shape[1]
        row, col, step = draw(seed, class_positions[c], stream, js[i], sizes[c] * k, k)
        first = offsets[c]
        base_row = class_rows[first + row]
        nn_row = class_rows[first + nn_table[first + row, col]]
        for f in range(n_features):
            base = X[base_row, f]
            out[i, f] = add_rn(base, mul_rn(step, X[nn_row, f] - base))
        y_out[i] = labels[c]

    return fill_row


_fill_row_cpu = _make_fill_row(
    njit(inline="always"), _philox._cpu.smote_draw, rounding.mul_rn, rounding.add_rn,
)


def _fill_rows_loop(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
                    class_rows, nn_table, seed, stream):
    for i in prange(out.shape[0]):
        _fill_row_cpu(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
                      class_rows, nn_table, seed, stream, i)


# Serial in forked DataLoader workers (``fill_rows(parallel=False)``) and in
# any fork of a process that started Numba's GNU OpenMP pool.
_fill_rows = parallel_cpu_kernel(nogil=True)(_fill_rows_loop)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_fill_rows_kernel():
    """The CUDA twin (compiled on first use): one thread per output row,
    grid-stride, the same row function as the CPU kernel."""
    _cuda.bind(globals())
    fill_row = _make_fill_row(cuda.jit(device=True), _philox.cuda_kernels().smote_draw,
                              *rounding.cuda_rounding())

    @cuda.jit
    def fill_rows_cuda(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes,
                       labels, class_rows, nn_table, seed, stream):
        for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
            fill_row(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
                     class_rows, nn_table, seed, stream, i)

    return fill_rows_cuda


FILL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _checked(out, y_out, X, y, source, js, cls, seed, stream) -> tuple[np.uint64, np.uint64]:
    if np.dtype(X.dtype) not in FILL_DTYPES or out.dtype != X.dtype:
        raise ValueError(f"X and out must share a float32 or float64 dtype, got {X.dtype} and "
                         f"{out.dtype}")
    n = out.shape[0]
    if not (len(y_out) == len(source) == len(js) == len(cls) == n):
        raise ValueError("out, y_out, source, js and cls must have one entry per output row")
    if out.shape[1] != X.shape[1]:
        raise ValueError(f"out has {out.shape[1]} columns, X has {X.shape[1]}")
    return np.uint64(seed % 2**64), np.uint64(stream % 2**64)


def fill_rows(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
              class_rows, nn_table, seed: int, stream: int, *, parallel: bool = True) -> None:
    """Write original and synthetic rows into ``out`` and their labels into ``y_out`` (CPU).

    Parameters
    ----------
    out : ndarray of shape (n, n_features), X's dtype
    y_out : ndarray of shape (n,), y's dtype
    X : ndarray of shape (n_rows, n_features), float32 or float64
    y : ndarray of shape (n_rows,)
    source : ndarray of shape (n,), int64
        Row of X to copy, or -1 for a synthetic row.
    js, cls : ndarray of shape (n,), int64
        For synthetic rows: the index within its class's synthetic block and
        the class's number in the stacked tables (ignored for originals).
    class_positions, offsets, sizes : ndarray of shape (n_classes,), int64
        Per over-sampled class: its position among y's sorted labels (its key
        in the stream), its first row in the stacked tables, its row count.
    labels : ndarray of shape (n_classes,), y's dtype
    class_rows : ndarray of shape (n_minority,), int64
    nn_table : ndarray of shape (n_minority, k), int64
    seed, stream : int
        Key and sub-stream (an epoch) of the counter-based stream, mod 2**64.
    parallel : bool, default=True
        Spread the rows over Numba's threads; False runs on the calling thread
        (safe in forked worker processes).
    """
    seed, stream = _checked(out, y_out, X, y, source, js, cls, seed, stream)
    kernel = _fill_rows if parallel else _fill_rows.serial
    kernel(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
           class_rows, nn_table, seed, stream)


def fill_rows_cuda(out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels,
                   class_rows, nn_table, seed: int, stream: int, *, threads: int = 128) -> None:
    """:func:`fill_rows` on a CUDA device in one kernel launch, bit-identical to it.

    Every array must already be in device memory (CuPy arrays, PyTorch CUDA
    tensors via ``numba.cuda.as_cuda_array``, Numba device arrays); under
    Numba's CUDA simulator, NumPy arrays.
    """
    seed, stream = _checked(out, y_out, X, y, source, js, cls, seed, stream)
    if out.shape[0] == 0:
        return
    cuda_fill_rows_kernel()[_cuda.grid_blocks(out.shape[0], threads), threads](
        out, y_out, X, y, source, js, cls, class_positions, offsets, sizes, labels, class_rows,
        nn_table, seed, stream)
