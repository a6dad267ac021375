"""`ketenx contract lint --explain` names the native path (jsonschema-rs) of a nested field,
and why a field does not take it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import Result, contract_document

Run = Callable[..., Result]
PROPERTIES: dict[str, Any] = {
    "code": {"type": "string", "pattern": "^[A-Z]{2}$"},
    "adres": {"type": "object", "properties": {"pc": {"type": "string"}}},
    "codes": {"type": "array", "items": {"type": "string"}},
}


def _explained(tmp_path: Path, run: Run, schema: dict[str, Any]) -> dict[str, str]:
    fields = {name: {"treatment": "keep"} for name in schema["properties"]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(contract_document("native", schema, fields)), "utf-8")
    result = run("contract", "lint", path, "--explain")
    assert result.code == 0
    return {line.split()[0]: line for line in result.out.splitlines()[1:]}


def test_lint_explain_names_the_native_path(tmp_path: Path, run: Run) -> None:
    lines = _explained(tmp_path, run, {"type": "object", "properties": PROPERTIES})
    assert lines["adres"].split()[1] == "native" and "nested object" in lines["adres"]
    assert lines["codes"].split()[1] == "native" and "array" in lines["codes"]
    assert lines["code"].split()[1] == "columnar"


def test_lint_explain_says_why_a_field_is_not_native(tmp_path: Path, run: Run) -> None:
    schema = {
        "type": "object",
        "properties": {**PROPERTIES, "boom": {"$ref": "#/$defs/tree"}},
        "$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
    }
    lines = _explained(tmp_path, run, schema)
    assert lines["boom"].split()[1] == "precise" and "recursive `$ref`" in lines["boom"]
    assert lines["adres"].split()[1] == "precise" and "`boom`" in lines["adres"]
