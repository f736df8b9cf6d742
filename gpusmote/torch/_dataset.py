"""``SMOTEDataset``: the resampled data as a map-style dataset, made lazily."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from gpusmote.engine._on_demand import build_table
from gpusmote.kernels.synthesize import fill_rows
from gpusmote.torch._device import as_device, check_engine_cuda, selected
from gpusmote.torch._tensors import (HALF_DTYPES, as_tensor, check_xy, compute_dtype, host_view,
                                     plain_strategy)


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
    X : torch.Tensor or ndarray of shape (n_samples, n_features), on the CPU
        float32 or float64: not copied, the dataset reads it, so do not modify
        it afterwards. float16 and bfloat16 are computed in float32 (a float32
        copy is held) and rows come back in X's dtype.
    y : torch.Tensor or ndarray of shape (n_samples,), on the CPU
        Class labels: integers, or whole-number floats (``0.``/``1.``). Rows
        carry y's dtype.
    sampling_strategy : float, str, dict or callable, default='auto'
        As :class:`gpusmote.SMOTE`'s.
    k_neighbors : int, default=5
    random_state : int, default=0
        Key of the stream (fixed by default, so workers and replicas agree).
    epoch : int, default=0
    device : str or torch.device, default='cpu'
        Where the one-time k-NN runs: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, a
        ``torch.device`` or ``'auto'``. The rows are made on the host.
    return_synthetic_mask : bool, default=False
        Items are ``(x, y, is_synthetic)``, with a bool marking SMOTE rows.

    Attributes
    ----------
    sampling_strategy_ : dict
        Synthetic rows per over-sampled class, with plain Python keys and values.

    Examples
    --------
    >>> import torch
    >>> from gpusmote.torch import SMOTEDataset
    >>> X = torch.randn(120, 4)
    >>> y = torch.tensor([0] * 100 + [1] * 20)
    >>> data = SMOTEDataset(X, y, random_state=0)
    >>> len(data), data.sampling_strategy_
    (200, {1: 80})
    >>> xb, yb = next(iter(torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)))
    >>> tuple(xb.shape), yb.dtype
    ((8, 4), torch.int64)
    """

    def __init__(self, X, y, *, sampling_strategy="auto", k_neighbors: int = 5,
                 random_state: int = 0, epoch: int = 0, device="cpu",
                 return_synthetic_mask: bool = False):
        X, y = as_tensor(X, "X"), as_tensor(y, "y")
        check_xy(X, y)
        if X.is_cuda:
            raise ValueError("SMOTEDataset holds host data (DataLoader workers must not use "
                             "CUDA); pass CPU tensors, or use BalancedBatches for CUDA tensors.")
        if isinstance(device, str) and device == "auto":
            knn_device, where = "auto", None
        else:
            where = as_device(device, torch.device("cpu"))
            if where.type == "cuda":
                check_engine_cuda(where)
            knn_device = where.type
        self._out_dtype = X.dtype
        X = X.detach().to(compute_dtype(X.dtype))
        with selected(where):
            self._table = build_table(host_view(X), host_view(y),
                                      sampling_strategy=sampling_strategy,
                                      k_neighbors=k_neighbors, random_state=random_state,
                                      device=knn_device)
        self._k_neighbors, self._random_state = k_neighbors, random_state
        self.return_synthetic_mask = bool(return_synthetic_mask)
        # In shared memory, so set_epoch reaches worker processes that already
        # hold a copy of the dataset (persistent_workers=True).
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self.set_epoch(epoch)

    @property
    def sampling_strategy_(self) -> dict:
        """Synthetic rows per over-sampled class (plain Python keys and ints)."""
        return plain_strategy(self._table.sampling_strategy)

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

    def __repr__(self) -> str:
        table = self._table
        return (f"SMOTEDataset({len(self)} rows: {len(table.X)} original + "
                f"{len(self) - len(table.X)} synthetic {self.sampling_strategy_}, "
                f"{table.X.shape[1]} features, {str(self._out_dtype).removeprefix('torch.')}, "
                f"k_neighbors={self._k_neighbors}, random_state={self._random_state}, "
                f"epoch={self.epoch})")

    def rows(self, indices: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, ...]:
        """Rows ``indices`` as one batch: ``(X_batch, y_batch)`` tensors (and
        ``is_synthetic`` with ``return_synthetic_mask``)."""
        table = self._table
        where = table.locate(indices)
        X_out = np.empty((len(where.source), table.X.shape[1]), dtype=table.X.dtype)
        y_out = np.empty(len(where.source), dtype=table.y.dtype)
        fill_rows(X_out, y_out, table.X, table.y, where.source, where.js, where.cls,
                  *table.kernel_tables(), table.seed, self.epoch, parallel=False)
        X_batch = torch.from_numpy(X_out)
        if self._out_dtype in HALF_DTYPES:
            X_batch = X_batch.to(self._out_dtype)
        if self.return_synthetic_mask:
            return X_batch, torch.from_numpy(y_out), torch.from_numpy(where.source < 0)
        return X_batch, torch.from_numpy(y_out)

    def __getitem__(self, index) -> tuple[torch.Tensor, ...]:
        """Row ``index``, or with a sequence of indices the batch ``(X_batch, y_batch)``
        (for ``DataLoader(..., sampler=BatchSampler(...), batch_size=None)``,
        which skips per-row collation)."""
        if isinstance(index, (torch.Tensor, np.ndarray)) and index.ndim == 0:
            # A 0-d tensor or array is one index, as in TensorDataset (an integer
            # one only: operator.index refuses floats).
            index = operator.index(index)
        if isinstance(index, (int, np.integer)):
            return tuple(part[0] for part in self.rows([index]))
        return self.rows(index)

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, ...]]:
        """A batch in one vectorised call, as the list of samples collation expects."""
        return list(zip(*(part.unbind(0) for part in self.rows(indices))))
