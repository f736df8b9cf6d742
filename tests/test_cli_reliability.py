"""``gpusmote resample`` under signals, long names and bad requests (issue 13, items 4, 6, 9)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gpusmote.io._streaming as streaming
from gpusmote.cli import build_parser, main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

# The CLI with every batch read slowed down, so that a test can signal it mid-run.
# argv[1] == "ignore-hup": start with SIGHUP ignored, as nohup does.
SLOW_CLI = """
import signal, sys, time
import gpusmote.io._streaming as streaming
real = streaming.read_batches
def slow(*args, **kwargs):
    source = real(*args, **kwargs)
    def batches(inner):
        for batch in inner:
            time.sleep(0.05)
            yield batch
    source.batches = batches(source.batches)
    return source
streaming.read_batches = slow
if sys.argv[1] == "ignore-hup":
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
from gpusmote.cli import main
sys.exit(main(sys.argv[2:]))
"""

# Holds an exclusive flock on argv[1] until killed: a run still going.
HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def _source(tmp_path, n_rows=600, name="in.parquet", **extra):
    """Two features, a string label (10% minority) and ``extra`` columns."""
    rng = np.random.default_rng(0)
    labels = np.where(rng.random(n_rows) < 0.1, "fraud", "ok").astype(object)
    table = pa.table({"f1": rng.normal(size=n_rows), "f2": rng.normal(size=n_rows),
                      "label": labels, **extra})
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _run(*args):
    return main([str(a) for a in args])


def _partials(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.endswith(".partial"))


def _start_slow(source, output, ignore_hup=False):
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "ignore-hup" if ignore_hup else "-", "resample",
         str(source), str(output), "--target", "label", "--chunk-rows", "10",
         "--random-state", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_partial(process, directory):
    """The running process's temporary file, once it exists."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        found = _partials(directory)
        if found:
            return Path(directory) / found[0]
        time.sleep(0.01)
    process.kill()
    raise AssertionError(f"no temporary file appeared: {process.communicate(timeout=30)}")


@pytest.fixture
def no_pass_1(monkeypatch):
    """Fail the test's run if it reads any data: the errors must come first."""
    def read_batches(*args, **kwargs):
        raise AssertionError("pass 1 started")

    monkeypatch.setattr(streaming, "read_batches", read_batches)


