#!/usr/bin/env python3
"""Generate the kx1 pseudonym test vectors (pseudonyms.json) from docs/spec/pseudonyms.md.

Written against the specification with the standard library and the `cryptography`
package's HKDF and AES-SIV only, NOT with ketenx, so that the suite's check of ketenx against
these vectors is a check against an independent implementation of the spec.

    python tests/vectors/pseudonyms/make_vectors.py [OUT.json]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import unicodedata
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"ketenx/v1"


def hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=SALT, info=info).derive(secret)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id(secret: bytes) -> str:
    return "kx1k_" + hmac.new(secret, b"ketenx/v1/key-id", hashlib.sha256).hexdigest()[:16]


def normalise(value: object, how: str) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if how == "bsn":
        text = text.strip()
        return text.zfill(9) if text.isascii() and text.isdigit() and len(text) < 9 else text
    if how == "email":
        return text.strip().lower()
    if how == "postcode":
        return "".join(text.split()).upper()
    if how == "text":
        return unicodedata.normalize("NFC", text).strip()
    return text


def pseudonym(secret: bytes, domain: str, text: str) -> str:
    key = hkdf(secret, b"ketenx/v1/pseudonymise\x00" + domain.encode(), 32)
    mac = hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()
    return "kx1_" + b64url(mac[:20])


def ciphertext(secret: bytes, domain: str, field: str, text: str) -> str:
    key = hkdf(secret, b"ketenx/v1/encrypt\x00" + domain.encode(), 64)
    ad = [b"ketenx/v1/encrypt\x00" + field.encode("utf-8")]
    return "kx1e_" + b64url(AESSIV(key).encrypt(text.encode("utf-8"), ad))


SECRETS = {"A": bytes(range(32)), "B": bytes(range(32, 64))}
DOMAINS = [
    "00000001009876543000/gemeente-ggd-jeugdgezondheid",
    "00000001001111111000/gemeente-ggd-jeugdgezondheid",
    "regio-gezondheid-gedeeld",
    "00000001009876543000/gemeente-ggd-jeugdgezondheid/delivery/00112233445566778899aabbccddeeff",
]
INPUTS = [
    ("111222333", "bsn"),
    (" 12345678 ", "bsn"),
    ("012345678", "bsn"),
    (12345678, "bsn"),
    (" Ouder.Naam@Example.NL ", "email"),
    ("1234 ab", "postcode"),
    ("Zoe\u0308 ", "text"),
    ("Zoë", "text"),
    ("van der Meer", "none"),
    ("", "none"),
    ("日本語 ✓", "none"),
]


def vectors() -> dict[str, object]:
    cases = []
    for secret_name, secret in SECRETS.items():
        for domain in DOMAINS:
            for value, how in INPUTS:
                text = normalise(value, how)
                cases.append(
                    {
                        "secret": secret_name,
                        "domain": domain,
                        "input": value,
                        "normalise": how,
                        "normalised": text,
                        "pseudonym": pseudonym(secret, domain, text),
                        "field": "email_ouder",
                        "ciphertext": ciphertext(secret, domain, "email_ouder", text),
                    }
                )
    return {
        "description": "kx1 pseudonyms and ciphertexts; see docs/spec/pseudonyms.md",
        "generator": "tests/vectors/pseudonyms/make_vectors.py",
        "secrets": {
            name: {
                "hex": s.hex(),
                "key_id": key_id(s),
                "file_line": f"KETENX-SECRET-1 {key_id(s)} {b64url(s)}",
            }
            for name, s in SECRETS.items()
        },
        "domain_keys": [
            {
                "secret": name,
                "domain": domain,
                "hmac_key_hex": hkdf(s, b"ketenx/v1/pseudonymise\x00" + domain.encode(), 32).hex(),
                "siv_key_hex": hkdf(s, b"ketenx/v1/encrypt\x00" + domain.encode(), 64).hex(),
            }
            for name, s in SECRETS.items()
            for domain in DOMAINS[:2]
        ],
        "cases": cases,
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("pseudonyms.json")
    out.write_text(json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
