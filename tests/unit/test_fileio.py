"""Atomic outputs: complete or absent; links followed; streams written as streams."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ketenx.fileio import atomic_output, is_stream


def test_nothing_is_left_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as fh:
        fh.write(b"half")
        raise RuntimeError
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["out.csv"]


def test_a_symbolic_link_is_replaced_not_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with atomic_output(link) as fh:
        fh.write(b"new")
    assert not link.is_symlink() and link.read_bytes() == b"new" and real.read_bytes() == b"old"


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/null", "/proc/self/fd/1", "/dev/fd/1"])
def test_paths_below_dev_and_proc_are_streams(name: str) -> None:
    assert is_stream(Path(name))


def test_files_and_missing_paths_are_not_streams(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    assert not is_stream(tmp_path / "f") and not is_stream(tmp_path / "missing")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_written_as_a_stream(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with atomic_output(fifo) as fh:
        fh.write(b"report\n")
    reader.join(timeout=10)
    assert got == [b"report\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a pipe, not replaced by a file
