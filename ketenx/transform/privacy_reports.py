"""Reading a data file as batches of columns for the privacy gates, and their reports.

:func:`read_columns` turns CSV, JSON Lines, JSON arrays and Parquet into batches of columns
typed by a schema, as the treatments see them. :func:`risk_report` and :func:`scan_report`
render the figures of :mod:`.risk` and :mod:`.scan` as text, JSON, JUnit, SARIF or GitHub
annotations. Every report is value-free: counts, sizes, field names of the contract, rules.
"""

from __future__ import annotations

import json
import operator
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..records.readers import CsvReader, InputFormat, Malformed, json_array_batches, jsonl_batches
from ..records.reports import NOT_AN_OBJECT, _gh_escape, _uri, rejection
from ..records.validation import RecordSchema, message_for, record_columns
from .risk import Assessment, Policy
from .scan import Finding

Columns = dict[str, Sequence[Any]]


def read_columns(
    stream: IO[bytes],
    fmt: InputFormat,
    schema: Mapping[str, Any],
    *,
    delimiter: str | None = None,
    names: Sequence[str] | None = None,
) -> Iterator[tuple[Columns, int]]:
    """Batches of columns of the schema's properties (or of ``names`` among them), CSV cells
    typed as the schema says (an empty cell is null or absent). A file that cannot be read
    is a :class:`RejectedError` naming the record and rule only."""
    typed = RecordSchema(schema)
    if names is None:
        names = typed.property_names
    try:
        if fmt == "parquet":
            from ..records.engine.parquetcolumns import parquet_columns

            for typed_columns, n in parquet_columns(stream, typed, names):
                yield dict(typed_columns), n
            return
        if fmt == "csv":
            reader = CsvReader(stream, delimiter=delimiter)
            header = reader.header or []
            index = {name: header.index(name) for name in names if name in header}
            seen = 0
            width = len(header)
            pick = {name: operator.itemgetter(j) for name, j in index.items()}
            for rows in reader.batches():
                if len(set(map(len, rows))) != 1 or len(rows[0]) != width:
                    bad = next(i for i, row in enumerate(rows) if len(row) != width)
                    raise rejection(
                        "input", seen + bad + 1, "", "row-length", message_for("row-length", {})
                    )
                seen += len(rows)
                yield (
                    {
                        name: typed.coerce_column(name, list(map(get, rows)))
                        for name, get in pick.items()
                    },
                    len(rows),
                )
            return
        batches = jsonl_batches(stream) if fmt == "jsonl" else json_array_batches(stream)
        seen = 0
        for records in batches:
            for i, record in enumerate(records):
                if not isinstance(record, dict):
                    raise rejection("input", seen + i + 1, "", "type", NOT_AN_OBJECT)
            seen += len(records)
            columns, _flat = record_columns(records, names)
            yield dict(columns), len(records)
    except Malformed as problem:
        raise rejection("input", problem.record, "", problem.rule, problem.message) from None


# --- risk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskReport:
    path: str
    policy: Policy
    assessment: Assessment
    side: str


def risk_dict(report: RiskReport) -> dict[str, Any]:
    a, p = report.assessment, report.policy
    return {
        "file": report.path,
        "side": report.side,
        "passed": a.passed,
        "thresholds": {
            "k": p.k,
            "l": p.l,
            "l_kind": p.l_kind,
            "max_record_risk": p.max_record_risk,
            "max_average_risk": p.max_average_risk,
            "max_suppression": p.max_suppression,
            "missing": p.missing,
        },
        "quasi_identifiers": list(p.quasi_identifiers),
        "sensitive": list(p.sensitive),
        "records": a.records,
        "suppressed": a.suppressed,
        "equivalence_classes": a.classes,
        "smallest_class": a.smallest_class,
        "records_below_k": a.records_below_k,
        "sample_uniques": a.sample_uniques,
        "max_record_risk": a.max_record_risk,
        "average_risk": a.average_risk,
        "l_distinct": a.l_distinct,
        "l_entropy": a.l_entropy,
        "class_sizes": a.class_sizes,
        "smallest_class_without": a.without,
        "failures": [
            {"rule": f.rule, "required": f.required, "found": f.found, "detail": f.detail}
            for f in a.failures
        ],
    }


def failure_text(f: Any) -> str:
    what = {
        "k-anonymity": f"smallest class {f.found:g} < k {f.required:g}",
        "l-diversity": f"{f.detail} is {f.found:g} < l {f.required:g}",
        "record-risk": f"largest record risk {f.found:g} > {f.required:g}",
        "average-risk": f"average risk {f.found:g} > {f.required:g}",
        "suppression": "every record would be suppressed"
        if f.detail == "every record"
        else f"would suppress {f.found:.2%} > max_suppression {f.required:.2%}",
    }[f.rule]
    return f"{f.rule}: {what}"


