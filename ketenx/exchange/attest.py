"""Signed delivery statements: the ketenx predicate, signing files, verifying them.

A delivery is attested by a DSSE envelope (``payloadType: application/vnd.in-toto+json``)
carrying an in-toto Statement v1 whose subjects are the delivered files (name + SHA-256) and
whose predicate (``PREDICATE_TYPE``, ``schemas/predicate.schema.json``) says under which
agreement, by whom, to whom and transformed how. ``docs/spec/delivery.md`` specifies it so that
a recipient without ketenx can verify.

Verification (:func:`verify_statement`) fails closed with :class:`VerificationError` naming
the check that failed, in this order: payload type and signature (against every key in the
registry; the envelope's ``keyid`` is a hint only), statement shape and predicate type,
signer (some key that signed is registered for the sender's OIN, not revoked, valid at the
statement's creation time, which must not lie in the future; other signatures, valid or not,
neither help nor hurt), subjects (names unique on both sides, every offered file listed with
its digest, every listed subject offered), and the contract digest.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator

from .._version import __version__
from ..canonical import canonical_digest
from ..contract.model import Contract
from ..errors import UsageError, VerificationError
from ..records.names import safe_name
from ..resources import load_schema
from ..rfc3339 import parse as parse_rfc3339
from ..rfc3339 import text as rfc3339_text
from .dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    make_statement,
    parse_statement,
    sign_statement,
    verify_envelope,
)
from .partners import Registry, SigningKey, public_key_id

PREDICATE_TYPE = "https://ketenx.example/attestation/delivery/v1"
#: A delivery id as the predicate schema has it: a UUID version 4, lower-case.
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def rfc3339(when: _dt.datetime) -> str:
    """The predicate's ``created``: UTC, to the second."""
    return rfc3339_text(when, timespec="seconds")


def build_predicate(
    *,
    contract: Contract | None,
    meta: Mapping[str, Any] | None,
    created: _dt.datetime,
    delivery_id: str | None = None,
) -> dict[str, Any]:
    """The ketenx delivery predicate from the contract and/or a delivery's metadata.

    Of the sender's input it carries the format and the keyed fingerprint only, never a
    plain digest or size (docs/spec/delivery.md §1, §4)."""
    from ..transform.transformer import output_schema

    meta = meta or {}
    if delivery_id is not None and not _UUID4.fullmatch(delivery_id):
        raise UsageError("a delivery id is a UUID version 4, in lower-case hex")
    predicate: dict[str, Any] = {
        "delivery_id": delivery_id or str(uuid.uuid4()),
        "created": rfc3339(created),
        "tool": {"name": "ketenx", "version": __version__},
    }
    if contract is not None:
        predicate.update(
            contract={
                "id": contract.id,
                "version": contract.version,
                "digest": contract.digest(),
                "output_schema_digest": canonical_digest(output_schema(contract)),
            },
            sender={"name": contract.sender.name, "oin": contract.sender.oin},
            recipient={"name": contract.recipient.name, "oin": contract.recipient.oin},
            purpose=contract.purpose,
            legal_basis=contract.legal_basis,
            processing_activity=contract.processing_activity,
            privacy=privacy_terms(contract.privacy),
        )
    elif meta:
        predicate.update(
            contract=dict(meta["contract"]),
            sender={"name": None, "oin": meta["sender_oin"]},
            recipient={"name": None, "oin": meta["recipient_oin"]},
            purpose=meta.get("purpose"),
            legal_basis=meta.get("legal_basis"),
            processing_activity=meta.get("processing_activity"),
        )
    if meta:
        pseudo = meta.get("pseudonymisation", {})
        predicate["pseudonymisation"] = {
            k: pseudo.get(k)
            for k in ("scheme", "domain", "shared_domain", "key_id", "policy", "nonce")
        }
        records_in = meta["input"]["records"]
        records_out = meta["output"]["records"]
        gates = meta.get("privacy")
        suppressed = gates["records_suppressed"] if gates else 0
        predicate["records"] = {
            "input": records_in,
            "output": records_out,
            "dropped": records_in - records_out - suppressed,
            "suppressed": suppressed,
        }
        if gates:  # what the privacy gates found (docs/privacy.md §5), signed
            predicate["privacy"] = {**(predicate.get("privacy") or {}), "outcome": dict(gates)}
        predicate["input"] = {k: meta["input"].get(k) for k in ("format", "fingerprint")}
        checks = meta.get("checks", {})  # the members the metadata schema allows, no others
        predicate["checks"] = {
            k: checks[k] for k in ("input", "output", "records_dropped") if k in checks
        }
    return predicate


_TERMS = ("quasi_identifiers", "k", "sensitive", "l", "l_kind", "max_risk", "max_suppression")


