"""Key files: Ed25519 signing keys (PKCS#8 / SPKI PEM) and age X25519 identities.

Private files are created with ``O_EXCL`` and mode 0600 and never overwritten. Errors are
:class:`KeyMaterialError` with a one-line message that names the file only: never the
passphrase, never key bytes, never a traceback text.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pyrage import x25519

from ..errors import KeyMaterialError
from ..rfc3339 import text as rfc3339_text
from .fileio import make_folder, write_new
from .secrets import refuse_key_material

PASSPHRASE_ENV = "KETENX_PASSPHRASE"  # noqa: S105 (the variable name, not a secret)

_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644
#: Key files are small; anything larger is not a key file (and is not read into memory).
_MAX_KEY_FILE = 64 * 1024


# --- Ed25519 signing keys ------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the DER SubjectPublicKeyInfo of ``public_key``."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """The SubjectPublicKeyInfo PEM of ``public_key`` (the content of a ``.pub`` file)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _sibling(name_prefix: Path, suffix: str) -> Path:
    # Not with_suffix: a prefix such as "dept.v2" must stay intact.
    return name_prefix.with_name(name_prefix.name + suffix)


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if os.path.lexists(path):
            raise KeyMaterialError(
                f"{path} already exists; refusing to overwrite a key file",
                hint="choose another name or move the existing file away first",
            )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` exclusively with ``mode`` (exactly, regardless of umask)."""
    make_folder(path.parent, mode=0o700)  # a new folder for keys is private
    try:
        write_new(path, data, mode)
    except FileExistsError:
        raise KeyMaterialError(f"{path} already exists; refusing to overwrite a key file") from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot write key file: {exc.strerror}") from None


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018): PBKDF2-HMAC-SHA256 and AES-256-CBC.
# cryptography's BestAvailableEncryption writes the same structure with only 2,048 PBKDF2
# iterations, and (version 46) offers no PKCS#8 builder with a settable count: so the few DER
# bytes are written here, and read back by cryptography / OpenSSL (`openssl pkey`).
PBKDF2_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
_OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
_OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
_OID_HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")
_DER_NULL = b"\x05\x00"


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_sequence(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def encrypted_pkcs8_pem(
    private_key: Ed25519PrivateKey, passphrase: bytes, *, iterations: int = PBKDF2_ITERATIONS
) -> bytes:
    """``private_key`` as an ``ENCRYPTED PRIVATE KEY`` PEM (PKCS#8, RFC 5958): PBES2 with
    PBKDF2-HMAC-SHA256 (``iterations``, 16-byte random salt) and AES-256-CBC (random IV).
    OpenSSL opens it: ``openssl pkey -in NAME.key``."""
    salt, iv = os.urandom(16), os.urandom(16)
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations)
    plain = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(kdf.derive(passphrase)), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    pbkdf2 = _der_sequence(
        _OID_PBKDF2,
        _der_sequence(
            _der(0x04, salt), _der_integer(iterations), _der_sequence(_OID_HMAC_SHA256, _DER_NULL)
        ),
    )
    scheme = _der_sequence(_OID_AES256_CBC, _der(0x04, iv))
    der = _der_sequence(
        _der_sequence(_OID_PBES2, _der_sequence(pbkdf2, scheme)), _der(0x04, encrypted)
    )
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + lines
        + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )


def new_signing_key(
    name_prefix: Path,
    passphrase: bytes | None,
    *,
    unsafe_no_passphrase: bool = False,
    _kdf_iterations: int = PBKDF2_ITERATIONS,
) -> tuple[Path, Path]:
    """Write a new Ed25519 key pair as ``NAME.key`` (0600) and ``NAME.pub`` (0644).

    The private key is PKCS#8 PEM encrypted with ``passphrase`` (:func:`encrypted_pkcs8_pem`;
    ``_kdf_iterations`` lowers the work factor for tests only). Without a passphrase the
    key is written in the clear only when ``unsafe_no_passphrase=True``. Existing files are
    never overwritten. Returns ``(key_path, pub_path)``.
    """
    refuse_key_material(name_prefix, "key name", new=True)
    name_prefix = Path(name_prefix)
    if unsafe_no_passphrase:
        if passphrase:
            raise KeyMaterialError("a passphrase was given together with unsafe_no_passphrase")
    else:
        if not passphrase:
            raise KeyMaterialError(
                "refusing to write a signing key without a passphrase",
                hint=f"set {PASSPHRASE_ENV}, or explicitly ask for an unencrypted key",
            )

    key_path = _sibling(name_prefix, ".key")
    pub_path = _sibling(name_prefix, ".pub")
    _refuse_existing(key_path, pub_path)

    private_key = Ed25519PrivateKey.generate()
    if passphrase:
        private_pem = encrypted_pkcs8_pem(private_key, passphrase, iterations=_kdf_iterations)
    else:
        private_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    _write_new(key_path, private_pem, _PRIVATE_MODE)
    try:
        _write_new(pub_path, public_key_pem(private_key.public_key()), _PUBLIC_MODE)
    except KeyMaterialError:
        _unlink_quietly(key_path)
        raise
    return key_path, pub_path


def _refuse_shared(path: Path, what: str) -> None:
    """A private key or identity readable or writable by group or others is refused."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # reading reports it
    if stat.S_ISREG(mode) and mode & 0o077:
        raise KeyMaterialError(
            f"{path}: the {what} file is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o})",
            hint=f"chmod 600 {path}",
        )


def _read_key_file(
    path: Path, what: str, *, private: bool = False, shown: str | None = None
) -> bytes:
    """The bytes of a key file; messages name it as ``shown`` (default: the path)."""
    if shown is None:
        refuse_key_material(path, what)
        shown = str(path)
    if "\0" in str(path):  # no file has such a name (a document may hold one)
        raise KeyMaterialError(f"{shown}: {what} file not found (the name holds a NUL character)")
    if private:
        _refuse_shared(path, what)
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise KeyMaterialError(f"{shown}: {what} file not found") from None
    except IsADirectoryError:
        raise KeyMaterialError(f"{shown}: is a directory, not a {what} file") from None
    except OSError as exc:
        raise KeyMaterialError(f"{shown}: cannot read {what} file: {exc.strerror}") from None
    if len(data) > _MAX_KEY_FILE:
        raise KeyMaterialError(f"{shown}: too large to be a {what} file")
    return data


def load_private_key(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from a PKCS#8 PEM file, decrypting with ``passphrase``."""
    path = Path(path)
    data = _read_key_file(path, "private key", private=True)
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    if b"PRIVATE KEY-----" not in data:
        raise KeyMaterialError(f"{path}: not a PEM private key file")
    if encrypted and not passphrase:
        raise KeyMaterialError(
            f"{path}: the private key is encrypted and no passphrase was given",
            hint=f"set {PASSPHRASE_ENV}",
        )
    try:
        # A passphrase given for an unencrypted key is ignored, not an error.
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except UnsupportedAlgorithm:
        raise KeyMaterialError(f"{path}: unsupported private key type or encryption") from None
    except (ValueError, TypeError):
        if encrypted:
            raise KeyMaterialError(f"{path}: wrong passphrase or corrupt key file") from None
        raise KeyMaterialError(f"{path}: corrupt or unsupported private key file") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyMaterialError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(
    path_or_pem: Path | str | bytes, *, shown: str | None = None
) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a SubjectPublicKeyInfo PEM file or PEM text.

    A :class:`~pathlib.Path` is read as a file; ``bytes`` are PEM; a ``str`` is PEM when it
    contains a PEM header and a file path otherwise. Messages name the key as ``shown``
    (default: the path, or "public key"). Small-order and non-canonical keys are refused
    (:func:`weak_public_key_problem`).
    """
    if isinstance(path_or_pem, bytes):
        where, data = shown or "public key", path_or_pem
    elif isinstance(path_or_pem, str) and "-----BEGIN" in path_or_pem:
        where, data = shown or "public key", path_or_pem.encode("utf-8")
    else:
        path = Path(path_or_pem)
        data = _read_key_file(path, "public key", shown=shown)
        where = shown or str(path)
    try:
        key = serialization.load_pem_public_key(data)
    except UnsupportedAlgorithm:
        raise KeyMaterialError(f"{where}: unsupported public key type") from None
    except (ValueError, TypeError):
        raise KeyMaterialError(f"{where}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMaterialError(f"{where}: not an Ed25519 public key")
    weak = weak_public_key_problem(key.public_bytes_raw())
    if weak is not None:
        raise KeyMaterialError(f"{where}: {weak}")
    return key


# The field prime of Curve25519 and the y coordinates of the eight points of small order
# (RFC 8032 §5.1; order 1: y = 1; order 2: y = −1; order 4: y = 0; order 8: ±y8).
_P = 2**255 - 19
_Y8 = 0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7
_SMALL_ORDER_Y = frozenset({0, 1, _P - 1, _Y8, _P - _Y8})


def weak_public_key_problem(raw: bytes) -> str | None:
    """Why the 32-byte Ed25519 public key ``raw`` must not be trusted, or ``None``.

    A key of small order (such as the identity point, for which ``R = identity, S = 0``
    verifies every message under a permissive verifier) or a non-canonical encoding (y ≥ p)
    is refused. The small-order points are exactly those whose y is 0, 1, −1 or ±y8, with
    either sign bit."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P:
        return "not a canonical Ed25519 public key (y is not below the field prime)"
    if y in _SMALL_ORDER_Y:
        return "an Ed25519 public key of small order (it would let anyone forge signatures)"
    return None


def passphrase_from_env(environ: Mapping[str, str]) -> bytes | None:
    """The passphrase in ``KETENX_PASSPHRASE`` as bytes; ``None`` when unset or empty."""
    value = environ.get(PASSPHRASE_ENV)
    if not value:
        return None
    # surrogateescape round-trips the raw bytes os.environ decoded on POSIX.
    return value.encode("utf-8", "surrogateescape")


# --- age X25519 identities -------------------------------------------------------------


def _rfc3339_now() -> str:
    """Local time with offset to the second, as ``age-keygen`` writes (``Z`` for UTC)."""
    return rfc3339_text(_dt.datetime.now().astimezone(), utc=False, timespec="seconds")


def new_age_identity(name_prefix: Path) -> tuple[Path, Path]:
    """Write a new age X25519 identity as ``NAME.age`` (0600) and ``NAME.age.pub`` (0644).

    ``NAME.age`` has exactly the text form ``age-keygen`` writes, so ``age -d -i NAME.age``
    works on it directly. Returns ``(identity_path, recipient_path)``.
    """
    refuse_key_material(name_prefix, "identity name", new=True)
    name_prefix = Path(name_prefix)
    identity_path = _sibling(name_prefix, ".age")
    recipient_path = _sibling(name_prefix, ".age.pub")
    _refuse_existing(identity_path, recipient_path)

    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    text = f"# created: {_rfc3339_now()}\n# public key: {recipient}\n{identity}\n"
    _write_new(identity_path, text.encode("ascii"), _PRIVATE_MODE)
    try:
        _write_new(recipient_path, f"{recipient}\n".encode("ascii"), _PUBLIC_MODE)
    except KeyMaterialError:
        _unlink_quietly(identity_path)
        raise
    return identity_path, recipient_path


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty, non-comment lines with their 1-based line numbers (age's file syntax)."""
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def parse_age_identity(text: str, *, where: str = "age identity") -> Any:
    """Parse identity file text (comment lines allowed) to one ``pyrage.x25519.Identity``."""
    lines = _content_lines(text)
    if not lines:
        raise KeyMaterialError(f"{where}: no age identity found")
    if len(lines) > 1:
        raise KeyMaterialError(f"{where}: holds more than one age identity; give exactly one")
    number, line = lines[0]
    if not line.startswith("AGE-SECRET-KEY-1"):
        # Never echo the line: it may be secret.
        raise KeyMaterialError(f"{where}: line {number} is not an age X25519 identity")
    try:
        return x25519.Identity.from_str(line)
    except Exception:
        raise KeyMaterialError(f"{where}: line {number} is a malformed age identity") from None


def load_age_identity(path: Path) -> Any:
    """Load the age X25519 identity in ``path`` (as written by ``age-keygen`` or ketenx)."""
    path = Path(path)
    data = _read_key_file(path, "age identity", private=True)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyMaterialError(f"{path}: not an age identity file (not ASCII text)") from None
    return parse_age_identity(text, where=str(path))


def parse_age_recipient(text: str) -> str:
    """Validate one age X25519 recipient (``age1…``), e.g. a ``.age.pub`` file's content.

    Comment and blank lines are ignored. Returns the recipient in canonical lower case.
    """
    lines = _content_lines(text)
    if len(lines) != 1:
        raise KeyMaterialError("expected exactly one age recipient (age1…)")
    _number, line = lines[0]
    if line not in (line.lower(), line.upper()):  # bech32 forbids mixed case
        raise KeyMaterialError("malformed age recipient (age1…)")
    candidate = line.lower()
    if not candidate.startswith("age1"):
        raise KeyMaterialError("not an age X25519 recipient (age1…)")
    try:
        x25519.Recipient.from_str(candidate)
    except Exception:
        raise KeyMaterialError("malformed age recipient (age1…)") from None
    return candidate


def load_age_recipient(path: Path) -> str:
    """Read and validate the single age recipient in ``path`` (a ``.age.pub`` file)."""
    path = Path(path)
    data = _read_key_file(path, "age recipient")
    try:
        return parse_age_recipient(data.decode("ascii"))
    except UnicodeDecodeError:
        raise KeyMaterialError(f"{path}: not an age recipient file (not ASCII text)") from None
    except KeyMaterialError as exc:
        raise KeyMaterialError(f"{path}: {exc.message}") from None
