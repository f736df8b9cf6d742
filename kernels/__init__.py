"""Compute kernels of gpusmote, written with Numba.

This folder is installed as the ``gpusmote.kernels`` package. Each kernel is one
algorithm with a CPU implementation (``numba.njit``); the CUDA twins live beside
them and are checked against these under Numba's CUDA simulator.
"""

from gpusmote.kernels.interpolate import interpolate_rows
from gpusmote.kernels.neighbors import block_candidates, rerank_exact, select_candidates

__all__ = ["block_candidates", "interpolate_rows", "rerank_exact", "select_candidates"]
