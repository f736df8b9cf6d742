"""Side-by-side benchmark: imbalanced-learn vs gpusmote on the workloads.

``python -m benchmarks.compare`` builds each workload of benchmarks/workloads.py
once, runs every implementation on it in its own fresh process (so peak memory
is honest), checks that every output is identical to imbalanced-learn's, and
prints a table: wall time, k-NN time, generation time, peak memory beyond the
input, and the ratios. It also measures this machine's bounds (copy bandwidth
and float32 GEMM rate) and prints, per workload, the time the output's bytes
and the exact k-NN's flops need at those rates. The table is written as JSON
and Markdown, with a PNG plot, to benchmarks/results/ under the machine's
name. Every case runs in ``--runs`` fresh processes (median reported): first calls
on this kind of machine vary by 2x and more with the cost of faulting in fresh
memory. ``--quick`` is a smoke test: 2% of every workload, once each, in
under a minute; its timings mean nothing, its table and plot say so, and it
saves nothing unless ``--out DIR`` is given (committed results stay as they
are). The flags are those of every benchmark script (benchmarks/_flags.py).

The plot shows each workload's wall time per implementation in ms or s on a
log scale (lower is better), the speed-up over imbalanced-learn on each bar,
and every run's time as a dot when ``--runs`` > 1.

``--sampler SMOTENC`` and ``--sampler SMOTEN`` run on the categorical workloads
of benchmarks/mixed_workloads.py (and only they do: a wrong pairing is an
error), with ``categorical_features`` passed to both sides. imbalanced-learn's
SMOTENC can ask for more memory than any machine has, so every imbalanced-learn
process runs under an address-space limit (``--memory-limit``, default
min(16 GiB, 70% of RAM)): past it, NumPy raises MemoryError, which is reported
("MemoryError asking for 35.9 GiB") with ratios n/a, and the run goes on.
gpusmote's processes run without the limit (a CUDA context alone maps more
address space than that). Those reports end with a table of issue 15's targets:
>= 3x faster, identical output, peak memory beyond the input <= 1.5x the output,
and, where imbalanced-learn runs out of memory, gpusmote's peak under 4 GiB.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._flags import RESULTS, SMOKE_NOTE, add_standard_flags, not_saved_note, results_dir
from benchmarks.mixed_workloads import MixedWorkload
from benchmarks.run_case import ALL_SAMPLERS, MIXED_SAMPLERS
from benchmarks.workloads import ALL_WORKLOADS, Workload, check_pairing, get_workload, workloads_for
from gpusmote.devices._resolve import cuda_available

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "imbalanced-learn"

#: The implementations whose processes run under ``--memory-limit``.
MEMORY_LIMITED = (REFERENCE,)

#: Issue 15's targets for the categorical samplers.
TARGET_SPEEDUP = 3.0
TARGET_PEAK_OVER_OUTPUT = 1.5
TARGET_PEAK_WHERE_REFERENCE_FAILS = 4 * 2**30


def default_memory_limit() -> int:
    """The address-space cap of the limited processes: min(16 GiB, 70% of RAM)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 16 * 2**30
    return int(min(16 * 2**30, 0.7 * ram))


def save_report(name: str, report: dict, markdown: str, folder: Path = RESULTS) -> Path:
    """Write ``report`` as <folder>/<name>.json and ``markdown`` as <name>.md
    (folder: benchmarks/results/); return the path without extension.
    (Suffixes are appended, not swapped with ``with_suffix``: machine names
    such as ``...-2.20GHz-8cpu`` contain dots.)"""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / name
    Path(f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    Path(f"{stem}.md").write_text(markdown + "\n")
    return stem


def machine_name() -> str:
    """CPU model and core count (plus the GPU when present), e.g. ``AMD-EPYC-2cpu``."""
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1] for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    name = "-".join(model.replace("(R)", "").replace("(TM)", "").split())[:40]
    name = f"{name}-{os.cpu_count()}cpu"
    if cuda_available():
        import cupy

        gpu = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        name += "-" + "-".join(gpu.split())
    return name


