"""Keyed pseudonyms and deterministic encryption per pseudonymisation domain (scheme ``kx1``).

Pure: no I/O, clock or environment; randomness (the per-delivery nonce) is passed in. Every
byte is specified in ``docs/spec/pseudonyms.md`` and pinned by the vectors in
``tests/vectors/pseudonyms/``:

* domain keys: HKDF-SHA-256(ikm = secret, salt = ``ketenx/v1``,
  info = ``ketenx/v1/pseudonymise`` 0x00 domain) → 32 bytes (HMAC key), and
  info = ``ketenx/v1/encrypt`` 0x00 domain → 64 bytes (AES-256-SIV key);
* pseudonym: ``kx1_`` + base64url (no padding) of the first 20 bytes of
  HMAC-SHA-256(HMAC key, UTF-8 of the normalised value);
* ciphertext: ``kx1e_`` + base64url (no padding) of AES-SIV(UTF-8 of the normalised value)
  with the associated-data components ``ketenx/v1/encrypt``, the field name and the domain;
* input fingerprint: ``kx1f_`` + hex of HMAC-SHA-256 over the sender's input file under a
  third domain key (info = ``ketenx/v1/input-fingerprint`` 0x00 domain): the only digest of
  personal input that leaves the sender, and one the recipient cannot test guesses against.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import KeyMaterialError, OperationalError, RejectedError
from ..kx1 import (
    CIPHERTEXT_PREFIX,
    FINGERPRINT_PREFIX,
    PSEUDONYM_BYTES,
    PSEUDONYM_PREFIX,
    b64url,
    b64url_decode,
)

if TYPE_CHECKING:
    from ..contract.model import Contract
    from ..storage.secrets import Secret

HKDF_SALT = b"ketenx/v1"
INFO_PSEUDONYMISE = b"ketenx/v1/pseudonymise\x00"
INFO_ENCRYPT = b"ketenx/v1/encrypt\x00"
INFO_FINGERPRINT = b"ketenx/v1/input-fingerprint\x00"
AD_LABEL = b"ketenx/v1/encrypt"  # first associated-data component; then field, then domain
MIN_SECRET_BYTES = 32
NONCE_BYTES = 16
POLICIES = ("deterministic", "per-delivery")

_NONCE_HEX = re.compile(r"[0-9a-f]{32}")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
# base64url("kx1_") decoded: 3 bytes whose encoding is the pseudonym prefix (see
# Keyring.pseudonymise_many).
_PREFIX_BYTES = base64.urlsafe_b64decode(PSEUDONYM_PREFIX)
_CHUNK = 2048  # values per base64 pass in Keyring.pseudonymise_many


class DecryptionError(RejectedError):
    """A token cannot be decrypted with this secret, for this field, in this domain."""


class InvalidTextError(RejectedError):
    """A value is not Unicode text that UTF-8 can encode (it holds a lone surrogate)."""


class DomainError(OperationalError):
    """The pseudonymisation policy or the per-delivery nonce is not usable."""


# --- domains --------------------------------------------------------------------------------


def domain_id(contract: Contract) -> str:
    """The contract's pseudonymisation domain: ``pseudonymisation.domain`` when set, else
    ``<recipient OIN>/<contract id>``."""
    explicit = contract.pseudonymisation.get("domain")
    if explicit:
        return str(explicit)
    return f"{contract.recipient.oin}/{contract.id}"


def delivery_nonce(random_bytes: bytes) -> str:
    """The per-delivery nonce written in the delivery metadata: 16 random bytes as 32
    lower-case hex digits (pass ``secrets.token_bytes(16)``)."""
    if len(random_bytes) != NONCE_BYTES:
        raise ValueError(f"a delivery nonce is {NONCE_BYTES} random bytes")
    return random_bytes.hex()


def effective_domain(domain: str, policy: str, nonce_hex: str | None) -> str:
    """The domain the keys are derived for: ``domain`` (policy ``deterministic``) or
    ``<domain>/delivery/<nonce>`` (policy ``per-delivery``)."""
    if policy == "deterministic":
        if nonce_hex is not None:
            raise DomainError("the deterministic pseudonymisation policy takes no nonce")
        return domain
    if policy == "per-delivery":
        if nonce_hex is None or not _NONCE_HEX.fullmatch(nonce_hex):
            raise DomainError(
                "the per-delivery pseudonymisation policy needs the delivery's nonce "
                "(32 lower-case hex digits)"
            )
        return f"{domain}/delivery/{nonce_hex}"
    raise DomainError(
        f"unknown pseudonymisation policy `{policy}` (expected one of: {', '.join(POLICIES)})"
    )


# --- building blocks ------------------------------------------------------------------------


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869), extract and expand."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _keyed_states(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA-256's inner and outer hash states after absorbing the padded key (RFC 2104)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    block = key.ljust(64, b"\x00")
    return hashlib.sha256(block.translate(_IPAD)), hashlib.sha256(block.translate(_OPAD))


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-256 through the precomputed-state path the keyring uses (RFC 4231 KATs)."""
    inner, outer = _keyed_states(key)
    inner.update(data)
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest


