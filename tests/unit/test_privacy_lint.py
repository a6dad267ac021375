"""`contract lint` on the privacy block: what is measured must be delivered and measurable,
thresholds need their quasi-identifiers, and a kept direct identifier is warned about."""

from __future__ import annotations

from typing import Any

import pytest

from ketenx.contract.lint import lint_document
from tests.helpers import contract_document

SCHEMA = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "geboortedatum": {"type": "string", "format": "date"},
        "postcode": {"type": "string"},
        "diagnose": {"type": "string"},
        "gewicht": {"type": "number"},
    },
}
FIELDS = {
    "bsn": {"treatment": "pseudonymise"},
    "geboortedatum": {"treatment": "generalise", "to": "year"},
    "postcode": {"treatment": "generalise", "to": "pc4"},
    "diagnose": {"treatment": "keep"},
    "gewicht": {"treatment": "keep"},
}


def problems(privacy: dict[str, Any] | None = None, **fields: Any) -> list[tuple[str, str, str]]:
    doc = contract_document("lint", SCHEMA, {**FIELDS, **fields}, privacy=privacy or {})
    return [(p.pointer, p.severity, p.message) for p in lint_document(doc)]


def test_a_good_privacy_block_is_clean() -> None:
    privacy = {"quasi_identifiers": ["geboortedatum", "postcode"], "k": 5,
               "sensitive": ["diagnose"], "l": 2, "max_suppression": 0.01}  # fmt: skip
    assert problems(privacy) == []


@pytest.mark.parametrize(
    ("privacy", "fields", "path", "severity", "words"),
    [
        ({"quasi_identifiers": ["nope"], "k": 2}, {}, "/privacy/quasi_identifiers/0", "error",
         "unknown quasi-identifier"),
        ({"quasi_identifiers": ["postcode"], "k": 2}, {"postcode": {"treatment": "drop"}},
         "/privacy/quasi_identifiers/0", "warning", "not measured"),
        ({"quasi_identifiers": ["postcode"], "k": 2},
         {"postcode": {"treatment": "pseudonymise"}},
         "/privacy/quasi_identifiers/0", "warning", "pseudonymised stays exactly as identifying"),
        ({"quasi_identifiers": ["postcode"], "k": 2},
         {"postcode": {"treatment": "encrypt"}},
         "/privacy/quasi_identifiers/0", "warning", "encrypted stays exactly as identifying"),
        ({"quasi_identifiers": ["postcode"], "sensitive": ["postcode"], "l": 2}, {},
         "/privacy/sensitive/0", "error", "cannot also be a quasi-identifier"),
        ({"quasi_identifiers": ["postcode"], "sensitive": ["diagnose"], "l": 2},
         {"diagnose": {"treatment": "drop"}}, "/privacy/sensitive/0", "error",
         "cannot be measured"),
        ({"quasi_identifiers": ["postcode"], "sensitive": ["nope"], "l": 2}, {},
         "/privacy/sensitive/0", "error", "unknown sensitive attribute"),
        ({"k": 5}, {}, "/privacy/k", "error", "without quasi_identifiers"),
        ({"quasi_identifiers": ["postcode"], "l": 2}, {}, "/privacy/l", "error",
         "needs the sensitive attributes"),
        ({"quasi_identifiers": ["postcode"], "k": 2, "sensitive": ["diagnose"]}, {},
         "/privacy/sensitive", "warning", "not enforced"),
        ({"quasi_identifiers": ["postcode"], "max_suppression": 0.1}, {},
         "/privacy/max_suppression", "warning", "suppresses nothing"),
        ({"quasi_identifiers": ["postcode"], "k": 0}, {}, "/privacy/k", "error", "at least 1"),
        ({"quasi_identifiers": ["postcode"], "max_risk": 0}, {}, "/privacy/max_risk", "error",
         ""),
        ({"quasi_identifiers": ["postcode"], "max_suppression": 1.5}, {},
         "/privacy/max_suppression", "error", ""),
    ],
)  # fmt: skip
def test_privacy_block_problems(
    privacy: dict[str, Any], fields: dict[str, Any], path: str, severity: str, words: str
) -> None:
    found = problems(privacy, **fields)
    assert any(p == path and s == severity and words in m for p, s, m in found), found


@pytest.mark.parametrize(
    ("name", "prop"),
    [
        ("bsn", {"type": "string"}),
        ("kind_bsn", {"type": "string"}),
        ("achternaam", {"type": "string"}),
        ("email_ouder", {"type": "string"}),
        ("telefoonnummer", {"type": "string"}),
        ("code", {"type": "string", "format": "nl-bsn"}),
        ("rekening", {"type": "string", "format": "iban"}),
        ("emailadres", {"type": "string"}),
        ("woonadres", {"type": "string"}),
        ("bsnnummer", {"type": "string"}),
        ("mobielnummer", {"type": "string"}),
        ("roepnaam", {"type": "string"}),
        ("contact", {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]}),
    ],
)
def test_a_kept_direct_identifier_is_warned_about(name: str, prop: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {name: prop}}
    doc = contract_document("direct", schema, {name: {"treatment": "keep"}})
    found = [(p.pointer, p.severity) for p in lint_document(doc)]
    assert (f"/fields/{name}", "warning") in found
    treated = contract_document("direct", schema, {name: {"treatment": "pseudonymise"}})
    assert all(p.pointer != f"/fields/{name}" for p in lint_document(treated))


@pytest.mark.parametrize(
    "name", ["postcode", "gemeente", "gemeentenaam", "opmerking", "geboortejaar", "banaan"]
)
def test_ordinary_kept_fields_are_not_warned_about(name: str) -> None:
    schema = {"type": "object", "properties": {name: {"type": "string"}}}
    doc = contract_document("plain", schema, {name: {"treatment": "keep"}})
    assert [p for p in lint_document(doc) if p.pointer == f"/fields/{name}"] == []
