"""pytest-benchmark: SMOTE on every workload, per implementation and device.

Run ``pytest benchmarks/ --benchmark-only`` (add ``--benchmark-json FILE`` to
keep the figures; GPUSMOTE_BENCH_QUICK=1 for the 2% workloads). Each case is
warmed up once on the full data, then timed over ``GPUSMOTE_BENCH_ROUNDS``
rounds (default 3). For the figures with peak memory and identity checks, use
``python -m benchmarks.compare``.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.workloads import WORKLOADS, get_workload
from gpusmote.devices._resolve import cuda_available

QUICK = os.environ.get("GPUSMOTE_BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("GPUSMOTE_BENCH_ROUNDS", "3"))
IMPLEMENTATIONS = ["imbalanced-learn", "gpusmote-cpu"] + (["gpusmote-cuda"] if cuda_available() else [])


@pytest.fixture(scope="module", params=list(WORKLOADS))
def workload(request):
    data = get_workload(request.param, QUICK)
    return data.name, data.build()


def make_sampler(impl: str):
    if impl == "imbalanced-learn":
        from imblearn.over_sampling import SMOTE

        return SMOTE(random_state=0)
    from gpusmote import SMOTE

    return SMOTE(random_state=0, device=impl.removeprefix("gpusmote-"))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_smote_fit_resample(benchmark, workload, impl):
    name, (X, y) = workload
    sampler = make_sampler(impl)
    benchmark.group = name
    benchmark.extra_info.update({"workload": name, "rows": len(X), "features": X.shape[1]})
    X_res, y_res = benchmark.pedantic(
        sampler.fit_resample, args=(X, y), rounds=ROUNDS, iterations=1, warmup_rounds=1
    )
    assert len(X_res) == len(y_res) > len(X)
