"""SMOTE on Dask collections: the in-memory result, computed as a task graph.

``fit_resample`` computes one thing eagerly: y's class counts (one pass over
y), which fix the output's shape and every class's plan. Everything else is
a lazy graph, so nothing but y is read before the caller computes:

1. each row block of X is validated (as ``fit_resample`` validates X) and
   split into the rows of the over-sampled classes;
2. each over-sampled class's rows are gathered once, in row order (the
   ``X[y == label]`` of the in-memory engine: one task, the class must fit in
   one worker's memory; imbalanced data keeps these classes small);
3. its neighbour table is computed in query blocks, each a task searching
   the whole class (exact, so every block holds the in-memory table's rows),
   with ``ties='imblearn'``'s fall-back to scikit-learn's table for a tied
   class taken in one task, as in memory;
4. its synthetic rows are made in blocks, each from (seed, class, row range)
   by the counter-based Philox stream, on the worker that consumes them:
   only the class rows and the table travel.

The output is the original rows, validated, then each class's synthetic
blocks in label order: with ``rng='philox'`` it equals in-memory
``fit_resample`` of the computed arrays bit for bit, for any chunking, any
number of workers, and after tasks are retried (every task is pure).
"""

from __future__ import annotations

import numbers
import sys

import dask
import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.utils.multiclass import check_classification_targets

from gpusmote.dask import _tasks
from gpusmote.dask._collections import as_input
from gpusmote.engine._draws import philox_seed
from gpusmote.engine._resample import ClassPlan, plan_classes

_task = dask.delayed(pure=True)

#: Class rows per k-NN task (each searches the whole class for its queries).
KNN_BLOCK_ROWS = 1 << 15
#: Synthetic rows per output block when the input's blocks give no size.
MAX_BLOCK_ROWS = 1 << 20

IMBLEARN_REFUSED = (
    "rng='imblearn' cannot run on Dask: imbalanced-learn's RandomState stream is sequential "
    "over a whole class (each row's draws follow all the draws before it, and the steps come "
    "after every row's indices), so its rows cannot be drawn block by block where they are "
    "used. Pass rng='philox': synthetic row j of a class depends only on (seed, class, j), so "
    "the Dask output equals in-memory SMOTE(rng='philox') bit for bit."
)


def _check_sampler(sampler) -> None:
    from gpusmote.over_sampling._smote import SMOTE

    if type(sampler) is not SMOTE:
        raise NotImplementedError(
            f"{type(sampler).__name__} does not take Dask collections; only "
            f"SMOTE(rng='philox') does (its synthetic rows depend on (seed, class, row) only). "
            f"Compute the collections first to use {type(sampler).__name__} in memory.")
    sampler._validate_params()
    if sampler.rng != "philox":
        raise ValueError(IMBLEARN_REFUSED)


def _class_counts(stats) -> tuple[np.ndarray, np.ndarray]:
    """All of y's sorted labels and their counts, from every block's."""
    labels = np.concatenate([s[1] for s in stats]) if stats else np.empty(0)
    counts = np.concatenate([s[2] for s in stats]) if stats else np.empty(0, dtype=np.int64)
    unique, inverse = np.unique(labels, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts, minlength=len(unique)).astype(np.int64)


def _worker_memory_limits() -> list[int]:
    """Memory limits of the current distributed client's workers (none known: [])."""
    if "distributed" not in sys.modules:
        return []
    try:
        client = sys.modules["distributed"].get_client()
        workers = client.scheduler_info().get("workers", {})
    except (ValueError, RuntimeError, OSError):  # no client, or not reachable
        return []
    return [int(w["memory_limit"]) for w in workers.values() if w.get("memory_limit")]


def class_bytes(n_rows: int, n_features: int, itemsize: int, k: int) -> int:
    """About what one class's k-NN task holds: its rows, their float32 point
    matrix (one more column), float64 norms and bounds, and the table."""
    return n_rows * (n_features * itemsize + 4 * (n_features + 1) + 16 + 8 * (k + 2))


def check_class_fits(label, n_rows: int, n_features: int, itemsize: int, k: int,
                     limits: list[int]) -> None:
    """Refuse, before any work, a class whose rows and k-NN need more than the
    smallest worker's memory limit (the class is gathered into one task)."""
    if not limits:
        return
    need, limit = class_bytes(n_rows, n_features, itemsize, k), min(limits)
    if need > limit:
        raise MemoryError(
            f"class {label!r} has {n_rows:,} rows x {n_features} features; its rows and "
            f"neighbour table need about {need / 2**30:.2f} GiB on one worker, more than the "
            f"smallest worker's memory limit ({limit / 2**30:.2f} GiB). Give workers more "
            f"memory or resample that class in memory.")


