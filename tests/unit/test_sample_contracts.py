"""The sample contract users see (examples/contract.yaml) and the one most tests use
(tests/vectors/contracts/sample.yaml) differ only where the tests need them to: the tests'
copy has no privacy threshold (a test of three records would be refused by the risk gate)
and generalises birth dates to year-month, as the sample did before its age bands."""

from __future__ import annotations

from ketenx.contract.document import read_document
from ketenx.contract.lint import lint_document
from tests.helpers import ROOT, SAMPLE_CONTRACT

EXAMPLE = ROOT / "examples" / "contract.yaml"


def test_the_two_sample_contracts_stay_in_step() -> None:
    example, tests = read_document(EXAMPLE), read_document(SAMPLE_CONTRACT)
    assert {k: v for k, v in example.items() if k not in ("fields", "privacy")} == {
        k: v for k, v in tests.items() if k not in ("fields", "privacy")
    }
    differ = {n for n in example["fields"] if example["fields"][n] != tests["fields"][n]}
    assert differ == {"geboortedatum"}
    assert tests["fields"]["geboortedatum"] == {"treatment": "generalise", "to": "year-month"}
    assert example["fields"]["geboortedatum"]["to"] == "age-band"
    assert tests["privacy"] == {"quasi_identifiers": example["privacy"]["quasi_identifiers"]}
    assert example["privacy"]["k"] == 5


def test_both_lint_clean() -> None:
    for path in (EXAMPLE, SAMPLE_CONTRACT):
        assert lint_document(read_document(path)) == [], path
