"""Keyed pseudonyms and deterministic encryption per pseudonymisation domain (scheme ``kx1``).

Pure: no I/O, clock or environment; randomness (the per-delivery nonce) is passed in. The
derivation is specified byte for byte in ``docs/spec/pseudonyms.md`` and pinned by the test
vectors in ``tests/vectors/pseudonyms/``:

* domain keys: HKDF-SHA-256(ikm = secret, salt = ``ketenx/v1``,
  info = ``ketenx/v1/pseudonymise`` 0x00 domain) → 32 bytes (HMAC key), and
  info = ``ketenx/v1/encrypt`` 0x00 domain → 64 bytes (AES-256-SIV key);
* pseudonym: ``kx1_`` + base64url (no padding) of the first 20 bytes of
  HMAC-SHA-256(domain key, UTF-8 of the normalised value);
* ciphertext: ``kx1e_`` + base64url (no padding) of AES-SIV(value) under the domain's SIV
  key, with one associated-data component ``ketenx/v1/encrypt`` 0x00 field name (the domain
  is bound through the key).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import RejectedError

if TYPE_CHECKING:
    from .contract import Contract
    from .secrets import Secret

SCHEME = "kx1"
PSEUDONYM_PREFIX = "kx1_"
CIPHERTEXT_PREFIX = "kx1e_"
PSEUDONYM_BYTES = 20  # 160 bits of the MAC are kept
HKDF_SALT = b"ketenx/v1"
INFO_PSEUDONYMISE = b"ketenx/v1/pseudonymise\x00"
INFO_ENCRYPT = b"ketenx/v1/encrypt\x00"
AD_ENCRYPT = b"ketenx/v1/encrypt\x00"  # followed by the field name; one AD component
NORMALISATIONS = ("none", "bsn", "email", "text", "postcode")
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class DecryptionError(RejectedError):
    """A ciphertext cannot be decrypted with this secret for this field and domain."""


def domain_id(contract: Contract) -> str:
    """The contract's pseudonymisation domain: an explicit ``pseudonymisation.domain``, or
    ``<recipient OIN>/<contract id>``."""
    explicit = contract.pseudonymisation.get("domain")
    if explicit:
        return str(explicit)
    return f"{contract.recipient.oin}/{contract.id}"


def effective_domain(domain: str, policy: str, nonce_hex: str | None) -> str:
    """The domain the keys are derived for: per-delivery adds ``/delivery/<nonce>``."""
    if policy == "per-delivery":
        if not nonce_hex:
            raise ValueError("the per-delivery policy needs a nonce")
        return f"{domain}/delivery/{nonce_hex}"
    return domain


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- normalisation --------------------------------------------------------------------------


def normalise(value: Any, how: str) -> str:
    """The text that is keyed for ``value`` (see docs/spec/pseudonyms.md §Normalisation)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if how == "bsn":
        text = text.strip()
        if text.isascii() and text.isdigit() and len(text) < 9:
            text = text.zfill(9)
        return text
    if how == "email":
        return text.strip().lower()
    if how == "postcode":
        return "".join(text.split()).upper()
    if how == "text":
        return unicodedata.normalize("NFC", text).strip()
    if how == "none":
        return text
    raise ValueError(f"unknown normalisation {how!r}")


def normalise_many(values: Sequence[Any], how: str) -> list[str]:
    """:func:`normalise` over a column: C-level passes when every value is a string."""
    if not set(map(type, values)) <= {str}:
        return [normalise(v, how) for v in values]
    if how == "none":
        return list(values)
    if how == "bsn":
        joined = "".join(values)
        if set(map(len, values)) <= {9} and joined.isascii() and joined.isdigit():
            return list(values)  # already nine digits: nothing to strip or pad
        return [normalise(v, how) for v in values]
    if how == "email":
        return list(map(str.lower, map(str.strip, values)))
    if how == "postcode":
        return list(map(str.upper, map("".join, map(str.split, values))))
    if how == "text":
        return list(map(str.strip, map(functools.partial(unicodedata.normalize, "NFC"), values)))
    raise ValueError(f"unknown normalisation {how!r}")


def default_normalisation(property_schema: Mapping[str, Any]) -> str:
    """``bsn``, ``email`` or ``postcode`` by the property's format; otherwise ``text``."""
    return {"nl-bsn": "bsn", "email": "email", "nl-postcode": "postcode"}.get(
        str(property_schema.get("format", "")), "text"
    )


