"""From validated (X, y) and per-class counts to the resampled arrays.

Written once against a :class:`~gpusmote.devices._backend.Backend`, so the CPU and the
CUDA engine are the same code. The output is allocated once, where the input
lives: original rows are copied in first, then each over-sampled class's
synthetic block is written chunk by chunk, straight into its slice when the
output is in the backend's memory, else into a device chunk copied back. Peak
memory beyond input and output is the class being processed (on the device),
its neighbour table and one chunk.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from gpusmote.devices._backend import CPU, Backend, array_module
from gpusmote.engine._draws import DrawChunk
from gpusmote.engine._labels import plain_dtype, sorted_labels
from gpusmote.engine._prefault import BackgroundFaults, faulting_in
from gpusmote.engine._timing import PhaseTimes
from gpusmote.kernels.copy_rows import copy_rows
from gpusmote.neighbors._sparse import canonical_csr

NeighborFinder = Callable[[object], object]
"""Maps one class's rows (in backend memory) to its (n_rows, k) neighbour table."""


@dataclass(frozen=True)
class ClassPlan:
    """Where one over-sampled class's synthetic block goes.

    ``position`` is the label's index among all of y's sorted labels (the
    class's key in the counter-based stream).
    """

    label: object
    position: int
    n_samples: int
    offset: int


DrawSource = Callable[[ClassPlan, int, int], Iterator[DrawChunk]]
"""``(plan, n_base_rows, k)`` -> the class's draws, chunk by chunk, in backend memory."""


def plan_classes(n_rows: int, sampling_strategy: Mapping, labels: np.ndarray) -> list[ClassPlan]:
    """Lay out the synthetic blocks after the original rows, in label order.

    Raises
    ------
    TypeError
        If a count is not an integer (a dict ``sampling_strategy`` with float
        targets; imbalanced-learn fails on it too, inside NumPy).
    """
    plans, offset = [], n_rows
    for label, n_samples in sampling_strategy.items():
        if not isinstance(n_samples, numbers.Integral):
            raise TypeError(f"sampling_strategy asks for {n_samples} new samples of class "
                            f"{label!r}; sample counts must be integers.")
        if n_samples == 0:
            continue
        position = int(np.flatnonzero(labels == label)[0])
        plans.append(ClassPlan(label, position, int(n_samples), offset))
        offset += int(n_samples)
    return plans


def empty_output(shape: tuple[int, int], dtype, xp=np):
    """The output array, allocated without NumPy's transparent-huge-page advice.

    The output is written once, front to back, so huge pages buy nothing, but
    on a machine without free huge pages the kernel compacts memory to make
    them: measured on a 2-core VM, the first touch of a fresh 242 MiB array took
    0.48-0.54 s with the advice and 0.08-0.10 s without, every time.
    """
    set_advice = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    if xp is not np or set_advice is None:
        return xp.empty(shape, dtype=dtype)
    previous = set_advice(False)
    try:
        return np.empty(shape, dtype=dtype)
    finally:
        set_advice(previous)


def _class_neighbors(X, y: np.ndarray, plan: ClassPlan, find_neighbors: NeighborFinder,
                     backend: Backend, times: PhaseTimes):
    """One class's rows and neighbour table, both in backend memory (timed as "knn")."""
    with times.phase("knn", backend.synchronize):
        X_class = _class_rows(X, y, plan.label, backend)
        return X_class, backend.to_device(find_neighbors(X_class))


def _class_rows(X, y: np.ndarray, label, backend: Backend):
    # y is on the host; the row indices go where X is (CuPy wants its own arrays).
    X_class = X[array_module(X).asarray(np.flatnonzero(y == label))]
    if sparse.issparse(X_class):
        return canonical_csr(X_class)
    return backend.xp.ascontiguousarray(backend.to_device(X_class), dtype=plain_dtype(X_class.dtype))


def synthetic_chunks(backend, base, nn_data, nn_idx, draws: Iterator[DrawChunk], out=None):
    """Generate one block's synthetic rows chunk by chunk and yield each chunk.

    Row j is ``base[rows[j]] + steps[j] * (nn_data[nn_idx[rows[j], cols[j]]] -
    base[rows[j]])``. With ``out`` (in backend memory) the chunks are written
    into its consecutive slices; without, each chunk gets a fresh backend
    buffer.
    """
    for draw in draws:
        n_chunk = len(draw.rows)
        if out is None:
            dest = backend.xp.empty((n_chunk, base.shape[1]), dtype=base.dtype)
        else:
            dest = out[draw.start : draw.start + n_chunk]
        if draw.diff_scales is None:
            backend.interpolate(dest, base, nn_data, nn_idx, draw.rows, draw.cols, draw.steps)
        else:
            _interpolate_scaled_diffs(dest, base, nn_data, nn_idx, draw)
        yield draw.start, dest


