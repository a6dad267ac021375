"""storage.fileio.create_new / write_new: the one exclusive create (issue 11 §3).

Secrets, key files, the temporary file of an atomic output and the files of a work folder
are all created by it: never over an existing file or through a link, and with exactly the
mode asked for, whatever the umask."""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import pytest

from ketenx.storage.fileio import create_new, write_new
from tests.helpers import ROOT


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o400])
@pytest.mark.parametrize("umask", [0o022, 0o277, 0o077])
def test_the_mode_is_exact_whatever_the_umask(tmp_path: Path, mode: int, umask: int) -> None:
    old = os.umask(umask)
    try:
        path = tmp_path / "f"
        write_new(path, b"x", mode)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"x"


def test_no_mode_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        os.close(create_new(tmp_path / "f"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640


def test_never_over_an_existing_file_or_through_a_link(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_new(existing, b"new", 0o600)
    assert existing.read_bytes() == b"keep"
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "target-that-does-not-exist")
    with pytest.raises(FileExistsError):
        write_new(link, b"new", 0o600)
    assert not (tmp_path / "target-that-does-not-exist").exists()


def test_a_file_that_cannot_be_written_whole_is_removed(tmp_path: Path, monkeypatch) -> None:
    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        write_new(tmp_path / "f", b"x", 0o600)
    assert not (tmp_path / "f").exists()


def test_os_open_for_writing_is_called_only_by_the_one_create() -> None:
    """No other module opens a file with its own O_EXCL flags."""
    found = []
    for path in sorted((ROOT / "ketenx").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "O_EXCL":
                found.append(str(path.relative_to(ROOT)))
    assert found == ["ketenx/storage/fileio.py"], found
