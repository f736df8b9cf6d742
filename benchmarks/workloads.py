"""The benchmark workloads: fixed, seeded, float32, built in seconds.

Each is a :func:`gpusmote.datasets.make_imbalanced` data set (overlapping
Gaussian clusters per class, no duplicate rows) with the shape of a real
use case. ``quick`` variants keep the proportions at a fraction of the rows.

The categorical samplers (SMOTENC, SMOTEN) run only on the categorical
workloads of benchmarks/mixed_workloads.py and the other samplers only on
these: :func:`workloads_for` gives a sampler's workloads and
:func:`check_pairing` rejects a wrong pairing with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks._class_counts import knn_pairs, scaled_counts
from benchmarks.mixed_workloads import MIXED_WORKLOADS, MixedWorkload
from gpusmote.datasets import make_imbalanced


@dataclass(frozen=True)
class Workload:
    """One benchmark data set."""

    name: str
    class_counts: tuple[int, ...]
    n_features: int
    description: str
    seed: int = 0

    @property
    def n_rows(self) -> int:
        return sum(self.class_counts)

    @property
    def itemsize(self) -> int:
        """Bytes per element of ``X`` (float32)."""
        return 4

    def sampler_params(self) -> dict:
        """Constructor parameters the data set needs: none (all columns continuous)."""
        return {}

    def build(self) -> tuple[np.ndarray, np.ndarray]:
        """The data set's (X, y), identical on every call."""
        return make_imbalanced(self.class_counts, self.n_features, random_state=self.seed)

    def scaled(self, fraction: float) -> Workload:
        """Same shape and proportions with ``fraction`` of the rows (>= 12 per class)."""
        return Workload(f"{self.name}-quick", scaled_counts(self.class_counts, fraction), self.n_features,
                        self.description, self.seed)

    def knn_pairs(self) -> int:
        """Distance pairs an exact all-pairs k-NN evaluates over the over-sampled classes."""
        return knn_pairs(self.class_counts)



def _split(n_rows: int, fractions: tuple[float, ...]) -> tuple[int, ...]:
    counts = [int(round(n_rows * f)) for f in fractions]
    counts[0] += n_rows - sum(counts)
    return tuple(counts)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("creditcard-like", (284_807 - 492, 492), 30,
                 "shape of the card-fraud data set: 284,807 x 30, 492 frauds (0.17%)"),
        Workload("fraud-1M", _split(1_000_000, (0.99, 0.01)), 32, "1,000,000 x 32, 1% minority"),
        Workload("wide", _split(200_000, (0.95, 0.05)), 256, "200,000 x 256, 5% minority"),
        Workload("big-minority", _split(2_000_000, (0.9, 0.1)), 32,
                 "2,000,000 x 32, 10% minority (k-NN heavy)"),
        Workload("multiclass", _split(500_000, (0.5, 0.25, 0.15, 0.08, 0.02)), 64,
                 "500,000 x 64, five classes at 50/25/15/8/2%"),
        Workload("fraud-200k", _split(200_000, (0.99, 0.01)), 32,
                 "200,000 x 32, 1% minority (SVMSMOTE's: its SVM fit grows with the square of the rows)"),
    ]
}


#: The samplers that take categorical columns; they run only on MIXED_WORKLOADS.
CATEGORICAL_SAMPLERS = ("SMOTENC", "SMOTEN")

#: Every workload by name, continuous and categorical.
ALL_WORKLOADS: dict[str, Workload | MixedWorkload] = {**WORKLOADS, **MIXED_WORKLOADS}


def get_workload(name: str, quick: bool = False) -> Workload | MixedWorkload:
    """A workload by name (of :data:`ALL_WORKLOADS`); ``quick`` gives its
    scaled-down variant."""
    workload = ALL_WORKLOADS[name.removesuffix("-quick")]
    return workload.scaled(QUICK_FRACTION) if quick or name.endswith("-quick") else workload


def workloads_for(sampler: str) -> list[str]:
    """The workloads ``sampler`` runs on: SMOTENC's and SMOTEN's categorical
    ones for those two, the continuous :data:`WORKLOADS` for every other."""
    if sampler in CATEGORICAL_SAMPLERS:
        return [name for name, w in MIXED_WORKLOADS.items() if w.sampler == sampler]
    return list(WORKLOADS)


def check_pairing(sampler: str, names: list[str]) -> None:
    """Raise ValueError, saying which workloads fit, when a workload of ``names``
    does not go with ``sampler`` (see :func:`workloads_for`)."""
    valid = workloads_for(sampler)
    wrong = [name for name in names if name.removesuffix("-quick") not in valid]
    if not wrong:
        return
    kinds = []
    for name in wrong:
        workload = ALL_WORKLOADS.get(name.removesuffix("-quick"))
        if workload is None:
            kinds.append(f"{name!r} is no workload")
        elif isinstance(workload, MixedWorkload):
            kinds.append(f"{name!r} is a categorical workload for {workload.sampler} only")
        else:
            kinds.append(f"{name!r} is a continuous workload (no categorical columns)")
    raise ValueError(f"sampler {sampler} cannot run on: {'; '.join(kinds)}. "
                     f"{sampler}'s workloads: {', '.join(valid)}.")


#: Share of the rows a ``--quick`` run keeps.
QUICK_FRACTION = 0.02
