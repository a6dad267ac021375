"""ketenx's format registry (docs/formats.md)."""

from __future__ import annotations

import random

import pytest
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

from ketenx.records.formats import (
    FORMATS,
    is_bsn,
    is_date,
    is_datetime,
    is_email,
    is_iban,
    is_oin,
    is_postcode,
)

CASES = {
    "nl-bsn": (
        ["111222333", "123456782", "012345672", "999999990"],
        [
            "123456789",
            "000000000",
            "12345678",
            "1112223333",
            " 111222333",
            "111 222 333",
            "11122233a",
            "１１１２２２３３３",
        ],
    ),
    "nl-postcode": (
        ["1234 AB", "1234AB", "1234 ab", "9999 ZZ"],
        ["0123 AB", "1234 SA", "1234 SD", "1234 SS", "123 AB", "12345 AB", "1234 A1", ""],
    ),
    "oin": (
        [
            "00000001001234567000",
            "00000003123456780000",
            "00000004003214345001"[:17] + "000",
            "00000099000000000000",
        ],
        [
            "0000000100123456700",
            "00000005001234567000",
            "00000001001234567001",
            "1234",
            "0000000100123456a000",
        ],
    ),
    "iban": (
        ["NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "DE89370400440532013000"],
        ["NL91ABNA0417164301", "NL91", "XX00"],
    ),
    "date": (
        ["2020-02-29", "2021-12-31", "0001-01-01"],
        ["2021-02-29", "2021-13-01", "2021-1-01", "20210101", "2021-01-01T00:00:00Z", "٢٠٢١-٠١-٠١"],
    ),
    "date-time": (
        ["2021-01-01T10:00:00Z", "2021-01-01t10:00:00.123+01:00", "2016-12-31T23:59:60Z"],
        [
            "2021-01-01 10:00:00Z",
            "2021-01-01T10:00:00",
            "2021-02-30T10:00:00Z",
            "2021-01-01T24:00:00Z",
            "2021-01-01T10:61:00Z",
            "2021-01-01T10:00:00+25:00",
        ],
    ),
    "email": (
        ["a@b.nl", "ouder.naam+x@sub.example.org", "ü@ñ.es"],
        ["a@b", "@b.nl", "a@@b.nl", "a b@c.nl", "a@b .nl", "a@.nl", "a@b..nl", "a@b.nl.", "ab.nl"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_format_cases(name):
    good, bad = CASES[name]
    check = FORMATS[name]
    assert [v for v in good if not check(v)] == []
    assert [v for v in bad if check(v)] == []


def test_registry_is_complete():
    assert set(FORMATS) == set(CASES)


@pytest.mark.parametrize(
    "check", [is_bsn, is_postcode, is_oin, is_iban, is_date, is_datetime, is_email]
)
def test_formats_constrain_strings_only(check):
    for value in (1, 1.5, None, True, [], {}):
        assert check(value)


def test_bsn_agrees_with_stdnum_on_nine_digit_strings():
    rng = random.Random(11)
    for _ in range(50_000):
        s = f"{rng.randrange(10**9):09d}"
        assert is_bsn(s) == (stdnum_bsn.is_valid(s) and s != "000000000"), s


def test_postcode_agrees_with_stdnum():
    rng = random.Random(12)
    alphabet = "0123456789 ABSDZabsz-N"
    for _ in range(20_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 9)))
        assert is_postcode(s) == bool(stdnum_postcode.is_valid(s)), s
