"""How an epoch's batches are laid out and shared among ranks and DataLoader workers.

Every batch of an epoch is fixed by (seed, epoch, batch number) alone; ranks
and workers only choose which batches they make. So all of them together make
each batch once, and the rows do not depend on how many there are.
"""

from __future__ import annotations

import numbers

import numpy as np


def distributed_rank(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """``(rank, world_size)``: the arguments, else ``torch.distributed``'s when it is
    initialised, else ``(0, 1)``.

    Raises
    ------
    ValueError
        Only one of the two is given, or they are not ints with
        ``0 <= rank < world_size``.
    """
    if rank is None and world_size is None:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1
    if rank is None or world_size is None:
        raise ValueError("pass rank and world_size together, or neither (to take them from "
                         "torch.distributed when it is initialised).")
    for name, value in (("rank", rank), ("world_size", world_size)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}.")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size), got rank={rank}, "
                         f"world_size={world_size}.")
    return int(rank), int(world_size)


def majority_per_batch(n_rows: int, per_batch: int, world_size: int,
                       drop_last: bool) -> np.ndarray:
    """Majority rows in each batch of an epoch, a multiple of ``world_size`` batches.

    Batches are full (``per_batch`` rows) but for the last round of
    ``world_size`` batches (with one rank, the last batch), which shares the
    rest evenly; where that leaves a batch empty, the last two rounds share it.
    With ``drop_last`` the rows that do not fill a whole round are left out.
    Every rank then makes the same number of batches (DDP needs that).

    Raises
    ------
    ValueError
        There are too few rows for one batch per rank.
    """
    if drop_last:
        n_batches = n_rows // per_batch // world_size * world_size
        if n_batches == 0:
            raise ValueError(f"{n_rows} majority rows do not fill one batch of {per_batch} "
                             f"on each of {world_size} rank(s); lower batch_size or set "
                             f"drop_last=False.")
        return np.full(n_batches, per_batch, dtype=np.int64)
    n_batches = -(-(-(-n_rows // per_batch)) // world_size) * world_size
    tail = min(world_size, n_batches)
    while True:
        left = n_rows - (n_batches - tail) * per_batch
        if left >= tail or tail == n_batches:
            break
        tail = min(tail + world_size, n_batches)
    if left < tail:
        raise ValueError(f"{n_rows} majority rows cannot give each of {world_size} ranks the "
                         f"same number of non-empty batches of at most {per_batch}; raise "
                         f"batch_size, lower minority_fraction or set drop_last=True.")
    sizes = np.full(n_batches, per_batch, dtype=np.int64)
    sizes[n_batches - tail:] = left // tail + (np.arange(tail) < left % tail)
    return sizes


def shard(n_batches: int, rank: int, world_size: int, worker: int = 0,
          n_workers: int = 1) -> np.ndarray:
    """The batch numbers one DataLoader worker of one rank makes, in order.

    Rank ``r`` makes batches ``r, r + world_size, ...``; its worker ``w`` of
    ``n_workers`` every ``n_workers``-th of those from the ``w``-th. A
    DataLoader takes one batch from each worker in turn, so it yields the
    rank's batches in the same order whatever the worker count.
    """
    return np.arange(rank, n_batches, world_size)[worker::n_workers]
