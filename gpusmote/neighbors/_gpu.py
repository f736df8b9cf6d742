"""The CUDA backend's exact k-NN: FAISS's candidates or our own search.

Both end in the same float64 re-rank and tie rule, so they return the same
neighbour table (and the same table as the CPU path); the choice only changes
speed. ``GPUSMOTE_GPU_KNN`` picks: ``auto`` (default) takes FAISS when a FAISS
build with GPU support sees a GPU and its distances pass a once-per-process
precision probe (full float32, as the proof assumes), else our own search;
``faiss`` insists (an error without GPU support; under Numba's simulator it
runs FAISS on the CPU, for tests); ``own`` never uses FAISS.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType

import numpy as np

ENGINES = ("auto", "faiss", "own")


def gpu_knn_engine(xp: ModuleType) -> str:
    """``'faiss'`` or ``'own'``: the search the CUDA backend runs for ``xp``'s arrays."""
    choice = os.environ.get("GPUSMOTE_GPU_KNN", "auto")
    if choice not in ENGINES:
        raise ValueError(f"GPUSMOTE_GPU_KNN must be one of {ENGINES}, got {choice!r}.")
    if choice == "own":
        return "own"
    if xp is np:  # the simulator: only an explicit request runs FAISS (on the CPU)
        return choice if choice == "faiss" else "own"
    from gpusmote.neighbors import _faiss as _knn_faiss

    usable, why = _knn_faiss.faiss_gpu_status()
    if usable and not _knn_faiss.faiss_gpu_precise():
        usable, why = False, ("FAISS's GPU distances are less precise than full float32 (TF32 GEMMs?), "
                              "which the exact k-NN's proof needs")
        if choice == "auto":
            warnings.warn(f"gpusmote uses its own GPU k-NN: {why}.", RuntimeWarning, stacklevel=3)
    if choice == "faiss" and not usable:
        raise RuntimeError(f"GPUSMOTE_GPU_KNN=faiss was requested, but {why}.")
    return "faiss" if usable else "own"


def kneighbors_excluding_self_gpu(data, k: int, xp: ModuleType):
    """The ``k`` nearest other rows of every row of device array ``data``."""
    if gpu_knn_engine(xp) == "faiss":
        from gpusmote.neighbors._faiss import kneighbors_excluding_self_faiss

        return kneighbors_excluding_self_faiss(data, k, xp, on_cuda=True)
    from gpusmote.neighbors._cuda import kneighbors_excluding_self_cuda

    return kneighbors_excluding_self_cuda(data, k, xp)


def kneighbors_of_queries_gpu(data, queries, k: int, xp: ModuleType):
    """The ``k`` nearest rows of ``data`` to each row of ``queries`` (device arrays)."""
    if gpu_knn_engine(xp) == "faiss":
        from gpusmote.neighbors._faiss import kneighbors_of_queries_faiss

        return kneighbors_of_queries_faiss(data, queries, k, xp, on_cuda=True)
    from gpusmote.neighbors._cuda import kneighbors_of_queries_cuda

    return kneighbors_of_queries_cuda(data, queries, k, xp)
