"""PyTorch integration: resample tensors, and balanced training data from a DataLoader.

Importable only when PyTorch is installed (``pip install "gpusmote[torch]"``).

- :func:`resample`: tensors (or NumPy arrays) in, tensors out (X's device and dtypes).
- :class:`SMOTEDataset`: a map-style dataset whose length is the resampled
  length; synthetic rows are made lazily, per batch, from (seed, epoch, index).
- :class:`BalancedBatches`: an iterable dataset of balanced (X, y) batches made
  where X lives, one kernel launch per batch, sharded over DataLoader workers
  and distributed ranks.

All three take float32/float64 X (float16 and bfloat16 are computed in
float32 and returned in their own dtype), integer or whole-number float labels,
``device`` as a string (``'cuda:1'``) or ``torch.device``, and can mark the
synthetic rows (``return_synthetic_mask=True``). Recipes for DataLoader
workers, DDP and Lightning: ``docs/pytorch.md``.
"""

from __future__ import annotations

try:
    import torch
except ImportError as error:  # pragma: no cover - exercised without torch only
    raise ImportError(
        "gpusmote.torch needs PyTorch: the [torch] extra (pip install 'gpusmote[torch]', "
        "or '.[torch]' from a checkout) or torch itself."
    ) from error
del torch  # only checked for here

from gpusmote.torch._batches import BalancedBatches  # noqa: E402
from gpusmote.torch._dataset import SMOTEDataset  # noqa: E402
from gpusmote.torch._resample import resample  # noqa: E402

__all__ = ["BalancedBatches", "SMOTEDataset", "resample"]
