"""The flags every benchmark script shares, with one meaning each.

``--quick``
    A smoke test: tiny sizes that check the script runs and the outputs agree.
    Its timings mean nothing, it says so in its output, and it writes no files
    unless ``--out`` names a folder (so it never overwrites committed results).
``--runs N``
    Fresh repetitions of each measurement; the median is reported, the spread shown.
``--no-save``
    Print only.
``--out DIR``
    Where the results go (default: ``benchmarks/results/``; with ``--quick``: nowhere).
``--quiet``
    No progress lines on stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

#: Said wherever a ``--quick`` result is shown (tables, plots, saved files).
SMOKE_NOTE = "quick smoke test: tiny sizes, timings mean nothing"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def add_standard_flags(parser: argparse.ArgumentParser, *, quick: str,
                       runs: int | None = None, runs_help: str | None = None) -> None:
    """Add ``--quick``, ``--runs`` (when ``runs`` is given: its default),
    ``--no-save``, ``--out`` and ``--quiet`` to ``parser``.

    Parameters
    ----------
    quick : str
        What ``--quick`` shrinks the run to (for its help).
    runs : int, optional
        Default of ``--runs``; None for a script without repetitions.
    runs_help : str, optional
        What one run is, for the help.
    """
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test ({quick}): checks that it runs, timings mean nothing; "
                             f"saves nothing unless --out is given (default: off)")
    if runs is not None:
        parser.add_argument("--runs", type=_positive_int, default=runs,
                            help=f"{runs_help or 'repetitions'}; the median is reported "
                                 f"(default: {runs})")
    parser.add_argument("--no-save", action="store_true", help="print only (default: save)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder for the result files (default: benchmarks/results/, "
                             "none with --quick)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr (default: off)")


def results_dir(args: argparse.Namespace) -> Path | None:
    """Where to save, or None: not with ``--no-save``, and a ``--quick`` run
    only into a folder named with ``--out``."""
    if args.no_save:
        return None
    if args.out is not None:
        return args.out
    return None if args.quick else RESULTS


def not_saved_note(args: argparse.Namespace) -> str | None:
    """The line to print when a run saved nothing, or None when it did."""
    if args.no_save:
        return None
    if args.quick and args.out is None:
        return f"not saved ({SMOKE_NOTE}; pass --out DIR to keep it)"
    return None
