"""`ketenx scan`: identifiers in kept fields are found, counted per field and rule, and never
shown; ordinary remarks are not flagged."""

from __future__ import annotations

import pytest

from ketenx.transform.scan import RULES, Scanner, scan_values, scanned_fields

POSITIVES = {
    "nl-bsn": ["bsn 111222333", "BSN: 1112.22.333", "kind 123.456.782 aangemeld", "012345672"],
    "email": ["mail naar ouder@example.nl graag", "(jan.jansen@voorbeeld.nl)"],
    "iban": ["rekening NL91ABNA0417164300", "NL91 ABNA 0417 1643 00 svp"],
    "nl-phone": [
        "bel moeder 06-12345678",
        "tel. +31 6 12345678",
        "0031612345678",
        "020 123 4567",
        "+31 (0)20-1234567",
    ],
    "nl-address": ["woont op 1234 AB 12", "1234AB-7", "Dorpsstraat, 9999 zz, 100"],
    "date": ["geboren 02-03-2015", "geb. 2/3/2015", "2015-03-02", "30.11.1999"],
}
NEGATIVES = [
    "afspraak verzet naar volgende week",
    "lengte 120 cm, gewicht 22,5 kg",
    "2 kinderen, 1 hond",
    "om 10:30 uur op locatie 3",
    "kosten € 12,50 per maand",
    "schooljaar 2015-2016",
    "dossier 12345678",  # eight digits: no BSN, no phone
    "kenmerk 111222334",  # nine digits that fail the 11-proef
    "versie 1.2.3",
    "31-02-2015",  # no such day
    "15-03-1850",  # before 1900
    "NL91ABNA0417164301",  # IBAN with a wrong checksum
    "1234 AB",  # a postcode alone is a region, not an address
    "groep 1234, lokaal 12",
    "@ouder: zie notitie",
    "kamer 0123",
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in POSITIVES.items() for t in ts])
def test_each_rule_finds_its_identifier(rule: str, text: str) -> None:
    assert scan_values([text]).get(rule) == 1, scan_values([text])


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_remarks_are_not_flagged(text: str) -> None:
    assert scan_values([text]) == {}


def test_findings_hold_no_value() -> None:
    scanner = Scanner({"opmerking": RULES, "code": ("nl-bsn",)})
    scanner.add(
        {"opmerking": ["bel 06-12345678", None, "ok", "bel 06-12345678"], "code": ["x"] * 4}, 4
    )
    scanner.add({"opmerking": ["geb. 02-03-2015"], "code": ["111222333"]}, 1)
    found = [(f.field, f.rule, f.records, f.first) for f in scanner.results()]
    assert found == [
        ("opmerking", "nl-phone", 2, [1, 4]),
        ("opmerking", "date", 1, [5]),
        ("code", "nl-bsn", 1, [5]),
    ]
    assert "12345678" not in repr(scanner.results()) and "2015" not in repr(scanner.results())


def test_contract_switches_and_kept_string_fields() -> None:
    from tests.helpers import make_contract

    contract = make_contract(
        "scan",
        {
            "type": "object",
            "properties": {
                "opmerking": {"type": "string"},
                "geboren": {"type": "string"},
                "vrij": {"type": ["string", "null"]},
                "lengte": {"type": "number"},
                "bsn": {"type": "string"},
            },
        },
        {
            "opmerking": {"treatment": "keep", "as": "remark"},
            "geboren": {"treatment": "keep", "scan": {"ignore": ["date"]}},
            "vrij": {"treatment": "keep", "scan": False},
            "lengte": {"treatment": "keep"},
            "bsn": {"treatment": "drop"},
        },
    )
    fields = scanned_fields(contract)
    assert list(fields) == ["opmerking", "geboren"]
    assert "date" not in fields["geboren"] and fields["opmerking"] == RULES
    assert list(scanned_fields(contract, side="output")) == ["remark", "geboren"]


def test_sample_data_has_no_false_positives() -> None:
    from ketenx.contract.model import load_contract
    from tests.helpers import SAMPLE_CONTRACT, load_generator

    generate = load_generator()
    contract = load_contract(SAMPLE_CONTRACT)
    fields = scanned_fields(contract)
    assert fields  # geslacht and gemeente are kept strings
    records = list(generate.iter_records(5000, seed=7))
    scanner = Scanner(fields)
    scanner.add({name: [r[name] for r in records] for name in fields}, len(records))
    assert scanner.results() == []
