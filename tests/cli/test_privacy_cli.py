"""`ketenx risk` and `ketenx scan` on files: verdicts, exit codes, every report format, and
no value from the data in any of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import Result, contract_document

Run = Callable[..., Result]
FORMATS = ["text", "json", "junit", "sarif", "github"]
SCHEMA = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string"},
        "geboortedatum": {"type": "string", "format": "date"},
        "postcode": {"type": "string"},
        "geslacht": {"type": "string"},
        "diagnose": {"type": "string"},
        "opmerking": {"type": ["string", "null"]},
    },
}
FIELDS = {
    "bsn": {"treatment": "drop"},
    "geboortedatum": {"treatment": "generalise", "to": "year"},
    "postcode": {"treatment": "generalise", "to": "pc4", "as": "pc4"},
    "geslacht": {"treatment": "keep"},
    "diagnose": {"treatment": "keep"},
    "opmerking": {"treatment": "keep"},
}
# Distinctive values: none of them may appear in any report.
RARE_DATE, RARE_POSTCODE, RARE_NOTE = "1931-07-19", "9876 QZ", "bel oma 06-98765432"


def contract(tmp_path: Path, **privacy: Any) -> Path:
    doc = contract_document("risk", SCHEMA, FIELDS, privacy=privacy)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def export(tmp_path: Path, rare: bool = True) -> Path:
    rows = ["bsn,geboortedatum,postcode,geslacht,diagnose,opmerking"]
    for i in range(12):
        rows.append(f"11122233{i % 10},2015-0{1 + i % 3}-01,1234 AB,{'MV'[i % 2]},{'xy'[i % 2]},")
    if rare:
        rows.append(f"111222333,{RARE_DATE},{RARE_POSTCODE},X,z,{RARE_NOTE}")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def leaks(text: str) -> list[str]:
    return [
        v for v in (RARE_DATE, "1931", RARE_POSTCODE, "9876", RARE_NOTE, "98765432") if v in text
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_risk_rejects_a_unique_record_value_free(tmp_path: Path, run: Run, fmt: str) -> None:
    c = contract(tmp_path, quasi_identifiers=["geboortedatum", "postcode", "geslacht"], k=2)
    done = run("risk", export(tmp_path), "--contract", c, "--format", fmt)
    assert done.code == 1, done.err
    assert "k-anonymity" in done.out
    assert leaks(done.out + done.err) == []


def test_risk_passes_without_the_rare_record(tmp_path: Path, run: Run) -> None:
    c = contract(tmp_path, quasi_identifiers=["geboortedatum", "postcode", "geslacht"], k=2)
    done = run("risk", export(tmp_path, rare=False), "--contract", c, "--format", "json")
    assert done.code == 0, done.out
    figures = json.loads(done.out)["files"][0]
    assert figures["records"] == 12 and figures["equivalence_classes"] == 2
    assert figures["smallest_class"] == 6 and figures["quasi_identifiers"][1] == "pc4"


def test_risk_l_diversity_and_output_side(tmp_path: Path, run: Run) -> None:
    c = contract(
        tmp_path, quasi_identifiers=["geboortedatum", "geslacht"], sensitive=["diagnose"], l=2
    )
    # Every class of sex holds one diagnose only (x for M, y for V): l = 1.
    done = run("risk", export(tmp_path, rare=False), "-c", c, "-f", "json")
    assert done.code == 1
    figures = json.loads(done.out)["files"][0]
    assert figures["l_distinct"] == {"diagnose": 1}
    delivery = tmp_path / "delivery.jsonl"
    delivery.write_text(
        "".join(
            json.dumps({"geboortedatum": 2015, "pc4": "1234", "geslacht": "M", "diagnose": d})
            + "\n"
            for d in "xyxy"
        )
    )
    done = run("risk", delivery, "-c", c, "--side", "output", "-f", "json")
    assert done.code == 0, done.out
    assert json.loads(done.out)["files"][0]["l_distinct"] == {"diagnose": 2}


def test_risk_needs_quasi_identifiers(tmp_path: Path, run: Run) -> None:
    done = run("risk", export(tmp_path), "-c", contract(tmp_path, k=2))
    assert done.code == 3 and "without quasi_identifiers" in done.err  # lint refuses it
    none = run("risk", export(tmp_path), "-c", contract(tmp_path))
    assert none.code == 3 and "names no quasi-identifier" in none.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_scan_finds_a_phone_number_value_free(tmp_path: Path, run: Run, fmt: str) -> None:
    c = contract(tmp_path)
    done = run("scan", export(tmp_path), "--contract", c, "--format", fmt)
    assert done.code == 1, done.out + done.err
    assert "nl-phone" in done.out and "opmerking" in done.out
    assert leaks(done.out + done.err) == []


def test_scan_ok_and_report_file(tmp_path: Path, run: Run) -> None:
    report = tmp_path / "scan.json"
    done = run("scan", export(tmp_path, rare=False), "-c", contract(tmp_path), "-o", report)
    assert done.code == 0 and "report in" in done.err
    assert "OK: no identifiers in 3 kept fields" in report.read_text()


def test_broken_file_is_named_by_record_and_rule(tmp_path: Path, run: Run) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"geslacht,opmerking\nM,ok\nV,\xff\n")
    done = run("scan", bad, "-c", contract(tmp_path))
    assert done.code == 1 and "record 2: rule encoding" in done.err
