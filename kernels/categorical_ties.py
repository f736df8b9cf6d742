"""SMOTENC's categorical generation: per new row and categorical feature, the
most frequent level among the base row's k neighbours, ties broken by a draw.

imbalanced-learn densifies the neighbours' one-hot blocks (``n_new x k x
n_levels``), sums them over the neighbours, marks the levels whose sums are
``np.isclose`` to the row's maximum (``is_max``) and keeps, per row, the first
of ``rng.permutation(np.argwhere(is_max))``. Here each (new row, feature)
element works from the k neighbours' codes alone: it counts them in place
(O(k^2), no scratch memory) and walks its tied levels in ascending order,
which is ``argwhere``'s order within a row. ``ties[c, m]`` (built by the
caller from the one-hot value) says whether a level counted ``c`` times ties
with the mode counted ``m`` times; when ``ties[0, m]`` (a tiny one-hot value)
absent levels tie too and the walk covers every level of the feature.

Three kernels share that walk:

- :func:`tied_counts`: how many levels tie in each element, from which the
  caller sizes and draws imbalanced-learn's permutation;
- :func:`pick_by_positions`: each element keeps its tied level whose pair
  comes first in the permutation (``positions``: each pair's place in it);
- :func:`pick_by_uniforms`: the counter-based rule, tied level number
  ``floor(u * n_tied)`` (one uniform per element).

Each is written once and compiled for the CPU (``numba.njit``) and for CUDA
(``numba.cuda.jit``), one thread per element.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit, prange

from gpusmote.kernels import _cuda
from gpusmote.kernels._cpu_jit import parallel_cpu_kernel

_NO_POSITION = np.iinfo(np.int64).max


def _make_elements(jit):
    """Compile the per-element walk and its three uses with the target's ``jit``."""

    @jit
    def count_of(codes, table, r, f, value):
        count = 0
        for b in range(table.shape[1]):
            if codes[table[r, b], f] == value:
                count += 1
        return count

    @jit
    def walk(codes, table, r, f, width, ties, pick, positions, base):
        """``(n_tied, chosen)``: the number of tied levels and, when
        ``pick >= 0``, the pick-th of them (ascending), else when ``base >= 0``
        the one whose ``positions[base + t]`` is smallest (t: its rank)."""
        k = table.shape[1]
        mode = 0
        for a in range(k):
            count = count_of(codes, table, r, f, codes[table[r, a], f])
            if count > mode:
                mode = count
        n_tied = 0
        chosen = -1
        best = _NO_POSITION
        if ties[0, mode]:
            # absent levels tie too: every level of the feature, ascending
            for level in range(width):
                if ties[count_of(codes, table, r, f, level), mode]:
                    if n_tied == pick or (pick < 0 and base >= 0 and positions[base + n_tied] < best):
                        chosen = level
                        if pick < 0:
                            best = positions[base + n_tied]
                    n_tied += 1
            return n_tied, chosen
        previous = -1
        while True:
            # the next larger level present among the neighbours
            level = width
            for a in range(k):
                value = codes[table[r, a], f]
                if previous < value < level:
                    level = value
            if level == width:
                return n_tied, chosen
            if ties[count_of(codes, table, r, f, level), mode]:
                if n_tied == pick or (pick < 0 and base >= 0 and positions[base + n_tied] < best):
                    chosen = level
                    if pick < 0:
                        best = positions[base + n_tied]
                n_tied += 1
            previous = level

    @jit
    def count_element(n_tied, codes, table, rows, widths, ties, j, f):
        n_tied[j, f] = walk(codes, table, rows[j], f, widths[f], ties, -1, n_tied[j], -1)[0]

    @jit
    def positions_element(out, codes, table, rows, widths, ties, positions, offsets, j, f):
        out[j, f] = walk(codes, table, rows[j], f, widths[f], ties, -1, positions, offsets[j, f])[1]

    @jit
    def uniforms_element(out, codes, table, rows, widths, ties, uniforms, j, f):
        r = rows[j]
        n_tied = walk(codes, table, r, f, widths[f], ties, -1, out[j], -1)[0]
        pick = min(int(uniforms[j, f] * n_tied), n_tied - 1)
        out[j, f] = walk(codes, table, r, f, widths[f], ties, pick, out[j], -1)[1]

    return count_element, positions_element, uniforms_element


_count_cpu, _positions_cpu, _uniforms_cpu = _make_elements(njit(inline="always"))


@parallel_cpu_kernel(nogil=True)
def _count_kernel(n_tied, codes, table, rows, widths, ties):
    n_new, n_features = n_tied.shape
    for j in prange(n_new):
        for f in range(n_features):
            _count_cpu(n_tied, codes, table, rows, widths, ties, j, f)