def _check_k(plans: list[ClassPlan], counts: dict, k: int) -> None:
    """SMOTE's message for a class with too few rows (in memory: from its k-NN)."""
    for plan in plans:
        n_rows = counts[plan.label]
        if n_rows <= k:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k + 1}, "
                f"n_samples_fit = {n_rows}, n_samples = {n_rows}. "
                f"(k_neighbors={k} needs at least {k + 1} samples in every "
                f"over-sampled class.)")


def _table(sampler, X_class, n_rows: int, n_elements: int, knn_block_rows: int):
    """The delayed neighbour table of one class."""
    if not isinstance(sampler.k_neighbors, numbers.Integral):
        return _task(_tasks.estimator_table)(X_class, sampler.k_neighbors)
    k = sampler.k_neighbors_
    blocks = [_task(_tasks.neighbor_block)(X_class, start, min(start + knn_block_rows, n_rows),
                                           k, sampler.ties, sampler.device, n_elements)
              for start in range(0, n_rows, knn_block_rows)]
    return _task(_tasks.neighbor_table)(X_class, k, *blocks)


def fit_resample(sampler, X, y, *, block_rows: int | None = None,
                 knn_block_rows: int = KNN_BLOCK_ROWS, passthrough=None):
    """:func:`gpusmote.dask.fit_resample` (its docstring has the parameters)."""
    from gpusmote.neighbors import NearestNeighbors
    from gpusmote.over_sampling._smote import neighbor_finder

    _check_sampler(sampler)
    name = type(sampler).__name__
    data = as_input(X, y, name, passthrough)
    stats = dask.compute(*[_task(_tasks.label_stats)(block) for block in data.y_blocks()])
    lengths = [int(s[0]) for s in stats]
    labels, counts = _class_counts(stats)
    check_classification_targets(labels)
    n_rows = sum(lengths)
    # imbalanced-learn's rules read y; a y with the same labels and counts gives the same plan.
    sampler.sampling_strategy_ = check_sampling_strategy(
        sampler.sampling_strategy, np.repeat(labels, counts), sampler._sampling_type)
    sampler.n_features_in_ = data.n_features
    if data.feature_names is not None:
        sampler.feature_names_in_ = data.feature_names
    elif hasattr(sampler, "feature_names_in_"):
        del sampler.feature_names_in_
    plans = plan_classes(n_rows, sampler.sampling_strategy_, labels)
    by_label = dict(zip(labels.tolist(), counts.tolist()))
    if isinstance(sampler.k_neighbors, numbers.Integral):
        sampler.k_neighbors_ = int(sampler.k_neighbors)
        sampler.nn_k_ = NearestNeighbors(n_neighbors=sampler.k_neighbors_ + 1, device=sampler.device)
        _check_k(plans, by_label, sampler.k_neighbors_)
    else:
        _, sampler.nn_k_, sampler.k_neighbors_ = neighbor_finder(sampler.k_neighbors, None)
    limits = _worker_memory_limits()
    for plan in plans:
        check_class_fits(plan.label, by_label[plan.label], data.n_features,
                         data.dtype.itemsize, sampler.k_neighbors_, limits)
    sampler.device_ = sampler.device  # resolved by each worker
    if hasattr(sampler, "timings_"):  # phases run as tasks, later: no timings
        del sampler.timings_
    seed = philox_seed(sampler.random_state)
    n_elements = n_rows * data.n_features  # the in-memory backend choice (small data or not)
    block_rows = block_rows or max(1, min(max(lengths, default=1), MAX_BLOCK_ROWS))
    wanted = [plan.label for plan in plans]
    parts = [_task(_tasks.split_classes)(X_block, y_block, wanted)
             for X_block, y_block in zip(data.X_blocks(), data.y_blocks())] if plans else []
    synthetic = []
    for plan in plans:
        n_class = by_label[plan.label]
        X_class = _task(_tasks.class_rows)(plan.label, *parts)
        table = _table(sampler, X_class, n_class, n_elements, knn_block_rows)
        for start in range(0, plan.n_samples, block_rows):
            stop = min(start + block_rows, plan.n_samples)
            rows = _task(_tasks.synthetic_rows)(X_class, table, seed, plan.position, start, stop,
                                                sampler.device, n_elements, sampler.ties,
                                                data.chunk_kind)
            synthetic.append((plan.label, plan.offset + start, rows, stop - start))
    return data.assemble(lengths, synthetic)
