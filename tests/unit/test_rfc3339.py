"""ketenx.rfc3339: the one writer and reader of RFC 3339 times (issue 11 §3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx import rfc3339
from ketenx.errors import VerificationError
from ketenx.exchange.attest import _parse_created
from tests.helpers import ROOT

UTC = dt.UTC
EAST = dt.timezone(dt.timedelta(hours=2))
NOON = dt.datetime(2026, 6, 2, 12, 0, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "kwargs", "expected"),
    [
        (NOON, {}, "2026-06-02T12:00:00.000005Z"),
        (NOON, {"timespec": "seconds"}, "2026-06-02T12:00:00Z"),
        (dt.datetime(2026, 6, 2, 14, 0, tzinfo=EAST), {}, "2026-06-02T12:00:00Z"),
        (dt.datetime(2026, 6, 2, 14, 0, tzinfo=EAST), {"utc": False}, "2026-06-02T14:00:00+02:00"),
    ],
)
def test_text(when: dt.datetime, kwargs: dict[str, object], expected: str) -> None:
    assert rfc3339.text(when, **kwargs) == expected  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=dt.datetime(1000, 1, 1),
        timezones=st.sampled_from([UTC, EAST, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
    ),
    st.booleans(),
)
def test_what_is_written_reads_back_as_the_same_instant(when: dt.datetime, utc: bool) -> None:
    assert rfc3339.parse(rfc3339.text(when, utc=utc)) == when


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-27T10:11:12Z",
        "2026-11-27t10:11:12z",
        "2026-11-27 10:11:12+01:00",
        "2026-11-27T10:11:12.123456789-02:00",
    ],
)
def test_rfc3339_text_is_read(text: str) -> None:
    assert rfc3339.parse(text).tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "20261127T101112Z",  # ISO 8601 basic format: fromisoformat takes it, RFC 3339 does not
        "2026-W48-1T10:11:12Z",  # a week date
        "2026-11-27T10:11:12+01:00:30",  # an offset with seconds
        "2026-11-27T10:11Z",  # no seconds
        "2026-11-27",  # a date, unless asked for
        "2026-13-01T00:00:00Z",
        "2026-11-27T25:00:00Z",
        "",
    ],
)
def test_other_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError) as info:
        rfc3339.parse(text)
    assert str(info.value) == "not an RFC 3339 time"


def test_a_date_when_asked_for() -> None:
    assert rfc3339.parse("2026-11-27", date=True) == dt.datetime(2026, 11, 27)
    with pytest.raises(ValueError):
        rfc3339.parse("2026-02-30", date=True)


@pytest.mark.parametrize("created", ["20261127T101112Z", 20261127, None, "2026-11-27T10:11:12"])
def test_the_signed_creation_time_must_be_rfc3339_with_an_offset(created: object) -> None:
    with pytest.raises(VerificationError):
        _parse_created(created)


def test_times_are_written_only_by_the_rfc3339_module() -> None:
    """No other module turns a datetime into text with its own ``+00:00`` → ``Z`` rule."""
    pattern = re.compile(r"""replace\(\s*["']\+00:00["']""")
    found = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "ketenx").rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["ketenx/rfc3339.py"], found
