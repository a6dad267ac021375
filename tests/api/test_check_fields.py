"""`check`'s JSON report says per field which path the check takes and why (issue 10 §1:
"`check --format json` statistics"), the same as `contract lint --explain`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import ketenx
from ketenx.records.engine import explain
from ketenx.records.validation import RecordSchema
from ketenx.transform.transformer import output_schema
from tests.api.agencies import Agencies
from tests.helpers import ROOT, make_contract

REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))


def _fields(result: ketenx.CheckResult) -> list[dict[str, str]]:
    doc = json.loads(result.render("json"))
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(doc)
    return list(doc["fields"])


def test_every_field_of_the_input_schema_with_its_path(agencies: Agencies) -> None:
    contract = ketenx.load_contract(agencies.contract)
    fields = _fields(ketenx.check(agencies.export, contract))
    assert [f["field"] for f in fields] == [f"/{n}" for n in contract.schema["properties"]]
    assert [(f["path"], f["reason"]) for f in fields] == [
        (p.path, p.reason) for p in explain(contract.schema)
    ]
    assert all(f["path"] == "columnar" for f in fields)  # the sample contract is columnar


def test_the_output_side_explains_the_delivered_record_schema(agencies: Agencies) -> None:
    contract = ketenx.load_contract(agencies.contract)
    delivered = agencies.root / "out" / "d.csv"
    ketenx.pseudonymise(agencies.export, contract, delivered, secret=agencies.secret)
    fields = _fields(ketenx.check(delivered, contract, side="output"))
    expected = explain(RecordSchema(output_schema(contract)))
    assert [(f["field"], f["path"]) for f in fields] == [(f"/{p.field}", p.path) for p in expected]


def test_a_field_the_engine_cannot_carry_says_why(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "adres": {"type": "object", "properties": {"straat": {"type": "string"}}},
        },
    }
    contract = make_contract("nested", schema, {"id": {"treatment": "keep"},
                                                "adres": {"treatment": "drop"}})  # fmt: skip
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "adres": {"straat": "Dorpsstraat"}}\n', encoding="utf-8")
    result = ketenx.check(data, contract)
    fields = {f["field"]: f for f in _fields(result)}
    assert {k: (f["path"], f["reason"]) for k, f in fields.items()} == {
        f"/{p.field}": (p.path, p.reason) for p in explain(schema)
    }
    assert fields["/adres"]["path"] != "columnar" and fields["/adres"]["reason"]
    assert "Dorpsstraat" not in result.render("json")
