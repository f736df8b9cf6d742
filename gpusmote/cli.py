"""``gpusmote`` command line: ``gpusmote demo``, ``gpusmote resample`` and ``gpusmote --version``.

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


def run_demo(args: argparse.Namespace) -> int:
    """Resample a built-in fraud-like data set and print counts and timings."""
    import numpy as np

    from gpusmote import SMOTE
    from gpusmote.datasets import make_fraud_like

    start = time.perf_counter()
    X, y = make_fraud_like(args.rows, args.features, args.minority, random_state=args.seed)
    made = time.perf_counter() - start
    print(f"data: {X.shape[0]:,} x {X.shape[1]} {X.dtype} (built in {made:.2f} s)")
    print(f"classes before: {_counts(y)}")

    sampler = SMOTE(random_state=args.seed, k_neighbors=args.k_neighbors, device=args.device)
    start = time.perf_counter()
    sampler.fit_resample(X[: min(len(X), 5_000)], y[: min(len(y), 5_000)])
    print(f"kernels compiled or loaded from cache on 5,000 rows: {time.perf_counter() - start:.2f} s "
          f"(not counted below)")
    start = time.perf_counter()
    X_res, y_res = sampler.fit_resample(X, y)
    ours = time.perf_counter() - start
    print(f"classes after:  {_counts(y_res)}")
    print(f"gpusmote SMOTE on {sampler.device_}: {ours:.3f} s -> {X_res.shape[0]:,} rows, "
          f"{X_res.dtype}, {X_res.nbytes / 2**20:.0f} MiB")

    if args.compare:
        from imblearn.over_sampling import SMOTE as ImblearnSMOTE

        reference = ImblearnSMOTE(random_state=args.seed, k_neighbors=args.k_neighbors)
        start = time.perf_counter()
        X_ref, y_ref = reference.fit_resample(X, y)
        theirs = time.perf_counter() - start
        same = np.array_equal(X_ref, X_res) and np.array_equal(y_ref, y_res)
        print(f"imbalanced-learn SMOTE: {theirs:.3f} s ({theirs / ours:.1f}x slower); "
              f"identical output: {same}")
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


def run_resample(args: argparse.Namespace) -> int:
    """Resample a Parquet/CSV/Arrow file in two streaming passes (see gpusmote.io._streaming)."""
    from gpusmote.io._streaming import Options, resample_file

    options = Options(
        input=Path(args.input), output=Path(args.output), target=args.target,
        sampling_strategy=args.sampling_strategy, k_neighbors=args.k_neighbors,
        random_state=args.random_state, device=args.device, rng=args.rng,
        chunk_rows=args.chunk_rows, passthrough=args.passthrough, overwrite=args.overwrite,
        progress=not args.quiet, space_check=args.space_check,
    )
    summary = resample_file(options)
    if args.json:
        print(json.dumps(summary, indent=2))
    elif not args.quiet:
        _print_summary(summary)
    return 0


def _print_summary(summary: dict) -> None:
    print(f"{summary['input']} -> {summary['output']} ({summary['rows_in']:,} -> "
          f"{summary['rows_out']:,} rows, on {summary['device']}, rng={summary['rng']})")
    width = max(len(label) for label in summary["counts_before"])
    for label, before in summary["counts_before"].items():
        print(f"  class {label:>{width}}: {before:>12,} -> {summary['counts_after'][label]:>12,}")
    for stage, seconds in summary["seconds"].items():
        print(f"  {stage:<36} {seconds:8.2f} s")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpusmote", description=gpusmote.__doc__)
    parser.add_argument("--version", action="version", version=f"gpusmote {gpusmote.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="resample built-in fraud-like data, print counts and timings")
    demo.add_argument("--rows", type=int, default=1_000_000)
    demo.add_argument("--features", type=int, default=32)
    demo.add_argument("--minority", type=float, default=0.01, help="fraction of minority rows")
    demo.add_argument("--k-neighbors", type=int, default=5)
    demo.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--no-compare", dest="compare", action="store_false",
                      help="skip the side-by-side run of imbalanced-learn")
    demo.set_defaults(handler=run_demo)

    resample = commands.add_parser(
        "resample", help="over-sample a Parquet/CSV/Arrow file larger than memory",
        description="SMOTE a file in two streaming passes: only the over-sampled classes are held "
                    "in memory. Formats by extension: .parquet/.pq, .csv, .arrow/.feather/.ipc. "
                    "Every column but the target, --passthrough columns and a stored pandas index "
                    "is a feature and must be numeric (CSV features are read as float64, CSV "
                    "passthrough columns as text). The output is written to a temporary file and "
                    "renamed when complete; temporary files that killed runs left beside the "
                    "output are removed.")
    resample.add_argument("input", help="input file")
    resample.add_argument("output", help="output file (its extension picks the format)")
    resample.add_argument("--target", required=True, help="the class label column")
    resample.add_argument("--sampling-strategy", type=parse_sampling_strategy, default="auto",
                          help="auto, minority, not minority, not majority, all; a float ratio "
                               "(binary); or LABEL=COUNT,... (default: auto)")
    resample.add_argument("--k-neighbors", type=_positive_int, default=5)
    resample.add_argument("--random-state", type=int, default=None)
    resample.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    resample.add_argument("--rng", choices=["imblearn", "philox"], default="imblearn")
    resample.add_argument("--chunk-rows", type=_positive_int, default=1 << 18,
                          help="rows per read/write batch (default: 262144)")
    resample.add_argument("--passthrough", nargs="+", default=[], metavar="COL",
                          help="non-feature columns (ids, timestamps): copied for original rows, "
                               "null in synthetic ones")
    resample.add_argument("--overwrite", action="store_true", help="replace an existing output")
    resample.add_argument("--no-space-check", dest="space_check", action="store_false",
                          help="write even if the output's estimated size (known after pass 1) "
                               "exceeds the destination's free space")
    resample.add_argument("--quiet", action="store_true", help="no progress bars and no summary")
    resample.add_argument("--json", action="store_true", help="print the summary as JSON")
    resample.set_defaults(handler=run_resample)
    return parser


def main(argv: list[str] | None = None) -> int:
    debug = False
    try:  # from the top: an interrupt while the parser or lazy imports load exits cleanly too
        with _signals_raise():
            args = build_parser().parse_args(argv)
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