# --- the keyring of one domain ----------------------------------------------------------------


class Keyring:
    """Pseudonymise, encrypt and decrypt in one domain. Never shows its keys."""

    __slots__ = ("_inner", "_outer", "_siv", "domain", "key_id")

    def __init__(self, hmac_key: bytes, siv_key: bytes, *, domain: str, key_id: str) -> None:
        if len(hmac_key) != 32 or len(siv_key) != 64:
            raise ValueError("domain keys have the wrong length")
        # HMAC (RFC 2104) with the keyed inner and outer states computed once.
        block = hmac_key.ljust(64, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._siv = AESSIV(siv_key)
        self.domain = domain
        self.key_id = key_id

    @classmethod
    def derive(cls, secret: Secret, domain: str) -> Keyring:
        """The domain keys of ``domain`` under ``secret`` (HKDF-SHA-256)."""
        return cls.from_secret_bytes(secret.secret_bytes, domain, key_id=secret.key_id)

    @classmethod
    def from_secret_bytes(cls, secret: bytes, domain: str, *, key_id: str = "") -> Keyring:
        d = domain.encode("utf-8")
        return cls(
            hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_PSEUDONYMISE + d, length=32),
            hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_ENCRYPT + d, length=64),
            domain=domain,
            key_id=key_id,
        )

    def __repr__(self) -> str:
        return f"Keyring(domain={self.domain!r}, key_id={self.key_id!r})"

    def mac(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def pseudonymise(self, value: str) -> str:
        """``kx1_`` + base64url of the first 20 bytes of HMAC-SHA-256(key, UTF-8 of value)."""
        return PSEUDONYM_PREFIX + _b64url(self.mac(value.encode("utf-8"))[:PSEUDONYM_BYTES])

    def pseudonymise_many(self, values: Sequence[str]) -> list[str]:
        """:meth:`pseudonymise` over a column, with the per-value work kept minimal."""
        inner_copy = self._inner.copy
        outer_copy = self._outer.copy
        digests: list[bytes] = []
        append = digests.append
        for value in values:
            h = inner_copy()
            h.update(value.encode("utf-8"))
            o = outer_copy()
            o.update(h.digest())
            append(o.digest())
        b2a = binascii.b2a_base64
        # 20 bytes encode to 27 characters plus one "=" of padding.
        return [
            PSEUDONYM_PREFIX
            + b2a(d[:PSEUDONYM_BYTES], newline=False).translate(_URLSAFE)[:27].decode()
            for d in digests
        ]

    def encrypt(self, value: str, field: str) -> str:
        """Deterministic AES-SIV of ``value``, bound to ``field`` (associated data) and to this
        domain (the key)."""
        ad = [AD_ENCRYPT + field.encode("utf-8")]
        return CIPHERTEXT_PREFIX + _b64url(self._siv.encrypt(value.encode("utf-8"), ad))

    def encrypt_many(self, values: Sequence[str], field: str) -> list[str]:
        """:meth:`encrypt` over a column."""
        ad = [AD_ENCRYPT + field.encode("utf-8")]
        encrypt = self._siv.encrypt
        b2a = binascii.b2a_base64
        return [
            CIPHERTEXT_PREFIX
            + b2a(encrypt(v.encode("utf-8"), ad), newline=False)
            .translate(_URLSAFE)
            .rstrip(b"=")
            .decode()
            for v in values
        ]

    def decrypt(self, token: str, field: str) -> str:
        """Reverse :meth:`encrypt`; :class:`DecryptionError` (no value in it) on any failure."""
        failure = DecryptionError(
            f"field `{field}`: a value cannot be decrypted with this secret in this domain"
        )
        if not token.startswith(CIPHERTEXT_PREFIX):
            raise failure
        try:
            raw = _b64url_decode(token[len(CIPHERTEXT_PREFIX) :])
            ad = [AD_ENCRYPT + field.encode("utf-8")]
            return self._siv.decrypt(raw, ad).decode("utf-8")
        except (InvalidTag, ValueError, UnicodeDecodeError):
            raise failure from None


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """Plain HMAC-SHA-256 (for known-answer tests of the building block)."""
    return hmac.digest(key, data, "sha256")
