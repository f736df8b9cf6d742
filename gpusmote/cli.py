"""``gpusmote`` command line: ``gpusmote demo``, ``gpusmote resample`` and ``gpusmote --version``.

Parsing imports nothing heavy: ``--help`` and argument errors answer at once;
each command imports what it needs when it runs. ``resample --json`` prints
the summary described by :data:`JSON_SCHEMA`; docs/cli.md is the user guide.

Errors exit with status 1 and one line on stderr (``--debug`` shows the
traceback). Ctrl-C, SIGTERM and SIGHUP exit with 128 + the signal's number
(130, 143, 129) after cleaning up, at any point from the start of :func:`main`
(the modules it imports as needed included).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gpusmote  # already imported as this module's package; NumPy is imported when needed

#: Signals that end a run as Ctrl-C does (schedulers, ``timeout`` and a closed
#: terminal send these).
CLEAN_EXIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                           if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """Raised by a signal in :data:`CLEAN_EXIT_SIGNALS`: a KeyboardInterrupt, so
    that the clean-up Ctrl-C gets runs for it too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame) -> None:
    signal.signal(signum, signal.SIG_DFL)  # the same signal again ends the process at once
    raise Terminated(signum)


@contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn :data:`CLEAN_EXIT_SIGNALS` into :class:`Terminated` inside the block;
    the previous handlers are restored after. A signal ignored on entry (SIGHUP
    under ``nohup``) stays ignored."""
    previous = {}
    if threading.current_thread() is threading.main_thread():  # the only place handlers go
        for signum in CLEAN_EXIT_SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _counts(y) -> str:
    import numpy as np

    labels, counts = np.unique(y, return_counts=True)
    return ", ".join(f"{label}: {count:,}" for label, count in zip(labels, counts))


def _timed_calls(sampler, X, y) -> tuple[float, float, object, object]:
    """The first and the second ``fit_resample`` of ``sampler`` on the same data
    (seconds each) and the second's output."""
    start = time.perf_counter()
    sampler.fit_resample(X, y)
    first = time.perf_counter() - start
    start = time.perf_counter()
    X_res, y_res = sampler.fit_resample(X, y)
    return first, time.perf_counter() - start, X_res, y_res


def run_demo(args: argparse.Namespace) -> int:
    """Resample a built-in fraud-like data set; time gpusmote (and imbalanced-learn)
    like with like: each one's first call in this process, then a warm call."""
    import numpy as np

    from gpusmote import SMOTE
    from gpusmote.datasets import make_fraud_like

    start = time.perf_counter()
    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.random_state)
    made = time.perf_counter() - start
    print(f"data: {X.shape[0]:,} x {X.shape[1]} {X.dtype} (built in {made:.2f} s)")
    print(f"classes before: {_counts(y)}")
    params = dict(random_state=args.random_state, k_neighbors=args.k_neighbors)
    contenders = []
    if args.compare:  # imported before any timing, as gpusmote is: imports are not counted
        from imblearn.over_sampling import SMOTE as ImblearnSMOTE

        contenders.append(("imbalanced-learn", ImblearnSMOTE(**params)))
    ours = SMOTE(device=args.device, rng=args.rng, **params)
    contenders.append(("gpusmote", ours))
    results = {name: _timed_calls(sampler, X, y) for name, sampler in contenders}
    X_res, y_res = results["gpusmote"][2:]
    print(f"classes after:  {_counts(y_res)}")
    print(f"output: {X_res.shape[0]:,} rows, {X_res.dtype}, {X_res.nbytes / 2**20:.0f} MiB; "
          f"gpusmote ran on {ours.device_}")
    print("timings: each library's first call in this process (gpusmote's loads or compiles "
          "its kernels), then a warm call")
    print(f"{'':<18}{'first call':>12}{'warm call':>12}")
    for name, (first, warm, *_) in results.items():
        print(f"{name:<18}{first:>10.3f} s{warm:>10.3f} s")
    if args.compare:
        (ref_first, ref_warm, X_ref, y_ref), (first, warm, *_) = results.values()
        ratios = [f"{r:.1f}x" if r >= 1 else f"{r:.2f}x" for r in (ref_first / first,
                                                                    ref_warm / warm)]
        print(f"{'speed-up':<18}{ratios[0]:>12}{ratios[1]:>12}")
        same = np.array_equal(X_ref, X_res) and np.array_equal(y_ref, y_res)
        why = " (expected: rng=philox is another random stream)" if args.rng == "philox" else ""
        print(f"identical output: {same}{why}")
    return 0


def parse_sampling_strategy(text: str):
    """'auto', 'minority', ... as is; a number as a float ratio; ``LABEL=COUNT,...`` as a dict."""
    if "=" in text:
        strategy = {}
        for item in text.split(","):
            label, _, count = item.partition("=")
            try:
                strategy[label.strip()] = int(count)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{item!r} is not LABEL=COUNT") from None
        return strategy
    try:
        return float(text)
    except ValueError:
        return text


