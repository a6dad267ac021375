#!/usr/bin/env python3
"""Generate the kx1 pseudonym test vectors (pseudonyms.json) from docs/spec/pseudonyms.md.

Written against the specification with Python's standard library and the `cryptography`
package's HKDF and AES-SIV only -- it does NOT import ketenx -- so the suite's check of ketenx
against these vectors is a check against a second implementation of the spec. Deterministic:
fixed secrets, fixed nonces, and AES-SIV needs no randomness.

    python tests/vectors/pseudonyms/make_vectors.py [OUT.json]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SALT = b"ketenx/v1"
INFO_PSEUDONYMISE = b"ketenx/v1/pseudonymise\x00"
INFO_ENCRYPT = b"ketenx/v1/encrypt\x00"
INFO_FINGERPRINT = b"ketenx/v1/input-fingerprint\x00"
AD_LABEL = b"ketenx/v1/encrypt"


# --- the scheme, written from the spec ---------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id(secret: bytes) -> str:
    return "kx1k_" + hmac.new(secret, b"ketenx/v1/key-id", hashlib.sha256).hexdigest()[:16]


def secret_line(secret: bytes, kid: str | None = None) -> str:
    return f"KETENX-SECRET-1 {kid or key_id(secret)} {b64url(secret)}"


def hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=SALT, info=info).derive(secret)


def hmac_key(secret: bytes, domain: str) -> bytes:
    return hkdf(secret, INFO_PSEUDONYMISE + domain.encode("utf-8"), 32)


def siv_key(secret: bytes, domain: str) -> bytes:
    return hkdf(secret, INFO_ENCRYPT + domain.encode("utf-8"), 64)


def fingerprint_key(secret: bytes, domain: str) -> bytes:
    return hkdf(secret, INFO_FINGERPRINT + domain.encode("utf-8"), 32)


def fingerprint(secret: bytes, domain: str, data: bytes) -> str:
    return "kx1f_" + hmac.new(fingerprint_key(secret, domain), data, hashlib.sha256).hexdigest()


def default_normalisation(prop: dict[str, Any], treatment: str, named: str | None) -> str:
    """§5 step 2: the field's `normalise`, else `none` for encrypt, else by the property's
    own `format` member (never one reached through `$ref`)."""
    if named:
        return named
    if treatment == "encrypt":
        return "none"
    formats = {"nl-bsn": "bsn", "email": "email", "nl-postcode": "postcode"}
    return formats.get(str(prop.get("format", "")), "text")


def effective_domain(domain: str, policy: str, nonce: str | None) -> str:
    return f"{domain}/delivery/{nonce}" if policy == "per-delivery" else domain


def normalise(value: object, how: str) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if how == "bsn":
        text = text.strip()
        digits = text.isascii() and text.isdigit()
        return "0" * (9 - len(text)) + text if digits and len(text) < 9 else text
    if how == "email":
        return text.strip().lower()
    if how == "postcode":
        compact = "".join(text.split()).replace("-", "").upper()
        return compact[2:] if re.match(r"NL[0-9]", compact) else compact
    if how == "text":
        return unicodedata.normalize("NFC", text).strip()
    return text  # none


def mac(secret: bytes, domain: str, text: str) -> bytes:
    return hmac.new(hmac_key(secret, domain), text.encode("utf-8"), hashlib.sha256).digest()


def pseudonym(secret: bytes, domain: str, text: str) -> str:
    return "kx1_" + b64url(mac(secret, domain, text)[:20])


def ciphertext(secret: bytes, domain: str, field: str, text: str) -> str:
    ad = [AD_LABEL, field.encode("utf-8"), domain.encode("utf-8")]
    return "kx1e_" + b64url(AESSIV(siv_key(secret, domain)).encrypt(text.encode("utf-8"), ad))


# --- what the vectors cover --------------------------------------------------------------------

SECRETS = {"A": bytes(range(32)), "B": bytes(range(32, 64))}
OIN_1 = "00000001009876543000"
OIN_2 = "00000001001111111000"
CONTRACT = "gemeente-ggd-jeugdgezondheid"
NONCE_1 = "00112233445566778899aabbccddeeff"
NONCE_2 = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
# (name, recipient OIN, contract id, explicit `pseudonymisation.domain`, policy, nonce)
DOMAINS: list[tuple[str, str, str, str | None, str, str | None]] = [
    ("recipient-1", OIN_1, CONTRACT, None, "deterministic", None),
    ("recipient-2", OIN_2, CONTRACT, None, "deterministic", None),
    ("shared", OIN_1, CONTRACT, "regio-gezondheid-gedeeld", "deterministic", None),
    ("shared-unicode", OIN_2, "ketenzorg", "zorg-samenwerking/Fryslân", "deterministic", None),
    ("per-delivery-1", OIN_1, CONTRACT, None, "per-delivery", NONCE_1),
    ("per-delivery-2", OIN_1, CONTRACT, None, "per-delivery", NONCE_2),
]
# (input as a JSON value, normalisation, field name)
INPUTS: list[tuple[Any, str, str]] = [
    ("111222333", "bsn", "bsn"),
    (" 12345678 ", "bsn", "bsn"),
    ("012345678", "bsn", "bsn"),
    (12345678, "bsn", "bsn"),
    ("\t123456782\n", "bsn", "bsn"),
    ("1234567890", "bsn", "bsn"),
    ("１２３４５６７８", "bsn", "bsn"),
    (" Ouder.Naam@Example.NL ", "email", "email_ouder"),
    ("ÉLODIE.Dupont@Example.FR", "email", "email_ouder"),
    ("1234 ab", "postcode", "postcode"),
    (" 1234\tAb ", "postcode", "postcode"),
    ("1234-ab", "postcode", "postcode"),
    ("NL-1234 AB", "postcode", "postcode"),
    ("nl 1234ab", "postcode", "postcode"),
    ("Zoe\u0308 ", "text", "voornamen"),
    ("Zoë", "text", "voornamen"),
    ("ﬁne", "text", "opmerking"),
    ("\u00a0😀 emoji\u3000", "text", "opmerking"),
    (True, "text", "opmerking"),
    (120.5, "text", "lengte_cm"),
    (1.0, "text", "lengte_cm"),
    (-0.0, "text", "lengte_cm"),
    (0.0001, "text", "lengte_cm"),
    (1e-07, "text", "lengte_cm"),
    (1e16, "text", "lengte_cm"),
    (1.5e300, "text", "lengte_cm"),
    (123456789012345680.0, "text", "lengte_cm"),
    (12345678901234567890, "text", "lengte_cm"),
    (-7, "none", "lengte_cm"),
    ("van der Meer", "none", "achternaam"),
    ("  spaties  ", "none", "achternaam"),
    ("", "none", "achternaam"),
    ("日本語 ✓", "none", "straat_ü"),
]


# Added after the first 33: each is run for secret A in the first domain only (appended after the
# earlier cases, which stay as they were).
MORE_INPUTS: list[tuple[Any, str, str]] = [
    # Lower-casing is Python's str.lower(): full mappings plus the Final_Sigma context rule.
    ("ΟΔΟΣ@Example.GR", "email", "email_ouder"),  # Σ after a letter, before `@`: ς
    ("Σ@example.gr", "email", "email_ouder"),  # no letter before it: σ
    ("ΑΣΑ@example.gr", "email", "email_ouder"),  # between letters: σ
    ("ΟΔΟΣ.ΣΑΣ@example.gr", "email", "email_ouder"),  # `.` is case-ignorable: the first is σ
    ("ΟΔΟΣ'@example.gr", "email", "email_ouder"),  # `'` is case-ignorable, then `@`: ς
    ("İstanbul@Example.TR", "email", "email_ouder"),  # İ → i + U+0307 (two code points)
    ("1234 aß", "postcode", "postcode"),  # ß → SS in upper case
    # Floats: the shortest digits that read back, and of those the nearest to the exact value.
    (5e-324, "text", "lengte_cm"),  # 2⁻¹⁰⁷⁴: 1e-324 … 7e-324 all read back; 5 is nearest
    (1e23, "text", "lengte_cm"),  # the double is 9.999999999999999161…e22
    (9007199254740992.0, "text", "lengte_cm"),  # 2⁵³, e = 15: fixed notation
    (9999999999999998.0, "text", "lengte_cm"),  # the largest double below 1e16: fixed
    (0.30000000000000004, "text", "lengte_cm"),
    (1e-05, "text", "lengte_cm"),  # e = −5: exponent notation
    (1.7976931348623157e308, "text", "lengte_cm"),  # the largest double
    (-2.5e-08, "text", "lengte_cm"),
    # Integers up to 4300 digits (a longer one is refused when the input is read).
    (int("9" * 40), "text", "lengte_cm"),
    (-int("1" + "0" * 4299), "text", "lengte_cm"),  # 4300 digits and a sign
    (int("7" * 4300), "none", "lengte_cm"),
]

# §5 step 2 through the contract: (property schema, $defs, treatment, `normalise` or None).
DEFAULTS: list[tuple[dict[str, Any], dict[str, Any], str, str | None]] = [
    ({"type": "string", "format": "nl-bsn"}, {}, "pseudonymise", None),
    ({"type": "string", "format": "email"}, {}, "pseudonymise", None),
    ({"type": "string", "format": "nl-postcode"}, {}, "pseudonymise", None),
    ({"type": "string", "format": "date"}, {}, "pseudonymise", None),
    ({"type": "string"}, {}, "pseudonymise", None),
    ({"type": "string", "format": "nl-bsn"}, {}, "encrypt", None),
    ({"type": "string", "format": "email"}, {}, "encrypt", "email"),
    ({"type": "string", "format": "nl-bsn"}, {}, "pseudonymise", "none"),
    # `format` reached through `$ref` does not count: name `normalise` to get `bsn`
    ({"$ref": "#/$defs/bsn"}, {"bsn": {"type": "string", "format": "nl-bsn"}}, "pseudonymise",
     None),
    ({"$ref": "#/$defs/bsn"}, {"bsn": {"type": "string", "format": "nl-bsn"}}, "pseudonymise",
     "bsn"),
    ({"$ref": "#/$defs/pc"}, {"pc": {"type": "string", "format": "nl-postcode"}}, "pseudonymise",
     None),
]  # fmt: skip

# Input files for the keyed fingerprint: (name, bytes).
FINGERPRINT_INPUTS: list[tuple[str, bytes]] = [
    ("empty file", b""),
    ("one record", b"bsn\n111222333\n"),
    ("CRLF and UTF-8", "bsn,voornamen\r\n111222333,Zoë\r\n".encode()),
    ("same record, no final newline", b"bsn\n111222333"),
]


def default_entries() -> list[dict[str, Any]]:
    return [
        {
            "property": prop,
            "$defs": defs,
            "treatment": treatment,
            "normalise": named,
            "default": default_normalisation(prop, treatment, named),
        }
        for prop, defs, treatment, named in DEFAULTS
    ]


def fingerprint_entries(domains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    plan = [("A", domains[0]), ("A", domains[2]), ("A", domains[4]), ("B", domains[0])]
    out = []
    for secret_name, d in plan:
        secret = SECRETS[secret_name]
        domain = d["effective_domain"]
        for name, data in FINGERPRINT_INPUTS:
            out.append(
                {
                    "secret": secret_name,
                    "effective_domain": domain,
                    "fingerprint_key_hex": fingerprint_key(secret, domain).hex(),
                    "name": name,
                    "input_hex": data.hex(),
                    "fingerprint": fingerprint(secret, domain, data),
                }
            )
    return out


def domain_entries() -> list[dict[str, Any]]:
    out = []
    for name, oin, contract_id, explicit, policy, nonce in DOMAINS:
        domain = explicit or f"{oin}/{contract_id}"
        out.append(
            {
                "name": name,
                "recipient_oin": oin,
                "contract_id": contract_id,
                "pseudonymisation": {
                    "policy": policy,
                    **({"domain": explicit} if explicit else {}),
                },
                "domain": domain,
                "nonce": nonce,
                "effective_domain": effective_domain(domain, policy, nonce),
            }
        )
    return out


def cases(domains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    plan = [("A", d, INPUTS) for d in domains] + [("B", d, INPUTS) for d in domains[:2]]
    plan.append(("A", domains[0], MORE_INPUTS))
    out = []
    for secret_name, d, inputs in plan:
        secret = SECRETS[secret_name]
        domain = d["effective_domain"]
        for value, how, field in inputs:
            text = normalise(value, how)
            out.append(
                {
                    "secret": secret_name,
                    "domain": d["name"],
                    "effective_domain": domain,
                    "input": value,
                    "normalise": how,
                    "normalised": text,
                    "normalised_utf8_hex": text.encode("utf-8").hex(),
                    "mac_hex": mac(secret, domain, text).hex(),
                    "pseudonym": pseudonym(secret, domain, text),
                    "field": field,
                    "ciphertext": ciphertext(secret, domain, field, text),
                }
            )
    return out


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _other_char(c: str) -> str:
    return "B" if c == "A" else "A"


def _set_unused_bit(encoded: str) -> str:
    """The same bytes, non-canonically: the lowest (unused) bit of the last character set."""
    return encoded[:-1] + ALPHABET[ALPHABET.index(encoded[-1]) | 1]


def decrypt_must_fail(domains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    one, two = domains[0]["effective_domain"], domains[1]["effective_domain"]
    secret = SECRETS["A"]
    field = "email_ouder"
    # 17 plaintext bytes + the 16-byte IV = 33 bytes = 44 characters, no unused bits.
    plain = "ouder@example.nl."
    token = ciphertext(secret, one, field, plain)
    # 18 + 16 = 34 bytes = 46 characters; the last one carries 4 unused bits. The first such
    # plaintext whose token holds a `-` or `_` (to try the standard alphabet on).
    odd_plain = next(
        p
        for p in (f"ouder{i:02d}@example.nl" for i in range(100))
        if {"-", "_"} & set(ciphertext(secret, one, field, p)[5:])
    )
    odd = ciphertext(secret, one, field, odd_plain)
    body = token[5:]
    rows = [
        ("another field name", token, "A", one, "naam"),
        ("another domain", token, "A", two, field),
        ("another secret", token, "B", one, field),
        ("first character of the IV changed", "kx1e_" + _other_char(body[0]) + body[1:]),
        ("last character changed", token[:-1] + _other_char(token[-1])),
        ("non-canonical base64url (an unused bit set)", _set_unused_bit(odd)),
        ("padding added", odd + "=="),
        ("standard base64 alphabet", "kx1e_" + odd[5:].replace("-", "+").replace("_", "/")),
        ("truncated", token[:-4]),
        ("shorter than the 16-byte IV", "kx1e_AAAAAAAAAAAAAAAAAAAAA"),
        ("pseudonym prefix", "kx1_" + body),
        ("upper-case prefix", "KX1E_" + body),
        ("no prefix", body),
    ]
    out: list[dict[str, Any]] = [
        {"why": None, "token": token, "secret": "A", "effective_domain": one, "field": field,
         "plaintext": plain},
        {"why": None, "token": odd, "secret": "A", "effective_domain": one, "field": field,
         "plaintext": odd_plain},
    ]  # fmt: skip
    for why, bad, *where in rows:
        s, dom, f = where if where else ("A", one, field)
        out.append({"why": why, "token": bad, "secret": s, "effective_domain": dom, "field": f})
    return out


def secret_files() -> dict[str, Any]:
    a = SECRETS["A"]
    line = secret_line(a)
    body = b64url(a)  # 43 characters: the last one carries 2 unused bits
    short = bytes(range(16))
    return {
        "good": [
            {
                "text": "# a comment\n\n" + line + "\n",
                "key_id": key_id(a),
                "secret_hex": a.hex(),
            },
            {"text": "  " + line + "  \r\n", "key_id": key_id(a), "secret_hex": a.hex()},
            # the ASCII white space of str.split/str.strip, the line breaks of str.splitlines
            {
                "text": "\t" + line.replace(" ", "\t") + "\x0b",
                "key_id": key_id(a),
                "secret_hex": a.hex(),
            },
            {
                "text": "# comment\x0c" + line.replace(" ", "\x1f") + "\x1e",
                "key_id": key_id(a),
                "secret_hex": a.hex(),
            },
            {"text": "#\r" + line + "\r", "key_id": key_id(a), "secret_hex": a.hex()},
        ],
        "must_fail": [
            {"why": "key id does not match", "text": secret_line(a, "kx1k_0000000000000000")},
            {"why": "key id malformed", "text": secret_line(a, "kx1k_0FBAC25A15245687")},
            {"why": "secret shorter than 256 bits", "text": secret_line(short)},
            {"why": "padded base64", "text": line + "="},
            {"why": "non-canonical base64url", "text": line[: -len(body)] + _set_unused_bit(body)},
            {"why": "another magic", "text": line.replace("SECRET-1", "SECRET-2")},
            {"why": "two secret lines", "text": line + "\n" + secret_line(SECRETS["B"])},
            {"why": "no secret line", "text": "# only a comment\n"},
            {"why": "missing key id", "text": f"KETENX-SECRET-1 {body}"},
            {
                "why": "a non-ASCII byte (no-break space between fields)",
                "text": line.replace(" ", "\u00a0"),
            },
            {
                "why": "a line break inside the line (vertical tab)",
                "text": line.replace(" ", "\x0b", 1),
            },
        ],
    }


def vectors() -> dict[str, Any]:
    domains = domain_entries()
    whitespace = [f"U+{c:04X}" for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    return {
        "description": "kx1 pseudonyms and ciphertexts; the spec is docs/spec/pseudonyms.md",
        "generator": "tests/vectors/pseudonyms/make_vectors.py",
        "scheme": "kx1",
        "parameters": {
            "hkdf_salt": SALT.decode(),
            "hkdf_info_pseudonymise_prefix_hex": INFO_PSEUDONYMISE.hex(),
            "hkdf_info_encrypt_prefix_hex": INFO_ENCRYPT.hex(),
            "hkdf_info_fingerprint_prefix_hex": INFO_FINGERPRINT.hex(),
            "aes_siv_associated_data": ["ketenx/v1/encrypt", "<field name>", "<domain>"],
            "pseudonym_bytes": 20,
            "whitespace": whitespace,
        },
        "secrets": {
            name: {"hex": s.hex(), "key_id": key_id(s), "file_line": secret_line(s)}
            for name, s in SECRETS.items()
        },
        "secret_files": secret_files(),
        "domains": domains,
        "domain_keys": [
            {
                "secret": name,
                "effective_domain": d["effective_domain"],
                "hmac_key_hex": hmac_key(s, d["effective_domain"]).hex(),
                "siv_key_hex": siv_key(s, d["effective_domain"]).hex(),
            }
            for name, s in SECRETS.items()
            for d in domains
        ],
        "cases": cases(domains),
        "decrypt": decrypt_must_fail(domains),
        "not_keyed": [{"b": 1, "a": 2}, [1, "2"], {}, []],
        "default_normalisation": default_entries(),
        "input_fingerprints": fingerprint_entries(domains),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("pseudonyms.json")
    text = json.dumps(vectors(), indent=1, ensure_ascii=False) + "\n"
    out.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
