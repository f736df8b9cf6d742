"""``resample``: ``fit_resample`` for tensors."""

from __future__ import annotations

import torch

from gpusmote.torch._device import as_device, check_engine_cuda, selected
from gpusmote.torch._tensors import HALF_DTYPES, as_tensor, check_xy, host_view, to_tensor


def resample(X, y, sampler=None, *, return_synthetic_mask: bool = False, **params):
    """Resample tensors with a gpusmote (or any imbalanced-learn) over-sampler.

    Parameters
    ----------
    X : torch.Tensor or ndarray of shape (n_samples, n_features)
        float16 and bfloat16 are resampled in float32 and returned in their
        own dtype (original rows exactly, synthetic rows rounded).
    y : torch.Tensor or ndarray of shape (n_samples,)
        Class labels: integers, or whole-number floats (``0.``/``1.``).
    sampler : sampler with ``fit_resample``, optional
        Defaults to :class:`gpusmote.SMOTE` built from ``params``.
    return_synthetic_mask : bool, default=False
        Also return a bool tensor marking the rows the sampler added (an
        over-sampler, which keeps the originals first, is needed).
    **params
        Parameters of the default :class:`gpusmote.SMOTE` (with ``sampler``
        given, none are allowed). ``device`` (where it runs: ``'cpu'``,
        ``'cuda'``, ``'cuda:1'``, a ``torch.device`` or ``'auto'``) defaults
        to X's device.

    Returns
    -------
    X_res, y_res : torch.Tensor
        On X's device (CPU for NumPy input), with X's and y's dtypes: the
        originals first, then the new rows, exactly as ``fit_resample`` orders
        them.
    is_synthetic : torch.Tensor of bool, only with ``return_synthetic_mask``

    Raises
    ------
    RuntimeError
        A CUDA device was asked for and gpusmote's CUDA engine cannot use it
        (no GPU, or CuPy / numba-cuda missing).

    Notes
    -----
    CPU tensors are read without a copy. CUDA tensors go to a gpusmote sampler
    as they are (DLPack, no copy of X; only y is read on the host) and the
    result is made on the GPU (X's, made the current device); other samplers
    get host copies, and their result is copied back to the device.
    """
    from gpusmote import SMOTE

    X, y = as_tensor(X, "X"), as_tensor(y, "y")
    check_xy(X, y, float_only=False)
    where = X.device
    if sampler is None:
        device = params.pop("device", None)
        if isinstance(device, str) and device == "auto":
            name, where = "auto", None
        else:
            where = as_device(device, X.device)
            if X.is_cuda and where.type == "cuda" and where.index not in (None, X.device.index):
                raise ValueError(f"X is on {X.device}, but device={str(where)!r}: move X there "
                                 f"first, or leave device out.")
            if where.type == "cuda":
                where = X.device if X.is_cuda else where
                check_engine_cuda(where)
            name = where.type
        sampler = SMOTE(device=name, **params)
    elif params:
        raise TypeError(f"pass parameters to the sampler itself, not with it: {sorted(params)}")
    if return_synthetic_mask and getattr(sampler, "_sampling_type", None) != "over-sampling":
        raise ValueError("return_synthetic_mask needs an over-sampler (the originals first, "
                         f"then the new rows); {type(sampler).__name__} is not one.")

    work = X.float() if X.dtype in HALF_DTYPES else X
    with selected(where):
        if work.is_cuda and isinstance(sampler, SMOTE):
            X_res, y_res = sampler.fit_resample(work, y)  # device-resident, on X's device
        else:
            X_res, y_res = sampler.fit_resample(host_view(work), host_view(y))
            X_res, y_res = to_tensor(X_res, X), to_tensor(y_res, y)
    if X.dtype in HALF_DTYPES:
        X_res = X_res.to(X.dtype)
    if not return_synthetic_mask:
        return X_res, y_res
    is_synthetic = torch.zeros(len(X_res), dtype=torch.bool, device=X_res.device)
    is_synthetic[len(X):] = True
    return X_res, y_res, is_synthetic