def parse_names(text: str) -> list[str]:
    """Column names separated by commas (``a,b``); ``""`` is the one empty name
    (the unnamed index column ``DataFrame.to_csv()`` writes)."""
    if text == "":
        return [""]
    return [name.strip() for name in text.split(",") if name.strip()]


def run_resample(args: argparse.Namespace) -> int:
    """Resample a Parquet/CSV/Arrow file in two streaming passes (see gpusmote.io._streaming),
    or a Parquet dataset on a Dask cluster with ``--scheduler`` (gpusmote.dask._cli)."""
    if args.scheduler is not None:
        return _run_resample_on_dask(args)
    from gpusmote.io._streaming import Options, resample_file

    options = Options(
        input=Path(args.input), output=Path(args.output), target=args.target,
        sampling_strategy=args.sampling_strategy, k_neighbors=args.k_neighbors,
        random_state=args.random_state, device=args.device, rng=args.rng,
        chunk_rows=args.chunk_rows, passthrough=args.passthrough, features=args.columns,
        drop=args.drop, indicator=args.indicator, categorical=args.categorical,
        overwrite=args.overwrite,
        progress=not args.quiet, space_check=args.space_check,
    )
    summary = resample_file(options)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        _print_summary(summary)
    return 0


#: Options of the single-process command that ``--scheduler`` does not take.
_SINGLE_PROCESS_ONLY = {"indicator": "--indicator", "categorical": "--categorical"}


def _run_resample_on_dask(args: argparse.Namespace) -> int:
    """``resample --scheduler``: a Parquet dataset in, a Parquet dataset out."""
    for name, flag in _SINGLE_PROCESS_ONLY.items():
        if getattr(args, name):
            raise ValueError(f"{flag} is not supported with --scheduler; drop it or run "
                             f"without --scheduler")
    try:
        from gpusmote.dask._cli import resample_dataset
    except ImportError as error:
        raise ValueError(f"--scheduler needs Dask: pip install 'gpusmote[dask]' ({error})") from None

    summary = resample_dataset(
        args.input, Path(args.output), scheduler=args.scheduler, target=args.target,
        features=args.columns, drop=args.drop, passthrough=args.passthrough,
        sampling_strategy=args.sampling_strategy,
        k_neighbors=args.k_neighbors, random_state=args.random_state, device=args.device,
        rng=args.rng, overwrite=args.overwrite)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        print(f"{summary['input']} -> {summary['output']} ({summary['rows_in']:,} -> "
              f"{summary['rows_out']:,} rows, {summary['n_synthetic']:,} synthetic, on "
              f"{summary['scheduler']}, rng={summary['rng']}, random_state "
              f"{summary['random_state']}) in {summary['seconds']['total']:.2f} s")
    return 0


#: How the summary names the stages of ``seconds``.
STAGE_NAMES = {"pass1_count_collect": "pass 1: count and collect", "knn": "k-NN",
               "pass2_write_originals": "pass 2: write original rows",
               "generate_write_synthetic": "generate and write synthetic rows",
               "total": "total"}


def _print_summary(summary: dict) -> None:
    print(f"{summary['input']} -> {summary['output']} ({summary['rows_in']:,} -> "
          f"{summary['rows_out']:,} rows, {summary['n_synthetic']:,} synthetic, on "
          f"{summary['device']}, rng={summary['rng']})")
    seed = summary["random_state"]
    if summary["random_state_drawn"]:
        print(f"  random_state {seed} (drawn; add --random-state {seed} to repeat this run)")
    else:
        print(f"  random_state {seed}")
    categorical = summary.get("categorical") or []
    print(f"  features: {len(summary['features'])}"
          + (f" ({len(categorical)} categorical: {', '.join(map(repr, categorical))}; SMOTENC)"
             if categorical else "") + "; passed through: "
          f"{', '.join(map(repr, summary['passthrough'])) or 'none'}"
          + (f"; dropped: {', '.join(map(repr, summary['dropped']))}" if summary["dropped"] else "")
          + (f"; indicator column: {summary['indicator']!r}" if summary["indicator"] else ""))
    width = max(len(label) for label in summary["counts_before"])
    for label, before in summary["counts_before"].items():
        print(f"  class {label:>{width}}: {before:>12,} -> {summary['counts_after'][label]:>12,}")
    for stage, seconds in summary["seconds"].items():
        print(f"  {STAGE_NAMES.get(stage, stage):<36} {seconds:8.2f} s")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


