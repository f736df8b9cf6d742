"""``BalancedBatches``: balanced training batches made where the data lives."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from gpusmote.engine._on_demand import build_table
from gpusmote.kernels.synthesize import fill_rows, fill_rows_cuda
from gpusmote.torch._device import as_device, check_torch_cuda, selected
from gpusmote.torch._epochs import SharedEpoch
from gpusmote.torch._shards import distributed_rank, majority_per_batch, shard
from gpusmote.torch._tensors import (HALF_DTYPES, as_tensor, check_xy, compute_dtype, host_view,
                                     plain_strategy)

#: Weyl-sequence step (golden ratio) spreading synthetic slots over classes.
_GOLDEN = 0.6180339887498949


class BalancedBatches(IterableDataset):
    """Balanced (X, y) batches, each made in one kernel launch: an ``IterableDataset``.

    An epoch is one pass over the original rows of the classes that are not
    over-sampled (the majority rows), in a fresh order. Every batch holds
    ``batch_size`` rows, of which ``round(minority_fraction * batch_size)``
    belong to the over-sampled (minority) classes: the epoch's original
    minority rows, spread evenly over the batches, topped up with fresh SMOTE
    rows (counter-based stream, new each epoch; several minority classes share
    the top-up in proportion to ``sampling_strategy``). Rows are ordered
    majority, original minority, synthetic within a batch; shuffle if your model
    cares. The last batch of an epoch is smaller (same fraction) unless
    ``drop_last``; with several ranks, the last round of ``world_size`` batches
    shares the rest, so every rank makes the same number of batches.

    Iterate it directly, or through ``DataLoader(batches, batch_size=None)``
    (it yields whole batches), with any ``num_workers`` for CPU tensors.

    Sharding. Each batch is fixed by (``random_state``, epoch, batch number)
    alone. Rank ``r`` of ``world_size`` makes batches ``r, r + world_size,
    ...``, and its DataLoader workers (``get_worker_info()``) share those in
    turn, so all ranks and workers together make every batch of the epoch once:
    each majority row exactly once, the same rows whatever the worker count
    (and, through a DataLoader, in the same order). ``rank`` and
    ``world_size`` are taken from ``torch.distributed`` at construction when
    it is initialised and they are not given. ``len()`` is this rank's number of
    batches.

    Epochs. Each pass (one ``iter()``: one ``for`` loop, or one ``iter(loader)``
    across its workers) takes a new epoch, so iterating twice never repeats an
    epoch's order and synthetic rows by accident: the first pass uses
    ``epoch``, the next ``epoch + 1``, and so on. ``set_epoch(n)`` makes the
    next pass use ``n`` (call it every epoch, as with ``DistributedSampler``,
    to make runs resumable); ``auto_advance=False`` pins the epoch, so every
    pass repeats it until ``set_epoch``. The epoch is shared with worker
    processes (persistent ones included).

    For CUDA tensors each batch is gathered and synthesised on the GPU by one
    Numba CUDA kernel (the epoch's row plan is copied once per pass); iterate
    those in the main process (``num_workers=0``). CPU tensors use the CPU twin
    of the same kernel (on the calling thread inside a DataLoader worker
    process). The same seed and epoch give the same batches on every device.

    Parameters
    ----------
    X : torch.Tensor or ndarray of shape (n_samples, n_features)
        float32 or float64; float16 and bfloat16 are computed in float32 (a
        float32 copy is held) and batches come back in X's dtype. Read
        detached (one that requires grad is accepted): the batches carry no
        autograd history, as with :func:`resample` and ``SMOTEDataset``.
    y : torch.Tensor or ndarray of shape (n_samples,)
        Class labels: integers, or whole-number floats (``0.``/``1.``); on X's
        device. Batches carry y's dtype.
    batch_size : int, default=1024
    minority_fraction : float, default=0.5
        Share of every batch from the over-sampled classes, in (0, 1).
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes are over-sampled (and their relative shares), as in
        :class:`gpusmote.SMOTE`.
    k_neighbors : int, default=5
    random_state : int, default=0
        Key of the stream (fixed by default, so ranks and workers agree).
    drop_last : bool, default=False
    epoch : int, default=0
        The first pass's epoch.
    auto_advance : bool, default=True
        Give every pass a new epoch (False: repeat the epoch until ``set_epoch``).
    rank, world_size : int, optional
        This process's share of the batches (both or neither); by default
        ``torch.distributed``'s when initialised, else 0 and 1.
    device : str or torch.device, optional
        Where batches are made and returned (``'cpu'``, ``'cuda'``,
        ``'cuda:1'``, a ``torch.device``); X and y are copied there once.
        Default: X's device (CPU for a NumPy X).
    return_synthetic_mask : bool, default=False
        Yield ``(X, y, is_synthetic)``, a bool tensor marking the SMOTE rows.

    Attributes
    ----------
    sampling_strategy_ : dict
        Synthetic rows per over-sampled class of a full resample (their
        relative shares of the top-up), with plain Python keys and values.
    rank, world_size : int
    epoch : int
        The epoch last set or used.

    Notes
    -----
    The neighbour tables are computed once, at construction, from a host copy
    of X (a CUDA X is copied to the host for it; the k-NN then runs on the
    best available device).

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader
    >>> from gpusmote.torch import BalancedBatches
    >>> X = torch.randn(1000, 4)
    >>> y = torch.tensor([0.0] * 900 + [1.0] * 100)
    >>> batches = BalancedBatches(X, y, batch_size=200, minority_fraction=0.5)
    >>> len(batches)
    9
    >>> xb, yb = next(iter(DataLoader(batches, batch_size=None, num_workers=0)))
    >>> tuple(xb.shape), float(yb.mean())
    ((200, 4), 0.5)
    """

    def __init__(self, X, y, *, batch_size: int = 1024, minority_fraction: float = 0.5,
                 sampling_strategy="auto", k_neighbors: int = 5, random_state: int = 0,
                 drop_last: bool = False, epoch: int = 0, auto_advance: bool = True,
                 rank: int | None = None, world_size: int | None = None, device=None,
                 return_synthetic_mask: bool = False):
        X, y = as_tensor(X, "X"), as_tensor(y, "y")
        check_xy(X, y)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
            raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}.")
        if not 0.0 < float(minority_fraction) < 1.0:
            raise ValueError(f"minority_fraction must be in (0, 1), got {minority_fraction!r}.")
        target = as_device(device, X.device)
        if target.type == "cuda":
            check_torch_cuda(target)
        self.rank, self.world_size = distributed_rank(rank, world_size)
        self.batch_size, self.minority_fraction = int(batch_size), float(minority_fraction)
        self.drop_last, self.auto_advance = bool(drop_last), bool(auto_advance)
        self.return_synthetic_mask = bool(return_synthetic_mask)
        self._out_dtype = X.dtype
        # Detached: the kernels read the data through NumPy / CUDA array views,
        # which a tensor that requires grad refuses.
        self._X = X.detach().to(device=target, dtype=compute_dtype(X.dtype)).contiguous()
        self._y = y.detach().to(target).contiguous()
        table = build_table(host_view(self._X), host_view(self._y),
                            sampling_strategy=sampling_strategy, k_neighbors=k_neighbors,
                            random_state=random_state,
                            device="auto" if self._X.is_cuda else "cpu")
        if not len(table.labels):
            raise ValueError("sampling_strategy over-samples no class: nothing to balance.")
        self.sampling_strategy_ = plain_strategy(table.sampling_strategy)
        self._k_neighbors, self._random_state = k_neighbors, random_state
        self._seed = table.seed
        self._minority = round(self.minority_fraction * self.batch_size)
        self._minority = min(max(self._minority, 1), self.batch_size - 1)
        self._majority_rows = np.flatnonzero(~np.isin(table.y, table.labels))
        if not len(self._majority_rows):
            raise ValueError(
                "sampling_strategy over-samples every class, so no class is left to define an "
                "epoch (one pass over the rows of the classes that are not over-sampled); leave "
                "at least one class out of it (e.g. 'auto' or 'not majority'), or use "
                "SMOTEDataset for a fixed resampled length.")
        self._minority_rows = table.class_rows
        self._weights = table.n_synthetic / table.n_synthetic.sum()
        majority_per = self.batch_size - self._minority
        if self.drop_last and len(self._majority_rows) < majority_per:
            raise ValueError(f"{len(self._majority_rows)} majority rows do not fill one batch "
                             f"of {majority_per}; lower batch_size or set drop_last=False.")
        self._major_sizes = majority_per_batch(len(self._majority_rows), majority_per,
                                               self.world_size, self.drop_last)
        n_batches = len(self._major_sizes)
        if -(-len(self._minority_rows) // n_batches) > self._minority:
            raise ValueError(
                f"minority_fraction={minority_fraction} is below the data's own minority share: "
                f"{len(self._minority_rows)} original minority rows do not fit in "
                f"{n_batches} batches of {self._minority}.")
        self._tables = [torch.from_numpy(np.ascontiguousarray(a)).to(target)
                        for a in table.kernel_tables()]
        self._epoch = SharedEpoch()
        self.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self._epoch.value

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch``'s order and synthetic rows for the next pass."""
        if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}.")
        self._epoch.set(int(epoch))

    def __len__(self) -> int:
        """Batches this rank makes in an epoch (all its DataLoader workers together)."""
        return len(shard(len(self._major_sizes), self.rank, self.world_size))

    def __repr__(self) -> str:
        shares = ", ".join(f"{label!r}: {w:.3g}" for label, w in
                           zip(self.sampling_strategy_, self._weights))
        where = f", rank={self.rank}, world_size={self.world_size}" if self.world_size > 1 else ""
        return (f"BalancedBatches({len(self)} batches of {self.batch_size}, "
                f"minority_fraction={self.minority_fraction}, "
                f"rows: {len(self._majority_rows)} majority, {len(self._minority_rows)} minority, "
                f"shares {{{shares}}}, {len(self._X)}x{self._X.shape[1]} "
                f"{str(self._out_dtype).removeprefix('torch.')} on {self._X.device}, "
                f"k_neighbors={self._k_neighbors}, random_state={self._random_state}, "
                f"epoch={self.epoch}, auto_advance={self.auto_advance}{where})")

    def epoch_plan(self, epoch: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """An epoch's rows, all ranks': ``(source, js, cls, batch_starts)`` in host memory.

        ``source`` is the original row of each slot (-1 for synthetic), ``js``
        and ``cls`` the synthetic row index and class (see
        ``gpusmote.kernels.synthesize``); batch ``b`` is slots
        ``batch_starts[b] .. batch_starts[b + 1]``. ``epoch`` defaults to
        :attr:`epoch`.
        """
        epoch = self.epoch if epoch is None else int(epoch)
        rng = np.random.default_rng([self._seed, epoch, 0x5EED])
        majority = rng.permutation(self._majority_rows)
        minority = rng.permutation(self._minority_rows)
        per_batch = self.batch_size - self._minority
        n_batches, n_minority = len(self._major_sizes), len(minority)
        bounds = np.concatenate([[0], np.cumsum(self._major_sizes)])
        sources, n_synthetic = [], []
        for b in range(n_batches):
            major = majority[bounds[b] : bounds[b + 1]]
            minor = minority[b * n_minority // n_batches : (b + 1) * n_minority // n_batches]
            if len(major) == per_batch:
                wanted = self._minority
            else:  # a short batch keeps the fraction
                wanted = round(len(major) * self.minority_fraction / (1 - self.minority_fraction))
            sources += [major, minor]
            n_synthetic.append(max(wanted - len(minor), 0))
            sources.append(np.full(n_synthetic[-1], -1, dtype=np.int64))
        source = np.concatenate(sources).astype(np.int64)
        synthetic = source < 0
        # Classes of the synthetic slots: a Weyl sequence over the cumulative
        # shares, so every prefix of the epoch keeps the proportions.
        g = np.arange(1, int(synthetic.sum()) + 1, dtype=np.float64)
        cls_syn = np.searchsorted(np.cumsum(self._weights)[:-1], np.modf(g * _GOLDEN)[0],
                                  side="right")
        js_syn = np.empty_like(cls_syn)
        for c in range(len(self._weights)):  # index within its class, this epoch
            in_class = cls_syn == c
            js_syn[in_class] = np.arange(int(in_class.sum()))
        cls, js = np.zeros_like(source), np.zeros_like(source)
        cls[synthetic], js[synthetic] = cls_syn, js_syn
        sizes = [len(s) for s in sources]
        batch_sizes = np.add.reduceat(sizes, np.arange(0, len(sizes), 3))
        return source, js, cls, np.concatenate([[0], np.cumsum(batch_sizes)])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        # Claimed here, not in the generator: every worker claims when the
        # loader creates its iterator, before any batch is asked for.
        info = get_worker_info()
        if info is not None and self._X.is_cuda:
            raise RuntimeError("BalancedBatches of CUDA tensors makes its batches on the GPU: "
                               "iterate it in the main process (DataLoader num_workers=0).")
        epoch = self._epoch.claim(self.auto_advance)
        worker, n_workers = (0, 1) if info is None else (info.id, info.num_workers)
        mine = shard(len(self._major_sizes), self.rank, self.world_size, worker, n_workers)
        return self._batches(epoch, mine, parallel=info is None)

    def _batches(self, epoch: int, batch_numbers: np.ndarray, parallel: bool
                 ) -> Iterator[tuple[torch.Tensor, ...]]:
        source, js, cls, starts = self.epoch_plan(epoch)
        device = self._X.device
        plan = [torch.from_numpy(a).to(device) for a in (source, js, cls)]
        if self._X.is_cuda:
            fill = _fill_cuda
        else:
            # A DataLoader worker is usually a fork of a process that may have
            # run Numba's OpenMP pool, which a fork must not use (Numba
            # terminates it): run on the calling thread there, as SMOTEDataset does.
            fill = functools.partial(_fill_cpu, parallel=parallel)
        for b in batch_numbers:
            lo, hi = int(starts[b]), int(starts[b + 1])
            X_out = torch.empty((hi - lo, self._X.shape[1]), dtype=self._X.dtype, device=device)
            y_out = torch.empty(hi - lo, dtype=self._y.dtype, device=device)
            with selected(device):
                fill(X_out, y_out, self._X, self._y, *(a[lo:hi] for a in plan), *self._tables,
                     self._seed, epoch)
            if self._out_dtype in HALF_DTYPES:
                X_out = X_out.to(self._out_dtype)
            if self.return_synthetic_mask:
                yield X_out, y_out, plan[0][lo:hi] < 0
            else:
                yield X_out, y_out


def _fill_cpu(*arrays_then_scalars, parallel: bool = True):
    *tensors, seed, stream = arrays_then_scalars
    fill_rows(*(t.numpy() for t in tensors), seed, stream, parallel=parallel)


def _fill_cuda(*arrays_then_scalars):
    from numba import cuda

    *tensors, seed, stream = arrays_then_scalars
    fill_rows_cuda(*(cuda.as_cuda_array(t) for t in tensors), seed, stream)
