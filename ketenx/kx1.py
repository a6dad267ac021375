"""The text of the kx1 scheme, in one place: the prefixes and patterns of its tokens — key
ids (``kx1k_``), pseudonyms (``kx1_``), ciphertexts (``kx1e_``) and input fingerprints
(``kx1f_``) — and the one base64url they and secret files are written in (RFC 4648 §5,
unpadded, canonical only). docs/spec/pseudonyms.md specifies each byte; the keyed
operations themselves are in :mod:`ketenx.transform.pseudonym`. Standard library only, so
that the storage layer, the treatments' output schema and the leak checks share it."""

from __future__ import annotations

import base64
import re
from typing import Final

SCHEME: Final = "kx1"
KEY_ID_PREFIX: Final = "kx1k_"
KEY_ID_PATTERN: Final = r"^kx1k_[0-9a-f]{16}$"
PSEUDONYM_PREFIX: Final = "kx1_"
PSEUDONYM_BYTES: Final = 20  # 160 bits of the MAC are kept: 27 base64url characters
PSEUDONYM_PATTERN: Final = r"^kx1_[A-Za-z0-9_-]{27}$"
CIPHERTEXT_PREFIX: Final = "kx1e_"
CIPHERTEXT_PATTERN: Final = r"^kx1e_[A-Za-z0-9_-]{22,}$"  # the IV alone is 22 characters
FINGERPRINT_PREFIX: Final = "kx1f_"
FINGERPRINT_PATTERN: Final = r"^kx1f_[0-9a-f]{64}$"
#: Every token prefix: text starting with one is public (a key id, a token), never a secret.
PREFIXES: Final = (KEY_ID_PREFIX, PSEUDONYM_PREFIX, CIPHERTEXT_PREFIX, FINGERPRINT_PREFIX)

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url(data: bytes) -> str:
    """base64url (RFC 4648 §5) without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of :func:`b64url`: only the URL-safe alphabet, no padding, and the
    canonical encoding only (unused trailing bits zero); :class:`ValueError` otherwise."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(raw) != text:
        raise ValueError("not canonical unpadded base64url")
    return raw
