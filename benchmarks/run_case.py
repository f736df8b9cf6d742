"""One benchmark case in a fresh process: load a workload, resample, report.

``python -m benchmarks.run_case DATA_DIR IMPL RESULT_JSON [--repeat N]`` loads
``X.npy``/``y.npy`` from DATA_DIR, warms the sampler up on a small stratified
slice (JIT loading, thread pools), then times the first full-size call and
``N - 1`` more. Peak memory is the process's peak RSS during the first call
(the kernel's high-water mark, reset just before it) minus its RSS just before
it: what resampling costs beyond the loaded input.
IMPL is ``imbalanced-learn``, ``gpusmote-cpu`` or ``gpusmote-cuda``; ``--sampler``
picks the sampler (:data:`SAMPLERS` or :data:`MIXED_SAMPLERS`, default SMOTE), the
same class and parameters on both sides; an optional ``params.json`` in DATA_DIR
adds the data set's own parameters (SMOTENC's ``categorical_features``).

``--memory-limit BYTES`` caps the process's address space (RLIMIT_AS) before
anything runs, so a sampler that asks for more than the machine has fails with
MemoryError instead of swapping; a MemoryError is written to RESULT_JSON
(``error``, ``memory_error``: NumPy's "Unable to allocate 35.9 GiB for an array
with shape ...") with exit status 0, as an outcome to report, not a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import time

import numpy as np

SEED = 0

#: Benchmark sampler name -> (class name, constructor parameters besides
#: random_state). A plain name is in imblearn.over_sampling and
#: gpusmote.over_sampling; "subpackage.Name" names another subpackage of both
#: (see :func:`sampler_class`).
SAMPLERS = {
    "SMOTE": ("SMOTE", {}),
    "RandomOverSampler": ("RandomOverSampler", {}),
    "ADASYN": ("ADASYN", {}),
    "BorderlineSMOTE-1": ("BorderlineSMOTE", {"kind": "borderline-1"}),
    "BorderlineSMOTE-2": ("BorderlineSMOTE", {"kind": "borderline-2"}),
    "SVMSMOTE": ("SVMSMOTE", {}),
    # every cluster kept: with the default threshold fraud-1M has no cluster to over-sample (both libraries raise)
    "KMeansSMOTE": ("KMeansSMOTE", {"cluster_balance_threshold": 0.0}),
    "EditedNearestNeighbours": ("under_sampling.EditedNearestNeighbours", {}),
    "TomekLinks": ("under_sampling.TomekLinks", {}),
    "SMOTEENN": ("combine.SMOTEENN", {}),
    "SMOTETomek": ("combine.SMOTETomek", {}),
}

#: The categorical samplers, apart from :data:`SAMPLERS` (whose samplers run on
#: any continuous data, as benchmarks.ties and benchmarks.quality do): they need
#: the categorical workloads (benchmarks/mixed_workloads.py) and, SMOTENC, their
#: ``categorical_features``.
MIXED_SAMPLERS = {
    "SMOTENC": ("SMOTENC", {"k_neighbors": 5}),
    "SMOTEN": ("SMOTEN", {"k_neighbors": 5}),
}

#: Every sampler the benchmark can compare.
ALL_SAMPLERS = {**SAMPLERS, **MIXED_SAMPLERS}

#: Rows of the warm-up slice's head for the categorical samplers: imbalanced-learn's
#: SMOTENC holds new rows x k x one-hot width, too much to spend on a warm-up.
MIXED_WARM_UP_HEAD = 1_000


def sampler_class(package: str, class_name: str):
    """``package``'s class for a :data:`SAMPLERS` class name: ``"SMOTE"`` from
    ``package.over_sampling``, ``"combine.SMOTEENN"`` from ``package.combine``."""
    import importlib

    subpackage, _, name = class_name.rpartition(".")
    return getattr(importlib.import_module(f"{package}.{subpackage or 'over_sampling'}"), name)


def make_sampler(package: str, name: str, **extra):
    """The benchmark's sampler ``name`` from ``package`` (``imblearn`` or
    ``gpusmote``), seeded when it takes a seed (the cleaners draw nothing)."""
    import inspect

    class_name, params = ALL_SAMPLERS[name]
    cls = sampler_class(package, class_name)
    seed = {"random_state": SEED} if "random_state" in inspect.signature(cls).parameters else {}
    return cls(**seed, **params, **extra)


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM; Linux >= 4.0), so the next
    reading is the peak since now rather than since the process started."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak RSS since the last reset (VmHWM), or over the process's life."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def digest(X: np.ndarray, y: np.ndarray) -> str:
    """A fingerprint of the output, to compare implementations across processes."""
    h = hashlib.sha256()
    h.update(str((X.shape, X.dtype.str, y.dtype.str)).encode())
    h.update(np.ascontiguousarray(X).data)
    h.update(np.ascontiguousarray(y).data)
    return h.hexdigest()


def _imblearn_sampler(name: str = "SMOTE", **extra):
    """imbalanced-learn's sampler, with its k-NN and (SMOTE family) generation timed."""
    from imblearn.over_sampling._smote.base import BaseSMOTE
    from sklearn.neighbors import NearestNeighbors

    times = {}

    def timed(owner, method, phase):
        original = getattr(owner, method)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                times[phase] = times.get(phase, 0.0) + time.perf_counter() - start

        setattr(owner, method, wrapper)

    timed(NearestNeighbors, "fit", "knn")
    timed(NearestNeighbors, "kneighbors", "knn")
    timed(BaseSMOTE, "_make_samples", "generate")
    return make_sampler("imblearn", name, **extra), times


