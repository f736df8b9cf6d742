"""``SMOTEDataset``: the resampled data as a map-style dataset, made lazily."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from gpusmote.engine._on_demand import build_table
from gpusmote.kernels.synthesize import fill_rows
from gpusmote.torch._tensors import check_xy, host_view


class SMOTEDataset(Dataset):
    """The rows of ``SMOTE(rng="philox").fit_resample(X, y)``, made on demand.

    Index ``i < len(X)`` is original row ``i``; the others are synthetic rows
    in ``fit_resample``'s layout (each over-sampled class's block in label
    order), generated when asked for from ``(random_state, epoch, class,
    index)`` with the counter-based stream and a neighbour table computed once.
    Epoch 0 gives exactly ``fit_resample``'s rows; :meth:`set_epoch` gives new
    synthetic rows for each epoch (like ``DistributedSampler.set_epoch``).
    Memory beyond X is O(n_minority x k), whatever the number of synthetic rows.

    Works with ``shuffle=True``, ``num_workers > 0`` (it is picklable and holds
    only host memory; the epoch is shared with workers, persistent ones
    included), ``DistributedSampler``, and fetches batches in one vectorised
    call (``__getitems__``). The same seed and epoch give the same rows for any
    worker count, batch size or order.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features), CPU, float32 or float64
        Not copied: the dataset reads it, so do not modify it afterwards.
    y : torch.Tensor of shape (n_samples,), CPU, integer labels
    sampling_strategy : float, str, dict or callable, default='auto'
        As :class:`gpusmote.SMOTE`'s.
    k_neighbors : int, default=5
    random_state : int, default=0
        Key of the stream (fixed by default, so workers and replicas agree).
    epoch : int, default=0
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
        Where the one-time k-NN runs.

    Examples
    --------
    >>> import torch
    >>> from gpusmote.torch import SMOTEDataset
    >>> X = torch.randn(120, 4)
    >>> y = torch.tensor([0] * 100 + [1] * 20)
    >>> data = SMOTEDataset(X, y, random_state=0)
    >>> len(data)
    200
    >>> xb, yb = next(iter(torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)))
    >>> tuple(xb.shape), yb.dtype
    ((8, 4), torch.int64)
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, *, sampling_strategy="auto",
                 k_neighbors: int = 5, random_state: int = 0, epoch: int = 0,
                 device: str = "cpu"):
        check_xy(X, y)
        if X.is_cuda:
            raise ValueError("SMOTEDataset holds host data (DataLoader workers must not use "
                             "CUDA); pass CPU tensors, or use BalancedBatches for CUDA tensors.")
        self._table = build_table(host_view(X), host_view(y), sampling_strategy=sampling_strategy,
                                  k_neighbors=k_neighbors, random_state=random_state,
                                  device=device)
        # In shared memory, so set_epoch reaches worker processes that already
        # hold a copy of the dataset (persistent_workers=True).
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self.set_epoch(epoch)

    @property
    def sampling_strategy_(self) -> dict:
        """Synthetic rows per over-sampled class."""
        return dict(self._table.sampling_strategy)

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Draw the synthetic rows of ``epoch`` from now on (originals never change)."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}.")
        self._epoch.fill_(int(epoch))

    def __len__(self) -> int:
        return len(self._table)

    def rows(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Rows ``indices`` as one batch: ``(X_batch, y_batch)`` tensors."""
        table = self._table
        where = table.locate(indices)
        X_out = np.empty((len(where.source), table.X.shape[1]), dtype=table.X.dtype)
        y_out = np.empty(len(where.source), dtype=table.y.dtype)
        fill_rows(X_out, y_out, table.X, table.y, where.source, where.js, where.cls,
                  *table.kernel_tables(), table.seed, self.epoch, parallel=False)
        return torch.from_numpy(X_out), torch.from_numpy(y_out)

    def __getitem__(self, index) -> tuple[torch.Tensor, torch.Tensor]:
        """Row ``index``, or with a sequence of indices the batch ``(X_batch, y_batch)``
        (for ``DataLoader(..., sampler=BatchSampler(...), batch_size=None)``,
        which skips per-row collation)."""
        if isinstance(index, (torch.Tensor, np.ndarray)) and index.ndim == 0:
            # A 0-d tensor or array is one index, as in TensorDataset (an integer
            # one only: operator.index refuses floats).
            index = operator.index(index)
        if isinstance(index, (int, np.integer)):
            X_row, y_row = self.rows([index])
            return X_row[0], y_row[0]
        return self.rows(index)

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A batch in one vectorised call, as the list of samples collation expects."""
        X_batch, y_batch = self.rows(indices)
        return list(zip(X_batch.unbind(0), y_batch.unbind(0)))
