"""The delivery predicate and statement verification, at library level."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ketenx.contract.model import Contract, load_contract
from ketenx.errors import VerificationError
from ketenx.exchange.attest import PREDICATE_TYPE, build_predicate, sign_subjects, verify_statement
from ketenx.exchange.partners import Partner, Registry, SigningKey, public_key_id
from tests.helpers import SAMPLE_CONTRACT

CONTRACT = load_contract(SAMPLE_CONTRACT)
SENDER = CONTRACT.sender.oin
CREATED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
FILES = [("data.csv", "sha256:" + "ab" * 32), ("data.meta.json", "sha256:" + "cd" * 32)]


def registry_with(key: Ed25519PrivateKey, *, oin: str = SENDER, **fields) -> Registry:
    public = key.public_key()
    signing = SigningKey(
        key=public,
        key_id=public_key_id(public),
        valid_from=fields.get("valid_from", dt.date(2026, 1, 1)),
        valid_until=fields.get("valid_until"),
        revoked=fields.get("revoked", False),
    )
    return Registry((Partner("Sender", oin, (signing,), ()),))


def envelope(key: Ed25519PrivateKey, created: dt.datetime = CREATED) -> dict:
    predicate = build_predicate(contract=CONTRACT, meta=None, created=created)
    return sign_subjects(FILES, predicate, key)


def test_predicate_carries_the_agreement_and_never_a_secret():
    predicate = build_predicate(contract=CONTRACT, meta=None, created=CREATED)
    assert predicate["contract"]["digest"] == CONTRACT.digest()
    assert predicate["sender"]["oin"] == SENDER
    assert predicate["recipient"]["oin"] == CONTRACT.recipient.oin
    assert predicate["purpose"] == CONTRACT.purpose
    assert predicate["created"] == "2026-06-01T12:00:00Z"
    assert len(predicate["delivery_id"]) == 36


def test_verify_ok_and_keyid_is_only_a_hint():
    key = Ed25519PrivateKey.generate()
    env = envelope(key)
    env["signatures"][0]["keyid"] = "sha256:" + "00" * 32  # a wrong hint changes nothing
    verified = verify_statement(env, FILES, registry_with(key), now=NOW, contract=CONTRACT)
    assert verified.statement["predicateType"] == PREDICATE_TYPE


@pytest.mark.parametrize(
    ("registry_fields", "now", "message"),
    [
        ({"revoked": True}, NOW, "revoked"),
        ({"valid_from": dt.date(2026, 7, 1)}, NOW, "outside the validity"),
        ({"valid_until": dt.date(2026, 5, 31)}, NOW, "outside the validity"),
        ({}, dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "in the future"),
        ({"oin": "00000001001111111000"}, NOW, "not in the partner registry"),
    ],
)
def test_signer_checks(registry_fields, now, message):
    key = Ed25519PrivateKey.generate()
    with pytest.raises(VerificationError, match=message):
        verify_statement(envelope(key), FILES, registry_with(key, **registry_fields), now=now)


def test_key_of_another_partner_is_refused():
    sender_key, other_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    registry = Registry(
        registry_with(sender_key).partners
        + registry_with(other_key, oin="00000001001111111000").partners
    )
    with pytest.raises(VerificationError, match="not registered for the sender OIN"):
        verify_statement(envelope(other_key), FILES, registry, now=NOW)


def test_subject_checks():
    key = Ed25519PrivateKey.generate()
    registry = registry_with(key)
    env = envelope(key)
    with pytest.raises(VerificationError, match="does not match its signed digest"):
        verify_statement(
            env, [FILES[0], ("data.meta.json", "sha256:" + "00" * 32)], registry, now=NOW
        )
    with pytest.raises(VerificationError, match="is not among the files offered"):
        verify_statement(env, FILES[:1], registry, now=NOW)
    with pytest.raises(VerificationError, match="not a subject"):
        verify_statement(env, [*FILES, ("extra.csv", FILES[0][1])], registry, now=NOW)
    other = Contract.from_document({**CONTRACT.document, "version": 99})
    with pytest.raises(VerificationError, match="another contract"):
        verify_statement(env, FILES, registry, now=NOW, contract=other)


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("purpose", "een ander doel", "the signed purpose differs"),
        ("legal_basis", "een andere grondslag", "the signed legal_basis differs"),
        ("processing_activity", None, "the signed processing_activity differs"),
        ("recipient", {"name": "X", "oin": "00000001000000000000"}, "another recipient OIN"),
        ("sender", {"name": "X", "oin": "00000001000000000000"}, "another sender"),
    ],
)
def test_verify_with_a_contract_is_the_policy_unpack_applies(
    member: str, value: object, message: str
) -> None:
    """A predicate that cites the contract's digest but says something else of it is
    refused by `verify --contract` as by `unpack` (one verification policy)."""
    from ketenx.exchange.attest import check_against_contract

    predicate = build_predicate(contract=CONTRACT, meta=None, created=NOW)
    check_against_contract(predicate, CONTRACT)  # as signed: agrees
    with pytest.raises(VerificationError, match=message):
        check_against_contract({**predicate, member: value}, CONTRACT)


def _meta(**pseudo) -> dict:
    return {
        "contract": {"id": CONTRACT.id, "version": CONTRACT.version, "digest": CONTRACT.digest()},
        "sender_oin": SENDER,
        "recipient_oin": CONTRACT.recipient.oin,
        "pseudonymisation": {
            "scheme": "kx1",
            "policy": "deterministic",
            "domain": "regio-gedeeld",
            "shared_domain": True,
            "nonce": None,
            "key_id": "kx1k_0fbac25a15245687",
            **pseudo,
        },
        "input": {"format": "csv", "fingerprint": "kx1f_" + "ab" * 32, "records": 2},
        "output": {"name": "d.csv", "format": "csv", "digest": "sha256:" + "0" * 64,
                   "bytes": 321, "records": 2},
        "checks": {"input": "passed", "output": "passed", "records_dropped": 0},
    }  # fmt: skip


@pytest.mark.parametrize("with_contract", [True, False])
def test_predicate_from_metadata_carries_the_keyed_fingerprint_only(with_contract):
    from jsonschema import Draft202012Validator

    from ketenx.resources import load_schema

    meta = _meta()
    contract = CONTRACT if with_contract else None
    predicate = build_predicate(contract=contract, meta=meta, created=CREATED)
    assert predicate["input"] == {"format": "csv", "fingerprint": "kx1f_" + "ab" * 32}
    assert predicate["pseudonymisation"]["shared_domain"] is True
    assert predicate["records"] == {"input": 2, "output": 2, "dropped": 0, "suppressed": 0}
    Draft202012Validator(load_schema("predicate.schema.json")).validate(predicate)
    # a plain digest or size handed in (metadata of an older ketenx) is not passed on
    meta["input"].update(digest="sha256:" + "1" * 64, bytes=999, name="export-jansen.csv")
    again = build_predicate(contract=contract, meta=meta, created=CREATED)
    assert again["input"] == predicate["input"]
    assert "1" * 64 not in str(again) and 999 not in again["input"].values()
    assert "jansen" not in str(again)


def test_predicate_schema_refuses_an_unkeyed_fingerprint():
    from jsonschema import Draft202012Validator

    from ketenx.resources import load_schema

    predicate = build_predicate(contract=CONTRACT, meta=_meta(), created=CREATED)
    predicate["input"]["fingerprint"] = "sha256:" + "0" * 64
    assert not Draft202012Validator(load_schema("predicate.schema.json")).is_valid(predicate)