def _gpusmote_sampler(device: str, name: str = "SMOTE", **extra):
    return make_sampler("gpusmote", name, device=device, **extra), None


def load_params(data_dir: str) -> dict:
    """The data set's own sampler parameters (``params.json``), or none."""
    path = f"{data_dir}/params.json"
    if not os.path.exists(path):
        return {}
    with open(path) as params:
        return json.load(params)


def limit_address_space(limit_bytes: int) -> None:
    """Cap this process's virtual address space (RLIMIT_AS) at ``limit_bytes``:
    an allocation beyond it raises MemoryError rather than swapping the machine."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))


def memory_error_result(impl: str, error: MemoryError, rss_before: int, input_bytes: int) -> dict:
    """The result of a call that ran out of memory: NumPy's message (what it
    asked for) and the peak RSS beyond the input until then."""
    message = str(error) or "MemoryError (no size given)"
    return {
        "impl": impl,
        "error": f"MemoryError: {message}",
        "memory_error": message,
        "peak_extra_bytes": max(0, peak_rss_bytes() - rss_before),
        "input_bytes": input_bytes,
    }


def _warm_up_slice(y: np.ndarray, head: int = 5_000, per_class: int = 20) -> np.ndarray:
    """The first rows plus a few of every class: small, but still imbalanced,
    so the warm-up really runs k-NN and generation."""
    picks = [np.arange(min(head, len(y)))] + [np.flatnonzero(y == c)[:per_class] for c in np.unique(y)]
    return np.unique(np.concatenate(picks))


def run(data_dir: str, impl: str, repeat: int, sampler_name: str = "SMOTE") -> dict:
    X = np.load(f"{data_dir}/X.npy")
    y = np.load(f"{data_dir}/y.npy")
    params = load_params(data_dir)
    if impl == "imbalanced-learn":
        sampler, times = _imblearn_sampler(sampler_name, **params)
    else:
        sampler, times = _gpusmote_sampler(impl.removeprefix("gpusmote-"), sampler_name, **params)
    warm = _warm_up_slice(y, **({"head": MIXED_WARM_UP_HEAD} if sampler_name in MIXED_SAMPLERS else {}))
    if impl != "imbalanced-learn":
        # The warm-up loads what the full-size call runs: the kernels, not the
        # small-data path that a slice this size would take (first calls are
        # benchmarks.sweep's subject).
        from gpusmote.devices import _backend

        small, _backend.SMALL_DATA_ELEMENTS = _backend.SMALL_DATA_ELEMENTS, 0
        try:
            sampler.fit_resample(X[warm], y[warm])
        finally:
            _backend.SMALL_DATA_ELEMENTS = small
    else:
        sampler.fit_resample(X[warm], y[warm])

    def one_call():
        if times is not None:
            times.clear()
        start = time.perf_counter()
        X_res, y_res = sampler.fit_resample(X, y)
        wall = time.perf_counter() - start
        phases = dict(times) if times is not None else dict(getattr(sampler, "timings_", {}))
        return wall, phases, X_res, y_res

    reset_peak_rss()
    rss_before = current_rss_bytes()
    try:
        wall, phases, X_res, y_res = one_call()
    except MemoryError as error:
        return memory_error_result(impl, error, rss_before, int(X.nbytes + y.nbytes))
    peak_extra = max(0, peak_rss_bytes() - rss_before)
    result = {
        "impl": impl,
        "wall_s": wall,
        "knn_s": phases.get("knn"),  # None: a phase the sampler does not report
        "generate_s": phases.get("generate"),
        "peak_extra_bytes": peak_extra,
        "input_bytes": int(X.nbytes + y.nbytes),
        "output_bytes": int(X_res.nbytes + y_res.nbytes),
        "rows_out": int(len(y_res)),
        "digest": digest(X_res, y_res),
    }
    del X_res, y_res
    if repeat > 1:
        result["repeat_wall_s"] = statistics.median(one_call()[0] for _ in range(repeat - 1))
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("impl", choices=["imbalanced-learn", "gpusmote-cpu", "gpusmote-cuda"])
    parser.add_argument("result_json")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sampler", choices=list(ALL_SAMPLERS), default="SMOTE")
    parser.add_argument("--memory-limit", type=int, default=None, metavar="BYTES",
                        help="cap the address space (RLIMIT_AS); MemoryError is reported (default: none)")
    args = parser.parse_args(argv)
    if args.memory_limit:
        limit_address_space(args.memory_limit)
    try:
        result = run(args.data_dir, args.impl, args.repeat, args.sampler)
    except MemoryError as error:  # outside the measured call (warm-up, loading)
        result = {"impl": args.impl, "error": f"MemoryError: {error}", "memory_error": str(error)}
    result["memory_limit_bytes"] = args.memory_limit
    with open(args.result_json, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
