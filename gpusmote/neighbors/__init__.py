"""Exact k nearest neighbours: the scikit-learn-style estimator (:class:`NearestNeighbors`),
the CPU, CUDA, FAISS-candidate and sparse searches, and the samplers' neighbour queries."""

from gpusmote.neighbors._estimator import NearestNeighbors

__all__ = ["NearestNeighbors"]