#: Bytes of float64 temporaries per piece of :func:`_interpolate_scaled_diffs`
#: (fresh full-chunk temporaries were page-faulted in on every call: 9,800 new
#: rows x 34 float64 columns took 6.3 ms).
SCALED_DIFFS_PIECE_BYTES = 256 * 2**10


def _interpolate_scaled_diffs(out, base, nn_data, nn_idx, draw: DrawChunk) -> None:
    """imbalanced-learn's Borderline-2 expression on one chunk (NumPy or CuPy)::

        diffs = nn_data[nn_idx[rows, cols]] - base[rows]
        diffs *= diff_scales[:, None]          # in the data's dtype
        out = (base[rows] + steps[:, None] * diffs).astype(out.dtype)

    Each operator is its own rounding on either array module (nothing fused),
    the same ones in the same dtypes here, a cache-sized piece of rows at a
    time and in place where the expression's temporaries allow (the sum is
    taken as ``steps * diffs + base``: addition commutes exactly). Integer data
    fails at the in-place product, as imbalanced-learn's ``*=`` does."""
    xp = array_module(out)
    piece = max(1, SCALED_DIFFS_PIECE_BYTES // (8 * max(1, out.shape[1])))
    for low in range(0, len(draw.rows), piece):
        high = min(low + piece, len(draw.rows))
        rows = draw.rows[low:high]
        base_rows = base[rows]
        diffs = nn_data[nn_idx[rows, draw.cols[low:high]]]
        xp.subtract(diffs, base_rows, out=diffs)
        xp.multiply(diffs, draw.diff_scales[low:high, None], out=diffs, casting="same_kind")
        stepped = draw.steps[low:high, None] * diffs
        stepped += base_rows
        out[low:high] = stepped


def _output_with_originals(X, y: np.ndarray, n_total: int, backend: Backend, times: PhaseTimes,
                           faults: BackgroundFaults, first_rows: int):
    """The output, allocated once where X lives (``n_total`` rows, X's and y's
    dtypes), with the original rows copied in (timed as "copy").

    The ``first_rows`` rows after the originals (the ones written first) are
    faulted in on the background thread (``faults``) while the originals are
    copied and the caller runs its k-NN and draws.
    """
    with times.phase("copy", backend.synchronize):
        X_out = empty_output((n_total, X.shape[1]), plain_dtype(X.dtype), array_module(X))
        y_out = np.empty(n_total, dtype=plain_dtype(y.dtype))
        new_rows = slice(len(X), len(X) + first_rows)
        faults.start(X_out[new_rows], y_out[new_rows])
        copy_rows(X_out, X)
        y_out[: len(y)] = y
    return X_out, y_out


def _write_synthetic(backend: Backend, out, base, nn_data, nn_idx, draws: Iterator[DrawChunk]) -> None:
    """One block's synthetic rows into ``out``: straight into its slices when
    ``out`` is in the backend's memory, else through device chunks copied back."""
    direct = backend.holds(out)
    for start, chunk in synthetic_chunks(backend, base, nn_data, nn_idx, draws,
                                         out=out if direct else None):
        if not direct:
            out[start : start + len(chunk)] = backend.to_host(chunk)


def resample_dense(
    X,
    y: np.ndarray,
    sampling_strategy: Mapping,
    find_neighbors: NeighborFinder,
    draws: DrawSource,
    times: PhaseTimes | None = None,
    backend: Backend = CPU,
):
    """Original rows then every class's synthetic rows, in one allocation.

    ``times``, when given, receives the seconds spent copying the original rows
    (``"copy"``), in k-NN (``"knn"``) and generating (``"generate"``).
    """
    times = PhaseTimes() if times is None else times
    plans = plan_classes(len(X), sampling_strategy, sorted_labels(y))
    n_total = len(X) + sum(p.n_samples for p in plans)
    with faulting_in() as faults:
        # Each class's rows are faulted in while that class's k-NN and draws run
        # (all of them at once, the later classes' searches would run on top of
        # the whole output: multiclass's peak 1.05x -> 1.18x the output).
        first_rows = plans[0].n_samples if plans else 0
        X_out, y_out = _output_with_originals(X, y, n_total, backend, times, faults, first_rows)
        for number, plan in enumerate(plans):
            block = slice(plan.offset, plan.offset + plan.n_samples)
            if number:
                faults.start(X_out[block], y_out[block])
            X_class, nn_idx = _class_neighbors(X, y, plan, find_neighbors, backend, times)
            with times.phase("generate", backend.synchronize):
                _write_synthetic(backend, X_out[block], X_class, X_class, nn_idx,
                                 draws(plan, len(X_class), nn_idx.shape[1]))
                y_out[block] = plan.label
    return X_out, y_out


def sparse_synthetic_rows(base_rows, nn_idx: np.ndarray, draw: DrawChunk, nn_rows=None):
    """One chunk of synthetic rows of a sparse block, as a sparse matrix.

    imbalanced-learn's own sparse expression (``_generate_samples``), so the
    values are its values, and memory follows the rows' nonzeros, not their
    width. ``nn_rows`` holds the neighbours (default: ``base_rows``).
    """
    nn_rows = base_rows if nn_rows is None else nn_rows
    base = base_rows[draw.rows]
    diffs = nn_rows[nn_idx[draw.rows, draw.cols]] - base
    if draw.diff_scales is not None:
        # Borderline-2 on sparse arrays: imbalanced-learn's in-place ``*=``,
        # each difference scaled and rounded back to the data's dtype.
        diffs = diffs.multiply(np.asarray(draw.diff_scales)[:, None]).astype(diffs.dtype).tocsr()
    steps = sparse.csr_matrix(np.asarray(draw.steps)[:, None])
    return (base + steps.multiply(diffs)).astype(base_rows.dtype)


def resample_sparse(
    X,
    y: np.ndarray,
    sampling_strategy: Mapping,
    find_neighbors: NeighborFinder,
    draws: DrawSource,
    times: PhaseTimes | None = None,
    backend: Backend = CPU,
):
    """Sparse CSR/CSC input, never densified: each over-sampled class's rows
    (CSR), their neighbour table (``find_neighbors`` takes the sparse rows),
    and its synthetic rows chunk by chunk, stacked back in X's format.

    Host memory only: ``backend`` must be the CPU's.
    """
    times = PhaseTimes() if times is None else times
    plans = plan_classes(X.shape[0], sampling_strategy, sorted_labels(y))
    blocks, labels = [X], [y]
    for plan in plans:
        X_class, nn_idx = _class_neighbors(X, y, plan, find_neighbors, backend, times)
        with times.phase("generate"):
            for draw in draws(plan, X_class.shape[0], nn_idx.shape[1]):
                blocks.append(sparse_synthetic_rows(X_class, nn_idx, draw))
            labels.append(np.full(plan.n_samples, plan.label, dtype=plain_dtype(y.dtype)))
    with times.phase("copy"):
        stacked = (sparse.vstack(blocks, format=X.format, dtype=plain_dtype(X.dtype)),
                   np.concatenate(labels, dtype=plain_dtype(y.dtype)))
    return stacked


@dataclass(frozen=True)
class Block:
    """One over-sampled class's synthetic rows, for samplers whose block sizes
    are known only after their k-NN (ADASYN, Borderline, SVMSMOTE).

    Draw ``j`` makes ``base[rows[j]] + steps[j] * (nn_data[table[rows[j],
    cols[j]]] - base[rows[j]])``: base and neighbour rows may come from
    different arrays (Borderline-2 takes neighbours from all of X), steps may
    be negative (extrapolation) and rows fixed rather than drawn (ADASYN): all
    of it is in the draws.

    Attributes
    ----------
    label : the class's label (y of every row of the block).
    n_samples : int
    base, nn_data : arrays in backend memory (sparse: CSR on the host).
    table : int64 array of shape (len(base), k), in backend memory.
    draws : callable
        ``() -> iterator of DrawChunk`` (backend memory), called once, when the
        block is written: draws that consume a RandomState are taken in block
        order.
    """

    label: object
    n_samples: int
    base: object
    nn_data: object
    table: object
    draws: Callable[[], Iterator[DrawChunk]]


def resample_blocks(X, y: np.ndarray, blocks: Sequence[Block], times: PhaseTimes | None = None,
                    backend: Backend = CPU):
    """The original rows then every block's synthetic rows, in one allocation
    (dense X) or stacked in X's sparse format.

    ``blocks`` are written in order; ``times`` receives ``"copy"`` and
    ``"generate"`` (the k-NN that made the blocks is the caller's).
    """
    times = PhaseTimes() if times is None else times
    if sparse.issparse(X):
        return _stack_sparse_blocks(X, y, blocks, times)
    n_total = len(X) + sum(block.n_samples for block in blocks)
    with faulting_in() as faults:  # every block's rows at once: their k-NN is done
        X_out, y_out = _output_with_originals(X, y, n_total, backend, times, faults, n_total - len(X))
        offset = len(X)
        for block in blocks:
            with times.phase("generate", backend.synchronize):
                _write_synthetic(backend, X_out[offset : offset + block.n_samples], block.base,
                                 block.nn_data, block.table, block.draws())
                y_out[offset : offset + block.n_samples] = block.label
            offset += block.n_samples
    return X_out, y_out


def _stack_sparse_blocks(X, y: np.ndarray, blocks: Sequence[Block], times: PhaseTimes):
    parts, labels = [X], [y]
    with times.phase("generate"):
        for block in blocks:
            for draw in block.draws():
                parts.append(sparse_synthetic_rows(block.base, np.asarray(block.table), draw,
                                                   nn_rows=block.nn_data))
            labels.append(np.full(block.n_samples, block.label, dtype=plain_dtype(y.dtype)))
    with times.phase("copy"):
        return (sparse.vstack(parts, format=X.format, dtype=plain_dtype(X.dtype)),
                np.concatenate(labels, dtype=plain_dtype(y.dtype)))