def fingerprint_of(mac: hmac.HMAC) -> str:
    """``kx1f_`` + the 64 lower-case hex digits of a finished input-fingerprint HMAC."""
    return FINGERPRINT_PREFIX + mac.hexdigest()


# --- the keyring of one domain ----------------------------------------------------------------


def _not_unicode() -> InvalidTextError:
    return InvalidTextError(
        "a value to be keyed is not valid Unicode text (it holds a lone surrogate, which "
        "UTF-8 cannot encode)"
    )


class Keyring:
    """Pseudonymise, encrypt and decrypt in one domain. Never shows its keys."""

    __slots__ = ("_ad_tail", "_fingerprint_key", "_inner", "_outer", "_siv", "domain", "key_id")

    def __init__(
        self,
        hmac_key: bytes,
        siv_key: bytes,
        *,
        domain: str,
        key_id: str = "",
        fingerprint_key: bytes = b"",
    ) -> None:
        if len(hmac_key) != 32 or len(siv_key) != 64 or len(fingerprint_key) not in (0, 32):
            raise ValueError("domain keys have the wrong length")
        self._fingerprint_key = fingerprint_key
        # HMAC-SHA-256 with the keyed inner and outer states computed once, copied per value.
        self._inner, self._outer = _keyed_states(hmac_key)
        self._siv = AESSIV(siv_key)
        self._ad_tail = domain.encode("utf-8")
        self.domain = domain
        self.key_id = key_id

    @classmethod
    def derive(cls, secret: Secret | bytes, domain: str) -> Keyring:
        """The keys of ``domain`` (an *effective* domain, see :func:`effective_domain`) under
        ``secret``: a :class:`~ketenx.storage.secrets.Secret` or its raw bytes."""
        if isinstance(secret, bytes | bytearray):
            return cls.from_secret_bytes(bytes(secret), domain)
        return cls.from_secret_bytes(secret.secret_bytes, domain, key_id=secret.key_id)

    @classmethod
    def from_secret_bytes(cls, secret: bytes, domain: str, *, key_id: str = "") -> Keyring:
        if len(secret) < MIN_SECRET_BYTES:
            raise KeyMaterialError(
                f"a pseudonymisation secret has at least {MIN_SECRET_BYTES * 8} bits"
            )
        d = domain.encode("utf-8")
        return cls(
            hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_PSEUDONYMISE + d, length=32),
            hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_ENCRYPT + d, length=64),
            domain=domain,
            key_id=key_id,
            fingerprint_key=hkdf_sha256(
                secret, salt=HKDF_SALT, info=INFO_FINGERPRINT + d, length=32
            ),
        )

    def fingerprinter(self) -> hmac.HMAC | None:
        """A fresh HMAC-SHA-256 under this domain's fingerprint key, to be fed the input
        file's bytes (:func:`fingerprint_of` turns it into the ``kx1f_`` text); None when
        the keyring was built from bare keys without one."""
        if not self._fingerprint_key:
            return None
        return hmac.new(self._fingerprint_key, digestmod="sha256")

    def __repr__(self) -> str:
        return f"Keyring(domain={self.domain!r}, key_id={self.key_id!r})"

    __str__ = __repr__

    def mac(self, data: bytes) -> bytes:
        """The full 32-byte HMAC-SHA-256 of ``data`` under this domain's HMAC key."""
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest

    def pseudonymise(self, value: str) -> str:
        """``kx1_`` + base64url of the first 20 bytes of HMAC-SHA-256(key, UTF-8 of value).

        ``value`` is the *normalised* text (:func:`normalise`).
        """
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise _not_unicode() from None
        return PSEUDONYM_PREFIX + b64url(self.mac(data)[:PSEUDONYM_BYTES])

    def pseudonymise_many(self, values: Sequence[str]) -> list[str]:
        """:meth:`pseudonymise` over a column, as fast as Python allows.

        The MACs are computed from the precomputed keyed states (two hash-state copies per
        value instead of a fresh HMAC); then each chunk of them is base64-encoded in one call.
        Each record in that call is 24 bytes: the 3 bytes that encode to ``kx1_``, the 20 kept
        MAC bytes and one zero byte, i.e. 32 characters of which the first 31 are the pseudonym
        (the zero byte makes the 31st character's two low bits zero, exactly as in the unpadded
        encoding of 20 bytes). About 1.2 µs per value on the reference machine.
        """
        inner_copy = self._inner.copy
        outer_copy = self._outer.copy
        b2a = binascii.b2a_base64
        separator = b"\x00" + _PREFIX_BYTES
        out: list[str] = []
        for start in range(0, len(values), _CHUNK):  # chunks keep the buffers in cache
            kept: list[bytes] = []
            append = kept.append
            try:
                for value in values[start : start + _CHUNK]:
                    h = inner_copy()
                    h.update(value.encode())  # UTF-8
                    o = outer_copy()
                    o.update(h.digest())
                    append(o.digest()[:20])
            except UnicodeEncodeError:
                raise _not_unicode() from None
            blob = _PREFIX_BYTES + separator.join(kept) + b"\x00"
            text = b2a(blob, newline=False).translate(_TO_URLSAFE).decode("ascii")
            out += [text[i : i + 31] for i in range(0, len(text), 32)]
        return out

    def _ad(self, field: str) -> list[bytes]:
        return [AD_LABEL, field.encode("utf-8"), self._ad_tail]

    def encrypt(self, value: str, field: str) -> str:
        """Deterministic AES-SIV of ``value`` (normalised text), bound to ``field`` (the
        input property name) and to this domain: ``kx1e_`` + base64url."""
        return self.encrypt_many([value], field)[0]

    def encrypt_many(self, values: Sequence[str], field: str) -> list[str]:
        """:meth:`encrypt` over a column."""
        ad = self._ad(field)
        encrypt = self._siv.encrypt
        b2a = binascii.b2a_base64
        try:
            return [
                CIPHERTEXT_PREFIX
                + b2a(encrypt(v.encode(), ad), newline=False)
                .translate(_TO_URLSAFE)
                .rstrip(b"=")
                .decode("ascii")
                for v in values
            ]
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except ValueError:
            # Old OpenSSL builds refuse an empty plaintext in AES-SIV.
            raise OperationalError(
                f"field `{field}`: the installed `cryptography` cannot AES-SIV-encrypt an "
                "empty value",
                hint="upgrade the `cryptography` package",
            ) from None

    def decrypt(self, token: str, field: str) -> str:
        """Reverse :meth:`encrypt`. Any failure (another prefix, bad or non-canonical
        base64url, another secret, field or domain, a changed byte) raises
        :class:`DecryptionError`, whose message names the field only."""
        failure = DecryptionError(
            f"field `{field}`: a value cannot be decrypted with this secret for this field "
            "in this domain"
        )
        if not token.startswith(CIPHERTEXT_PREFIX):
            raise failure
        try:
            raw = b64url_decode(token[len(CIPHERTEXT_PREFIX) :])
            return self._siv.decrypt(raw, self._ad(field)).decode("utf-8")
        except (InvalidTag, ValueError):  # UnicodeDecodeError is a ValueError
            raise failure from None
