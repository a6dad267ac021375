"""Unit tests of the small parsers in ketenx.exchange.bundle: --not-before, the tar reader."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx._cli.pack import parse_time
from ketenx.errors import KetenxError, UsageError

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27", dt.datetime(2026, 11, 27, tzinfo=UTC)),
        ("2026-11-27T10:11:12Z", dt.datetime(2026, 11, 27, 10, 11, 12, tzinfo=UTC)),
        ("2026-11-27t10:11:12z", dt.datetime(2026, 11, 27, 10, 11, 12, tzinfo=UTC)),
        ("2026-11-27 10:11:12+01:00", dt.datetime(2026, 11, 27, 9, 11, 12, tzinfo=UTC)),
        ("2026-11-27T10:11:12.5-02:00", dt.datetime(2026, 11, 27, 12, 11, 12, 500000, tzinfo=UTC)),
    ],
)
def test_not_before_accepts_rfc3339(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-11-27T25:00:00Z"])
def test_not_before_refuses_other_text(text):
    with pytest.raises(UsageError, match="not an RFC 3339 time or date"):
        parse_time(text)


# --------------------------------------------------------------------------- the tar reader


def _small_tar(data: bytes = b"a,b\n1,2\n") -> bytes:
    """A tar laid out as a bundle (contents not signed: the reader's rules only)."""
    from ketenx.exchange.bundle import _tar_chunks

    members = [
        ("statement.dsse.json", b"{}"),
        ("contract.json", b"{}"),
        ("data.meta.json", b"{}"),
        ("data.csv", data),
    ]
    return b"".join(_tar_chunks(members, 1_700_000_000))  # type: ignore[arg-type]


def _read(raw: bytes, chunks: list[int] | None = None) -> tuple[str, bytes]:
    """Feed ``raw`` to the reader (in pieces of the given sizes); the outcome and the data."""
    from ketenx.exchange.bundle import _Reader

    sink = io.BytesIO()
    digest = "sha256:" + hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    reader = _Reader(lambda member, small: (sink, digest))
    try:
        position = 0
        for size in chunks or []:
            reader.write(raw[position : position + size])
            position += size
        reader.write(raw[position:])
        reader.close()
    except KetenxError as exc:
        return type(exc).__name__ + ": " + exc.message, sink.getvalue()
    return "ok", sink.getvalue()


def test_the_reader_reads_what_pack_writes_and_tarfile_agrees():
    raw = _small_tar()
    assert len(raw) % 10240 == 0
    assert _read(raw) == ("ok", b"a,b\n1,2\n")
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert tar.getnames() == [
            "statement.dsse.json",
            "contract.json",
            "data.meta.json",
            "data.csv",
        ]
        assert {(m.mode, m.uid, m.gid, m.uname, m.mtime) for m in tar} == {
            (0o644, 0, 0, "", 1_700_000_000)
        }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3000), max_size=12))
def test_the_reader_does_not_depend_on_how_the_input_is_cut(chunks):
    assert _read(_small_tar(), chunks) == ("ok", b"a,b\n1,2\n")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_byte_is_refused_or_harmless(data):
    """Change one byte anywhere: the reader refuses with a VerificationError (never another
    exception), or reads the same members (a byte of content: the signature's business)."""
    raw = bytearray(_small_tar())
    position = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    outcome, _ = _read(bytes(raw))
    assert outcome == "ok" or outcome.startswith("VerificationError: ")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_are_refused_cleanly(raw):
    outcome, written = _read(raw)
    assert outcome.startswith("VerificationError: ") and written == b""