def _risk_text(report: RiskReport) -> str:
    a = report.assessment
    verdict = "OK" if a.passed else "REJECTED: " + "; ".join(map(failure_text, a.failures))
    lines = [f"{report.path}: {verdict}"]
    lines.append(
        f"  records {a.records}, equivalence classes {a.classes}, smallest class "
        f"{a.smallest_class}, records in classes below k {a.records_below_k}, sample uniques "
        f"{a.sample_uniques}" + (f", suppressed {a.suppressed}" if a.suppressed else "")
    )
    lines.append(f"  prosecutor risk: largest {a.max_record_risk:g}, average {a.average_risk:g}")
    for name in report.policy.sensitive:
        lines.append(
            f"  l-diversity of {name}: distinct {a.l_distinct[name]}, entropy {a.l_entropy[name]:g}"
        )
    sizes = ", ".join(f"{label}: {n}" for label, n in a.class_sizes.items() if n)
    lines.append(f"  classes by size: {sizes or 'none'}")
    if a.without:
        without = ", ".join(f"{name} {k}" for name, k in a.without.items())
        lines.append(f"  smallest class with one quasi-identifier left out: {without}")
    return "\n".join(lines) + "\n"


def _junit(suite_name: str, cases: Sequence[tuple[str, str | None]]) -> str:
    root = ET.Element("testsuites", name=suite_name)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(cases)),
        failures=str(sum(1 for _, f in cases if f)),
    )
    for name, failure in cases:
        case = ET.SubElement(suite, "testcase", name=name, classname=suite_name)
        if failure:
            ET.SubElement(case, "failure", message=failure, type=name)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _sarif(tool: str, results: Sequence[tuple[str, str, str]]) -> str:
    """``results``: (rule, message, file)."""
    rules = sorted({r for r, _, _ in results})
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "informationUri": "https://ketenx.example/docs/privacy",
                        "rules": [{"id": r, "shortDescription": {"text": r}} for r in rules],
                    }
                },
                "results": [
                    {
                        "ruleId": rule,
                        "level": "error",
                        "message": {"text": message},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": {"uri": _uri(path)}}}
                        ],
                    }
                    for rule, message, path in results
                ],
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _github(tool: str, results: Sequence[tuple[str, str, str]]) -> str:
    """GitHub annotations, one per ``(rule, message, file)``."""
    return "".join(
        f"::error file={_gh_escape(path, prop=True)},title={tool} "
        f"{_gh_escape(rule, prop=True)}::{_gh_escape(text)}\n"
        for rule, text, path in results
    )


def risk_report(reports: Sequence[RiskReport], fmt: str) -> str:
    if fmt == "json":
        body = {"passed": all(r.assessment.passed for r in reports)}
        return json.dumps({**body, "files": [risk_dict(r) for r in reports]}, indent=2) + "\n"
    if fmt == "junit":
        cases: list[tuple[str, str | None]] = []
        for r in reports:
            failed: dict[str, str] = {f.rule: failure_text(f) for f in r.assessment.failures}
            for rule in _checked_rules(r.policy):
                cases.append((f"{r.path}: {rule}", failed.get(rule)))
        return _junit("ketenx risk", cases)
    failures = [(f.rule, failure_text(f), r.path) for r in reports for f in r.assessment.failures]
    if fmt == "sarif":
        return _sarif("ketenx risk", failures)
    if fmt == "github":
        return _github("ketenx risk", failures)
    return "".join(_risk_text(r) for r in reports)


def _checked_rules(policy: Policy) -> list[str]:
    rules = []
    if policy.k is not None:
        rules.append("k-anonymity")
    if policy.l is not None:
        rules.append("l-diversity")
    if policy.max_record_risk is not None:
        rules.append("record-risk")
    if policy.max_average_risk is not None:
        rules.append("average-risk")
    return rules


# --- scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    path: str
    records: int
    fields: Mapping[str, Sequence[str]]
    findings: Sequence[Finding]

    @property
    def passed(self) -> bool:
        return not self.findings


def _finding_text(f: Finding) -> str:
    where = ", ".join(map(str, f.first)) + (", …" if f.records > len(f.first) else "")
    noun = "record" if f.records == 1 else "records"
    return f"field /{f.field}: rule {f.rule}: {f.records} {noun} (first: record {where})"


def scan_report(reports: Sequence[ScanReport], fmt: str) -> str:
    if fmt == "json":
        files = [
            {
                "file": r.path,
                "records": r.records,
                "passed": r.passed,
                "fields": {name: list(rules) for name, rules in r.fields.items()},
                "findings": [
                    {"field": f.field, "rule": f.rule, "records": f.records, "first": f.first}
                    for f in r.findings
                ],
            }
            for r in reports
        ]
        return (
            json.dumps({"passed": all(r.passed for r in reports), "files": files}, indent=2) + "\n"
        )
    if fmt == "junit":
        cases: list[tuple[str, str | None]] = []
        for r in reports:
            hits = {f.field: [] for f in r.findings}  # type: dict[str, list[str]]
            for f in r.findings:
                hits[f.field].append(_finding_text(f))
            for name in r.fields:
                cases.append(
                    (f"{r.path}: /{name}", "; ".join(hits[name]) if name in hits else None)
                )
        return _junit("ketenx scan", cases)
    flat = [(f.rule, _finding_text(f), r.path) for r in reports for f in r.findings]
    if fmt == "sarif":
        return _sarif("ketenx scan", flat)
    if fmt == "github":
        return _github("ketenx scan", flat)
    out = []
    for r in reports:
        if r.passed:
            noun = "field" if len(r.fields) == 1 else "fields"
            out.append(f"{r.path}: OK: no identifiers in {len(r.fields)} kept {noun}\n")
            continue
        out.append(f"{r.path}: REJECTED: identifiers in fields the contract keeps\n")
        out.extend(f"  {_finding_text(f)}\n" for f in r.findings)
    return "".join(out)
