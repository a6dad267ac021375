"""Check reports in every output format, from one registry.

A report names file, record, field, rule and a ketenx-written message, and never a value
from the data, in every format. Formats: ``text`` (people), ``json`` (machines; shape in
``schemas/report.schema.json``), ``junit`` (CI test tabs), ``sarif`` (SARIF 2.1.0, code
scanning) and ``github`` (GitHub Actions workflow commands).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

from .._version import __version__
from ..canonical import pointer
from ..errors import RejectedError

if TYPE_CHECKING:
    from .batches import FileReport

INFORMATION_URI = "https://ketenx.example/docs/check"
REPORT_SCHEMA_ID = "https://ketenx.example/schemas/report/v1"


@dataclass
class CheckReport:
    """The report of one ``ketenx check`` run over one or more files."""

    files: Sequence[FileReport]
    contract_id: str = ""
    contract_version: int = 0
    contract_digest: str = ""
    side: str = "input"
    rule_help: Mapping[str, str] = field(default_factory=dict)
    # Per field of the schema checked, which path the check takes and why
    # (:func:`ketenx.records.engine.explain`; the JSON report's ``fields``).
    paths: Sequence[tuple[str, str, str]] = ()

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def invalid_records(self) -> int:
        return sum(f.invalid_records for f in self.files)

    @property
    def error_counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.error_counts)
        return total


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"


Renderer = Callable[[CheckReport, bool], str]

RULE_DESCRIPTIONS: Mapping[str, str] = {
    "nl-bsn": "BSN: nine digits passing the 11-proef",
    "nl-postcode": "Dutch postcode",
    "oin": "organisation identification number (OIN)",
    "iban": "IBAN with a valid check number",
    "date": "RFC 3339 full-date naming a real day",
    "date-time": "RFC 3339 date-time",
    "email": "e-mail address",
    "required": "a required field or column is missing",
    "type": "the value has the wrong type",
    "enum": "the value is not one of the allowed values",
    "unknown-column": "a column that the contract's schema does not list",
    "unknown-field": "a field that the contract's schema does not list",
    "duplicate-column": "a column name occurs twice in the header",
    "duplicate-key": "a key occurs twice in one JSON object",
    "header": "the first CSV row does not name the columns",
    "row-length": "a row with a different number of cells than the header",
    "no-records": "the file holds no records",
    "encoding": "the file is not UTF-8",
    "binary": "the file is not text",
    "csv-syntax": "the CSV cannot be parsed",
    "cell-size": "a CSV cell is larger than the limit",
    "json-syntax": "the JSON cannot be parsed",
    "json-structure": "the JSON is not an array of records",
    "record-size": "a JSON record is larger than the limit",
}


_HEADER_RULES = frozenset({"header", "required", "unknown-column", "duplicate-column"})


def place_of(record: int, rules: Iterable[str]) -> str:
    """``record N``; record 0 is the ``header`` (CSV) for a header rule, else the ``file``."""
    if record:
        return f"record {record}"
    return "header" if _HEADER_RULES.intersection(rules) else "file"


def where_of(record: int, fieldname: str, rule: str) -> str:
    """Where a violation is, for a message: ``record 3, field /bsn``, ``header, field /x``."""
    place = place_of(record, (rule,))
    return f"{place}, field {fieldname}" if fieldname else place


#: The message of a JSON record that is not an object (rule ``type``), whoever reads it.
NOT_AN_OBJECT = "a record must be an object"


def rejection(
    what: str,
    record: int,
    fieldname: str,
    rule: str,
    message: str = "",
    *,
    more: int = 0,
    hint: str | None = None,
) -> RejectedError:
    """The one refusal of records that break a rule, in one message format whoever rejects
    them (``pseudonymise`` and ``pack`` on the input or the treated output, ``unpack`` on the
    delivered data, ``risk`` and ``scan`` on a file they cannot read)::

        input rejected: record 3, field /bsn: rule nl-bsn: <ketenx's message> (and 2 more errors)

    ``what`` is the records (``input``, ``output``, ``delivered data``); ``message`` is
    written by ketenx and holds no value; ``more`` is how many further errors were found."""
    text = f"{what} rejected: {where_of(record, fieldname, rule)}: rule {rule}"
    if message:
        text += f": {message}"
    if more > 0:
        text += f" (and {count_of(more, 'more error')})"
    return RejectedError(text, hint=hint)


# --- text -----------------------------------------------------------------------------


def count_of(n: int, noun: str) -> str:
    """``1 record``, ``2 records``: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_text(report: CheckReport, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines: list[str] = []
    for f in report.files:
        if f.valid:
            lines.append(f"{f.path}: {paint('OK', '32')}: {count_of(f.records, 'record')} valid")
            continue
        lines.append(
            f"{f.path}: {paint('REJECTED', '31;1')}: {f.invalid_records} of "
            f"{count_of(f.records, 'record')} invalid, {count_of(f.total_errors, 'error')}"
        )
        lines.extend(
            f"  {where_of(v.record, v.field, v.rule)}: rule {v.rule}: {v.message}" for v in f.errors
        )
        if f.truncated:
            lines.append(
                f"  … {count_of(f.total_errors - len(f.errors), 'more error')} not listed "
                "(--max-errors)"
            )
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(f.error_counts.items()))
        lines.append(f"  errors by rule: {counts}")
    return "\n".join(lines) + "\n"


