"""``BalancedBatches``: balanced training batches made where the data lives."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import get_worker_info

from gpusmote.engine._on_demand import build_table
from gpusmote.kernels.synthesize import fill_rows, fill_rows_cuda
from gpusmote.torch._tensors import check_xy, host_view

#: Weyl-sequence step (golden ratio) spreading synthetic slots over classes.
_GOLDEN = 0.6180339887498949


class BalancedBatches:
    """Iterate over balanced (X, y) batches, made in one kernel launch each.

    An epoch is one pass over the original rows of the classes that are not
    over-sampled, in a fresh order. Every batch holds ``batch_size`` rows, of
    which ``round(minority_fraction * batch_size)`` belong to the over-sampled
    (minority) classes: the epoch's original minority rows, spread evenly over
    the batches, topped up with fresh SMOTE rows (counter-based stream, new
    each epoch; several minority classes share the top-up in proportion to
    ``sampling_strategy``). Rows are ordered majority, original minority,
    synthetic within a batch; shuffle if your model cares. The last batch of an
    epoch is smaller (same fraction) unless ``drop_last``.

    For CUDA tensors each batch is gathered and synthesised on the GPU by one
    Numba CUDA kernel (the epoch's row plan is copied once per epoch); CPU
    tensors use the CPU twin of the same kernel (on the calling thread inside a
    DataLoader worker process). The same seed and epoch give the same batches
    on every device.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features), float32 or float64
        Read detached (one that requires grad is accepted): the batches carry
        no autograd history, as with :func:`resample` and ``SMOTEDataset``.
    y : torch.Tensor of shape (n_samples,), integer labels, on X's device
    batch_size : int, default=1024
    minority_fraction : float, default=0.5
        Share of every batch from the over-sampled classes, in (0, 1).
    sampling_strategy : float, str, dict or callable, default='auto'
        Which classes are over-sampled (and their relative shares), as in
        :class:`gpusmote.SMOTE`.
    k_neighbors : int, default=5
    random_state : int, default=0
    drop_last : bool, default=False
    epoch : int, default=0

    Notes
    -----
    The neighbour tables are computed once, at construction, from a host copy
    of X (a CUDA X is copied to the host for it; the k-NN then runs on the
    best available device).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024,
                 minority_fraction: float = 0.5, sampling_strategy="auto",
                 k_neighbors: int = 5, random_state: int = 0, drop_last: bool = False,
                 epoch: int = 0):
        check_xy(X, y)
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
            raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}.")
        if not 0.0 < float(minority_fraction) < 1.0:
            raise ValueError(f"minority_fraction must be in (0, 1), got {minority_fraction!r}.")
        table = build_table(host_view(X), host_view(y), sampling_strategy=sampling_strategy,
                            k_neighbors=k_neighbors, random_state=random_state,
                            device="auto" if X.is_cuda else "cpu")
        if not len(table.labels):
            raise ValueError("sampling_strategy over-samples no class: nothing to balance.")
        self.batch_size, self.minority_fraction = int(batch_size), float(minority_fraction)
        self.drop_last, self.epoch = bool(drop_last), 0
        # Detached: the kernels read the data through NumPy / CUDA array views,
        # which a tensor that requires grad refuses.
        self._X, self._y = X.detach().contiguous(), y.detach().contiguous()
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
        majority_per_batch = self.batch_size - self._minority
        n_full, rest = divmod(len(self._majority_rows), majority_per_batch)
        self._n_batches = n_full + (rest > 0 and not self.drop_last)
        if self._n_batches == 0:
            raise ValueError(f"{len(self._majority_rows)} majority rows do not fill one batch "
                             f"of {majority_per_batch}; lower batch_size or set drop_last=False.")
        if -(-len(self._minority_rows) // self._n_batches) > self._minority:
            raise ValueError(
                f"minority_fraction={minority_fraction} is below the data's own minority share: "
                f"{len(self._minority_rows)} original minority rows do not fit in "
                f"{self._n_batches} batches of {self._minority}.")
        self._tables = [torch.from_numpy(np.ascontiguousarray(a)).to(X.device)
                        for a in table.kernel_tables()]
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch``'s order and synthetic rows for the next iteration."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}.")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self._n_batches

    def epoch_plan(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The current epoch's rows: ``(source, js, cls, batch_starts)`` in host memory.

        ``source`` is the original row of each slot (-1 for synthetic), ``js``
        and ``cls`` the synthetic row index and class (see
        ``gpusmote.kernels.synthesize``); batch ``b`` is slots
        ``batch_starts[b] .. batch_starts[b + 1]``.
        """
        rng = np.random.default_rng([self._seed, self.epoch, 0x5EED])
        majority = rng.permutation(self._majority_rows)
        minority = rng.permutation(self._minority_rows)
        per_batch = self.batch_size - self._minority
        sources, n_synthetic = [], []
        for b in range(self._n_batches):
            major = majority[b * per_batch : (b + 1) * per_batch]
            n_b = len(minority)
            minor = minority[b * n_b // self._n_batches : (b + 1) * n_b // self._n_batches]
            if len(major) == per_batch:
                wanted = self._minority
            else:  # the short last batch keeps the fraction
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

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        source, js, cls, starts = self.epoch_plan()
        device = self._X.device
        plan = [torch.from_numpy(a).to(device) for a in (source, js, cls)]
        if self._X.is_cuda:
            fill = _fill_cuda
        else:
            # A DataLoader worker is usually a fork of a process that may have
            # run Numba's OpenMP pool, which a fork must not use (Numba
            # terminates it): run on the calling thread there, as SMOTEDataset does.
            fill = functools.partial(_fill_cpu, parallel=get_worker_info() is None)
        for b in range(self._n_batches):
            lo, hi = int(starts[b]), int(starts[b + 1])
            X_out = torch.empty((hi - lo, self._X.shape[1]), dtype=self._X.dtype, device=device)
            y_out = torch.empty(hi - lo, dtype=self._y.dtype, device=device)
            fill(X_out, y_out, self._X, self._y, *(a[lo:hi] for a in plan), *self._tables,
                 self._seed, self.epoch)
            yield X_out, y_out


def _fill_cpu(*arrays_then_scalars, parallel: bool = True):
    *tensors, seed, stream = arrays_then_scalars
    fill_rows(*(t.numpy() for t in tensors), seed, stream, parallel=parallel)


def _fill_cuda(*arrays_then_scalars):
    from numba import cuda

    *tensors, seed, stream = arrays_then_scalars
    fill_rows_cuda(*(cuda.as_cuda_array(t) for t in tensors), seed, stream)
