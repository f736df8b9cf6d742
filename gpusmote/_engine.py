"""From validated (X, y) and per-class counts to the resampled arrays.

The output is allocated once: original rows are copied in first, then each
over-sampled class's synthetic block is written straight into its slice, chunk
by chunk. Peak memory beyond input and output is the minority class being
processed, its neighbour table and one chunk of draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from gpusmote._random import iter_imblearn_draws
from gpusmote._timing import PhaseTimes
from gpusmote.kernels.interpolate import interpolate_rows

NeighborFinder = Callable[[np.ndarray], np.ndarray]
"""Maps the rows of one class to its (n_rows, k) neighbour table."""


@dataclass(frozen=True)
class ClassPlan:
    """Where one over-sampled class's synthetic block goes."""

    label: object
    n_samples: int
    offset: int


def plan_classes(n_rows: int, sampling_strategy: Mapping) -> list[ClassPlan]:
    """Lay out the synthetic blocks after the original rows, in label order."""
    plans, offset = [], n_rows
    for label, n_samples in sampling_strategy.items():
        if n_samples == 0:
            continue
        plans.append(ClassPlan(label, int(n_samples), offset))
        offset += int(n_samples)
    return plans


def _class_rows(X, y: np.ndarray, label) -> np.ndarray:
    X_class = X[np.flatnonzero(y == label)]
    return X_class.toarray() if sparse.issparse(X_class) else X_class


def _synthetic_chunks(X_class, nn_idx, n_samples, random_state, chunk_rows, out=None):
    """Generate one class's synthetic rows chunk by chunk and yield each chunk.

    With ``out`` the chunks are written into its consecutive slices; without,
    each chunk gets a fresh buffer (the sparse path converts it at once).
    """
    k = nn_idx.shape[1]
    for draw in iter_imblearn_draws(random_state, len(X_class), k, n_samples, chunk_rows):
        n_chunk = len(draw.rows)
        if out is None:
            dest = np.empty((n_chunk, X_class.shape[1]), dtype=X_class.dtype)
        else:
            dest = out[draw.start : draw.start + n_chunk]
        interpolate_rows(dest, X_class, X_class, nn_idx, draw.rows, draw.cols, draw.steps)
        yield dest


def resample_dense(
    X: np.ndarray,
    y: np.ndarray,
    sampling_strategy: Mapping,
    find_neighbors: NeighborFinder,
    random_state,
    chunk_rows: int | None = None,
    times: PhaseTimes | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Original rows then every class's synthetic rows, in one allocation.

    ``times``, when given, receives the seconds spent copying the original rows
    (``"copy"``), in k-NN (``"knn"``) and generating (``"generate"``).
    """
    times = PhaseTimes() if times is None else times
    plans = plan_classes(len(X), sampling_strategy)
    n_total = len(X) + sum(p.n_samples for p in plans)
    with times.phase("copy"):
        X_out = np.empty((n_total, X.shape[1]), dtype=X.dtype)
        y_out = np.empty(n_total, dtype=y.dtype)
        X_out[: len(X)] = X
        y_out[: len(y)] = y
    for plan in plans:
        with times.phase("knn"):
            X_class = np.ascontiguousarray(_class_rows(X, y, plan.label))
            nn_idx = find_neighbors(X_class)
        with times.phase("generate"):
            block = X_out[plan.offset : plan.offset + plan.n_samples]
            for _ in _synthetic_chunks(
                X_class, nn_idx, plan.n_samples, random_state, chunk_rows, out=block
            ):
                pass
            y_out[plan.offset : plan.offset + plan.n_samples] = plan.label
    return X_out, y_out


def resample_sparse(
    X,
    y: np.ndarray,
    sampling_strategy: Mapping,
    find_neighbors: NeighborFinder,
    random_state,
    chunk_rows: int | None = None,
    times: PhaseTimes | None = None,
):
    """Sparse CSR/CSC input: each over-sampled class is densified (its rows
    only, for the k-NN), its synthetic rows are generated densely one chunk at a
    time, and every chunk is stacked back in X's sparse format."""
    times = PhaseTimes() if times is None else times
    plans = plan_classes(X.shape[0], sampling_strategy)
    blocks, labels = [X], [y]
    for plan in plans:
        with times.phase("knn"):
            X_class = np.ascontiguousarray(_class_rows(X, y, plan.label))
            nn_idx = find_neighbors(X_class)
        with times.phase("generate"):
            for chunk in _synthetic_chunks(X_class, nn_idx, plan.n_samples, random_state, chunk_rows):
                blocks.append(type(X)(chunk))
            labels.append(np.full(plan.n_samples, plan.label, dtype=y.dtype))
    with times.phase("copy"):
        stacked = sparse.vstack(blocks, format=X.format), np.concatenate(labels)
    return stacked