#: The ``--json`` summary of ``gpusmote resample`` (also the resample help's epilog).
JSON_SCHEMA = """\
--json prints one object; its keys are stable (snake_case; new keys may be
added, a changed or removed one bumps schema_version):
  schema_version      1
  input, output       the paths
  parameters          what was asked: target, sampling_strategy, k_neighbors,
                      random_state (the one used, drawn or given), device,
                      rng, chunk_rows, columns, drop, passthrough, indicator
                      (and categorical, when --categorical was given)
  random_state        the seed used: rerun with --random-state SEED for the
                      same output, byte for byte
  random_state_drawn  true if no --random-state was given and it was drawn
  device, rng         where it ran (cpu/cuda) and the random stream
  features            the feature columns, in order
  categorical         only when some feature is categorical: those features
                      (--categorical and dictionary columns)
  sampler             "SMOTENC", beside categorical; both absent: SMOTE ran
  passthrough         the columns copied for original rows, null in synthetic
  index_columns       columns taken for an index (pandas metadata, or the
                      unnamed first CSV column to_csv() writes): passed through
  dropped             columns left out (--drop)
  indicator           the added synthetic-row column, or null
  rows_in, rows_out   row counts; n_synthetic = rows_out - rows_in
  counts_before       {label: rows} before, labels as text
  counts_after        {label: rows} after
  synthetic_counts    {label: synthetic rows}
  removed_leftovers   temporary files of killed runs that were removed
  seconds             pass1_count_collect, knn, pass2_write_originals,
                      generate_write_synthetic, total (SMOTENC: its k-NN is
                      in generate_write_synthetic, knn is about 0)
"""

