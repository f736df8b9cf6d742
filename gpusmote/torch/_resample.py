"""``resample``: ``fit_resample`` for tensors."""

from __future__ import annotations

import torch

from gpusmote.torch._tensors import check_xy, host_view, to_tensor


def resample(X: torch.Tensor, y: torch.Tensor, sampler=None, **params):
    """Resample tensors with a gpusmote (or any imbalanced-learn) sampler.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    y : torch.Tensor of shape (n_samples,), integer labels
    sampler : sampler with ``fit_resample``, optional
        Defaults to :class:`gpusmote.SMOTE` built from ``params``.
    **params
        Parameters of the default :class:`gpusmote.SMOTE` (with ``sampler``
        given, none are allowed). ``device`` defaults to the tensors' device
        type (``'cuda'`` for CUDA tensors, else ``'cpu'``).

    Returns
    -------
    X_res, y_res : torch.Tensor
        On X's device, with X's and y's dtypes: the originals first, then the
        synthetic rows, exactly as ``fit_resample`` orders them.

    Notes
    -----
    CPU tensors are read without a copy. CUDA tensors go to a gpusmote sampler
    as they are (DLPack, no copy of X; only y is read on the host) and the
    result is made on the GPU; other samplers get host copies, and their
    result is copied back to the device.
    """
    check_xy(X, y, float_only=False)
    if X.dtype == torch.bfloat16:
        raise TypeError("X must not be bfloat16 (NumPy has no such dtype); cast it first.")
    if sampler is None:
        from gpusmote import SMOTE

        params.setdefault("device", "cuda" if X.is_cuda else "cpu")
        sampler = SMOTE(**params)
    elif params:
        raise TypeError(f"pass parameters to the sampler itself, not with it: {sorted(params)}")
    from gpusmote import SMOTE

    if X.is_cuda and isinstance(sampler, SMOTE):
        return sampler.fit_resample(X, y)  # device-resident: tensors out on X's device
    X_res, y_res = sampler.fit_resample(host_view(X), host_view(y))
    return to_tensor(X_res, X), to_tensor(y_res, y)
