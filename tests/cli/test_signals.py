"""SIGTERM and SIGHUP clean up like Ctrl-C; a later run removes what SIGKILL left behind.

Each test runs a real `ketenx` process that reads its input from a pipe we feed slowly,
waits until the run has its private work folder (or partial file) on disk, signals it, and
asserts that nothing is left: no partial output, no work folder, no plaintext.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import test_delivery_cli as delivery
from tests.helpers import GOOD_ROWS, HEADER, ROOT, SAMPLE_CONTRACT

ex = delivery.ex


def start(*args: str | Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ketenx", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write((HEADER + "\n" + GOOD_ROWS[0] + "\n").encode())
    process.stdin.flush()
    return process


def wait_for(predicate, process: subprocess.Popen[bytes]) -> None:
    """Poll until ``predicate()`` holds (the process must still run); generous limit, no
    timing assertion: the limit only keeps a broken run from hanging the suite."""
    for _ in range(1200):
        if predicate():
            return
        if process.poll() is not None:
            raise AssertionError(process.stderr.read() if process.stderr else b"")
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the run never got going")


def work_folders(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".ketenx-")]


def pack_args(ex, out: Path) -> list[str | Path]:
    return [
        "pack", "-", "--input-format", "csv", "-c", SAMPLE_CONTRACT, "-s", ex.secret,
        "-k", ex.key, "-p", ex.partners, "-o", out,
    ]  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_pack_stopped_by_a_signal_leaves_nothing(ex, signum):
    out_dir = ex.root / "gemeente" / "out"
    process = start(*pack_args(ex, out_dir / "d.age"))
    wait_for(lambda: any((f / "data.csv").exists() for f in work_folders(out_dir)), process)
    (work,) = work_folders(out_dir)
    # what is staged is pseudonymised output only: never an input value
    staged = b"".join(p.read_bytes() for p in work.iterdir())
    assert b"111222333" not in staged and "Zoë".encode() not in staged
    # while it runs: the staged pseudonymised data is private
    assert work.stat().st_mode & 0o777 == 0o700
    assert (work / "data.csv").stat().st_mode & 0o777 == 0o600
    process.send_signal(signum)
    _, err = process.communicate()
    for planted in (b"111222333", "Zoë".encode(), b"Jansen"):
        assert planted not in err
    assert process.returncode == -signum, err
    assert f"ketenx: error: stopped by {signal.Signals(signum).name}".encode() in err
    assert b"Traceback" not in err
    assert list(out_dir.iterdir()) == []


def test_pseudonymise_stopped_by_sigterm_leaves_no_partial_file(ex):
    out_dir = ex.root / "gemeente" / "out"
    process = start(
        "pseudonymise", "-", "--input-format", "csv", "-c", SAMPLE_CONTRACT, "-s", ex.secret,
        "-o", out_dir / "p.csv",
    )  # fmt: skip
    wait_for(lambda: any(out_dir.iterdir()), process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate()
    assert process.returncode == -signal.SIGTERM, err
    assert list(out_dir.iterdir()) == []


def test_a_later_run_removes_what_sigkill_left_but_never_a_live_run(run, ex):
    out_dir = ex.root / "gemeente" / "out"
    killed = start(*pack_args(ex, out_dir / "killed.age"))
    wait_for(lambda: any((f / "data.csv").exists() for f in work_folders(out_dir)), killed)
    killed.kill()
    killed.communicate()
    (left,) = work_folders(out_dir)  # SIGKILL: no cleanup could run

    # the next run beside the same destination removes it, as it starts
    live = start(*pack_args(ex, out_dir / "live.age"))
    wait_for(lambda: not left.exists() and len(work_folders(out_dir)) == 1, live)
    (alive,) = work_folders(out_dir)
    wait_for(lambda: (alive / "data.csv").exists(), live)

    # not ours to judge: a folder without the marker, one that is not private, a file
    starting = out_dir / ".ketenx-starting"
    starting.mkdir(mode=0o700)
    shared = out_dir / ".ketenx-shared"
    shared.mkdir(mode=0o755)
    (shared / "owner").write_text("1\n")
    shared.chmod(0o755)
    (out_dir / ".ketenx-file").write_text("x")

    result, _ = ex.pack(run, out="d.age")
    assert result.code == 0, result.err
    remaining = sorted(p.name for p in out_dir.iterdir())
    assert alive.exists() and (alive / "data.csv").exists()  # the live run's is untouched
    assert {"d.age", ".ketenx-starting", ".ketenx-shared", ".ketenx-file"} <= set(remaining)

    live.send_signal(signal.SIGTERM)
    live.communicate()
    assert not alive.exists()


def test_a_locked_folder_is_never_removed(tmp_path):
    from ketenx.storage.staging import OWNER, remove_stale

    held = tmp_path / ".ketenx-held"
    held.mkdir(mode=0o700)
    (held / OWNER).write_text("1\n")
    stale = tmp_path / ".ketenx-stale"
    stale.mkdir(mode=0o700)
    (stale / OWNER).write_text("2\n")
    fd = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        remove_stale(tmp_path)
    finally:
        os.close(fd)
    assert held.exists() and not stale.exists()


def test_a_later_run_removes_a_partial_file_sigkill_left_but_never_a_live_one(run, ex):
    out_dir = ex.root / "gemeente" / "out"
    target = out_dir / "p.csv"
    args = ["pseudonymise", "-", "--input-format", "csv", "-c", SAMPLE_CONTRACT, "-s",
            ex.secret, "-o", target]  # fmt: skip
    killed = start(*args)
    wait_for(lambda: any(p.name.endswith(".part") for p in out_dir.iterdir()), killed)
    killed.kill()
    killed.communicate()
    (left,) = list(out_dir.iterdir())  # SIGKILL: no cleanup could run
    live = start(*args)  # writing the same file: removes the stale one as it starts
    wait_for(lambda: not left.exists() and len(list(out_dir.iterdir())) == 1, live)
    (alive,) = list(out_dir.iterdir())
    # another file's partial file, a stranger's file and a link are not ours to remove
    other = out_dir / f".other.csv.{'0' * 12}.part"
    other.write_text("x")
    odd = out_dir / f".p.csv.{'1' * 12}.part"
    odd.symlink_to(other)
    done = run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", target)
    assert done.code == 0, done.err
    assert alive.exists()  # the live run's partial file is locked: untouched
    assert other.exists() and odd.is_symlink()
    live.send_signal(signal.SIGTERM)
    live.communicate()
    assert not alive.exists()