_COLUMNS_HELP = """\
columns: every column is the target, a feature, passed through (copied for
original rows, empty in synthetic rows) or dropped (neither read nor written).
By default every column but the target, --passthrough and --drop columns and
an index is a feature. With --columns only those are features and every other
column is passed through (as a DataFrame's other columns stay beside
df[columns]); --drop removes columns as DataFrame.drop(columns=...) does.
Name lists take commas or repeated flags: --passthrough id,ts or
--passthrough id --passthrough ts (a name with a comma cannot be given).
An index is never a feature: a pandas index stored in a Parquet/Arrow file,
and an unnamed first column (named "" or "Unnamed: 0": what df.to_csv()
writes). Name it in --columns to use it as a feature anyway.

categorical features (SMOTENC): --categorical names feature columns whose
values are levels, not numbers (added to --columns when that is given);
the sampler is then SMOTENC, the other features continuous. Dictionary
columns (what a pandas category column becomes in Parquet/Arrow) are
categorical without the flag, as imbalanced-learn's
categorical_features="auto" takes a DataFrame's category columns; text and
boolean columns need the flag. The output equals gpusmote.SMOTENC (so
imbalanced-learn's SMOTENC, for --rng imblearn) on the whole file in pandas,
categorical_features the categorical columns in feature order; categorical
columns keep their type and levels. CSV categorical columns are read as
text. SMOTENC holds each over-sampled class's rows in pandas and runs in
memory one class at a time: slower than SMOTE and more memory per row.
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Text with line breaks (the epilog's key table) is kept as written; one
    paragraph (the description) is wrapped to the terminal."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _add_debug(parser: argparse.ArgumentParser, default) -> None:
    # SUPPRESS in the subcommands: only a flag given there overrides the top level's.
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show the traceback on errors (default: off)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; imports nothing heavy (``--help`` stays instant)."""
    parser = argparse.ArgumentParser(prog="gpusmote", description=gpusmote.__doc__)
    parser.add_argument("--version", action="version", version=f"gpusmote {gpusmote.__version__}")
    _add_debug(parser, False)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="resample built-in fraud-like data, print counts and timings",
        description="Resample built-in fraud-like data and time gpusmote against "
                    "imbalanced-learn like with like: each one's first call in this process "
                    "(gpusmote's includes loading or compiling its kernels), then a warm call.")
    demo.add_argument("--rows", type=_positive_int, default=1_000_000,
                      help="rows of data (default: 1000000)")
    demo.add_argument("--features", type=_positive_int, default=32,
                      help="feature columns (default: 32)")
    demo.add_argument("--minority", type=float, default=0.01,
                      help="fraction of minority rows (default: 0.01)")
    _add_common(demo)
    demo.add_argument("--random-state", "--seed", type=int, default=0, dest="random_state",
                      help="seed of the data and of both samplers (default: 0)")
    demo.add_argument("--no-compare", dest="compare", action="store_false",
                      help="skip imbalanced-learn (default: compare)")
    _add_debug(demo, argparse.SUPPRESS)
    demo.set_defaults(handler=run_demo)

    resample = commands.add_parser(
        "resample", help="over-sample a Parquet/CSV/Arrow file larger than memory",
        formatter_class=_HelpFormatter,
        description="SMOTE a file in two streaming passes: only the over-sampled classes are held "
                    "in memory. Formats by extension: .parquet/.pq, .csv, .arrow/.feather/.ipc. "
                    "Feature columns must be numeric (CSV features are read as float64, CSV "
                    "passthrough columns as text), or categorical (SMOTENC: --categorical, "
                    "dictionary columns). The output is written to a temporary file and "
                    "renamed when complete; temporary files that killed runs left beside the "
                    "output are removed. Progress bars (pass 1, k-NN, pass 2 through the last "
                    "synthetic row) go to stderr when it is a terminal.",
        epilog=_COLUMNS_HELP + "\n" + JSON_SCHEMA)
    resample.add_argument("input", help="input file")
    resample.add_argument("output", help="output file (its extension picks the format)")
    resample.add_argument("--target", required=True, help="the class label column (required)")
    resample.add_argument("--sampling-strategy", type=parse_sampling_strategy, default="auto",
                          help="auto, minority, not minority, not majority, all; a float ratio "
                               "(binary); or LABEL=COUNT,... (default: auto)")
    _add_common(resample)
    resample.add_argument("--random-state", type=int, default=None,
                          help="seed (default: one is drawn at random, used and reported, so "
                               "the run can be repeated)")
    resample.add_argument("--chunk-rows", type=_positive_int, default=1 << 18,
                          help="rows per read/write batch (default: 262144)")
    resample.add_argument("--columns", type=parse_names, action="extend", default=None,
                          metavar="COL[,COL...]",
                          help="the feature columns; other columns are passed through "
                               "(default: every column not otherwise named)")
    resample.add_argument("--drop", type=parse_names, action="extend", default=[],
                          metavar="COL[,COL...]",
                          help="columns neither used nor written (default: none)")
    resample.add_argument("--passthrough", type=parse_names, action="extend", default=[],
                          metavar="COL[,COL...]",
                          help="non-feature columns (ids, timestamps): copied for original rows, "
                               "null in synthetic ones (default: none, besides an index)")
    resample.add_argument("--categorical", type=parse_names, action="extend", default=[],
                          metavar="COL[,COL...]",
                          help="categorical feature columns: run SMOTENC (default: none, "
                               "besides dictionary columns; see below)")
    resample.add_argument("--indicator", metavar="COL", default=None,
                          help="add a boolean column COL, true on synthetic rows "
                               "(default: none)")
    resample.add_argument("--scheduler", metavar="ADDRESS", default=None,
                          help="run on a Dask cluster: a scheduler address (tcp://host:8786) "
                               "or local:N (N local worker processes); the input is then a "
                               "Parquet file, directory or glob and the output a Parquet "
                               "dataset directory; needs gpusmote[dask] and --rng philox "
                               "(default: one process, two streaming passes)")
    resample.add_argument("--overwrite", action="store_true",
                          help="replace an existing output (default: refuse)")
    resample.add_argument("--no-space-check", dest="space_check", action="store_false",
                          help="write even if the output's estimated size (known after pass 1) "
                               "exceeds the destination's free space (default: check)")
    resample.add_argument("--quiet", action="store_true",
                          help="no progress bars, notes or summary (default: off)")
    resample.add_argument("--json", action="store_true",
                          help="print the summary as JSON, keys below (default: off)")
    _add_debug(resample, argparse.SUPPRESS)
    resample.set_defaults(handler=run_resample)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    """The SMOTE options ``demo`` and ``resample`` share, under the same names."""
    parser.add_argument("--k-neighbors", type=_positive_int, default=5,
                        help="neighbours per row (default: 5)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="where to compute (default: auto, CUDA when available)")
    parser.add_argument("--rng", choices=["imblearn", "philox"], default="imblearn",
                        help="random stream: imblearn's (identical output) or philox "
                             "(default: imblearn)")


#: Options that take a list of column names (commas or repeated flags).
LIST_OPTIONS = ("--columns", "--drop", "--passthrough", "--categorical")


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parse_args``, with a hint when a space-separated column list (the
    old ``--passthrough a b``) left names over."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        given = sys.argv[1:] if argv is None else argv
        used = [option for option in LIST_OPTIONS if option in given]
        hint = (f"; column lists take commas or repeated flags ({used[0]} a,b or "
                f"{used[0]} a {used[0]} b)" if used else "")
        parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    return args


def main(argv: list[str] | None = None) -> int:
    debug = False
    try:  # from the top: an interrupt while the parser or lazy imports load exits cleanly too
        with _signals_raise():
            args = _parse(build_parser(), argv)
            debug = args.debug
            return args.handler(args)
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, "signum", signal.SIGINT)
        how = ("interrupted" if signum == signal.SIGINT
               else f"stopped by {signal.Signals(signum).name}")
        print(f"gpusmote: {how}; no output was written", file=sys.stderr)
        return 128 + signum
    except Exception as error:  # one readable line, the traceback only on request
        if debug:
            traceback.print_exc()
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"gpusmote: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