def _assert_fails_first(capsys, args, *fragments):
    code = _run("resample", *args)
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith("gpusmote: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err
    return err


# -- item 4: signals, and what SIGKILL leaves ------------------------------------------------


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_clean_up_and_exit_128_plus_the_signal(tmp_path, signum, status):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    process = _start_slow(source, output)
    _wait_for_partial(process, tmp_path)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    assert f"stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_sighup_ignored_on_entry_stays_ignored(tmp_path):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    process = _start_slow(source, output, ignore_hup=True)  # as under nohup
    _wait_for_partial(process, tmp_path)
    process.send_signal(signal.SIGHUP)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert output.exists() and not _partials(tmp_path)


def test_leftover_of_a_killed_run_is_removed_and_reported_by_the_next(tmp_path, capsys):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    process = _start_slow(source, output)
    partial = _wait_for_partial(process, tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert partial.exists()  # nothing can clean up after SIGKILL
    assert _run("resample", source, output, "--target", "label", "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["removed_leftovers"] == [str(partial)]
    assert captured.err.count("\n") == 1 and str(partial) in captured.err, captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, output.name])


def test_temporary_file_of_a_live_run_is_left_alone(tmp_path, capsys):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    live, dead = tmp_path / ".out.parquet.0123abcd.partial", tmp_path / ".out.parquet.dead0000.partial"
    # Not this destination's: another output's, and a name that only starts alike.
    others = [tmp_path / ".other.parquet.0123abcd.partial",
              tmp_path / ".out.parquet.x.parquet.0123abcd.partial"]
    for path in [live, dead, *others]:
        path.write_bytes(b"PAR1")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(live)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        assert _run("resample", source, output, "--target", "label") == 0
    finally:
        holder.kill()
        holder.wait(timeout=30)
    err = capsys.readouterr().err
    assert str(dead) in err and str(live) not in err, err
    assert live.exists() and not dead.exists() and all(p.exists() for p in others)


def test_leftovers_are_removed_quietly_with_quiet(tmp_path, capsys):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    leftover = tmp_path / ".out.parquet.k2_x9abq.partial"  # named by tempfile, before the locks
    leftover.write_bytes(b"")
    assert _run("resample", source, output, "--target", "label", "--quiet") == 0
    assert capsys.readouterr().err == ""
    assert not leftover.exists()


def test_signal_handlers_are_installed_by_main_only_and_restored(tmp_path):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    assert _run("resample", _source(tmp_path), tmp_path / "out.parquet", "--target", "label",
                "--quiet") == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before
    imported = subprocess.run(
        [sys.executable, "-c", "import signal, gpusmote.cli, gpusmote.io._streaming; "
         "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)"],
        capture_output=True, text=True, timeout=60)
    assert imported.stdout == "True\n", imported.stderr


# -- item 6: long output names ---------------------------------------------------------------


def _name(n_bytes, char):
    """A .parquet name of exactly ``n_bytes`` UTF-8 bytes, mostly ``char``."""
    room = n_bytes - len(".parquet")
    width = len(char.encode())
    return char * (room // width) + "x" * (room % width) + ".parquet"


@pytest.mark.parametrize("n_bytes", [240, 255])
@pytest.mark.parametrize("char", ["a", "é", "€"])
def test_long_output_names_work(tmp_path, n_bytes, char):
    name = _name(n_bytes, char)
    assert len(name.encode()) == n_bytes
    assert _run("resample", _source(tmp_path), tmp_path / name, "--target", "label",
                "--quiet") == 0
    assert (tmp_path / name).is_file() and not _partials(tmp_path)


def test_long_names_keep_their_leftovers_apart(tmp_path, capsys):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    first, second = tmp_path / _name(255, "€"), tmp_path / (_name(255, "€")[:-9] + "y.parquet")
    prefixes = [streaming._partial_prefix(first), streaming._partial_prefix(second)]
    assert prefixes[0] != prefixes[1]  # they differ only past the cut: the hash tells them apart
    for prefix in prefixes:
        assert len(prefix.encode("utf-8")) + len("0123abcd.partial") <= name_max
    leftover = tmp_path / f"{prefixes[0]}0123abcd.partial"
    leftover.write_bytes(b"")
    source = _source(tmp_path)
    assert _run("resample", source, second, "--target", "label", "--quiet") == 0
    assert leftover.exists()  # another destination's
    assert _run("resample", source, first, "--target", "label") == 0
    assert str(leftover) in capsys.readouterr().err and not leftover.exists()


# -- item 9: errors up front, naming the cause ------------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_output_that_is_a_directory_fails_up_front(tmp_path, capsys, no_pass_1, overwrite):
    output = tmp_path / "out.parquet"
    output.mkdir()
    _assert_fails_first(capsys, [_source(tmp_path), output, "--target", "label", *overwrite],
                        f"{output} is a directory")


def test_missing_output_directory_is_named(tmp_path, capsys, no_pass_1):
    missing = tmp_path / "missing"
    err = _assert_fails_first(capsys, [_source(tmp_path), missing / "out.parquet", "--target",
                                       "label"], f"output directory {missing} does not exist")
    assert ".partial" not in err


def test_column_the_output_format_cannot_hold_fails_up_front(tmp_path, capsys, no_pass_1):
    tags = pa.array([[i, i + 1] for i in range(600)], pa.list_(pa.int64()))
    _assert_fails_first(
        capsys, [_source(tmp_path, tags=tags), tmp_path / "out.csv", "--target", "label",
                 "--passthrough", "tags"],
        "CSV output cannot hold passthrough column 'tags' (list<",
        "write .parquet or .arrow output instead")
    assert not _partials(tmp_path)


def test_input_without_rows_says_so(tmp_path, capsys, no_pass_1):
    header_only = tmp_path / "in.csv"
    header_only.write_text("f1,f2,label\n")
    _assert_fails_first(capsys, [header_only, tmp_path / "out.csv", "--target", "label"],
                        f"{header_only} has no rows (only a header)")
    empty = _source(tmp_path, n_rows=0)
    _assert_fails_first(capsys, [empty, tmp_path / "out.parquet", "--target", "label"],
                        f"{empty} has no rows")


def test_ctrl_c_while_starting_exits_130_without_a_traceback(monkeypatch, capsys):
    import gpusmote.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["resample", "in.parquet", "out.parquet", "--target", "label"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_ctrl_c_during_a_lazy_import_exits_130(tmp_path, monkeypatch, capsys):
    class Interrupts:  # Ctrl-C while gpusmote.io._streaming (pyarrow, ...) loads
        def find_spec(self, name, path=None, target=None):
            if name == "gpusmote.io._streaming":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "gpusmote.io._streaming")
    monkeypatch.setattr(sys, "meta_path", [Interrupts(), *sys.meta_path])
    assert main(["resample", "in.parquet", "out.parquet", "--target", "label"]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_output_larger_than_the_free_space_is_refused(tmp_path, capsys, monkeypatch):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=10_000))
    err = _assert_fails_first(capsys, [source, output, "--target", "label"],
                              "the output would take about", f"but {tmp_path} has 9.8 KiB free",
                              "pass --no-space-check")
    assert "(1,092 rows)" in err  # 546 ok and as many fraud
    assert not output.exists() and not _partials(tmp_path)
    assert _run("resample", source, output, "--target", "label", "--no-space-check",
                "--quiet") == 0
    assert output.exists()


def test_impossible_output_size_is_refused_before_the_k_nn(tmp_path):
    source, output = _source(tmp_path), tmp_path / "out.parquet"
    result = subprocess.run(
        [sys.executable, "-m", "gpusmote", "resample", str(source), str(output), "--target",
         "label", "--sampling-strategy", "fraud=1000000000000"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "1,000,000,000,546 rows" in result.stderr and "TiB" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_help_documents_the_space_check_override():
    help_text = build_parser()._subparsers._group_actions[0].choices["resample"].format_help()
    assert "--no-space-check" in help_text
