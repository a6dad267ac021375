"""Which pseudonyms a delivery gets, through the library (moved from the CLI tests: these are
the recipe's promises, not the CLI's): the same under the deterministic policy, apart per
recipient domain, unlinkable across deliveries under the per-delivery policy, and a
per-delivery nonce recorded so that the sender can re-identify."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

import ketenx
from ketenx.contract.model import Contract
from tests.api.agencies import Agencies, make_agencies
from tests.helpers import GOOD_ROWS, NOW


def _variant(agencies: Agencies, **changes: object) -> Contract:
    doc = yaml.safe_load(agencies.contract.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        doc.setdefault(section, {})[key] = value
    return Contract.from_document(doc)


def _pseudonyms(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["persoon_id"] for row in csv.DictReader(fh)]


def _deliver(agencies: Agencies, contract: Contract, name: str) -> ketenx.PseudonymiseResult:
    return ketenx.pseudonymise(
        agencies.export, contract, agencies.root / "out" / name, secret=agencies.secret, now=NOW
    )


def test_the_same_every_delivery_and_apart_per_recipient(agencies: Agencies) -> None:
    contract = ketenx.load_contract(agencies.contract)
    a, b = _deliver(agencies, contract, "a.csv"), _deliver(agencies, contract, "b.csv")
    assert _pseudonyms(a.output) == _pseudonyms(b.output)  # deterministic
    assert len(set(_pseudonyms(a.output))) == len(GOOD_ROWS)
    other = _deliver(agencies, _variant(agencies, recipient__oin="00000001001111111000"), "c.csv")
    assert other.domain != a.domain
    assert not set(_pseudonyms(a.output)) & set(_pseudonyms(other.output))


def test_per_delivery_policy_is_consistent_within_and_unlinkable_across(tmp_path: Path) -> None:
    agencies = make_agencies(tmp_path, rows=[GOOD_ROWS[0], GOOD_ROWS[0], GOOD_ROWS[1]])
    contract = _variant(agencies, pseudonymisation__policy="per-delivery")
    a, b = _deliver(agencies, contract, "a.csv"), _deliver(agencies, contract, "b.csv")
    pa, pb = _pseudonyms(a.output), _pseudonyms(b.output)
    assert pa[0] == pa[1] != pa[2]  # consistent within a delivery
    assert not set(pa) & set(pb)  # unlinkable across deliveries
    assert a.nonce is not None and len(a.nonce) == 32
    assert a.metadata["pseudonymisation"]["nonce"] == a.nonce
    # the nonce in the metadata lets the sender re-identify each delivery
    back = ketenx.reidentify(
        a.output, contract, agencies.root / "out" / "back.csv", secret=agencies.secret
    )
    assert "ouder@example.nl" in back.output.read_text(encoding="utf-8")