def privacy_terms(privacy: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's privacy thresholds as the predicate records them (the contract owner
    chose them: no national k exists, docs/privacy.md §6)."""
    terms: dict[str, Any] = {
        "quasi_identifiers": list(privacy.get("quasi_identifiers", [])),
        "k": privacy.get("k"),
    }
    for name in _TERMS[2:]:
        if name in privacy:
            terms[name] = privacy[name]
    if privacy.get("quasi_identifiers"):
        terms["missing"] = privacy.get("missing", "category")
    return terms


def sign_subjects(
    subjects: Sequence[tuple[str, str]],
    predicate: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
) -> dict[str, Any]:
    """A DSSE envelope over an in-toto statement of ``subjects`` (name, ``sha256:<hex>``)."""
    if "sender" not in predicate:
        raise VerificationError("the predicate names no sender")  # pragma: no cover
    statement = make_statement(subjects, PREDICATE_TYPE, predicate)
    return sign_statement(statement, private_key, public_key_id(private_key.public_key()))


@dataclass(frozen=True)
class VerifiedStatement:
    statement: dict[str, Any]
    predicate: dict[str, Any]
    signer: SigningKey
    created: _dt.datetime


def check_against_contract(predicate: Mapping[str, Any], contract: Contract) -> None:
    """A signed predicate against the contract the verifier holds: made under it (its
    digest), from its sender to its recipient, for its purpose, legal basis and processing
    activity. :class:`VerificationError` naming what differs (never the signed text)."""
    if (predicate.get("contract") or {}).get("digest") != contract.digest():
        raise VerificationError(
            "the delivery was signed under another contract: its digest differs from the "
            "contract you hold"
        )
    if (predicate.get("recipient") or {}).get("oin") != contract.recipient.oin:
        raise VerificationError("the delivery is addressed to another recipient OIN")
    if (predicate.get("sender") or {}).get("oin") != contract.sender.oin:
        raise VerificationError("the delivery comes from another sender than the contract's")
    for key in ("purpose", "legal_basis", "processing_activity"):
        if predicate.get(key) != getattr(contract, key):
            raise VerificationError(f"the signed {key} differs from your contract's")


def _parse_created(text: Any) -> _dt.datetime:
    try:
        when = parse_rfc3339(text if isinstance(text, str) else "")
    except ValueError:
        raise VerificationError("the statement's creation time is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise VerificationError("the statement's creation time has no time zone")
    return when


def verify_statement(
    envelope: Any,
    files: Sequence[tuple[str, str]],
    registry: Registry,
    *,
    now: _dt.datetime,
    contract: Contract | None = None,
) -> VerifiedStatement:
    """Verify ``envelope`` for the offered ``files`` (name, ``sha256:<hex>``); fail closed.

    The envelope may carry several signatures: it verifies when any of them is by a key
    registered for the sender's OIN and valid at the signing time, in whatever order they
    come. When none is, the reason given is that of the first signing key in registry order,
    the sender's own keys first. Two offered files with the same name are a
    :class:`UsageError` (subjects are named by file name, so one of them would go unchecked);
    a statement that lists a name twice is refused. With the ``contract`` the verifier
    holds, the predicate must also agree with it (:func:`check_against_contract`): the one
    verification policy of ``verify --contract`` and ``unpack``."""
    if len({name for name, _ in files}) != len(files):
        raise UsageError(
            "two offered files have the same name: subjects are named by file name, "
            "so offer each name once"
        )
    all_keys = [k for p in registry.partners for k in p.signing_keys]
    if not all_keys:
        raise VerificationError("the partner registry lists no signing keys")
    verified = verify_envelope(envelope, [k.key for k in all_keys], IN_TOTO_PAYLOAD_TYPE)
    statement = parse_statement(verified.payload)
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise VerificationError(f"the statement's predicateType is not {PREDICATE_TYPE}")
    predicate = statement["predicate"]
    errors = sorted(
        Draft202012Validator(load_schema("predicate.schema.json")).iter_errors(predicate),
        key=lambda e: list(map(str, e.path)),
    )
    if errors:
        # The path names members of the signed document: only names ketenx could have written.
        parts = list(errors[0].absolute_path)
        shown = all(isinstance(p, int) or safe_name(str(p)) for p in parts)
        where = "/".join(map(str, parts)) if parts and shown else "predicate"
        raise VerificationError(f"the statement's predicate is malformed at {where}")
    created = _parse_created(predicate["created"])
    sender = predicate["sender"]["oin"]
    partner = registry.partner(sender)
    own = {k.key_id for k in partner.signing_keys} if partner else set()
    signed_by = sorted(map(public_key_id, verified.public_keys), key=lambda kid: kid not in own)
    refusals: list[VerificationError] = []
    for key_id in signed_by:
        try:
            signer = registry.check_signer(sender, key_id, created, now)
            break
        except VerificationError as refusal:
            refusals.append(refusal)
    else:
        raise refusals[0]

    listed: dict[str, str] = {}
    for index, subject in enumerate(statement["subject"]):
        if subject["name"] in listed:
            raise VerificationError(f"statement subject {index} has the name of an earlier subject")
        listed[subject["name"]] = "sha256:" + subject["digest"]["sha256"]
    offered = dict(files)
    for name, digest in offered.items():
        if name not in listed:
            raise VerificationError(f"file {name} is not a subject of the signed statement")
        if listed[name] != digest:
            raise VerificationError(f"file {name} does not match its signed digest (changed?)")
    for index, name in enumerate(listed):
        if name not in offered:  # the signed name is not repeated: it is the signer's text
            raise VerificationError(
                f"subject {index} of the signed statement is not among the files offered"
            )

    if contract is not None:
        check_against_contract(predicate, contract)
    return VerifiedStatement(
        statement=statement, predicate=predicate, signer=signer, created=created
    )
