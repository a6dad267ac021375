"""Unit tests of the small parsers in ketenx.bundle."""

from __future__ import annotations

import datetime as dt

import pytest

from ketenx.bundle import parse_time
from ketenx.errors import UsageError

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
