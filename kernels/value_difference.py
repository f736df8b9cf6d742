"""SMOTEN's Value Difference Metric, a block of rows against all of a class's rows.

imbalanced-learn's ``ValueDifferenceMetric.pairwise`` adds, feature by feature
from zero, ``distance_matrix(P_f[X], P_f[X], p=1) ** 2``: per pair of rows the
squared L1 distance between their levels' class-probability rows, the L1 sum
being NumPy's ``np.abs(P[j] - P[i]).sum(axis=-1)``. A feature's term is kept
here in one of two forms (chosen by ``gpusmote.over_sampling._categorical``):

* a table of the squared terms between the class's present levels (made on the
  host by NumPy's own expression), looked up by the two rows' level indices;
* the rows' probabilities (high-cardinality features), the L1 sum taken in the
  kernel in NumPy's order: sequential below 8 classes, else its pairwise sum
  with 8 accumulators (exact up to :data:`MAX_CLASSES` classes, beyond which
  NumPy splits recursively and the caller keeps the NumPy path).

A feature's term is written once (:func:`_make_element`) and compiled for the
CPU (``numba.njit``, one block per calling thread, feature by feature over the
block) and for CUDA (one thread per distance, summing the features in the same
order); its multiply and adds are rounded on their own on both
(:mod:`gpusmote.kernels.rounding`), so the float64 distances are NumPy's, bit
for bit, on both targets.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from gpusmote.kernels import _cuda
from gpusmote.kernels._cpu_jit import cpu_kernel
from gpusmote.kernels.rounding import add_rn, cuda_rounding, mul_rn

#: Most classes whose L1 sums the element takes in NumPy's order (NumPy's
#: pairwise sum is unrolled by 8 up to 128 elements, then splits in halves).
MAX_CLASSES = 128


def kernel_applies(n_classes: int) -> bool:
    """Whether the kernels reproduce NumPy's L1 sums over ``n_classes``."""
    return n_classes <= MAX_CLASSES


def _make_element(jit, add, mul):
    """Compile one feature's term of one distance with the target's ``jit``
    and float64 ``add``/``mul``."""

    @jit
    def l1_sum(proba, slot, i, j):
        # NumPy's add.reduce over a contiguous axis: sequential from -0.0 below
        # 8 elements, else 8 interleaved accumulators combined pairwise, then
        # the rest in order (numpy/_core/src/umath/loops_utils.h.src).
        n = proba.shape[2]
        if n < 8:
            total = -0.0
            for c in range(n):
                total = add(total, abs(proba[slot, j, c] - proba[slot, i, c]))
            return total
        r0 = abs(proba[slot, j, 0] - proba[slot, i, 0])
        r1 = abs(proba[slot, j, 1] - proba[slot, i, 1])
        r2 = abs(proba[slot, j, 2] - proba[slot, i, 2])
        r3 = abs(proba[slot, j, 3] - proba[slot, i, 3])
        r4 = abs(proba[slot, j, 4] - proba[slot, i, 4])
        r5 = abs(proba[slot, j, 5] - proba[slot, i, 5])
        r6 = abs(proba[slot, j, 6] - proba[slot, i, 6])
        r7 = abs(proba[slot, j, 7] - proba[slot, i, 7])
        c = 8
        while c < n - n % 8:
            r0 = add(r0, abs(proba[slot, j, c] - proba[slot, i, c]))
            r1 = add(r1, abs(proba[slot, j, c + 1] - proba[slot, i, c + 1]))
            r2 = add(r2, abs(proba[slot, j, c + 2] - proba[slot, i, c + 2]))
            r3 = add(r3, abs(proba[slot, j, c + 3] - proba[slot, i, c + 3]))
            r4 = add(r4, abs(proba[slot, j, c + 4] - proba[slot, i, c + 4]))
            r5 = add(r5, abs(proba[slot, j, c + 5] - proba[slot, i, c + 5]))
            r6 = add(r6, abs(proba[slot, j, c + 6] - proba[slot, i, c + 6]))
            r7 = add(r7, abs(proba[slot, j, c + 7] - proba[slot, i, c + 7]))
            c += 8
        total = add(add(add(r0, r1), add(r2, r3)), add(add(r4, r5), add(r6, r7)))
        while c < n:
            total = add(total, abs(proba[slot, j, c] - proba[slot, i, c]))
            c += 1
        return total

    @jit
    def feature_term(levels, tables, table_start, table_width, proba, direct_slot, f, i, j):
        slot = direct_slot[f]
        if slot < 0:
            return tables[table_start[f] + levels[f, i] * table_width[f] + levels[f, j]]
        total = l1_sum(proba, slot, i, j)
        return mul(total, total)

    return l1_sum, feature_term


