"""The official JSON-Schema-Test-Suite (draft 2020-12) pins what ketenx calls valid.

Each group's schema is embedded as the one property ``v`` of a record schema in a contract
(with an ``$id`` of its own, so that its ``#…`` references keep pointing into it), and each
instance ``{"v": data}`` is fed to ``check`` as a JSON Lines record, and as a CSV cell where a
CSV cell carries exactly that instance (a string, a number, a boolean or null that the column
reads back as itself). The suite's verdict is required on the column plan where the schema is
on the fast path, on the reference, and through the whole ``check``. A group that lint
refuses (a remote reference: ketenx never fetches a schema) must be refused by lint and never
crash; :data:`REFUSED` lists which. :data:`DIFFERENCES` lists the deliberate differences
(docs/check.md, "Which records are valid"). The copy and its licence:
``tests/vectors/third_party/JSON-Schema-Test-Suite/PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ketenx.contract.document import read_document
from ketenx.contract.lint import lint_document
from ketenx.records.check import Checker
from ketenx.records.validation import MISSING, RecordSchema, record_columns
from tests.helpers import SAMPLE_CONTRACT

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SUITE = VECTORS / "third_party" / "JSON-Schema-Test-Suite"
DRAFT = SUITE / "tests" / "draft2020-12"
FILES = sorted(p.relative_to(DRAFT).as_posix() for p in DRAFT.rglob("*.json"))

#: Groups that lint refuses, by file and group description (``*``: every group of the file).
#: Every reference must resolve inside the contract's schema, and these point to remote
#: documents (``http://localhost:1234/…``, which the suite serves from ``remotes/``) or to
#: the meta-schema by URI, which ketenx never fetches; ``$schema`` naming a meta-schema of
#: one's own (vocabularies); integers beyond ±(2^53 − 1), which the contract digest (RFC
#: 8785) cannot carry.
REFUSED: dict[str, frozenset[str]] = {
    "refRemote.json": frozenset({"*"}),
    "ref.json": frozenset({"remote ref, containing refs itself"}),
    "defs.json": frozenset({"validate definition against metaschema"}),
    "dynamicRef.json": frozenset(
        {
            "strict-tree schema, guards against misspelled properties",
            "tests for implementation dynamic anchor and reference link",
            "$ref and $dynamicAnchor are independent of order - $defs first",
            "$ref and $dynamicAnchor are independent of order - $ref first",
            "$ref to $dynamicRef finds detached $dynamicAnchor",
        }
    ),
    "vocabulary.json": frozenset({"*"}),
    "const.json": frozenset({"float and integers are equal up to 64-bit representation limits"}),
    "optional/bignum.json": frozenset({"maximum integer comparison", "minimum integer comparison"}),
}

#: Deliberate differences, by (file, group description, test description): ketenx's verdict
#: is the opposite of the suite's. ketenx always asserts its own formats (docs/formats.md),
#: where 2020-12 makes ``format`` an annotation by default.
DIFFERENCES: frozenset[tuple[str, str, str]] = frozenset(
    ("format.json", f"{name} format", f"invalid {name} string is only an annotation by default")
    for name in ("email", "date", "date-time")
)


def refused(file: str, group: str) -> bool:
    listed = REFUSED.get(file, frozenset())
    return "*" in listed or group in listed


@cache
def _sample() -> dict[str, Any]:
    return read_document(SAMPLE_CONTRACT)


def _groups() -> list[tuple[str, int, dict[str, Any]]]:
    out = []
    for name in FILES:
        for i, group in enumerate(json.loads((DRAFT / name).read_text(encoding="utf-8"))):
            out.append((name, i, group))
    return out


def record_schema(name: str, index: int, schema: Any) -> dict[str, Any]:
    """The group's schema as property ``v`` of a record schema, as its own resource."""
    if isinstance(schema, dict) and "$id" not in schema:
        schema = {"$id": f"https://ketenx.invalid/suite/{name}/{index}", **schema}
    return {"type": "object", "properties": {"v": schema}}


def contract_of(schema: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(_sample()))
    doc["schema"] = schema
    doc["fields"] = {"v": {"treatment": "keep"}}
    doc.pop("privacy", None)
    return doc


def _csv_cell(data: Any) -> str | None:
    """The CSV cell that is meant to carry ``data``, or None when no cell can."""
    if data is None:
        return ""
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int | float):
        return json.dumps(data)
    if isinstance(data, str) and data and data.isprintable():
        return data
    return None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def verdicts(name: str, index: int, group: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """(test, path, suite's verdict, ketenx's verdict) for every instance of a group on every
    path it reaches: ``plan``, ``reference``, ``jsonl`` and ``csv``."""
    schema = record_schema(name, index, group["schema"])
    compiled = RecordSchema(schema)
    out = []
    for test in group["tests"]:
        record = {"v": test["data"]}
        want = test["valid"]
        desc = test["description"]
        ref = compiled.reference
        out.append((desc, "reference", want, ref.is_valid(record)))
        assert bool(ref.explain(record, 1)) != ref.is_valid(record), desc
        if compiled.plan is not None:
            columns, _ = record_columns([record], ["v"])
            out.append((desc, "plan", want, not compiled.plan.check_columns(columns)))
        checker = Checker(compiled, max_errors=5)
        line = json.dumps(record, ensure_ascii=False).encode()
        report = checker.check(io.BytesIO(line + b"\n"), "jsonl")
        out.append((desc, "jsonl", want, report.valid))
        cell = _csv_cell(test["data"])
        if cell is not None:
            read = compiled.coerce_column("v", [cell])[0]
            if read is MISSING or not _same(read, test["data"]):
                continue
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows([["v"], [cell]])
            report = checker.check(io.BytesIO(text.getvalue().encode()), "csv")
            out.append((desc, "csv", want, report.valid))
    return out


GROUPS = _groups()


@pytest.mark.parametrize("name", FILES)
def test_the_suite_gives_its_verdict(name: str) -> None:
    wrong = []
    for file, index, group in GROUPS:
        if file != name:
            continue
        doc = contract_of(record_schema(file, index, group["schema"]))
        errors = [p for p in lint_document(doc) if p.severity == "error"]
        key = (file, group["description"])
        if refused(*key):
            assert errors, f"lint accepts {key}, listed as refused"
            continue
        assert not errors, (key, [(p.pointer, p.message) for p in errors])
        for desc, path, want, got in verdicts(file, index, group):
            expected = not want if (file, group["description"], desc) in DIFFERENCES else want
            if got != expected:
                wrong.append((group["description"], desc, path, want))
    assert not wrong, wrong
