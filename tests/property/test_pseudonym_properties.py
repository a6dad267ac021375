"""Invariants of pseudonymisation: determinism, domain separation, round trips, no leaks."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.contract import Contract
from ketenx.errors import KetenxError
from ketenx.formats import is_bsn
from ketenx.pipeline import pseudonymise_stream
from ketenx.pseudonym import Keyring, effective_domain
from ketenx.writers import unneutralise

SECRET = bytes(range(32))
A = Keyring.from_secret_bytes(SECRET, "00000001009876543000/contract")
B = Keyring.from_secret_bytes(SECRET, "00000001001111111000/contract")


@given(st.text())
def test_deterministic_within_a_domain(value: str) -> None:
    again = Keyring.from_secret_bytes(SECRET, "00000001009876543000/contract")
    assert A.pseudonymise(value) == again.pseudonymise(value) == A.pseudonymise_many([value])[0]
    assert A.encrypt(value, "f") == again.encrypt(value, "f")


def test_two_domains_share_no_pseudonym_over_100k_bsns() -> None:
    rng = random.Random(2026)
    bsns: set[str] = set()
    while len(bsns) < 100_000:
        candidate = f"{rng.randrange(10**9):09d}"
        if is_bsn(candidate):
            bsns.add(candidate)
    values = sorted(bsns)
    in_a = set(A.pseudonymise_many(values))
    in_b = set(B.pseudonymise_many(values))
    assert len(in_a) == len(in_b) == len(values)  # no collisions within a domain either
    assert not in_a & in_b


def test_per_delivery_domains_differ() -> None:
    one = Keyring.from_secret_bytes(SECRET, effective_domain("d", "per-delivery", "00" * 16))
    two = Keyring.from_secret_bytes(SECRET, effective_domain("d", "per-delivery", "11" * 16))
    assert one.pseudonymise("111222333") != two.pseudonymise("111222333")
    with pytest.raises(ValueError):
        effective_domain("d", "per-delivery", None)


@given(st.text(), st.sampled_from(["email_ouder", "naam", "ü"]))
def test_encrypt_decrypt_round_trips_unicode(value: str, field: str) -> None:
    token = A.encrypt(value, field)
    assert token.startswith("kx1e_")
    assert A.decrypt(token, field) == value


@given(st.text(min_size=1), st.data())
def test_tampered_or_misplaced_ciphertexts_fail(value: str, data: st.DataObject) -> None:
    token = A.encrypt(value, "f")
    position = data.draw(st.integers(5, len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw-_").filter(lambda c: c != token[position]))
    tampered = token[:position] + replacement + token[position + 1 :]
    for bad, field, keyring in ((tampered, "f", A), (token, "g", A), (token, "f", B)):
        with pytest.raises(KetenxError) as info:
            keyring.decrypt(bad, field)
        assert "kx1e_" not in str(info.value)


CONTRACT = Contract.from_document(
    {
        "ketenx": 1,
        "id": "prop-test",
        "version": 1,
        "sender": {"name": "S", "oin": "00000001001234567000"},
        "recipient": {"name": "R", "oin": "00000001009876543000"},
        "purpose": "tests",
        "legal_basis": "tests",
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "note": {"type": "string"},
                "name": {"type": "string"},
                "remark": {"type": "string"},
                "n": {"type": "integer"},
            },
            "required": ["id"],
        },
        "fields": {
            "id": {"treatment": "pseudonymise"},
            "note": {"treatment": "encrypt"},
            "name": {"treatment": "drop"},
            "remark": {"treatment": "redact"},
            "n": {"treatment": "keep"},
        },
    }
)

secret_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=8
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": secret_text, "note": secret_text, "name": secret_text, "remark": secret_text},
            optional={"n": st.integers(-5, 5)},
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["csv", "jsonl"]),
)
def test_no_treated_value_appears_in_the_output(records: list[dict[str, Any]], to: str) -> None:
    source = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    sink = io.BytesIO()
    result = pseudonymise_stream(io.BytesIO(source), "jsonl", sink, to, CONTRACT, A)  # type: ignore[arg-type]
    assert not result.rejected
    out = sink.getvalue().decode("utf-8")
    for record in records:
        for key in ("id", "note", "name", "remark"):
            assert record[key].strip() not in out or len(record[key].strip()) < 4, key
    # and the encrypted notes come back exactly
    lines = out.splitlines()
    if to == "jsonl":
        notes = [json.loads(line)["note"] for line in lines]
    else:
        import csv

        notes = [unneutralise(row[1]) for row in csv.reader(io.StringIO(out))][1:]
    import unicodedata

    assert [A.decrypt(n, "note") for n in notes] == [
        unicodedata.normalize("NFC", r["note"]).strip() for r in records
    ]
