"""DSSE v1 envelopes with Ed25519, and in-toto Statement v1 payloads (pure: no file I/O).

* DSSE: https://github.com/secure-systems-lab/dsse (``envelope.md``, ``protocol.md``).
  The signature is taken over ``PAE(payloadType, payload)``, never over the JSON envelope.
* in-toto Statement v1: https://github.com/in-toto/attestation/tree/main/spec/v1.

Verification fails closed: anything unexpected raises :class:`VerificationError` with a
one-line reason that never repeats a value from the envelope. The ``keyid`` of a signature
is an unauthenticated hint and is never used to decide trust: every signature is tried
against every trusted key, and the caller learns every trusted key that signed (so a
signature by some other trusted key never hides the one that counts). The caller gets
exactly the bytes that were verified, so nothing unverified is ever parsed. Envelope and
statement are parsed within the limits of :func:`ketenx.records.strictjson.parse_document`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..canonical import canonical_bytes
from ..errors import KeyMaterialError, VerificationError
from ..records.strictjson import parse_document, read_document

#: Largest DSSE envelope read (a signature file, or the statement of a bundle).
MAX_ENVELOPE_BYTES = 4 << 20
#: Largest statement (the envelope's decoded payload).
MAX_STATEMENT_BYTES = 3 << 20

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

#: More signatures than this on one envelope is treated as malformed (bounds the work of
#: trying every signature against every trusted key).
MAX_SIGNATURES = 64

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9\-_]*={0,2}")


@dataclass(frozen=True)
class VerifiedPayload:
    """The outcome of a successful :func:`verify_envelope`.

    ``payload`` is exactly the byte string the signatures cover; ``public_keys`` are the
    trusted keys that verified a signature on it, in the order of the trusted keys given
    (never in the order of the signatures, and not from the envelope's ``keyid`` hints);
    ``public_key`` is the first of them.
    """

    payload: bytes
    payload_type: str
    public_keys: tuple[Ed25519PublicKey, ...]

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.public_keys[0]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding of ``payload_type`` and ``payload``.

    ``b"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, LEN being the ASCII decimal
    byte length (the type's length in UTF-8 bytes).
    """
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, the form ketenx writes."""
    return base64.standard_b64encode(data).decode("ascii")


def b64decode(text: object, *, what: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise VerificationError otherwise.

    One alphabet per value: a string mixing ``+/`` with ``-_`` is refused.
    """
    if not isinstance(text, str):
        raise VerificationError(f"envelope {what} is not a base64 string")
    if _B64_STD.fullmatch(text):
        alt = None
    elif _B64_URL.fullmatch(text):
        alt = b"-_"
    else:
        raise VerificationError(f"envelope {what} is not valid base64")
    unpadded = text.rstrip("=")
    padding = len(text) - len(unpadded)
    if len(unpadded) % 4 == 1 or (padding and len(text) % 4 != 0):
        raise VerificationError(f"envelope {what} is not valid base64")
    padded = unpadded + "=" * (-len(unpadded) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), altchars=alt, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"envelope {what} is not valid base64") from None