def measure_bounds(size_bytes: int = 512 * 2**20) -> dict:
    """This machine's copy bandwidth (bytes copied per second, one NumPy copy)
    and float32 GEMM rate (flop/s, NumPy's BLAS on every core)."""
    src = np.ones(size_bytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    copy = functools.partial(np.copyto, dst, src)
    copy()
    copy_s = min(_timed(copy) for _ in range(3))
    del src, dst
    a = np.random.default_rng(0).random((4096, 2048), dtype=np.float32)
    b = np.random.default_rng(1).random((2048, 4096), dtype=np.float32)
    a @ b
    gemm_s = min(_timed(lambda: a @ b) for _ in range(3))
    return {"copy_bytes_per_s": size_bytes / copy_s, "gemm_flop_per_s": 2 * 4096 * 2048 * 4096 / gemm_s}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def workload_bounds(workload: Workload | MixedWorkload, bounds: dict) -> dict:
    """Seconds to write the output at copy bandwidth, and to do the exact
    all-pairs k-NN's multiply-adds at the GEMM rate (a categorical column
    counted as one dimension)."""
    n_out = max(workload.class_counts) * len(workload.class_counts)
    output_bytes = n_out * workload.n_features * workload.itemsize
    knn_flops = 2 * workload.knn_pairs() * workload.n_features
    return {
        "output_floor_s": output_bytes / bounds["copy_bytes_per_s"],
        "knn_floor_s": knn_flops / bounds["gemm_flop_per_s"],
    }


class Progress:
    """One line per case on stderr, with elapsed time and a rough ETA."""

    def __init__(self, total: int, quiet: bool = False):
        self.total, self.done, self.quiet = total, 0, quiet
        self.start = time.perf_counter()

    def begin(self, label: str) -> None:
        if not self.quiet:
            print(f"[{self.done + 1}/{self.total}] {label} ...", end="", file=sys.stderr, flush=True)

    def end(self, note: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        if not self.quiet:
            print(f" {note} (elapsed {elapsed:.0f} s, ETA ~{eta:.0f} s)", file=sys.stderr, flush=True)


def run_case(data_dir: str, impl: str, repeat: int, runs: int = 1, sampler: str = "SMOTE",
             memory_limit: int | None = None) -> dict:
    """Run one implementation on one saved workload in ``runs`` fresh
    processes (under ``memory_limit`` bytes of address space when given): the
    median run's figures (by wall time), the largest peak memory, and every
    run's wall time under ``runs_wall_s``; the first failure instead, if any."""
    results = []
    for _ in range(runs):
        results.append(_run_case_once(data_dir, impl, repeat, sampler, memory_limit))
        if "error" in results[-1]:  # it fails the same way again (a MemoryError: after minutes)
            return results[-1]
    results.sort(key=lambda r: r["wall_s"])
    median = dict(results[len(results) // 2])
    median["peak_extra_bytes"] = max(r["peak_extra_bytes"] for r in results)
    median["runs_wall_s"] = [r["wall_s"] for r in results]
    if len({r["digest"] for r in results}) != 1:
        median["digest"] = "differs between runs"
    return median


def _run_case_once(data_dir: str, impl: str, repeat: int, sampler: str = "SMOTE",
                   memory_limit: int | None = None) -> dict:
    """Run one implementation on one saved workload in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        limit = ["--memory-limit", str(memory_limit)] if memory_limit else []
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.run_case", data_dir, impl, result.name, "--repeat", str(repeat),
             "--sampler", sampler, *limit],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            return {"impl": impl, "error": _failure(proc)}
        return json.loads(Path(result.name).read_text())


def _failure(proc: subprocess.CompletedProcess) -> str:
    """What a failed case process said: its last stderr line, or the signal
    that killed it (SIGKILL: most likely the kernel's out-of-memory killer)."""
    if proc.returncode < 0:
        note = " (most likely the out-of-memory killer)" if proc.returncode == -9 else ""
        return f"killed by signal {-proc.returncode}{note}"
    return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"


def run(names: list[str], impls: list[str], quick: bool, repeat: int, runs: int = 3,
        quiet: bool = False, sampler: str = "SMOTE", memory_limit: int | None = None) -> dict:
    """Every implementation on every workload (see the module notes); the
    :data:`MEMORY_LIMITED` ones under ``memory_limit`` bytes of address space."""
    check_pairing(sampler, names)
    bounds = measure_bounds(64 * 2**20 if quick else 512 * 2**20)
    progress = Progress(len(names) * len(impls), quiet)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            workload = get_workload(name, quick)
            X, y = workload.build()
            np.save(f"{tmp}/X.npy", X)
            np.save(f"{tmp}/y.npy", y)
            del X, y
            Path(f"{tmp}/params.json").write_text(json.dumps(workload.sampler_params()))
            cases = {}
            for impl in impls:
                progress.begin(f"{workload.name} / {impl}")
                limit = memory_limit if impl in MEMORY_LIMITED else None
                cases[impl] = run_case(tmp, impl, repeat, runs, sampler, limit)
                note = cases[impl].get("error") or f"{cases[impl]['wall_s']:.2f} s"
                progress.end(note)
            row = {"workload": workload.name, "description": workload.description,
                   "shape": [workload.n_rows, workload.n_features],
                   "bounds": workload_bounds(workload, bounds), "cases": cases}
            if isinstance(workload, MixedWorkload):
                row["categorical"] = {"columns": workload.n_categorical, "levels": workload.n_levels,
                                      "categorical_features": workload.categorical_features}
            rows.append(row)
    return {"machine": machine_name(), "sampler": sampler, "quick": quick, "runs": runs, "bounds": bounds,
            "memory_limit_bytes": memory_limit, "memory_limited": list(MEMORY_LIMITED),
            "versions": _versions(), "workloads": rows}


def _versions() -> dict:
    import imblearn
    import numba
    import sklearn

    import gpusmote

    return {"gpusmote": gpusmote.__version__, "imbalanced-learn": imblearn.__version__,
            "scikit-learn": sklearn.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version()}


def format_seconds(seconds: float | None) -> str:
    """A time as people read it: ``850 µs``, ``60 ms``, ``1.5 s``, ``42 s``
    (``n/a`` for None: a phase the sampler does not report)."""
    if seconds is None or not np.isfinite(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:,.0f} s"


def speedup(case: dict, reference: dict) -> float:
    """How many times faster than the reference (NaN when either failed)."""
    if "wall_s" not in case or "wall_s" not in reference:
        return float("nan")
    return reference["wall_s"] / case["wall_s"]


def speedup_label(ratio: float) -> str:
    """``3.7x faster`` or, below 1, ``1.3x slower``: never a "0.8x faster"."""
    if not np.isfinite(ratio):
        return "n/a"
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def format_ratio(ratio: float) -> str:
    """``3.41x``, or ``n/a`` where a side has no figure."""
    return f"{ratio:.2f}x" if np.isfinite(ratio) else "n/a"


def format_mib(n_bytes: float) -> str:
    """Bytes in MiB, as the tables show them: ``0.73 MiB``, ``36 MiB``, ``1,866 MiB``."""
    mib = n_bytes / 2**20
    return f"{mib:.2f} MiB" if mib < 10 else f"{mib:,.0f} MiB"


def memory_error_label(case: dict) -> str:
    """``MemoryError asking for 35.9 GiB (shape (192000, 5, 5020), float64)``
    from NumPy's message, or the message itself when it names no size."""
    message = case.get("memory_error", "")
    asked = re.search(r"Unable to allocate (\S+ \S+) for an array with shape (\(.*?\)) and data type (\w+)",
                      message)
    if asked:
        return f"MemoryError asking for {asked[1].replace('. ', ' ')} (shape {asked[2]}, {asked[3]})"
    return f"MemoryError: {message}" if message else "MemoryError"


def error_label(case: dict) -> str:
    """What a failed case shows: the memory asked for, or the error."""
    return memory_error_label(case) if "memory_error" in case else f"error: {case['error']}"


def identical_label(impl: str, cases: dict) -> str:
    """``reference``, ``yes``/``NO`` against imbalanced-learn's output, or,
    where imbalanced-learn gave none, n/a plus whether the gpusmote devices agree."""
    if impl == REFERENCE:
        return "reference"
    reference = cases.get(REFERENCE, {}).get("digest")
    digest = cases[impl].get("digest")
    if reference is not None:
        return "yes" if digest == reference else "NO"
    others = [other for other, case in cases.items() if other not in (REFERENCE, impl) and "digest" in case]
    if not others or others[0] > impl:  # the first gpusmote device stands for the others
        return "n/a (no reference output)"
    return f"n/a; = {others[0]}: {'yes' if cases[others[0]]['digest'] == digest else 'NO'}"


def _title(report: dict) -> str:
    title = f"{report.get('sampler', 'SMOTE')}: gpusmote vs imbalanced-learn on {report['machine']}"
    return f"{title} ({SMOKE_NOTE})" if report["quick"] else title


def to_markdown(report: dict) -> str:
    mib = 2**20
    bounds = report["bounds"]
    lines = [
        f"# {_title(report)}",
        "",
        f"Machine bounds: copy {bounds['copy_bytes_per_s'] / 1e9:.1f} GB/s, float32 GEMM "
        f"{bounds['gemm_flop_per_s'] / 1e9:.0f} GFLOP/s. Versions: "
        + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
        f"Each case ran in {report['runs']} fresh process(es); wall time is the median over them of the first"
        " full-size call after a small warm-up (k-NN and generation from that median run; lower is better);"
        " peak memory is the largest peak RSS beyond the loaded input, also shown over the output's size.",
        "",
        "| workload | implementation | wall | k-NN | generation | runs (min-max) | peak extra MiB | / output "
        "| speed-up | identical |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["workloads"]:
        cases = row["cases"]
        ref = cases.get(REFERENCE, {})
        for impl, case in cases.items():
            if "error" in case:
                peak = (f"{case['peak_extra_bytes'] / mib:.0f} (until then)" if "peak_extra_bytes" in case
                        else "")
                lines.append(f"| {row['workload']} | {impl} | {error_label(case)} | | | | {peak} | | n/a | n/a |")
                continue
            same = identical_label(impl, cases)
            runs = case.get("runs_wall_s", [case["wall_s"]])
            spread = (f"{format_seconds(min(runs))} - {format_seconds(max(runs))}" if len(runs) > 1
                      else "1 run")
            lines.append(
                f"| {row['workload']} | {impl} | {format_seconds(case['wall_s'])} | "
                f"{format_seconds(case['knn_s'])} | {format_seconds(case['generate_s'])} | {spread} | "
                f"{case['peak_extra_bytes'] / mib:.0f} | "
                f"{case['peak_extra_bytes'] / case['output_bytes']:.2f}x | {format_ratio(speedup(case, ref))} | "
                f"{same} |"
            )
        b = row["bounds"]
        lines.append(f"| {row['workload']} | *bounds* | | {format_seconds(b['knn_floor_s'])} | "
                     f"{format_seconds(b['output_floor_s'])} | | | | | |")
    lines += ["", "*bounds*: k-NN = all-pairs distance multiply-adds of the over-sampled classes at the GEMM rate; "
              "generation = output bytes at the copy bandwidth."]
    if report.get("memory_limit_bytes"):
        lines += ["", f"{', '.join(report.get('memory_limited', [REFERENCE]))} ran under an address-space limit "
                      f"(RLIMIT_AS) of {report['memory_limit_bytes'] / 2**30:.1f} GiB: past it, a MemoryError is "
                      "reported with what it asked for; the other implementations ran without a limit."]
    if report.get("sampler") in MIXED_SAMPLERS:
        lines += ["", *targets_markdown(report)]
    return "\n".join(lines)


def target_verdict(case: dict, reference: dict) -> str:
    """Issue 15's targets for one gpusmote case: where imbalanced-learn ran,
    >= 3x faster, identical, peak <= 1.5x the output; where it ran out of
    memory, peak under 4 GiB. ``met``, or the targets missed."""
    if "error" in case:
        return "missed: " + error_label(case)
    missed = []
    if "digest" in reference:
        if speedup(case, reference) < TARGET_SPEEDUP:
            missed.append(f"speed-up < {TARGET_SPEEDUP:g}x")
        if case["digest"] != reference["digest"]:
            missed.append("output differs")
        if case["peak_extra_bytes"] > TARGET_PEAK_OVER_OUTPUT * case["output_bytes"]:
            missed.append(f"peak > {TARGET_PEAK_OVER_OUTPUT:g}x output")
    elif "memory_error" in reference:
        if case["peak_extra_bytes"] >= TARGET_PEAK_WHERE_REFERENCE_FAILS:
            missed.append(f"peak >= {TARGET_PEAK_WHERE_REFERENCE_FAILS / 2**30:g} GiB")
    else:
        return "n/a (imbalanced-learn failed)"
    return "met" if not missed else "missed: " + ", ".join(missed)


def targets_markdown(report: dict) -> list[str]:
    """The table of issue 15's targets, one line per workload and gpusmote device."""
    lines = [
        f"## Targets (issue 15): >= {TARGET_SPEEDUP:g}x faster, identical output, peak beyond the input "
        f"<= {TARGET_PEAK_OVER_OUTPUT:g}x the output; where imbalanced-learn runs out of memory, "
        f"gpusmote's peak < {TARGET_PEAK_WHERE_REFERENCE_FAILS / 2**30:g} GiB",
        "",
        f"| workload | {REFERENCE} | gpusmote | speed-up | peak {REFERENCE} | peak gpusmote | output "
        "| gpusmote peak / output | identical | targets |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in report["workloads"]:
        cases = row["cases"]
        ref = cases.get(REFERENCE, {})
        ref_time = format_seconds(ref["wall_s"]) if "wall_s" in ref else error_label(ref)
        ref_peak = format_mib(ref["peak_extra_bytes"]) if "wall_s" in ref else "n/a"
        for impl, case in cases.items():
            if impl == REFERENCE:
                continue
            if "error" in case:
                lines.append(f"| {row['workload']} | {ref_time} | {impl}: {error_label(case)} | n/a | {ref_peak} "
                             f"| | | | | {target_verdict(case, ref)} |")
                continue
            lines.append(
                f"| {row['workload']} | {ref_time} | {impl}: {format_seconds(case['wall_s'])} | "
                f"{format_ratio(speedup(case, ref))} | {ref_peak} | {format_mib(case['peak_extra_bytes'])} | "
                f"{format_mib(case['output_bytes'])} | {case['peak_extra_bytes'] / case['output_bytes']:.2f}x | "
                f"{identical_label(impl, cases)} | {target_verdict(case, ref)} |")
    return lines


def figure(report: dict):
    """The compare plot as a matplotlib Figure (see the module notes); raises
    ImportError without matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    names = [row["workload"] for row in report["workloads"]]
    impls = list(report["workloads"][0]["cases"])
    fig, ax = plt.subplots(figsize=(2.2 * len(names) + 2.5, 4.8))
    width = 0.8 / len(impls)
    for i, impl in enumerate(impls):
        x = np.arange(len(names)) + i * width
        cases = [row["cases"].get(impl, {}) for row in report["workloads"]]
        values = np.array([case.get("wall_s", np.nan) for case in cases])
        bars = ax.bar(x, values, width, label=impl)
        for xi, case, row in zip(x, cases, report["workloads"]):
            runs = case.get("runs_wall_s", [])
            if len(runs) > 1:  # every run, so the spread is seen, not only the median
                ax.scatter(np.full(len(runs), xi), runs, s=10, color="black", zorder=3,
                           label="each run" if "each run" not in ax.get_legend_handles_labels()[1]
                           else None)
            if "wall_s" not in case:
                if "memory_error" in case:  # no bar: say why, near the bottom of the plot
                    asked = re.search(r"allocate (\S+ \S+)", case["memory_error"])
                    ax.annotate("MemoryError" + (f"\nasked for\n{asked[1].replace('. ', ' ')}" if asked else ""),
                                (xi, 0.03), xycoords=("data", "axes fraction"), ha="center", va="bottom",
                                fontsize=7, color="red")
                continue
            top = max([case["wall_s"], *runs])
            label = format_seconds(case["wall_s"])
            reference = row["cases"].get(REFERENCE, {})
            if impl != REFERENCE and "wall_s" in reference:
                label += "\n" + speedup_label(speedup(case, reference))
            ax.annotate(label, (xi, top), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7)
        del bars
    ax.set_xticks(np.arange(len(names)) + width * (len(impls) - 1) / 2, names)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_seconds(value)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.margins(y=0.25)
    ax.set_ylabel("wall time, log scale (lower is better)")
    runs = report.get("runs", 1)
    subtitle = (f"median of {runs} fresh processes per bar; dots: each run" if runs > 1
                else "one run per bar")
    ax.set_title(f"{_title(report)}\n{subtitle}", fontsize=9)
    if report["quick"]:
        ax.text(0.5, 0.5, "SMOKE TEST", transform=ax.transAxes, fontsize=40, color="red",
                alpha=0.15, ha="center", va="center", rotation=20)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot(report: dict, path: Path) -> bool:
    """Save :func:`figure` as ``path``; False without matplotlib."""
    try:
        fig = figure(report)
    except ImportError:
        return False
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=list(ALL_WORKLOADS), default=None,
                        help="workloads to run (default: all of the sampler's: the categorical ones "
                             "for SMOTENC and SMOTEN, the others for every other sampler)")
    add_standard_flags(parser, quick="2%% of every workload, one run each", runs=3,
                       runs_help="fresh processes per case (1 with --quick unless given)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="calls per process; the first is reported (default: 1)")
    parser.add_argument("--sampler", choices=list(ALL_SAMPLERS), default="SMOTE",
                        help="the sampler compared, the same class and parameters on both sides "
                             "(default: SMOTE)")
    parser.add_argument("--memory-limit", type=float, default=None, metavar="GIB",
                        help=f"address-space limit of the {REFERENCE} processes, in GiB; past it a "
                             "MemoryError is reported (default: min(16, 70%% of RAM); 0: none)")
    parser.add_argument("--sweep", action="store_true",
                        help="instead: the sampler's speed-up against size, 100 rows to 1M (30,000 for the "
                             "cleaning and combined samplers), first call and warm, NumPy and DataFrame "
                             "(benchmarks/sweep.py; --quick: 3 sizes, not saved)")
    parser.set_defaults(runs=None)  # 3, or 1 with --quick, unless given
    args = parser.parse_args(argv)
    if args.sweep:
        from benchmarks import sweep

        if args.sampler in MIXED_SAMPLERS:
            parser.error(f"--sweep runs on continuous data: {args.sampler} needs categorical columns")
        sweep.main([flag for flag, on in (("--quick", args.quick), ("--no-save", args.no_save),
                                          ("--quiet", args.quiet)) if on] + ["--sampler", args.sampler]
                   + (["--runs", str(args.runs)] if args.runs else []))
        return 0
    workloads = args.workloads or workloads_for(args.sampler)
    try:
        check_pairing(args.sampler, workloads)
    except ValueError as error:
        parser.error(str(error))
    memory_limit = (default_memory_limit() if args.memory_limit is None
                    else int(args.memory_limit * 2**30) or None)
    impls = [REFERENCE, "gpusmote-cpu"] + (["gpusmote-cuda"] if cuda_available() else [])
    args.runs = args.runs or (1 if args.quick else 3)
    report = run(workloads, impls, args.quick, args.repeat, args.runs, args.quiet, args.sampler, memory_limit)
    table = to_markdown(report)
    print(table)
    folder = results_dir(args)
    if folder is not None:
        sampler = "" if args.sampler == "SMOTE" else f"-{args.sampler}"
        stem = save_report(f"compare-{report['machine']}{sampler}{'-quick' if args.quick else ''}",
                           report, table, folder)
        saved = plot(report, Path(f"{stem}.png"))
        print(f"\nsaved {stem}.json, .md" + (", .png" if saved else " (no plot: pip install matplotlib)"))
    elif not_saved_note(args):
        print(f"\n{not_saved_note(args)}")
    return 1 if failures(report) else 0


def failures(report: dict) -> list[dict]:
    """The cases that fail the run: any error but imbalanced-learn's MemoryError
    (an outcome to report), and any output unlike imbalanced-learn's where it ran."""
    failed = []
    for row in report["workloads"]:
        reference = row["cases"].get(REFERENCE, {})
        for impl, case in row["cases"].items():
            if "error" in case:
                if not (impl == REFERENCE and "memory_error" in case):
                    failed.append(case)
            elif "digest" in reference and case["digest"] != reference["digest"]:
                failed.append(case)
    return failed


if __name__ == "__main__":
    sys.exit(main())