_l1_sum_cpu, _ = _make_element(njit(inline="always"), add_rn, mul_rn)


@cpu_kernel(nogil=True)
def _vdm_block_kernel(out, start, levels, tables, table_start, table_width, proba, direct_slot):
    # Feature by feature over the block, as NumPy's `distance += term`: the
    # same adds in the same order as the CUDA element, and the table row of
    # the block row stays in cache (1.6x NumPy's speed, 2.2x a per-distance loop).
    n_block, n_rows = out.shape
    for r in range(n_block):
        i = start + r
        row = out[r]
        row[:] = 0.0
        for f in range(levels.shape[0]):
            slot = direct_slot[f]
            if slot < 0:
                # feature_term's table entry, with the block row's table row hoisted
                base = table_start[f] + levels[f, i] * table_width[f]
                feature_levels = levels[f]
                for j in range(n_rows):
                    row[j] = add_rn(row[j], tables[base + feature_levels[j]])
            else:
                for j in range(n_rows):
                    total = _l1_sum_cpu(proba, slot, i, j)
                    row[j] = add_rn(row[j], mul_rn(total, total))


def vdm_block(out, start, levels, tables, table_start, table_width, proba, direct_slot) -> None:
    """Write rows ``start:start + len(out)`` of the class's VDM matrix into
    ``out`` (CPU, on the calling thread; the GIL is released, so threads can
    fill blocks side by side).

    Parameters
    ----------
    out : ndarray of shape (n_block, n_rows), float64
    start : int
        The block's first row.
    levels : ndarray of shape (n_features, n_rows), int32
        Each row's index into its feature's table (unused for direct features).
    tables : ndarray of shape (n_entries,), float64
        The table features' squared terms, each ``width x width``, row-major,
        one after the other.
    table_start, table_width : ndarray of shape (n_features,), int64
        Where each table feature's table starts in ``tables``, and its width.
    proba : ndarray of shape (n_direct, n_rows, n_classes), float64
        The direct features' class probabilities of each row.
    direct_slot : ndarray of shape (n_features,), int64
        A direct feature's index into ``proba``; -1 for a table feature.
    """
    _vdm_block_kernel(out, start, levels, tables, table_start, table_width, proba, direct_slot)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_vdm_kernel():
    """The CUDA twin of :func:`vdm_block` (compiled on first use): one thread
    per distance, grid-stride."""
    _cuda.bind(globals())
    mul, add = cuda_rounding()
    _, term = _make_element(cuda.jit(device=True), add, mul)

    @cuda.jit
    def vdm_cuda(out, start, levels, tables, table_start, table_width, proba, direct_slot):
        n_block, n_rows = out.shape
        for e in range(cuda.grid(1), n_block * n_rows, cuda.gridsize(1)):
            r = e // n_rows
            j = e - r * n_rows
            distance = 0.0
            for f in range(levels.shape[0]):
                distance = add(distance, term(levels, tables, table_start, table_width, proba, direct_slot,
                                              f, start + r, j))
            out[r, j] = distance

    return vdm_cuda


def vdm_block_cuda(out, start, levels, tables, table_start, table_width, proba, direct_slot) -> None:
    """:func:`vdm_block` on a CUDA device (device arrays; NumPy arrays under
    Numba's CUDA simulator)."""
    _cuda.launch_over_elements(cuda_vdm_kernel(), out, np.int64(start), levels, tables, table_start,
                               table_width, proba, direct_slot)
