"""SMOTE on Dask collections (the optional ``[dask]`` extra).

``SMOTE(rng='philox').fit_resample(X, y)`` with a dask array or a dask
DataFrame/Series returns lazy collections of the same kind, equal bit for bit
to the in-memory result; :func:`fit_resample` does the same with control over
block sizes. See docs/dask.md.

Importing this package does not import Dask; :func:`fit_resample` does.
"""

from __future__ import annotations

from gpusmote.dask._detect import is_dask_collection

__all__ = ["fit_resample", "is_dask_collection"]


def fit_resample(sampler, X, y, **options):
    """Resample Dask collections with ``sampler`` (``SMOTE(rng='philox')``).

    Parameters
    ----------
    sampler : SMOTE
        With ``rng='philox'``; its parameters as for in-memory data.
    X : dask array of shape (n_samples, n_features) or dask DataFrame
        NumPy or CuPy chunks (rechunked to whole rows; CuPy chunks give
        CuPy chunks), or a frame of feature columns.
    y : dask array, array-like or dask Series
        Class labels: with a DataFrame X, a Series with X's partitions (a
        column of the same frame).
    block_rows : int, optional
        Synthetic rows per output block (default: the largest input block,
        at most 2**20). Never changes values.
    knn_block_rows : int, default=32768
        Query rows per k-NN task. Never changes values.
    passthrough : dask DataFrame, optional
        With a DataFrame X: other columns of X's frame (ids, timestamps),
        appended after the features in X_resampled, holding the original
        rows' values and missing values in synthetic rows (integer and bool
        columns become pandas' nullable dtypes). Not a feature: the k-NN and
        the synthetic rows never see them. (What ``gpusmote resample
        --passthrough`` does.)

    Returns
    -------
    X_resampled : dask array or dask DataFrame
        Lazy: the original rows (validated; a frame gets index 0 .. n - 1, as
        in memory), then each over-sampled class's synthetic rows in label
        order.
    y_resampled : dask array or dask Series

    Raises
    ------
    ValueError
        For ``rng='imblearn'`` (the message points to ``rng='philox'``) and
        for bad input found from y and the collections' metadata. Values of X (NaN,
        infinity) are checked when the result is computed, with the
        in-memory messages.
    MemoryError
        When a distributed client is running and an over-sampled class's
        rows and table would not fit in its smallest worker's memory limit.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from gpusmote import SMOTE
    >>> from gpusmote.dask import fit_resample
    >>> X = da.random.default_rng(0).normal(size=(1_000, 4), chunks=(250, 4))
    >>> y = da.from_array(np.r_[np.zeros(900, int), np.ones(100, int)], chunks=250)
    >>> X_res, y_res = fit_resample(SMOTE(rng="philox", random_state=0), X, y,
    ...                             block_rows=400)
    >>> X_res.shape, np.bincount(y_res.compute())
    ((1800, 4), array([900, 900]))
    """
    try:
        from gpusmote.dask._resample import fit_resample as _fit_resample
    except ImportError as error:  # pragma: no cover - dask installed but not its extras
        raise ImportError("Dask input needs gpusmote's [dask] extra: "
                          "pip install 'gpusmote[dask]'") from error
    return _fit_resample(sampler, X, y, **options)
