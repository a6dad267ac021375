"""ketenx against the output-schema vectors (tests/vectors/output_schema/).

``output_schemas.json`` is made by ``make_vectors.py``, a second implementation of
docs/spec/delivery.md §8 that does not import ketenx: for each contract of a corpus of shapes
(every treatment, nullable, ``$defs``/``$ref``, ``definitions``, enums, name order), the output
schema, its RFC 8785 text and its digest, as a recipient without ketenx recomputes them.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import pytest

from ketenx.canonical import canonical_bytes, canonical_digest
from ketenx.contract.model import Contract
from ketenx.exchange.attest import build_predicate
from ketenx.transform.transformer import output_schema
from tests.unit.test_pseudonym_vectors import assert_generator_reproduces

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "output_schema"
DATA = json.loads((VECTORS / "output_schemas.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_output_schema_vector(case: dict) -> None:
    contract = Contract.from_document(case["contract"])
    assert contract.digest() == case["contract_digest"]
    derived = output_schema(contract)
    assert derived == case["output_schema"]
    assert canonical_bytes(derived).decode("utf-8") == case["output_schema_rfc8785"]
    assert canonical_digest(derived) == case["output_schema_digest"]
    predicate = build_predicate(
        contract=contract, meta=None, created=_dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    )
    assert predicate["contract"]["output_schema_digest"] == case["output_schema_digest"]


def test_field_order_never_changes_the_output_schema_digest() -> None:
    """Contracts with one digest have one output schema digest, whatever order `fields` and
    `required` are written in."""
    by_contract: dict[str, set[str]] = {}
    for case in DATA["cases"]:
        by_contract.setdefault(case["contract_digest"], set()).add(case["output_schema_digest"])
    assert all(len(digests) == 1 for digests in by_contract.values())
    assert len(by_contract) < len(DATA["cases"])  # the corpus holds a reordered twin
    every = DATA["cases"][0]["contract"]
    twin = {**every, "schema": {**every["schema"], "required": every["schema"]["required"][::-1]}}
    assert (
        canonical_digest(output_schema(Contract.from_document(twin)))
        == (DATA["cases"][0]["output_schema_digest"])
    )


@pytest.mark.parametrize("entry", DATA["yaml_contracts"], ids=lambda e: e["why"][:30])
def test_yaml_contract_digest(entry: dict, tmp_path: Path) -> None:
    """docs/spec/delivery.md §1: YAML timestamps are kept as written, in the digest too."""
    from ketenx.contract.model import load_contract

    path = tmp_path / "c.yaml"
    path.write_text(entry["yaml"], encoding="utf-8")
    from_yaml = load_contract(path)
    assert from_yaml.document == entry["json_model"]
    assert from_yaml.digest() == entry["contract_digest"]
    twin = tmp_path / "c.json"
    twin.write_text(json.dumps(entry["json_model"]), encoding="utf-8")
    assert load_contract(twin).digest() == entry["contract_digest"]


def test_generator_reproduces_the_vectors(tmp_path: Path) -> None:
    assert_generator_reproduces(VECTORS / "output_schemas.json", tmp_path)
