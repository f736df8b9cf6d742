"""An epoch number that DataLoader worker processes share and that moves on once per pass.

A pass is one iteration over an iterable dataset: in the main process one
``iter()``; with DataLoader workers one ``iter()`` in each worker, started by
one ``iter(loader)``. Workers of one pass must agree on the epoch without a
lock, and a new pass must not reuse the last one's epoch. The state is one
shared int64, written whole (so never seen half-written): the epoch in the
high 32 bits, the token of the pass that claimed it in the low 32 (0: not
claimed yet, as after ``set``). A pass whose token differs from the claimant's
takes the next epoch; workers of one pass compute the same token, so the
first to claim and the others agree, whatever order they come in.
"""

from __future__ import annotations

import secrets
import zlib

import torch
from torch.utils.data import get_worker_info

_EPOCH_LIMIT = 2**31


class SharedEpoch:
    """The epoch of a dataset and of its copies in DataLoader workers (fork or spawn)."""

    def __init__(self, epoch: int = 0):
        self._state = torch.zeros((), dtype=torch.int64).share_memory_()
        self._passes = 0  # iterations begun by this copy (per process)
        self.set(epoch)

    @property
    def value(self) -> int:
        """The epoch last set or claimed."""
        return int(self._state) >> 32

    def set(self, epoch: int) -> None:
        """Make the next pass use ``epoch``."""
        if not 0 <= epoch < _EPOCH_LIMIT:
            raise ValueError(f"epoch must be in [0, 2**31), got {epoch}.")
        self._state.fill_(epoch << 32)

    def claim(self, advance: bool) -> int:
        """The epoch of a pass that begins now: the current one if it is
        unclaimed, already this pass's, or ``advance`` is False; else the next."""
        token = self._token()
        state = int(self._state)
        epoch, owner = state >> 32, state & 0xFFFFFFFF
        if advance and owner not in (0, token):
            epoch = (epoch + 1) % _EPOCH_LIMIT
        self._state.fill_((epoch << 32) | token)
        return epoch

    def _token(self) -> int:
        """Equal in all workers of one DataLoader pass, new for every other pass."""
        self._passes += 1
        info = get_worker_info()
        if info is None:  # the main process: every iter() is a pass of its own
            return secrets.randbits(32) or 1
        # The loader draws one base seed per iterator (worker seed = base + id);
        # persistent workers keep it, and each counts its own passes.
        base_seed = info.seed - info.id
        return zlib.crc32(f"{base_seed}:{self._passes}".encode()) or 1