# --- json -----------------------------------------------------------------------------


def report_dict(report: CheckReport) -> dict[str, Any]:
    """The JSON report (``schemas/report.schema.json``)."""
    return {
        "$schema": REPORT_SCHEMA_ID,
        "tool": {"name": "ketenx", "version": __version__},
        "contract": {
            "id": report.contract_id,
            "version": report.contract_version,
            "digest": report.contract_digest,
        },
        "side": report.side,
        "valid": report.valid,
        "records": report.records,
        "invalid_records": report.invalid_records,
        "errors": [
            {
                "file": f.path,
                "record": v.record,
                **({"line": v.line} if v.line is not None else {}),
                "field": v.field,
                "rule": v.rule,
                "message": v.message,
            }
            for f in report.files
            for v in f.errors
        ],
        "error_counts": dict(sorted(report.error_counts.items())),
        "truncated": any(f.truncated for f in report.files),
        "fields": [
            {"field": pointer(name), "path": path, "reason": reason}
            for name, path, reason in report.paths
        ],
        "files": [
            {
                "path": f.path,
                "valid": f.valid,
                "records": f.records,
                "invalid_records": f.invalid_records,
                "errors_listed": len(f.errors),
                "error_counts": dict(sorted(f.error_counts.items())),
                "truncated": f.truncated,
            }
            for f in report.files
        ],
    }


def render_json(report: CheckReport, color: bool = False) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


# --- junit -----------------------------------------------------------------------------


def render_junit(report: CheckReport, color: bool = False) -> str:
    """One test suite per file; one failing test case per rejected record (its rules listed),
    or one passing case when the file is valid."""
    root = ET.Element("testsuites", name="ketenx check")
    total_tests = total_failures = 0
    for f in report.files:
        suite = ET.SubElement(root, "testsuite", name=f.path)
        cases = 0
        failures = 0
        by_record: dict[int, list[Any]] = {}
        for v in f.errors:
            by_record.setdefault(v.record, []).append(v)
        for record, violations in by_record.items():
            name = place_of(record, (v.rule for v in violations))
            case = ET.SubElement(suite, "testcase", classname=f.path, name=name, file=f.path)
            if violations[0].line:
                case.set("line", str(violations[0].line))
            rules = sorted({v.rule for v in violations})
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{name}: " + ", ".join(rules),
                type=rules[0],
            )
            failure.text = "\n".join(
                f"{where_of(v.record, v.field, v.rule)}: rule {v.rule}: {v.message}"
                for v in violations
            )
            cases += 1
            failures += 1
        if f.truncated:
            case = ET.SubElement(suite, "testcase", classname=f.path, name="errors not listed")
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{f.total_errors - len(f.errors)} more errors not listed",
                type="truncated",
            )
            failure.text = ", ".join(f"{r} {n}" for r, n in sorted(f.error_counts.items()))
            cases += 1
            failures += 1
        if f.valid:
            ET.SubElement(
                suite, "testcase", classname=f.path, name=f"{count_of(f.records, 'record')} valid"
            )
            cases += 1
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += cases
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# --- sarif -----------------------------------------------------------------------------


