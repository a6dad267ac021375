"""Names from the data are data: a header cell or a key of a JSON record that could be
personal data never reaches a report, in any format; a plausible column name still does.

Generated hostile names (BSNs passing the 11-proef, e-mail addresses, dates, IBANs, names
with spaces, capitalised surnames, Unicode, control characters) are planted as unknown CSV
columns, unknown top-level keys and nested keys (``additionalProperties``,
``patternProperties``, ``propertyNames``, ``additionalProperties`` with a schema) and as
duplicate keys, and every report format is searched for them.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ketenx.canonical import pointer_escape
from ketenx.records.check import Checker
from ketenx.records.names import safe_name
from ketenx.records.reports import CheckReport, OutputFormat, render
from ketenx.records.validation import contract_names
from tests.helpers import GOOD_ROWS, HEADER

# --- hostile names -------------------------------------------------------------------------

_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


@st.composite
def bsns(draw: st.DrawFn) -> str:
    """Nine digits passing the 11-proef (as a real BSN does)."""
    head = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    last = sum(d * w for d, w in zip(head, _WEIGHTS, strict=True)) % 11
    if last == 10 or (last == 0 and not any(head)):
        head[0] = (head[0] + 1) % 10
        last = sum(d * w for d, w in zip(head, _WEIGHTS, strict=True)) % 11
    text = "".join(map(str, head)) + str(last % 10)
    return text if last < 10 else "123456782"


_LOWER = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
_WORD = st.builds(lambda a, b: a.upper() + b, st.sampled_from("ABDJKMPVZ"), _LOWER)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    bank = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4))
    account = draw(st.text("0123456789", min_size=10, max_size=10))
    digits = "".join(str(int(c, 36)) for c in bank + account + "NL00")
    return f"NL{98 - int(digits) % 97:02d}{bank}{account}"


HOSTILE = st.one_of(
    bsns(),
    st.builds(lambda b: "x" + b, bsns()),  # a BSN inside a name-like key
    st.builds(lambda u, d: f"{u}@{d}.nl", _LOWER, _LOWER),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"d{d:%d-%m-%Y}"),
    ibans(),
    st.builds(lambda a, b: f"{a} {b}", _WORD, _WORD),  # a name with a space
    _WORD.filter(lambda w: len(w) >= 4),  # a capitalised surname
    st.text(min_size=4, max_size=12).filter(lambda t: any(ord(c) > 127 for c in t)),
    st.builds(lambda a, c, b: a + c + b, _LOWER, st.sampled_from("\x00\x01\t\n\r\x1b\x7f"), _LOWER),
    st.builds(lambda d: f"+316{d}", st.text("0123456789", min_size=8, max_size=8)),
    st.builds(lambda p, a: f"{p} {a}", st.integers(1000, 9999), st.sampled_from(["AB", "ZZ"])),
)

PLAUSIBLE = st.sampled_from(["extra", "gemeente_code", "wijk", "_intern", "regio-code", "kolom2"])

NESTED = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "adres": {
            "type": "object",
            "properties": {"straat": {"type": "string"}},
            "additionalProperties": False,
        },
        "labels": {"type": "object", "patternProperties": {"^.": {"type": "integer"}}},
        "codes": {"type": "object", "propertyNames": {"maxLength": 3}},
        "tellers": {"type": "object", "additionalProperties": {"type": "integer"}},
        "lijst": {"type": "array", "items": {"type": "object", "additionalProperties": False}},
    },
    "required": ["bsn"],
}


def _sample_schema() -> dict[str, Any]:
    from ketenx.contract.model import load_contract
    from tests.helpers import SAMPLE_CONTRACT

    return dict(load_contract(SAMPLE_CONTRACT).schema)


SAMPLE_SCHEMA = _sample_schema()


def all_formats(checker: Checker, data: bytes, fmt: Any) -> tuple[str, dict[str, Any]]:
    """Every report format of one check run, joined, and the JSON report."""
    report = CheckReport(files=[checker.check(io.BytesIO(data), fmt, path="data")])
    texts = [render(report, f) for f in OutputFormat]
    return "\n".join(texts), json.loads(render(report, OutputFormat.JSON))


def forms(name: str) -> set[str]:
    """The ways a name could be written in a report (raw, JSON- and XML-escaped, as a
    pointer token)."""
    out = {name, escape(name), pointer_escape(name)}
    out |= {json.dumps(name)[1:-1], json.dumps(name, ensure_ascii=False)[1:-1]}
    return {f for f in out if f}


_PLACEHOLDER = re.compile(r"<(key|column) [0-9]+>")


def assert_fields_are_safe(report: dict[str, Any], names: frozenset[str]) -> None:
    """Every token of every reported field is a contract name, a safe name, an array index
    or a position placeholder."""
    for error in report["errors"]:
        for token in error["field"].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            assert (
                token in names
                or safe_name(token)
                or token.isdigit()
                or _PLACEHOLDER.fullmatch(token)
            ), error


def assert_absent(text: str, planted: str) -> None:
    for form in forms(planted):
        assert form not in text, (planted, form)


# --- the rule ----------------------------------------------------------------------------------


@given(HOSTILE)
def test_hostile_names_are_not_safe(name):
    assert not safe_name(name)


@given(PLAUSIBLE)
def test_plausible_column_names_are_safe(name):
    assert safe_name(name)


def test_the_rule_at_its_edges():
    assert safe_name("a" * 64) and not safe_name("a" * 65)
    assert safe_name("kolom_12345") and not safe_name("kolom_123456")
    assert safe_name("gemeenteCode") and not safe_name("Gemeente")
    assert not safe_name("") and not safe_name("nl91abna0417164300")
    assert not safe_name("a.b") and not safe_name("a/b") and not safe_name("<key 1>")
    assert not safe_name("x_1234ab") and not safe_name("d_1_2_2015") and safe_name("jaar_2024")


# --- CSV headers -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=3, unique=True), PLAUSIBLE)
def test_csv_header_cells_that_could_be_data_are_withheld(planted, plausible):
    cells = [c.replace('"', "") for c in planted]
    cells = [c for c in cells if c and "\x00" not in c and c not in HEADER.split(",")]
    header = HEADER + "".join(f',"{c}"' for c in cells) + f",{plausible}"
    rows = [row + "," * (len(cells) + 1) for row in GOOD_ROWS]
    data = "\r\n".join([header, *rows]).encode("utf-8")
    text, report = all_formats(Checker.for_schema(SAMPLE_SCHEMA), data, "csv")
    for cell in cells:
        assert_absent(text, cell)
    assert_fields_are_safe(report, contract_names(SAMPLE_SCHEMA))
    fields = {e["field"] for e in report["errors"] if e["rule"] == "unknown-column"}
    assert "/" + plausible in fields  # a plausible column name is still named
    assert {f"/<column {12 + i}>" for i in range(len(cells))} <= fields


def test_a_header_glued_to_a_data_row_is_a_header_error_naming_no_cell():
    schema = {"type": "object", "properties": {"bsn": {}, "naam": {}}, "required": ["bsn"]}
    for first in ("bsn,naam,123456782,Jan Jansen", "bsn,123456782", "Jansen,bsn"):
        text, report = all_formats(Checker.for_schema(schema), f"{first}\n1,2\n".encode(), "csv")
        assert report["error_counts"] == {"header": 1}, first
        for planted in ("123456782", "Jan Jansen", "Jansen"):
            assert_absent(text, planted)
    # half known, the other half plausible names: a header with unknown columns
    _, report = all_formats(Checker.for_schema(schema), b"bsn,extra\n1,2\n", "csv")
    assert {(e["field"], e["rule"]) for e in report["errors"]} == {("/extra", "unknown-column")}


def test_duplicate_columns_name_only_safe_names():
    schema = {"type": "object", "properties": {"bsn": {}, "naam": {}, "a": {}, "b": {}}}
    data = b"bsn,bsn,naam,a,b,Jan Jansen,Jan Jansen,extra,extra\n1,2,3,4,5,6,7,8,9\n"
    text, report = all_formats(Checker.for_schema(schema), data, "csv")
    assert "Jan Jansen" not in text
    found = {(e["field"], e["rule"]) for e in report["errors"]}
    assert ("/bsn", "duplicate-column") in found
    assert ("/<column 7>", "duplicate-column") in found
    assert ("/extra", "duplicate-column") in found


# --- JSON keys ---------------------------------------------------------------------------------


def _nested_record(planted: str, plausible: str) -> dict[str, Any]:
    return {
        "bsn": "111222333",
        planted: 1,
        plausible: 1,
        "adres": {"straat": "x", planted: 1},
        "labels": {planted: "s"},
        "codes": {planted: 1},
        "tellers": {planted: "s", plausible: "s"},
        "lijst": [{planted: 1}],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE, PLAUSIBLE, st.sampled_from(["jsonl", "json"]))
@example("\n00\x80", "extra", "jsonl")  # a key `^.` does not cover (found in CI)
def test_json_keys_that_could_be_data_are_withheld(planted, plausible, fmt):
    record = _nested_record(planted, plausible)
    line = json.dumps(record)
    data = (line + "\n" if fmt == "jsonl" else f"[{line}]").encode("utf-8")
    text, report = all_formats(Checker.for_schema(NESTED), data, fmt)
    assert report["invalid_records"] == 1
    assert_absent(text, planted)
    assert_fields_are_safe(report, contract_names(NESTED))
    fields = {(e["field"], e["rule"]) for e in report["errors"]}
    assert ("/" + plausible, "unknown-field") in fields
    assert ("/tellers/" + plausible, "type") in fields
    assert ("/<key 2>", "unknown-field") in fields
    assert ("/adres/<key 2>", "additionalProperties") in fields
    if planted[:1] not in ("\n", "\r", "\u2028", "\u2029"):  # ECMA-262 `.` matches none
        assert ("/labels/<key 1>", "type") in fields  # of the four line terminators
    assert ("/lijst/0/<key 1>", "additionalProperties") in fields


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE, st.sampled_from(["jsonl", "json"]), st.booleans())
def test_duplicate_keys_are_reported_without_their_name(planted, fmt, nested):
    key = json.dumps(planted)
    inner = f'{{{key}: 1, "b": 2, {key}: "123456782"}}'
    line = f'{{"bsn": "111222333", "adres": {inner}}}' if nested else inner[:-1] + ', "bsn": 1}'
    data = (line + "\n" if fmt == "jsonl" else f"[{line}, {line}]").encode("utf-8")
    text, report = all_formats(Checker.for_schema(NESTED), data, fmt)
    assert_absent(text, planted)
    assert "123456782" not in text
    expected = "/adres/<key 3>" if nested else "/<key 3>"
    assert {(e["field"], e["rule"]) for e in report["errors"]} == {(expected, "duplicate-key")}
    assert report["error_counts"] == {"duplicate-key": 1 if fmt == "jsonl" else 2}


def test_a_duplicate_of_a_safe_or_contract_name_is_named():
    data = b'{"bsn": "111222333", "bsn": "123456782"}\n'
    data += b'{"bsn": "111222333", "x": {"a": 1, "a": 2}}\n'
    _, report = all_formats(Checker.for_schema(NESTED), data, "jsonl")
    assert {(e["record"], e["field"]) for e in report["errors"]} == {(1, "/bsn"), (2, "/x/a")}
