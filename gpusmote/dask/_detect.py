"""Is this a Dask collection? Answered without importing Dask."""

from __future__ import annotations

import sys


def is_dask_collection(obj) -> bool:
    """True for a Dask array, DataFrame or Series (any object Dask calls a
    collection). Dask is never imported here: an object can only be a Dask
    collection if the caller already imported Dask."""
    if "dask" not in sys.modules:
        return False
    return bool(sys.modules["dask"].is_dask_collection(obj))
