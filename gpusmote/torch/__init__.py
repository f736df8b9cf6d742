"""PyTorch integration: resample tensors, and balanced training data from a DataLoader.

Importable only when PyTorch is installed (``pip install "gpusmote[torch]"``).

- :func:`resample`: tensors in, tensors out (same device and dtype).
- :class:`SMOTEDataset`: a map-style dataset whose length is the resampled
  length; synthetic rows are made lazily, per batch, from (seed, epoch, index).
- :class:`BalancedBatches`: balanced (X, y) batches made where X lives, one
  kernel launch per batch, for loops where a DataLoader would dominate.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised without torch only
    raise ImportError(
        "gpusmote.torch needs PyTorch: the [torch] extra (pip install 'gpusmote[torch]', "
        "or '.[torch]' from a checkout) or torch itself."
    ) from error

from gpusmote.torch._batches import BalancedBatches
from gpusmote.torch._dataset import SMOTEDataset
from gpusmote.torch._resample import resample

__all__ = ["BalancedBatches", "SMOTEDataset", "resample"]
