"""The exchange contract: reading, linting and the digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ketenx.contract.document import read_document, read_structured
from ketenx.contract.lint import lint_document
from ketenx.contract.model import Contract, load_contract
from ketenx.errors import ContractError
from tests.helpers import SAMPLE_CONTRACT


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


@pytest.mark.parametrize(
    "when",
    ["2026-01-01", "2024-01-01 10:00:00", "2024-01-01T10:00:00.5Z", "2024-1-1 10:00:00+02:00"],
)
def test_yaml_timestamps_keep_their_text(tmp_path: Path, when: str):
    """A date or time in YAML stays the text as written, so the JSON twin has the digest."""
    text = SAMPLE_CONTRACT.read_text().replace(
        "retention: P2Y", f"retention: P2Y\ndescription: {when}"
    )
    p = tmp_path / "c.yaml"
    p.write_text(text)
    doc = read_document(p)
    assert doc["description"] == when
    q = tmp_path / "c.json"
    q.write_text(json.dumps(doc))
    assert load_contract(p).digest() == load_contract(q).digest()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dup.yaml", "id: a\nversion: 1\nid: b\n"),
        ("dup.json", '{"id": "a", "version": 1, "id": "b"}'),
        ("nested.yaml", "schema:\n  properties:\n    a: 1\n    a: 2\n"),
    ],
)
def test_a_key_given_twice_is_refused(tmp_path: Path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ContractError, match="twice"):
        read_document(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a: &a [*a]\n", "refers to itself"),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        (
            "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)),
            "more than 1,000,000 values",
        ),
    ],
)
def test_self_referring_deep_or_exploding_documents_are_refused(tmp_path: Path, text, match):
    p = tmp_path / ("c.json" if text.startswith("[") else "c.yaml")
    p.write_text(text)
    with pytest.raises(ContractError, match=match) as info:
        read_document(p)
    assert str(p) in info.value.message  # the message names the file


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), 2**53, "2^53"),
        (("schema", "properties", "lengte_cm", "maximum"), float("inf"), "NaN and infinity"),
        (("schema", "properties", "lengte_cm", "maximum"), float("nan"), "NaN and infinity"),
    ],
)
def test_numbers_canonical_json_cannot_carry_are_refused(path, value, message):
    doc = sample()
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert [(p, m) for p, m in errors(doc) if message in m] == [
        ("/" + "/".join(path), next(m for _, m in errors(doc) if message in m))
    ]
    with pytest.raises(ContractError):
        Contract.from_document(doc)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("defs.json", "does not point into `$defs`"),
        ("https://example.invalid/x.json", "does not point into `$defs`"),
        ("#/properties/postcode", "does not point into `$defs`"),
        ("#", "does not point into `$defs`"),
        ("#/$defs/nope", "points to nothing"),
        ("#/$defs/code/nope", "points to nothing"),
    ],
)
def test_schema_references_must_resolve_inside_the_schema(ref, message):
    doc = sample()
    doc["schema"]["$defs"] = {"code": {"type": "string"}}
    doc["schema"]["properties"]["gemeente"] = {"$ref": ref}
    assert any(p == "/schema/properties/gemeente/$ref" and message in m for p, m in errors(doc)), (
        errors(doc)
    )
    doc["schema"]["properties"]["gemeente"] = {"$ref": "#/$defs/code"}
    assert errors(doc) == []


def test_unusable_contract_is_exit_3_without_traceback(run, tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text(SAMPLE_CONTRACT.read_text().replace("version: 3", "version: 99999999999999999999"))
    data = tmp_path / "d.csv"
    data.write_text("bsn\n111222333\n")
    for args in (("check", data, "-c", p), ("contract", "digest", p)):
        result = run(*args)
        assert result.code == 3 and "Traceback" not in result.err, result.err
    assert run("contract", "lint", p).code == 1


@pytest.mark.parametrize(("role", "blank"), [("recipient", "\t"), ("sender", "  ")])
def test_blank_party_name_is_rejected(role, blank):
    doc = sample()
    doc[role]["name"] = blank
    assert [p for p, _ in errors(doc)] == [f"/{role}/name"]


def test_blank_legal_basis_is_reported_once():
    doc = sample()
    doc["legal_basis"] = "   "
    assert [p for p, _ in errors(doc)] == ["/legal_basis"]


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+x", "-x", "@x", "\tx", "\rx"])
def test_output_name_that_starts_like_a_formula_is_rejected(name):
    doc = sample()
    doc["fields"]["gemeente"]["as"] = name
    assert any(p == "/fields/gemeente" and "formula" in m for p, m in errors(doc))


@pytest.mark.parametrize(("key", "value"), [("top", 17.5), ("bottom", 0.5), ("top", 0)])
def test_age_band_coding_is_in_whole_years(key, value):
    doc = sample()
    doc["fields"]["geboortedatum"] = {
        "treatment": "generalise",
        "to": "age-band",
        "reference_date": "2026-01-01",
        key: value,
    }
    assert any(p == f"/fields/geboortedatum/{key}" for p, _ in errors(doc)), errors(doc)


def test_an_unknown_format_is_a_warning():
    doc = sample()
    doc["schema"]["properties"]["bsn"]["format"] = "nl-bsm"
    doc["schema"]["properties"]["gemeente"]["format"] = "uuid"  # a standard annotation: fine
    problems = lint_document(doc)
    assert [(p.pointer, p.severity) for p in problems] == [
        ("/schema/properties/bsn/format", "warning")
    ]
    assert "unknown format" in problems[0].message
    assert "nl-bsm" not in problems[0].message  # a value from the document is never quoted


def test_yaml_merge_keys_work_and_may_be_overridden(tmp_path: Path):
    p = tmp_path / "m.yaml"
    p.write_text("base: &b {type: string, minLength: 2}\nx: {<<: *b, minLength: 1}\n")
    assert read_structured(p, what="contract") == {
        "base": {"type": "string", "minLength": 2},
        "x": {"type": "string", "minLength": 1},
    }


def test_a_contract_that_drops_every_field_is_rejected():
    doc = sample()
    doc["fields"] = {name: {"treatment": "drop"} for name in doc["fields"]}
    assert ("/fields", "every field is dropped: the delivery would carry nothing") in errors(doc)


def test_an_encrypted_field_of_mixed_type_is_a_warning():
    doc = sample()
    doc["schema"]["properties"]["email_ouder"]["type"] = ["string", "integer", "null"]
    warnings = [(p.pointer, p.severity) for p in lint_document(doc)]
    assert ("/fields/email_ouder", "warning") in warnings
    assert errors(doc) == []
