"""Class-count arithmetic shared by the numeric and the categorical workloads."""

from __future__ import annotations


def scaled_counts(class_counts: tuple[int, ...], fraction: float) -> tuple[int, ...]:
    """``fraction`` of each class's rows, at least 12 (a quick workload's counts)."""
    return tuple(max(12, int(c * fraction)) for c in class_counts)


def knn_pairs(class_counts: tuple[int, ...]) -> int:
    """Distance pairs an exact all-pairs k-NN evaluates over the over-sampled
    (all but the largest) classes."""
    return sum(c * c for c in class_counts if c != max(class_counts))