@parallel_cpu_kernel(nogil=True)
def _positions_kernel(out, codes, table, rows, widths, ties, positions, offsets):
    n_new, n_features = out.shape
    for j in prange(n_new):
        for f in range(n_features):
            _positions_cpu(out, codes, table, rows, widths, ties, positions, offsets, j, f)


@parallel_cpu_kernel(nogil=True)
def _uniforms_kernel(out, codes, table, rows, widths, ties, uniforms):
    n_new, n_features = out.shape
    for j in prange(n_new):
        for f in range(n_features):
            _uniforms_cpu(out, codes, table, rows, widths, ties, uniforms, j, f)


#: ``numba.cuda``, bound on first use (see ``gpusmote.kernels._cuda.bind``).
cuda = None


@functools.cache
def cuda_kernels():
    """The CUDA twins of the three CPU kernels (compiled on first use): one
    thread per element, grid-stride."""
    _cuda.bind(globals())
    count_element, positions_element, uniforms_element = _make_elements(cuda.jit(device=True))

    @cuda.jit
    def count_cuda(n_tied, codes, table, rows, widths, ties):
        n_new, n_features = n_tied.shape
        for e in range(cuda.grid(1), n_new * n_features, cuda.gridsize(1)):
            j = e // n_features
            count_element(n_tied, codes, table, rows, widths, ties, j, e - j * n_features)

    @cuda.jit
    def positions_cuda(out, codes, table, rows, widths, ties, positions, offsets):
        n_new, n_features = out.shape
        for e in range(cuda.grid(1), n_new * n_features, cuda.gridsize(1)):
            j = e // n_features
            positions_element(out, codes, table, rows, widths, ties, positions, offsets, j,
                              e - j * n_features)

    @cuda.jit
    def uniforms_cuda(out, codes, table, rows, widths, ties, uniforms):
        n_new, n_features = out.shape
        for e in range(cuda.grid(1), n_new * n_features, cuda.gridsize(1)):
            j = e // n_features
            uniforms_element(out, codes, table, rows, widths, ties, uniforms, j, e - j * n_features)

    return count_cuda, positions_cuda, uniforms_cuda


def tied_counts(n_tied, codes, table, rows, widths, ties, on_cuda: bool = False) -> None:
    """Write each element's number of tied levels into ``n_tied`` in place.

    Parameters
    ----------
    n_tied : ndarray of shape (n_new, n_features), int64
        Destination.
    codes : ndarray of shape (n_class, n_features), int64
        The class's levels, one column per categorical feature.
    table : ndarray of shape (n_class, k), int64
        Each class row's k neighbours (imbalanced-learn's ``nn_num``).
    rows : ndarray of shape (n_new,), int64
        The base row of each new row.
    widths : ndarray of shape (n_features,), int64
        Each feature's number of levels (codes lie in ``[0, width)``).
    ties : ndarray of shape (k + 1, k + 1), bool
        ``ties[c, m]``: a level counted c times ties with a mode counted m times.
    on_cuda : bool
        Run the CUDA twin (device arrays; NumPy arrays under the simulator).
    """
    if on_cuda:
        _cuda.launch_over_elements(cuda_kernels()[0], n_tied, codes, table, rows, widths, ties)
    else:
        _count_kernel(n_tied, codes, table, rows, widths, ties)


def pick_by_positions(out, codes, table, rows, widths, ties, positions, offsets,
                      on_cuda: bool = False) -> None:
    """Each element's tied level that comes first in imbalanced-learn's
    permutation, written into ``out`` (n_new, n_features) in place.

    ``offsets[j, f]`` is where element (j, f)'s pairs start in ``positions``
    (its t-th tied level, ascending, is pair ``offsets[j, f] + t``) and
    ``positions[p]`` is pair p's place in the permutation. Other parameters as
    :func:`tied_counts`.
    """
    if on_cuda:
        _cuda.launch_over_elements(cuda_kernels()[1], out, codes, table, rows, widths, ties, positions, offsets)
    else:
        _positions_kernel(out, codes, table, rows, widths, ties, positions, offsets)


def pick_by_uniforms(out, codes, table, rows, widths, ties, uniforms, on_cuda: bool = False) -> None:
    """The counter-based rule: element (j, f) keeps its tied level number
    ``floor(uniforms[j, f] * n_tied)`` (ascending), written into ``out`` in
    place. Other parameters as :func:`tied_counts`."""
    if on_cuda:
        _cuda.launch_over_elements(cuda_kernels()[2], out, codes, table, rows, widths, ties, uniforms)
    else:
        _uniforms_kernel(out, codes, table, rows, widths, ties, uniforms)
