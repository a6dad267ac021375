"""Verification semantics: several signatures in any order, duplicate names, and the JSON
limits of the envelope and the statement (library level)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.contract.model import load_contract
from ketenx.errors import ExitCode, UsageError, VerificationError
from ketenx.exchange.attest import build_predicate, sign_subjects, verify_statement
from ketenx.exchange.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    MAX_ENVELOPE_BYTES,
    STATEMENT_TYPE,
    b64encode,
    make_statement,
    pae,
    read_envelope,
    sign_envelope,
    verify_envelope,
)
from ketenx.exchange.partners import Partner, Registry, SigningKey, public_key_id
from ketenx.records.strictjson import DOCUMENT_DEPTH as MAX_DEPTH
from tests.helpers import SAMPLE_CONTRACT

CONTRACT = load_contract(SAMPLE_CONTRACT)
SENDER = CONTRACT.sender.oin
OTHER_OIN = "00000001001111111000"
CREATED = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
FILES = [("data.csv", "sha256:" + "ab" * 32), ("data.meta.json", "sha256:" + "cd" * 32)]


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


KEYS = {
    "valid": _key(1),
    "unknown": _key(2),  # in no registry
    "other-oin": _key(3),  # registered, for another partner
    "revoked": _key(4),  # the sender's, revoked
    "expired": _key(5),  # the sender's, valid until before the signing time
    "not-yet-valid": _key(6),  # the sender's, valid only from after the signing time
    "bad": _key(1),  # the valid key's signature, one bit flipped
}


def _registered(name: str, **fields: Any) -> SigningKey:
    public = KEYS[name].public_key()
    return SigningKey(
        key=public,
        key_id=public_key_id(public),
        valid_from=fields.get("valid_from", dt.date(2026, 1, 1)),
        valid_until=fields.get("valid_until"),
        revoked=fields.get("revoked", False),
    )


REGISTRY = Registry(
    (
        Partner("Other", OTHER_OIN, (_registered("other-oin"),), ()),
        Partner(
            "Sender",
            SENDER,
            (
                _registered("revoked", revoked=True),
                _registered("expired", valid_until=dt.date(2026, 3, 1)),
                _registered("not-yet-valid", valid_from=dt.date(2026, 7, 1)),
                _registered("valid"),
            ),
            (),
        ),
    )
)
BASE = sign_subjects(
    FILES, build_predicate(contract=CONTRACT, meta=None, created=CREATED), KEYS["valid"]
)
PAYLOAD = base64.b64decode(BASE["payload"])


def _signature(kind: str, payload: bytes = PAYLOAD) -> dict[str, str]:
    key = KEYS[kind]
    sig = bytearray(key.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload)))
    if kind == "bad":
        sig[10] ^= 0x01
    return {"keyid": public_key_id(key.public_key()), "sig": b64encode(bytes(sig))}


def _envelope(kinds: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return dict(BASE, signatures=[_signature(kind) for kind in kinds])


def _verify(kinds: tuple[str, ...] | list[str]) -> Any:
    return verify_statement(_envelope(kinds), FILES, REGISTRY, now=NOW)


ACCEPTED = [
    ("unknown", "valid"),
    ("other-oin", "valid"),
    ("revoked", "valid"),
    ("expired", "valid"),
    ("not-yet-valid", "valid"),
    ("bad", "valid"),
    ("valid", "valid"),
    ("unknown", "other-oin", "valid"),
    ("revoked", "bad", "valid"),
    ("other-oin", "expired", "valid"),
]
REFUSED = [
    (("unknown",), "trusted key"),
    (("bad",), "trusted key"),
    (("other-oin",), "not registered for the sender"),
    (("revoked",), "revoked"),
    (("expired",), "outside the validity"),
    (("unknown", "bad"), "trusted key"),
    (("unknown", "other-oin"), "not registered for the sender"),
    (("revoked", "other-oin"), "revoked"),  # the sender's own key is the reason given
    (("bad", "other-oin", "expired"), "outside the validity"),
    (("other-oin", "revoked", "not-yet-valid"), None),
]


@pytest.mark.parametrize("kinds", ACCEPTED, ids="+".join)
def test_a_valid_sender_signature_verifies_in_every_order(kinds: tuple[str, ...]) -> None:
    for order in itertools.permutations(kinds):
        verified = _verify(order)
        assert verified.signer.key_id == public_key_id(KEYS["valid"].public_key()), order


@pytest.mark.parametrize(("kinds", "reason"), REFUSED, ids=lambda v: "+".join(v or ("-",)))
def test_without_a_valid_sender_signature_it_is_refused_in_every_order(
    kinds: tuple[str, ...], reason: str | None
) -> None:
    messages = set()
    for order in itertools.permutations(kinds):
        with pytest.raises(VerificationError) as info:
            _verify(order)
        assert info.value.exit_code == ExitCode.REJECTED and "\n" not in info.value.message
        messages.add(info.value.message)
    assert len(messages) == 1  # the reason does not depend on the order either
    if reason is not None:
        assert reason in messages.pop()


_KINDS = st.lists(st.sampled_from(sorted(KEYS)), min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(kinds=_KINDS, data=st.data())
def test_verifies_exactly_when_some_signature_is_by_a_valid_sender_key(
    kinds: list[str], data: st.DataObject
) -> None:
    """Property: the outcome depends on the set of signatures, never on their order."""
    order = data.draw(st.permutations(kinds))
    if "valid" in kinds:
        assert _verify(order).signer.key_id == public_key_id(KEYS["valid"].public_key())
        return
    with pytest.raises(VerificationError) as shuffled:
        _verify(order)
    with pytest.raises(VerificationError) as sorted_:
        _verify(sorted(kinds))
    assert shuffled.value.message == sorted_.value.message


def test_the_envelope_reports_every_trusted_signer_in_key_order() -> None:
    trusted = [KEYS[k].public_key() for k in ("other-oin", "revoked", "valid")]
    for order in itertools.permutations(["valid", "unknown", "other-oin", "bad"]):
        verified = verify_envelope(_envelope(order), trusted, IN_TOTO_PAYLOAD_TYPE)
        assert (
            verified.public_keys == (trusted[0], trusted[2]) and verified.public_key == trusted[0]
        )


# --- names: offered files and subjects ----------------------------------------------------------


@pytest.mark.parametrize(
    "offered",
    [
        [FILES[0], FILES[0], FILES[1]],  # the same file twice
        [("data.csv", "sha256:" + "00" * 32), FILES[0], FILES[1]],  # evil/data.csv good/data.csv
        [FILES[0], FILES[1], ("data.csv", "sha256:" + "00" * 32)],
    ],
)
def test_two_offered_files_with_the_same_name_are_refused(offered: list[tuple[str, str]]) -> None:
    with pytest.raises(UsageError, match="same name") as info:
        verify_statement(_envelope(["valid"]), offered, REGISTRY, now=NOW)
    assert info.value.exit_code == ExitCode.USAGE


def _statement_with(subjects: list[tuple[str, str]]) -> dict[str, Any]:
    statement = make_statement(FILES, "x", {})
    statement["subject"] = [{"name": n, "digest": {"sha256": d[7:]}} for n, d in subjects]
    statement["predicateType"] = "https://ketenx.example/attestation/delivery/v1"
    statement["predicate"] = build_predicate(contract=CONTRACT, meta=None, created=CREATED)
    return statement


@pytest.mark.parametrize(
    "subjects",
    [
        [FILES[0], FILES[0], FILES[1]],
        [FILES[0], FILES[1], FILES[0]],
        [FILES[0], ("data.csv", "sha256:" + "00" * 32), FILES[1]],
        [("data.csv", "sha256:" + "00" * 32), FILES[0], FILES[1]],
        [FILES[0], FILES[1], FILES[1]],
    ],
)
def test_a_statement_with_duplicate_subjects_is_refused(subjects: list[tuple[str, str]]) -> None:
    from ketenx.exchange.dsse import sign_statement

    envelope = sign_statement(_statement_with(subjects), KEYS["valid"], "k")
    with pytest.raises(VerificationError, match="name of an earlier subject") as info:
        verify_statement(envelope, FILES, REGISTRY, now=NOW)
    assert "data.csv" not in info.value.message  # names the position, not the name


def test_make_statement_refuses_duplicate_names() -> None:
    with pytest.raises(ValueError, match="same name"):
        make_statement([FILES[0], FILES[0]], "x", {})


# --- JSON limits of the envelope and the statement ----------------------------------------------


def _signed_payload(payload: bytes) -> dict[str, Any]:
    return sign_envelope(payload, IN_TOTO_PAYLOAD_TYPE, KEYS["valid"], "k")


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"_type": "'
        + STATEMENT_TYPE.encode()
        + b'", "predicate": '
        + b"[" * 50_000
        + b"]" * 50_000
        + b"}",
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    ],
    ids=["array", "unclosed", "object", "inside-a-statement", "one-too-deep"],
)
def test_a_deeply_nested_statement_is_refused_cleanly(payload: bytes) -> None:
    with pytest.raises(VerificationError, match="nested deeper than 32") as info:
        verify_statement(_signed_payload(payload), FILES, REGISTRY, now=NOW)
    assert info.value.exit_code == ExitCode.REJECTED


def test_a_statement_over_the_size_limit_is_refused() -> None:
    payload = b'{"_type": "' + b"x" * (3 << 20) + b'"}'
    with pytest.raises(VerificationError, match="larger than"):
        verify_statement(_signed_payload(payload), FILES, REGISTRY, now=NOW)


class _Endless(io.RawIOBase):
    """A stream that never ends, counting what was read from it."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk, self.given = chunk, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        buffer[:n] = (self.chunk * (n // len(self.chunk) + 1))[:n]
        self.given += n
        return n


@pytest.mark.parametrize("chunk", [b" ", b"[", b'{"payload": "AAAA'])
def test_an_envelope_over_the_size_limit_is_refused_unread(chunk: bytes) -> None:
    stream = _Endless(chunk)
    with pytest.raises(VerificationError, match="larger than") as info:
        read_envelope(io.BufferedReader(stream))
    assert stream.given <= MAX_ENVELOPE_BYTES + 1 + io.DEFAULT_BUFFER_SIZE
    assert info.value.exit_code == ExitCode.REJECTED


@pytest.mark.parametrize(
    "text",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"{" * 100_000,
        b'{"signatures": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"payload": "a", "payload": "b"}',
        b'{"payload": NaN}',
        b"\xff\xfe{}",
        b"",
    ],
)
def test_a_malformed_envelope_file_is_one_clean_refusal(text: bytes) -> None:
    with pytest.raises(VerificationError) as info:
        read_envelope(io.BytesIO(text))
    assert info.value.message.startswith("the signature envelope ")
    assert "\n" not in info.value.message