def _uri(path: str) -> str:
    """A SARIF ``uri``: a ``file:`` URI for an absolute path, else a percent-encoded
    relative reference (``-`` for stdin stays ``-``)."""
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(path.replace(os.sep, "/"), safe="/")


def render_sarif(report: CheckReport, color: bool = False) -> str:
    """SARIF 2.1.0; each violation is a result with the file as its artifact and the record
    and field as its logical location."""
    rules = sorted(report.error_counts)
    index = {rule: i for i, rule in enumerate(rules)}
    results = []
    for f in report.files:
        for v in f.errors:
            place = place_of(v.record, (v.rule,))
            results.append(
                {
                    "ruleId": v.rule,
                    "ruleIndex": index[v.rule],
                    "level": "error",
                    "message": {"text": f"{where_of(v.record, v.field, v.rule)}: {v.message}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": _uri(f.path)},
                                **({"region": {"startLine": v.line}} if v.line else {}),
                            },
                            "logicalLocations": [
                                {"fullyQualifiedName": f"{place}{v.field}", "kind": "element"}
                            ],
                        }
                    ],
                    "properties": {"record": v.record, "field": v.field},
                }
            )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ketenx",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {
                                    "text": report.rule_help.get(
                                        rule, RULE_DESCRIPTIONS.get(rule, f"schema rule {rule}")
                                    )
                                },
                            }
                            for rule in rules
                        ],
                    }
                },
                "artifacts": [{"location": {"uri": _uri(f.path)}} for f in report.files],
                "results": results,
                "properties": {
                    "records": report.records,
                    "invalidRecords": report.invalid_records,
                    "errorCounts": dict(sorted(report.error_counts.items())),
                },
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- github -----------------------------------------------------------------------------


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(report: CheckReport, color: bool = False) -> str:
    """GitHub Actions workflow commands: one ``::error`` annotation per listed violation."""
    lines = []
    for f in report.files:
        for v in f.errors:
            at = f"line={v.line}," if v.line else ""
            lines.append(
                f"::error file={_gh_escape(f.path, prop=True)},{at}"
                f"title={_gh_escape('ketenx ' + v.rule, prop=True)}::"
                f"{_gh_escape(where_of(v.record, v.field, v.rule) + ': ' + v.message)}"
            )
        if f.truncated:
            lines.append(
                f"::error file={_gh_escape(f.path, prop=True)},title=ketenx::"
                f"{f.total_errors - len(f.errors)} more errors not listed"
            )
        if f.valid:
            lines.append(
                f"::notice file={_gh_escape(f.path, prop=True)}::"
                f"{count_of(f.records, 'record')} valid"
            )
    return "\n".join(lines) + "\n"


RENDERERS: Mapping[OutputFormat, Renderer] = {
    OutputFormat.TEXT: render_text,
    OutputFormat.JSON: render_json,
    OutputFormat.JUNIT: render_junit,
    OutputFormat.SARIF: render_sarif,
    OutputFormat.GITHUB: render_github,
}
"""Every output format and its renderer; a test checks that every :class:`OutputFormat` is here."""


def render(report: CheckReport, fmt: OutputFormat | str, *, color: bool = False) -> str:
    return RENDERERS[OutputFormat(fmt)](report, color)
