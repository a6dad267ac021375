"""The exchange contract: reading, linting and the digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ketenx.contract import Contract, lint_document, load_contract, read_document
from ketenx.errors import ContractError
from tests.conftest import SAMPLE_CONTRACT


def sample() -> dict:
    return read_document(SAMPLE_CONTRACT)


def errors(doc: dict) -> list[tuple[str, str]]:
    return [(p.pointer, p.message) for p in lint_document(doc) if p.severity == "error"]


def test_sample_contract_is_clean():
    assert lint_document(sample()) == []


@pytest.mark.parametrize(
    "key", ["purpose", "legal_basis", "recipient", "sender", "schema", "fields"]
)
def test_missing_required_key(key):
    doc = sample()
    del doc[key]
    assert any(key in message for _, message in errors(doc))


def test_blank_purpose_is_rejected():
    doc = sample()
    doc["purpose"] = "   "
    assert errors(doc)


@pytest.mark.parametrize(
    "oin", ["1234", "00000001001234567001", "00000005001234567000", "0000000100123456700x"]
)
def test_bad_oin(oin):
    doc = sample()
    doc["recipient"]["oin"] = oin
    assert [p for p, _ in errors(doc)] == ["/recipient/oin"]


def test_test_oin_is_a_warning():
    doc = sample()
    doc["sender"]["oin"] = "00000099000000001000"
    problems = lint_document(doc)
    assert [(p.pointer, p.severity) for p in problems] == [("/sender/oin", "warning")]


def test_property_without_treatment():
    doc = sample()
    del doc["fields"]["voornamen"]
    assert ("/schema/properties/voornamen") in [p for p, _ in errors(doc)]


def test_treatment_for_unknown_field():
    doc = sample()
    doc["fields"]["shoe_size"] = {"treatment": "keep"}
    assert "/fields/shoe_size" in [p for p, _ in errors(doc)]


def test_unknown_treatment_name():
    doc = sample()
    doc["fields"]["bsn"] = {"treatment": "hash"}
    assert any(p.startswith("/fields/bsn") for p, _ in errors(doc))


def test_unknown_quasi_identifier():
    doc = sample()
    doc["privacy"]["quasi_identifiers"].append("shoe_size")
    assert "/privacy/quasi_identifiers/3" in [p for p, _ in errors(doc)]


@pytest.mark.parametrize(
    ("domain", "rejected"),
    [
        ("ggd-regio/jeugd/delivery/00112233445566778899aabbccddeeff", True),
        ("x/delivery/", True),
        ("ggd-regio/jeugd", False),
        ("ggd-regio/deliveryman", False),
    ],
)
def test_explicit_domain_must_not_look_like_a_per_delivery_domain(domain, rejected):
    doc = sample()
    doc["pseudonymisation"] = {"policy": "deterministic", "domain": domain}
    assert ("/pseudonymisation/domain" in [p for p, _ in errors(doc)]) is rejected


def test_invalid_input_schema():
    doc = sample()
    doc["schema"]["properties"]["bsn"]["type"] = "strang"
    assert any(p.startswith("/schema") for p, _ in errors(doc))


def test_duplicate_output_names():
    doc = sample()
    doc["fields"]["gemeente"] = {"treatment": "keep", "as": "geslacht"}
    assert any("geslacht" in m for _, m in errors(doc))


def test_from_document_raises_with_hint():
    doc = sample()
    del doc["purpose"]
    with pytest.raises(ContractError) as info:
        Contract.from_document(doc, source="c.yaml")
    assert "ketenx contract lint c.yaml" in info.value.diagnostics()


def test_unreadable_contracts(tmp_path: Path):
    with pytest.raises(ContractError, match="not found"):
        load_contract(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ketenx: [1\n")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(bad)
    badjson = tmp_path / "bad.json"
    badjson.write_text("{")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_contract(badjson)


# --- the digest ---------------------------------------------------------------------------------


def test_digest_ignores_layout_key_order_and_yaml_vs_json(tmp_path: Path):
    doc = sample()
    as_json = tmp_path / "c.json"
    as_json.write_text(json.dumps(doc, indent=4, sort_keys=True))
    reordered = tmp_path / "c.yaml"
    reordered.write_text(yaml.safe_dump(dict(reversed(list(doc.items()))), allow_unicode=True))
    digests = {load_contract(p).digest() for p in (SAMPLE_CONTRACT, as_json, reordered)}
    assert len(digests) == 1
    assert digests.pop().startswith("sha256:")


def test_digest_changes_with_content():
    base = Contract.from_document(sample()).digest()
    doc = sample()
    doc["version"] = 4
    assert Contract.from_document(doc).digest() != base
    doc = sample()
    doc["schema"]["properties"]["bsn"]["format"] = "oin"
    assert Contract.from_document(doc).digest() != base


def test_yaml_dates_become_iso_strings(tmp_path: Path):
    text = SAMPLE_CONTRACT.read_text().replace(
        "retention: P2Y", "retention: P2Y\ndescription: 2026-01-01"
    )
    p = tmp_path / "c.yaml"
    p.write_text(text)
    doc = read_document(p)
    assert doc["description"] == "2026-01-01"
    q = tmp_path / "d.yaml"
    q.write_text(text.replace("description: 2026-01-01", 'description: "2026-01-01"'))
    assert load_contract(p).digest() == load_contract(q).digest()


def test_ref_schema_is_inlined_and_covered_by_digest(tmp_path: Path):
    doc = sample()
    schema = doc["schema"]
    (tmp_path / "record.schema.json").write_text(json.dumps(schema))
    doc["schema"] = {"$ref": "record.schema.json"}
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True))
    assert load_contract(p).digest() == load_contract(SAMPLE_CONTRACT).digest()
    schema["properties"]["bsn"]["format"] = "oin"
    (tmp_path / "record.schema.json").write_text(json.dumps(schema))
    assert load_contract(p).digest() != load_contract(SAMPLE_CONTRACT).digest()


def test_missing_ref_schema(tmp_path: Path):
    doc = sample()
    doc["schema"] = {"$ref": "nowhere.json"}
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError, match="not found"):
        load_contract(p)


def test_lint_cli(run, tmp_path: Path):
    assert run("contract", "lint", SAMPLE_CONTRACT).code == 0
    doc = sample()
    del doc["fields"]["voornamen"]
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps(doc))
    result = run("contract", "lint", bad)
    assert result.code == 1
    assert "/schema/properties/voornamen" in result.err
    assert run("contract", "lint", tmp_path / "missing.yaml").code == 3


def test_digest_cli(run):
    result = run("contract", "digest", SAMPLE_CONTRACT)
    assert result.code == 0
    assert result.out.strip() == load_contract(SAMPLE_CONTRACT).digest()