def sign_envelope(
    payload: bytes, payload_type: str, private_key: Ed25519PrivateKey, keyid: str
) -> dict[str, Any]:
    """Sign ``payload`` as a DSSE envelope with one Ed25519 signature (standard base64)."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyMaterialError("the signing key is not an Ed25519 private key")
    signature = private_key.sign(pae(payload_type, payload))
    return {
        "payload": b64encode(payload),
        "payloadType": payload_type,
        "signatures": [{"keyid": keyid, "sig": b64encode(signature)}],
    }


def read_envelope(stream: IO[bytes]) -> Any:
    """Parse a DSSE envelope from ``stream`` as JSON, reading at most
    :data:`MAX_ENVELOPE_BYTES` (+1: a larger one is refused unread)."""
    return read_document(
        stream, what="the signature envelope", max_bytes=MAX_ENVELOPE_BYTES, error=VerificationError
    )


def verify_envelope(
    envelope: Mapping[str, Any],
    trusted_keys: Sequence[Ed25519PublicKey],
    expected_payload_type: str,
) -> VerifiedPayload:
    """Verify a DSSE envelope against ``trusted_keys``; fail closed.

    Succeeds when at least one signature verifies with at least one trusted key; the result
    names every trusted key with a valid signature, whatever the order of the signatures
    (the caller decides which of them may sign: :func:`ketenx.exchange.attest.verify_statement`). A
    signature that does not verify with any trusted key is skipped, not an error. Raises
    :class:`VerificationError` for a malformed envelope or base64, a ``payloadType`` other
    than ``expected_payload_type``, or when no signature verifies. Raises
    :class:`KeyMaterialError` when no usable trusted key is given.
    """
    if not trusted_keys:
        raise KeyMaterialError("no trusted public keys given to verify the signature")
    for key in trusted_keys:
        if not isinstance(key, Ed25519PublicKey):
            raise KeyMaterialError("a trusted key is not an Ed25519 public key")
    if not isinstance(envelope, Mapping):
        raise VerificationError("envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise VerificationError("envelope has no payloadType string")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("envelope has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise VerificationError(f"envelope has more than {MAX_SIGNATURES} signatures")
    if "payload" not in envelope:
        raise VerificationError("envelope has no payload")
    payload = b64decode(envelope["payload"], what="payload")
    sigs: list[bytes] = []
    for index, entry in enumerate(signatures):
        if not isinstance(entry, Mapping) or "sig" not in entry:
            raise VerificationError(f"envelope signature {index} has no sig")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise VerificationError(f"envelope signature {index} has a keyid that is not a string")
        sigs.append(b64decode(entry["sig"], what=f"signature {index}"))
    if payload_type != expected_payload_type:
        raise VerificationError(f"envelope payloadType is not {expected_payload_type}")

    message = pae(payload_type, payload)
    signed_by = tuple(key for key in trusted_keys if _signed(key, sigs, message))
    if not signed_by:
        raise VerificationError("no signature on the envelope verifies with a trusted key")
    return VerifiedPayload(payload=payload, payload_type=payload_type, public_keys=signed_by)


def _signed(key: Ed25519PublicKey, sigs: Sequence[bytes], message: bytes) -> bool:
    """Whether any of ``sigs`` is a valid signature of ``message`` by ``key``."""
    for sig in sigs:
        try:
            key.verify(sig, message)
        except InvalidSignature:
            continue
        return True
    return False


def make_statement(
    subjects: Sequence[tuple[str, str]], predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 for ``subjects`` given as ``(name, sha256 hex)`` pairs.

    The digest may also be given as ``sha256:<hex>`` (the form :mod:`ketenx.canonical`
    writes). Raises ``ValueError`` on malformed input: this is a programming error, not a
    user-facing failure.
    """
    if not subjects:
        raise ValueError("a statement needs at least one subject")
    subject_list: list[dict[str, Any]] = []
    for name, digest in subjects:
        hex_digest = digest.removeprefix("sha256:")
        if not isinstance(name, str) or not name:
            raise ValueError("a subject needs a non-empty name")
        if not _SHA256_HEX.fullmatch(hex_digest):
            raise ValueError("a subject digest must be 64 lower-case hex characters (sha256)")
        if any(s["name"] == name for s in subject_list):
            raise ValueError("two subjects have the same name")
        subject_list.append({"name": name, "digest": {"sha256": hex_digest}})
    if not isinstance(predicate_type, str) or not predicate_type:
        raise ValueError("predicateType must be a non-empty string")
    if not isinstance(predicate, Mapping):
        raise ValueError("predicate must be a mapping")
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject_list,
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The RFC 8785 serialisation of ``statement``: the DSSE payload ketenx signs."""
    return canonical_bytes(statement)


def sign_statement(
    statement: Mapping[str, Any], private_key: Ed25519PrivateKey, keyid: str
) -> dict[str, Any]:
    """Serialise ``statement`` with RFC 8785 and sign it as an in-toto DSSE envelope."""
    return sign_envelope(statement_bytes(statement), IN_TOTO_PAYLOAD_TYPE, private_key, keyid)


def parse_statement(payload: bytes) -> dict[str, Any]:
    """Parse and validate verified DSSE payload bytes as an in-toto Statement v1.

    Checks ``_type``, a non-empty ``subject`` list whose entries have a ``name`` and a
    non-empty ``digest`` with a lower-case hex ``sha256``, a non-empty ``predicateType``
    and an object ``predicate``. Unknown fields are ignored. Duplicate member names are
    refused (two parsers could disagree on them), and so is a statement beyond the limits
    of :func:`ketenx.records.strictjson.parse_document` (size, depth).
    """
    data = parse_document(
        payload, what="statement", max_bytes=MAX_STATEMENT_BYTES, error=VerificationError
    )
    if not isinstance(data, dict):
        raise VerificationError("statement is not a JSON object")
    if data.get("_type") != STATEMENT_TYPE:
        raise VerificationError(f"statement _type is not {STATEMENT_TYPE}")
    subjects = data.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise VerificationError("statement subject must be a non-empty list")
    for index, subject in enumerate(subjects):
        where = f"statement subject {index}"
        if not isinstance(subject, dict):
            raise VerificationError(f"{where} is not an object")
        name = subject.get("name")
        if not isinstance(name, str) or not name:
            raise VerificationError(f"{where} has no name")
        digest = subject.get("digest")
        if not isinstance(digest, dict) or not digest:
            raise VerificationError(f"{where} has an empty or missing digest")
        if not all(isinstance(value, str) for value in digest.values()):
            raise VerificationError(f"{where} has a digest value that is not a string")
        sha256 = digest.get("sha256")
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            raise VerificationError(f"{where} has no lower-case hex sha256 digest")
    predicate_type = data.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise VerificationError("statement predicateType must be a non-empty string")
    if not isinstance(data.get("predicate"), dict):
        raise VerificationError("statement predicate must be a JSON object")
    return data
