"""Key files: modes, no overwrite, passphrase handling, key ids, age identities, sealing."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519

from ketenx.errors import (
    ExitCode,
    KetenxError,
    KeyMaterialError,
    OperationalError,
    VerificationError,
)
from ketenx.exchange.seal import decrypt_stream, encrypt_stream
from ketenx.storage.keys import (
    key_id,
    load_age_identity,
    load_age_recipient,
    load_private_key,
    load_public_key,
    new_age_identity,
    new_signing_key,
    parse_age_recipient,
    passphrase_from_env,
    public_key_pem,
)

PASS = b"correct horse battery staple 7f3a"
FIXED = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture(autouse=True)
def _private_umask():
    """Key files these tests write by hand are private (0600), as ketenx requires."""
    old = os.umask(0o077)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_signing_key_files_and_modes(tmp_path: Path) -> None:
    key_path, pub_path = new_signing_key(tmp_path / "dept.v2", PASS)
    assert key_path == tmp_path / "dept.v2.key"
    assert pub_path == tmp_path / "dept.v2.pub"
    assert _mode(key_path) == 0o600
    assert _mode(pub_path) == 0o644
    assert key_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert pub_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    private = load_private_key(key_path, PASS)
    assert key_id(private.public_key()) == key_id(load_public_key(pub_path))


def test_modes_do_not_depend_on_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        _, pub_path = new_signing_key(tmp_path / "k", PASS)
    finally:
        os.umask(old)
    assert _mode(pub_path) == 0o644


@pytest.mark.parametrize("existing", [".key", ".pub"])
def test_overwrite_is_refused(tmp_path: Path, existing: str) -> None:
    victim = tmp_path / f"k{existing}"
    victim.write_bytes(b"keep me")
    with pytest.raises(KeyMaterialError, match="already exists"):
        new_signing_key(tmp_path / "k", PASS)
    assert victim.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [victim.name]


def test_overwrite_via_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "k.key").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(KeyMaterialError, match="already exists"):
        new_signing_key(tmp_path / "k", PASS)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("passphrase", [None, b""])
def test_missing_passphrase_is_refused(tmp_path: Path, passphrase: bytes | None) -> None:
    with pytest.raises(KeyMaterialError, match="without a passphrase") as info:
        new_signing_key(tmp_path / "k", passphrase)
    assert info.value.exit_code == ExitCode.OPERATIONAL
    assert list(tmp_path.iterdir()) == []


def test_unsafe_no_passphrase_is_explicit(tmp_path: Path) -> None:
    key_path, _ = new_signing_key(tmp_path / "k", None, unsafe_no_passphrase=True)
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert _mode(key_path) == 0o600
    load_private_key(key_path, None)
    load_private_key(key_path, PASS)  # a passphrase for a clear key is ignored
    with pytest.raises(KeyMaterialError, match="together with"):
        new_signing_key(tmp_path / "k2", PASS, unsafe_no_passphrase=True)


def test_missing_parent_directory_is_created_private(tmp_path: Path) -> None:
    key_path, _ = new_signing_key(tmp_path / "nope" / "k", PASS)
    assert key_path.exists() and stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700


def test_a_file_in_the_way_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(KetenxError, match=r"not a folder|cannot create"):
        new_signing_key(tmp_path / "file" / "k", PASS)


def test_wrong_passphrase_leaks_nothing(tmp_path: Path) -> None:
    key_path, _ = new_signing_key(tmp_path / "k", PASS)
    secret_pem = key_path.read_text()
    raw = load_private_key(key_path, PASS).private_bytes_raw()
    wrong = b"Tr0ub4dor&3-wrong-passphrase"
    with pytest.raises(KeyMaterialError) as info:
        load_private_key(key_path, wrong)
    err = info.value
    text = err.diagnostics()
    assert text == f"{key_path}: wrong passphrase or corrupt key file"
    for secret in (wrong, PASS):
        assert secret.decode() not in text
    assert raw.hex() not in text
    for line in secret_pem.splitlines()[1:-1]:
        assert line not in text
    assert err.__cause__ is None
    assert err.__suppress_context__


def test_passphrase_needed(tmp_path: Path) -> None:
    key_path, _ = new_signing_key(tmp_path / "k", PASS)
    with pytest.raises(KeyMaterialError, match="no passphrase was given") as info:
        load_private_key(key_path, None)
    assert info.value.hint is not None and "KETENX_PASSPHRASE" in info.value.hint


def test_load_private_key_errors(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match="not found"):
        load_private_key(tmp_path / "absent.key", PASS)
    with pytest.raises(KeyMaterialError, match="directory"):
        load_private_key(tmp_path, PASS)
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"not a key")
    with pytest.raises(KeyMaterialError, match="not a PEM private key"):
        load_private_key(garbage, PASS)
    corrupt = tmp_path / "corrupt.key"
    corrupt.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyMaterialError, match="corrupt"):
        load_private_key(corrupt, None)
    ec = tmp_path / "ec.key"
    ec.write_bytes(
        generate_private_key(SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASS),
        )
    )
    with pytest.raises(KeyMaterialError, match="not an Ed25519 private key"):
        load_private_key(ec, PASS)


def test_load_public_key_forms_and_errors(tmp_path: Path) -> None:
    pem = public_key_pem(FIXED.public_key())
    path = tmp_path / "k.pub"
    path.write_bytes(pem)
    expected = key_id(FIXED.public_key())
    assert key_id(load_public_key(path)) == expected
    assert key_id(load_public_key(str(path))) == expected
    assert key_id(load_public_key(pem)) == expected
    assert key_id(load_public_key(pem.decode())) == expected
    with pytest.raises(KeyMaterialError, match="not found"):
        load_public_key(tmp_path / "absent.pub")
    with pytest.raises(KeyMaterialError, match="not a PEM public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    ec_pem = (
        generate_private_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyMaterialError, match="not an Ed25519 public key"):
        load_public_key(ec_pem)


def test_key_id_format_and_stability() -> None:
    kid = key_id(FIXED.public_key())
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", kid)
    # Known answer: SHA-256 over the 44-byte DER SPKI of the RFC 8032-style fixed key.
    der = bytes.fromhex("302a300506032b6570032100") + FIXED.public_key().public_bytes_raw()
    assert kid == "sha256:" + hashlib.sha256(der).hexdigest()
    assert kid == key_id(load_public_key(public_key_pem(FIXED.public_key())))
    assert kid != key_id(Ed25519PrivateKey.generate().public_key())


def test_passphrase_from_env() -> None:
    assert passphrase_from_env({}) is None
    assert passphrase_from_env({"KETENX_PASSPHRASE": ""}) is None
    assert passphrase_from_env({"KETENX_PASSPHRASE": "geheim é"}) == "geheim é".encode()
    raw = os.fsdecode(b"\xff\xfe")
    assert passphrase_from_env({"KETENX_PASSPHRASE": raw}) == b"\xff\xfe"


# --- age identities ----------------------------------------------------------------------

_AGE_FILE = re.compile(
    r"# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\n"
    r"# public key: (age1[02-9ac-hj-np-z]{58})\n"
    r"(AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58})\n"
)


def test_age_identity_files(tmp_path: Path) -> None:
    identity_path, recipient_path = new_age_identity(tmp_path / "ontvanger")
    assert identity_path.name == "ontvanger.age"
    assert recipient_path.name == "ontvanger.age.pub"
    assert _mode(identity_path) == 0o600
    assert _mode(recipient_path) == 0o644
    match = _AGE_FILE.fullmatch(identity_path.read_text())
    assert match, identity_path.read_text()
    assert recipient_path.read_text() == match.group(2) + "\n"
    identity = load_age_identity(identity_path)
    assert str(identity.to_public()) == match.group(2)
    assert load_age_recipient(recipient_path) == match.group(2)
    with pytest.raises(KeyMaterialError, match="already exists"):
        new_age_identity(tmp_path / "ontvanger")


def test_age_identity_accepts_comments_and_blank_lines(tmp_path: Path) -> None:
    identity_path, _ = new_age_identity(tmp_path / "a")
    secret = identity_path.read_text().splitlines()[-1]
    other = tmp_path / "other.txt"
    other.write_text(f"\n# a comment\n\n  {secret}\r\n# trailing\n")
    assert str(load_age_identity(other).to_public()) == str(
        load_age_identity(identity_path).to_public()
    )


def test_age_identity_errors_never_echo_the_secret(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match="not found"):
        load_age_identity(tmp_path / "absent.age")
    identity_path, _ = new_age_identity(tmp_path / "a")
    secret = identity_path.read_text().splitlines()[-1]
    cases = {
        "empty": "# only comments\n",
        "damaged": secret[:-1] + ("Q" if secret[-1] != "Q" else "P") + "\n",
        "lower": secret.lower() + "\n",
        "two": f"{secret}\n{secret}\n",
        "other": "ssh-ed25519 AAAA\n",
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.age"
        path.write_text(text)
        with pytest.raises(KeyMaterialError) as info:
            load_age_identity(path)
        message = info.value.diagnostics()
        assert str(path) in message
        assert secret[20:] not in message.upper(), name
    binary = tmp_path / "bin.age"
    binary.write_bytes(b"\xff\x00")
    with pytest.raises(KeyMaterialError, match="not ASCII"):
        load_age_identity(binary)


def test_parse_age_recipient(tmp_path: Path) -> None:
    _, recipient_path = new_age_identity(tmp_path / "a")
    recipient = recipient_path.read_text().strip()
    assert parse_age_recipient(recipient) == recipient
    assert parse_age_recipient(f"# comment\n{recipient.upper()}\n") == recipient
    mixed = recipient[:10] + recipient[10:].upper()
    bad = [
        "",
        "age1xyz",
        mixed,
        recipient[:-1] + ("q" if recipient[-1] != "q" else "p"),
        f"{recipient}\n{recipient}",
    ]
    for text in bad:
        with pytest.raises(KeyMaterialError):
            parse_age_recipient(text)
    secret = (tmp_path / "a.age").read_text().splitlines()[-1]
    with pytest.raises(KeyMaterialError, match="not an age X25519 recipient") as info:
        parse_age_recipient(secret)
    assert secret not in info.value.diagnostics()


# --- sealing to these identities (ketenx.exchange.seal) -------------------------------------------
# (Kept here because this task owns only these test files; a tests/unit/test_seal.py would
# be the natural home.)

PLAIN = bytes(range(256)) * 600  # 150 KiB: three age STREAM chunks


@pytest.fixture
def age_pair(tmp_path: Path) -> tuple[object, str]:
    identity_path, recipient_path = new_age_identity(tmp_path / "r")
    return load_age_identity(identity_path), load_age_recipient(recipient_path)


def _seal(data: bytes, recipients: list[str]) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, recipients)
    return out.getvalue()


def _open(data: bytes, identity: object) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, identity)
    return out.getvalue()


def test_seal_round_trip(age_pair: tuple[object, str]) -> None:
    identity, recipient = age_pair
    other = str(x25519.Identity.generate().to_public())
    for data in (b"", b"x", PLAIN):
        sealed = _seal(data, [other, recipient])
        assert sealed.startswith(b"age-encryption.org/v1\n")
        assert _open(sealed, identity) == data
        assert _open(sealed, str(identity)) == data  # identity text works too


def test_seal_recipient_and_identity_errors(age_pair: tuple[object, str]) -> None:
    _identity, recipient = age_pair
    with pytest.raises(KeyMaterialError, match="no age recipients"):
        _seal(b"x", [])
    with pytest.raises(KeyMaterialError, match="recipient 1"):
        _seal(b"x", [recipient, "age1notvalid"])
    with pytest.raises(TypeError):
        encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), recipient)
    sealed = _seal(b"x", [recipient])
    with pytest.raises(KeyMaterialError, match="malformed age identity"):
        _open(sealed, "AGE-SECRET-KEY-1QQQQ")
    with pytest.raises(KeyMaterialError):
        _open(sealed, 42)


def test_unseal_failures_are_verification_errors(age_pair: tuple[object, str]) -> None:
    identity, recipient = age_pair
    sealed = _seal(PLAIN, [recipient])
    header_end = sealed.index(b"\n--- ") + 1
    with pytest.raises(VerificationError, match="not encrypted to this identity"):
        _open(sealed, x25519.Identity.generate())
    cases = {
        "truncated": sealed[:-10],
        "cut at header": sealed[: header_end + 20],
        "payload flipped": sealed[:-100] + bytes([sealed[-100] ^ 1]) + sealed[-99:],
        "mac flipped": sealed[: header_end + 10]
        + bytes([sealed[header_end + 10] ^ 1])
        + sealed[header_end + 11 :],
        "not age": b"hello, plain text\n",
        "empty": b"",
        "version": sealed.replace(b"age-encryption.org/v1", b"age-encryption.org/v2", 1),
    }
    for name, data in cases.items():
        with pytest.raises(VerificationError) as info:
            _open(data, identity)
        assert info.value.exit_code == ExitCode.REJECTED, name
        assert "\n" not in info.value.message


class _Failing(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise OSError(5, "Input/output error")

    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


def test_io_errors_are_operational_not_verification(age_pair: tuple[object, str]) -> None:
    identity, recipient = age_pair
    sealed = _seal(PLAIN, [recipient])
    for call in (
        lambda: encrypt_stream(_Failing(), io.BytesIO(), [recipient]),  # type: ignore[arg-type]
        lambda: encrypt_stream(io.BytesIO(PLAIN), _Failing(), [recipient]),  # type: ignore[arg-type]
        lambda: decrypt_stream(_Failing(), io.BytesIO(), identity),  # type: ignore[arg-type]
        lambda: decrypt_stream(io.BytesIO(sealed), _Failing(), identity),  # type: ignore[arg-type]
    ):
        with pytest.raises(OperationalError, match="failed: ") as info:
            call()
        assert not isinstance(info.value, VerificationError)
        assert info.value.exit_code == ExitCode.OPERATIONAL
