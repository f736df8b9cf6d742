"""The categorical benchmark workloads (issue 15): SMOTENC's and SMOTEN's.

A :class:`MixedWorkload` is a seeded data set with the shape the issue measured:
float64 continuous columns (Gaussian clusters per class, as
:func:`gpusmote.datasets.make_imbalanced`, but drawn in float64, so no two rows
coincide and no distances tie) followed by categorical columns of integer codes
``0 .. n_levels - 1`` in the same float64 array, ``categorical_features`` being
their column indices (SMOTENC's). SMOTEN's workload has no continuous columns:
an int64 array of codes.

The codes are not noise: each (class, cluster) pair owns a slice of every
column's levels (a different slice per column) and draws from it, skewed towards
the slice's first levels, for most of its rows (the rest draw from all levels).
So a row's k nearest class neighbours, which share its cluster, often share
levels, and the modes SMOTENC and SMOTEN take are not mere tie-breaks; with many
levels (20,000 over 100,000 rows) nearly every level still occurs, as in the
issue's runs.

These workloads run only with SMOTENC or SMOTEN (``sampler``), and those samplers
only on these (see :func:`benchmarks.workloads.check_pairing`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks._class_counts import knn_pairs, scaled_counts

#: Gaussian clusters per class (and groups of the categorical levels).
N_CLUSTERS = 4
#: Share of a row's codes drawn from its (class, cluster)'s slice of levels.
OWN_SHARE = 0.8
#: Skew within that slice: offset = width * u**SKEW, u uniform (1: uniform).
SKEW = 3.0


@dataclass(frozen=True)
class MixedWorkload:
    """One categorical benchmark data set (see the module notes)."""

    name: str
    class_counts: tuple[int, ...]
    n_continuous: int
    n_categorical: int
    n_levels: int
    sampler: str
    description: str
    seed: int = 0

    @property
    def n_rows(self) -> int:
        return sum(self.class_counts)

    @property
    def n_features(self) -> int:
        return self.n_continuous + self.n_categorical

    @property
    def categorical_features(self) -> list[int]:
        """Column indices of the categorical columns (after the continuous ones)."""
        return list(range(self.n_continuous, self.n_features))

    @property
    def itemsize(self) -> int:
        """Bytes per element of ``X`` (float64, or int64 codes)."""
        return 8

    def sampler_params(self) -> dict:
        """Constructor parameters the data set needs (both sides, same values)."""
        return {"categorical_features": self.categorical_features} if self.sampler == "SMOTENC" else {}

    def build(self) -> tuple[np.ndarray, np.ndarray]:
        """The data set's (X, y), identical on every call: float64 with the codes
        in the last ``n_categorical`` columns, or int64 codes without continuous
        columns; y int64, rows shuffled."""
        rng = np.random.default_rng(self.seed)
        y, groups = _labels_and_groups(rng, self.class_counts)
        codes = _codes(rng, groups, len(self.class_counts) * N_CLUSTERS, self.n_categorical, self.n_levels)
        if self.n_continuous == 0:
            return codes, y
        X = np.empty((self.n_rows, self.n_features), dtype=np.float64)
        X[:, : self.n_continuous] = _continuous(rng, groups, len(self.class_counts) * N_CLUSTERS,
                                                self.n_continuous)
        X[:, self.n_continuous :] = codes
        return X, y

    def scaled(self, fraction: float) -> MixedWorkload:
        """Same proportions with ``fraction`` of the rows (>= 12 per class) and at
        most a fifth as many levels as rows (>= 10), so a quick run stays small."""
        counts = scaled_counts(self.class_counts, fraction)
        levels = min(self.n_levels, max(10, sum(counts) // 5))
        return MixedWorkload(f"{self.name}-quick", counts, self.n_continuous, self.n_categorical, levels,
                             self.sampler, self.description, self.seed)

    def knn_pairs(self) -> int:
        """Distance pairs an exact all-pairs k-NN evaluates over the over-sampled classes."""
        return knn_pairs(self.class_counts)


def _labels_and_groups(rng: np.random.Generator, class_counts: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled labels, and each row's group: ``label * N_CLUSTERS + cluster``."""
    y = np.repeat(np.arange(len(class_counts), dtype=np.int64), class_counts)
    rng.shuffle(y)
    groups = y * N_CLUSTERS + rng.integers(N_CLUSTERS, size=len(y))
    return y, groups


def _continuous(rng: np.random.Generator, groups: np.ndarray, n_groups: int, n_columns: int) -> np.ndarray:
    """float64 Gaussian clusters: one random centre per group, unit spread."""
    centres = rng.normal(scale=1.5, size=(n_groups, n_columns))
    block = rng.standard_normal(size=(len(groups), n_columns))
    block += centres[groups]
    return block


def _codes(rng: np.random.Generator, groups: np.ndarray, n_groups: int, n_columns: int,
           n_levels: int) -> np.ndarray:
    """int64 codes in ``[0, n_levels)``, correlated with the groups (module notes)."""
    n_rows = len(groups)
    width = max(1, n_levels // n_groups)
    codes = np.empty((n_rows, n_columns), dtype=np.int64)
    for column in range(n_columns):
        start = rng.permutation(n_groups)[groups] * width + rng.integers(n_levels)
        own = (start + (width * rng.random(n_rows) ** SKEW).astype(np.int64)) % n_levels
        anywhere = rng.integers(n_levels, size=n_rows)
        codes[:, column] = np.where(rng.random(n_rows) < OWN_SHARE, own, anywhere)
    return codes


def _split(n_rows: int, minority: float) -> tuple[int, int]:
    small = int(round(n_rows * minority))
    return n_rows - small, small


MIXED_WORKLOADS: dict[str, MixedWorkload] = {
    w.name: w
    for w in [
        MixedWorkload("mixed-100k-100lv", _split(100_000, 0.05), 20, 4, 100, "SMOTENC",
                      "100,000 x (20 float64 + 4 categorical of 100 levels), 5% minority"),
        MixedWorkload("mixed-200k-500lv", _split(200_000, 0.02), 20, 10, 500, "SMOTENC",
                      "200,000 x (20 float64 + 10 categorical of 500 levels), 2% minority"),
        MixedWorkload("mixed-100k-20000lv", _split(100_000, 0.05), 20, 4, 20_000, "SMOTENC",
                      "100,000 x (20 float64 + 4 categorical of 20,000 levels), 5% minority"),
        MixedWorkload("codes-200k-50lv", _split(200_000, 0.05), 0, 10, 50, "SMOTEN",
                      "200,000 x 10 int64 codes of 50 levels, 5% minority"),
    ]
}
