"""Interop of ketenx's DSSE, key files and age encryption with independent implementations.

* securesystemslib: the reference DSSE implementation (``securesystemslib.dsse.Envelope``).
* openssl: Ed25519 over the PAE, and ketenx's encrypted PKCS#8 key file.
* the ``age`` / ``age-keygen`` command-line tools (Debian package ``age``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ketenx.errors import VerificationError
from ketenx.exchange.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    make_statement,
    pae,
    parse_statement,
    sign_envelope,
    sign_statement,
    statement_bytes,
    verify_envelope,
)
from ketenx.exchange.seal import decrypt_stream, encrypt_stream
from ketenx.storage.keys import (
    key_id,
    load_age_identity,
    load_private_key,
    load_public_key,
    new_age_identity,
    new_signing_key,
)

pytestmark = pytest.mark.interop

PT = IN_TOTO_PAYLOAD_TYPE
PASS = b"interop passphrase 42"
# More than two 64 KiB age STREAM chunks, with a partial last chunk.
BIG = hashlib.sha256(b"seed").digest() * (200_000 // 32) + b"tail"


def encrypt_file(src: Path, dst: Path, recipients: list[str]) -> None:
    with src.open("rb") as source, dst.open("xb") as target:
        encrypt_stream(source, target, recipients)


def decrypt_file(src: Path, dst: Path, identity: object) -> None:
    with src.open("rb") as source, dst.open("xb") as target:
        decrypt_stream(source, target, identity)


def _statement_payload() -> bytes:
    statement = make_statement(
        [("levering.csv", hashlib.sha256(b"rows").hexdigest())],
        "https://ketenx.example/delivery/v1",
        {"rows": 3, "contract": "sha256:" + "0" * 64},
    )
    return statement_bytes(statement)


# --- securesystemslib ------------------------------------------------------------------


def test_securesystemslib_verifies_a_ketenx_envelope() -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    private = Ed25519PrivateKey.generate()
    kid = key_id(private.public_key())
    payload = _statement_payload()
    envelope = sign_envelope(payload, PT, private, kid)

    # securesystemslib only tries keys whose keyid matches the signature's (its issue
    # #416), so give the reference key ketenx's key id.
    reference_key = SSlibKey.from_crypto(private.public_key(), keyid=kid)
    parsed = Envelope.from_dict(copy.deepcopy(envelope))
    assert parsed.payload == payload
    assert parsed.pae() == pae(PT, payload)
    accepted = parsed.verify([reference_key], 1)
    assert list(accepted) == [kid]

    # And it rejects a tampered one.
    tampered = copy.deepcopy(envelope)
    tampered["payload"] = base64.b64encode(payload + b" ").decode()
    from securesystemslib.exceptions import VerificationError as SslibVerificationError

    with pytest.raises(SslibVerificationError):
        Envelope.from_dict(tampered).verify([reference_key], 1)


def test_ketenx_verifies_a_securesystemslib_envelope() -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner, SSlibKey

    private = Ed25519PrivateKey.generate()
    signer = CryptoSigner(private, SSlibKey.from_crypto(private.public_key(), keyid="sslib-id"))
    payload = _statement_payload()
    reference = Envelope(payload, PT, {})
    reference.sign(signer)
    envelope = reference.to_dict()

    result = verify_envelope(envelope, [private.public_key()], PT)
    assert result.payload == payload
    assert parse_statement(result.payload)["predicate"]["rows"] == 3

    other = Ed25519PrivateKey.generate()
    with pytest.raises(VerificationError):
        verify_envelope(envelope, [other.public_key()], PT)


def test_securesystemslib_and_ketenx_signatures_are_identical() -> None:
    # Ed25519 is deterministic: both implementations must sign the same PAE bytes.
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner, SSlibKey

    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    kid = key_id(private.public_key())
    payload = b'{"hello":"world"}'
    reference = Envelope(payload, PT, {})
    reference.sign(CryptoSigner(private, SSlibKey.from_crypto(private.public_key(), keyid=kid)))
    assert reference.to_dict() == sign_envelope(payload, PT, private, kid)


# --- openssl ----------------------------------------------------------------------------


def _openssl() -> str:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("openssl not installed")
    probe = subprocess.run(
        [exe, "pkeyutl", "-help"], capture_output=True, text=True, check=False, timeout=30
    )
    if "-rawin" not in probe.stdout + probe.stderr:
        pytest.skip("openssl too old for Ed25519 with pkeyutl -rawin (needs OpenSSL 3)")
    return exe


def test_openssl_verifies_ketenx_signature_over_pae(tmp_path: Path) -> None:
    openssl = _openssl()
    key_path, pub_path = new_signing_key(tmp_path / "signer", PASS)
    private = load_private_key(key_path, PASS)
    payload = _statement_payload()
    envelope = sign_statement(parse_statement(payload), private, key_id(private.public_key()))

    (tmp_path / "pae.bin").write_bytes(pae(envelope["payloadType"], payload))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))
    verify = [
        openssl,
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(pub_path),
        "-rawin",
        "-in",
        str(tmp_path / "pae.bin"),
        "-sigfile",
        str(tmp_path / "sig.bin"),
    ]
    ok = subprocess.run(verify, capture_output=True, text=True, check=False, timeout=30)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    (tmp_path / "pae.bin").write_bytes(pae(envelope["payloadType"], payload + b" "))
    bad = subprocess.run(verify, capture_output=True, text=True, check=False, timeout=30)
    assert bad.returncode != 0


def test_openssl_reads_the_kdf_parameters_and_opens_the_key_file(tmp_path: Path) -> None:
    """The default key file, parsed by `openssl asn1parse`: PBES2 with PBKDF2-HMAC-SHA256 at
    600,000 iterations and AES-256-CBC; `openssl pkey` opens it and derives the same public key,
    and refuses a wrong passphrase."""
    openssl = _openssl()
    key_path, pub_path = new_signing_key(tmp_path / "signer", PASS)
    parsed = subprocess.run(
        [openssl, "asn1parse", "-in", str(key_path)],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    lines = [line.split(":", 3)[-1].strip() for line in parsed.splitlines()]
    for name in (":PBES2", ":PBKDF2", ":hmacWithSHA256", ":aes-256-cbc"):
        assert any(line.endswith(name) for line in parsed.splitlines()), name
    integers = [int(line.split(":")[-1], 16) for line in parsed.splitlines() if "INTEGER" in line]
    assert integers == [600_000], lines
    opened = subprocess.run(
        [openssl, "pkey", "-in", str(key_path), "-passin", "env:KX_PASS", "-pubout"],
        capture_output=True, check=False, timeout=60, env={**os.environ, "KX_PASS": PASS.decode()},
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == pub_path.read_bytes()
    wrong = subprocess.run(
        [openssl, "pkey", "-in", str(key_path), "-passin", "pass:wrong", "-noout"],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert wrong.returncode != 0


def test_openssl_signs_with_a_ketenx_key_file_and_ketenx_verifies(tmp_path: Path) -> None:
    openssl = _openssl()
    key_path, pub_path = new_signing_key(tmp_path / "signer", PASS)
    payload = b'{"made":"by openssl"}'
    (tmp_path / "pae.bin").write_bytes(pae(PT, payload))
    result = subprocess.run(
        [
            openssl,
            "pkeyutl",
            "-sign",
            "-inkey",
            str(key_path),
            "-passin",
            "env:KETENX_TEST_PASS",
            "-rawin",
            "-in",
            str(tmp_path / "pae.bin"),
            "-out",
            str(tmp_path / "sig.bin"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env={**os.environ, "KETENX_TEST_PASS": PASS.decode()},
    )
    assert result.returncode == 0, result.stderr
    envelope = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": PT,
        "signatures": [{"sig": base64.b64encode((tmp_path / "sig.bin").read_bytes()).decode()}],
    }
    verified = verify_envelope(envelope, [load_public_key(pub_path)], PT)
    assert verified.payload == payload


# --- the age command-line tool ----------------------------------------------------------


def _age() -> str:
    exe = shutil.which("age")
    if exe is None:
        pytest.skip("age CLI not installed: run `apt-get install age`")
    return exe


def _run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, check=False, timeout=60, stdin=None
    )


def test_age_decrypts_what_ketenx_encrypts(tmp_path: Path) -> None:
    age = _age()
    identity_path, recipient_path = new_age_identity(tmp_path / "ontvanger")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(BIG)
    sealed = tmp_path / "plain.bin.age"
    encrypt_file(plain, sealed, [recipient_path.read_text().strip()])
    assert sealed.read_bytes().startswith(b"age-encryption.org/v1\n-> X25519 ")

    out = tmp_path / "out.bin"
    result = _run(age, "-d", "-i", identity_path, "-o", out, sealed)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == BIG


def test_ketenx_decrypts_what_age_encrypts(tmp_path: Path) -> None:
    age = _age()
    identity_path, recipient_path = new_age_identity(tmp_path / "ontvanger")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(BIG)
    recipient = recipient_path.read_text().strip()
    for armor in ([], ["-a"]):
        sealed = tmp_path / f"sealed{len(armor)}.age"
        result = _run(age, *armor, "-r", recipient, "-o", sealed, plain)
        assert result.returncode == 0, result.stderr
        out = tmp_path / f"out{len(armor)}.bin"
        decrypt_file(sealed, out, load_age_identity(identity_path))
        assert out.read_bytes() == BIG


def test_ketenx_identity_file_is_an_age_identity_file(tmp_path: Path) -> None:
    age = _age()
    identity_path, recipient_path = new_age_identity(tmp_path / "ontvanger")
    keygen = shutil.which("age-keygen")
    if keygen is not None:
        shown = _run(keygen, "-y", identity_path)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.decode() == recipient_path.read_text()

    # age encrypts to the identity file's own recipient with -i, and decrypts with it.
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"hallo keten\n")
    sealed = tmp_path / "plain.txt.age"
    assert _run(age, "-e", "-i", identity_path, "-o", sealed, plain).returncode == 0
    out = tmp_path / "out.txt"
    decrypt_file(sealed, out, load_age_identity(identity_path))
    assert out.read_bytes() == b"hallo keten\n"


def test_ketenx_loads_an_age_keygen_identity(tmp_path: Path) -> None:
    age = _age()
    keygen = shutil.which("age-keygen")
    if keygen is None:
        pytest.skip("age-keygen not installed: run `apt-get install age`")
    identity_path = tmp_path / "keygen.age"
    made = _run(keygen, "-o", identity_path)
    assert made.returncode == 0, made.stderr
    identity = load_age_identity(identity_path)
    recipient = str(identity.to_public())
    assert f"# public key: {recipient}\n" in identity_path.read_text()

    plain = tmp_path / "p.bin"
    plain.write_bytes(BIG[:1000])
    sealed = tmp_path / "p.bin.age"
    encrypt_file(plain, sealed, [recipient])
    result = _run(age, "-d", "-i", identity_path, sealed)
    assert result.returncode == 0, result.stderr
    assert result.stdout == BIG[:1000]


def test_age_refuses_and_ketenx_refuses_the_wrong_identity(tmp_path: Path) -> None:
    age = _age()
    right, right_pub = new_age_identity(tmp_path / "right")
    wrong, _ = new_age_identity(tmp_path / "wrong")
    plain = tmp_path / "p.bin"
    plain.write_bytes(b"x" * 100)
    sealed = tmp_path / "p.age"
    with plain.open("rb") as src, sealed.open("wb") as dst:
        encrypt_stream(src, dst, [right_pub.read_text().strip()])
    assert _run(age, "-d", "-i", wrong, sealed).returncode != 0
    with (
        sealed.open("rb") as src,
        (tmp_path / "out").open("wb") as dst,
        pytest.raises(VerificationError, match="not encrypted to this identity"),
    ):
        decrypt_stream(src, dst, load_age_identity(wrong))
    assert _run(age, "-d", "-i", right, sealed).stdout == b"x" * 100
