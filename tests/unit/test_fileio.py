"""Atomic outputs: complete or absent; links followed; streams written as streams."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.errors import ExitCode, UsageError
from ketenx.storage.fileio import PRIVATE_MODE, atomic_output, is_stream, refuse_output_over_inputs


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


# --- permissions: the umask, and private outputs ----------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test (restored afterwards)."""
    original = os.umask(0o022)
    os.umask(original)
    yield os.umask
    os.umask(original)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002, 0o000])
def test_an_output_honours_the_umask(tmp_path: Path, umask: Callable[[int], None], mask: int):
    umask(mask)
    new, replaced = tmp_path / "new.csv", tmp_path / "old.csv"
    replaced.write_bytes(b"old")
    replaced.chmod(0o644)
    for target in (new, replaced):
        with atomic_output(target) as fh:
            fh.write(b"x")
        assert _mode(target) == 0o666 & ~mask, target.name  # as open() would create it


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002, 0o000, 0o277, 0o777])
def test_a_private_output_is_0600_whatever_the_umask(
    tmp_path: Path, umask: Callable[[int], None], mask: int
):
    umask(mask)
    target = tmp_path / "clear.csv"
    target.write_bytes(b"old")
    target.chmod(0o644)
    seen: list[int] = []
    with atomic_output(target, private=True) as fh:
        seen.append(stat.S_IMODE(os.fstat(fh.fileno()).st_mode))  # already while written
        fh.write(b"x")
    assert seen == [PRIVATE_MODE] == [0o600]
    assert _mode(target) == 0o600 and target.read_bytes() == b"x"


def test_a_failed_private_output_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "clear.csv", private=True) as fh:
        fh.write(b"half")
        raise RuntimeError
    assert os.listdir(tmp_path) == []


# --- no output over an input ------------------------------------------------------------------


def _refused(outputs: list[Any], inputs: list[tuple[str, Any]]) -> str:
    with pytest.raises(UsageError) as info:
        refuse_output_over_inputs(outputs, inputs)
    assert info.value.exit_code == ExitCode.USAGE
    assert "\n" not in info.value.message
    return info.value.message


def test_the_same_file_in_any_spelling_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys").mkdir()
    key = tmp_path / "keys" / "sign.key"
    key.write_bytes(b"secret key")
    (tmp_path / "link.key").symlink_to(key)
    (tmp_path / "chain.key").symlink_to(tmp_path / "link.key")
    os.link(key, tmp_path / "hard.key")
    (tmp_path / "keylinks").symlink_to(tmp_path / "keys", target_is_directory=True)
    spellings = [
        key,
        "keys/sign.key",
        "./keys/sign.key",
        "keys/../keys/./sign.key",
        "keys//sign.key",
        "link.key",
        "chain.key",
        "hard.key",
        "keylinks/sign.key",
        Path("keys/sign.key"),
    ]
    for output in spellings:
        for spelling in spellings:
            message = _refused([output], [("signing key", spelling)])
            assert message.startswith(f"{output}: ") and "(the signing key)" in message
    assert key.read_bytes() == b"secret key"


def test_a_missing_input_or_output_is_compared_by_path(tmp_path: Path) -> None:
    _refused([tmp_path / "a" / ".." / "x.json"], [("contract", tmp_path / "x.json")])
    refuse_output_over_inputs([tmp_path / "y.json"], [("contract", tmp_path / "x.json")])


def test_other_files_stdin_and_absent_options_pass(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"a\n")
    copy = tmp_path / "copy.csv"
    copy.write_bytes(b"a\n")  # same content, another file
    refuse_output_over_inputs(
        [copy, tmp_path / "out.csv", None, "-"],
        [("data file", data), ("data file", "-"), ("secret", None)],
    )
    refuse_output_over_inputs(["/dev/null"], [("data file", "/dev/null")])  # a device


def test_an_output_folder_that_is_an_input_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    assert "(the delivery)" in _refused([tmp_path / "inbox/"], [("delivery", folder)])


def test_the_first_colliding_output_is_named(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    message = _refused(
        [tmp_path / "out.csv", tmp_path / "d.csv"], [("contract", tmp_path / "c"), ("data", data)]
    )
    assert message.startswith(f"{data}: ") and "(the data)" in message


_SEGMENT = st.sampled_from([".", "", "sub/..", "subl/..", "sub/./.."])
_LAST = st.sampled_from(["sub/in.json", "alias.json", "subl/in.json", "hard.json"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(prefix=st.lists(_SEGMENT, max_size=4), last=_LAST, absolute=st.booleans())
def test_any_spelling_of_an_input_is_refused(
    tmp_path: Path, prefix: list[str], last: str, absolute: bool
) -> None:
    """Property: ``.``, ``..``, empty segments, relative paths and links (symbolic, folder,
    hard) in any combination never hide an input, on either side."""
    target = tmp_path / "sub" / "in.json"
    if not target.exists():
        target.parent.mkdir()
        target.write_bytes(b"{}")
        (tmp_path / "alias.json").symlink_to(target)
        (tmp_path / "subl").symlink_to(tmp_path / "sub", target_is_directory=True)
        os.link(target, tmp_path / "hard.json")
    spelled = str(tmp_path) + "/" + "/".join([*prefix, last])
    candidate = spelled if absolute else os.path.relpath(spelled)
    assert os.path.samefile(candidate, target)
    _refused([candidate], [("contract", target)])
    _refused([target], [("contract", candidate)])
    assert target.read_bytes() == b"{}"


def test_a_swallowed_signal_still_keeps_the_output_unpublished(tmp_path: Path) -> None:
    """A signal whose raise was swallowed (C extensions catch everything while they are
    imported) is still noted: the output is not made visible, the temporary file is gone."""
    from ketenx import errors
    from ketenx.storage.fileio import atomic_output
    from ketenx.storage.staging import publish

    target = tmp_path / "out.csv"
    errors.clear_signals()
    try:
        errors.note_signal(15)
        with pytest.raises(errors.Terminated) as stopped, atomic_output(target) as fh:
            fh.write(b"a,b\n")
        assert stopped.value.signum == 15
        assert list(tmp_path.iterdir()) == []
        source = tmp_path / "finished"
        source.write_bytes(b"x")
        with pytest.raises(errors.Terminated):
            publish(source, tmp_path / "delivered", folder=False)
        assert not (tmp_path / "delivered").exists()
    finally:
        errors.clear_signals()
    with atomic_output(target) as fh:  # no signal: published as ever
        fh.write(b"a,b\n")
    assert target.read_bytes() == b"a,b\n"
