"""Issue 11 §3: one rejection message format. Records that break a rule are refused in the
same words whoever refuses them: ``pseudonymise``/``pack`` (input and treated output), the
precise readers of ``risk``/``scan``, and ``unpack`` (delivered data)."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx.errors import RejectedError
from ketenx.records.reports import NOT_AN_OBJECT, rejection
from ketenx.transform.privacy_reports import read_columns

#: what, place, rule, optional message, optional count: the whole grammar of the format.
FORMAT = re.compile(
    r"(input|output|delivered data) rejected: (record [1-9][0-9]*|header|file)"
    r"(, field /[^:]*)?: rule [a-z0-9-]+(: [^()]+)?( \(and [1-9][0-9]* more errors?\))?"
)

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}


@given(
    what=st.sampled_from(["input", "output", "delivered data"]),
    record=st.integers(0, 10**6),
    field=st.sampled_from(["", "/bsn", "/adres/postcode"]),
    rule=st.sampled_from(["nl-bsn", "type", "row-length", "required", "header"]),
    more=st.integers(-1, 5),
)
def test_every_rejection_has_the_one_format(
    what: str, record: int, field: str, rule: str, more: int
) -> None:
    exc = rejection(what, record, field, rule, "the value is not valid", more=more)
    assert isinstance(exc, RejectedError)
    assert FORMAT.fullmatch(str(exc)), str(exc)
    assert ("more error" in str(exc)) == (more > 0)
    assert str(exc).endswith("(and 1 more error)") == (more == 1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\nx,1\nx\n", "input rejected: record 2: rule row-length: "),
        (b'a,b\nx,1\n"x,2\n', "input rejected: record 2: rule "),
    ],
)
def test_the_precise_readers_of_risk_and_scan_use_it(data: bytes, expected: str) -> None:
    with pytest.raises(RejectedError) as caught:
        for _ in read_columns(io.BytesIO(data), "csv", SCHEMA):
            pass
    assert str(caught.value).startswith(expected), str(caught.value)
    assert FORMAT.fullmatch(str(caught.value)), str(caught.value)


def test_json_records_that_are_not_objects_use_it() -> None:
    with pytest.raises(RejectedError) as caught:
        for _ in read_columns(io.BytesIO(b'{"a": "x"}\n[1]\n'), "jsonl", SCHEMA):
            pass
    assert str(caught.value) == f"input rejected: record 2: rule type: {NOT_AN_OBJECT}"
    assert NOT_AN_OBJECT == "a record must be an object"
