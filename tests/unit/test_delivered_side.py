"""transform.delivered: the one builder of the output-side checker (issue 11 §3)."""

from __future__ import annotations

import ast
from pathlib import Path

from ketenx import load_contract
from ketenx.transform.delivered import DeliveredSide
from ketenx.transform.transformer import output_schema
from tests.helpers import ROOT, SAMPLE_CONTRACT


def test_the_delivered_side_checks_against_the_output_schema_with_neutralisation_undone() -> None:
    contract = load_contract(SAMPLE_CONTRACT)
    side = DeliveredSide.of(contract)
    assert side.schema.schema == output_schema(contract)
    checker, meter = side.checker(max_errors=7, allow_empty=True)
    assert checker.schema is side.schema  # compiled once, shared by every file
    assert (checker.unneutralise, checker.max_errors, checker.allow_empty) == (True, 7, True)
    assert meter is not None and checker.observed == meter.fields
    assert (checker.observe is None) == (meter.observer is None)
    unmeasured, none = side.checker(max_errors=1, measure_risk=False)
    assert none is None and unmeasured.observe is None and unmeasured.observed == ()


def _checker_calls_with_unneutralise(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Checker"
        and any(k.arg == "unneutralise" for k in node.keywords)
    ]


def test_no_other_module_builds_an_output_side_checker() -> None:
    """unpack, reidentify and check --side output take their checker from DeliveredSide;
    a Checker configured for a delivery (unneutralise=…) is built nowhere else."""
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "ketenx").rglob("*.py"))
        if (lines := _checker_calls_with_unneutralise(path))
    }
    assert set(found) == {"ketenx/transform/delivered.py"}, found
