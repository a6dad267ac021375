"""Key material given where a path belongs is refused unseen; weak registry keys are refused;
private keys are written with a strong KDF; `git` gets a minimal environment."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.contract.document import read_document, read_structured
from ketenx.errors import ContractError, KeyMaterialError
from ketenx.storage.keys import (
    PBKDF2_ITERATIONS,
    encrypted_pkcs8_pem,
    load_age_identity,
    load_age_recipient,
    load_private_key,
    load_public_key,
    new_age_identity,
    new_signing_key,
    weak_public_key_problem,
)
from ketenx.storage.material import looks_like_key_material, unmistakably_key_material
from ketenx.storage.secrets import (
    format_secret,
    load_secret,
    new_secret,
    refuse_key_material,
    secret_from_env_or_path,
)

BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def pem_texts(seed: bytes) -> list[str]:
    """The PEM forms of one key: private clear and encrypted, public."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    clear = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encrypted = encrypted_pkcs8_pem(key, b"pass", iterations=1000)
    return [pem.decode() for pem in (clear, encrypted, public)]


def material_family(raw: bytes, bech: str) -> list[str]:
    """Every form of key material a user could paste where a path belongs."""
    age = "AGE-SECRET-KEY-1" + bech.upper()
    forms = [
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        format_secret(raw).splitlines()[-1],
        format_secret(raw).splitlines()[-1].split()[1],  # the key id alone
        age,
        age.lower(),
        "age1" + bech,
        f"keys/{raw.hex()}.age",  # a missing path that carries a secret
    ]
    for pem in pem_texts(raw):
        forms.append(pem)
        forms.extend(line for line in pem.splitlines() if len(line) >= 40)
    return forms


KEY_BYTES = st.binary(min_size=32, max_size=32)
BECH = st.text(BECH32, min_size=58, max_size=58)

ORDINARY_PATHS = [
    "keys/gemeente.key",
    "/srv/data/2024/Ketenx/keys/gemeente-voorbeeldstad",
    "/nonexistent/ketenx-secret-for-gemeente-voorbeeldstad-2026",
    "ggd/keys/ggd.age",
    "partners.yaml",
    "../contracts/jeugdgezondheidszorg-2026-v3.yaml",
    "~/keys/private-key-backup/sign.key",
    "C:/Users/JanJansen/Documents/Ketenx/Keys/sign.key",
    "/home/user/Data2024Export/leerlingen_schooljaar_2025_2026/export-v2.csv",
    "/var/lib/docker/volumes/3f2504e0-4f89-11d3-9a0c-0305e82c3301/_data/in.csv",
    "/data/leerlingen_schooljaar_2025_2026_export_v2_definitief",
    "C:/Users/JanJansen/OneDrive - Gemeente Utrecht/Ketenx/keys/sign.key",
]


@pytest.mark.parametrize("byte", range(256))
def test_regular_key_bytes_are_recognised_too(byte: int) -> None:
    """Keys of one repeated byte or pattern do not look random, and are key material still."""
    for raw in (bytes([byte]) * 32, bytes([0, byte]) * 16, bytes([byte, 0, 0]) * 10 + b"ab"):
        for form in material_family(raw, "q" * 58):
            assert looks_like_key_material(form), form


@settings(max_examples=60, deadline=None)
@given(raw=KEY_BYTES, bech=BECH)
def test_every_form_of_key_material_is_recognised(raw: bytes, bech: str) -> None:
    for form in material_family(raw, bech):
        assert looks_like_key_material(form), form


@pytest.mark.parametrize("path", ORDINARY_PATHS)
def test_ordinary_paths_are_not_key_material(path: str) -> None:
    assert not looks_like_key_material(path)
    refuse_key_material(path, "contract")  # no error


LOADERS = [
    ("private key", lambda p: load_private_key(Path(p), b"x")),
    ("age identity", lambda p: load_age_identity(Path(p))),
    ("age recipient", lambda p: load_age_recipient(Path(p))),
    ("public key", lambda p: load_public_key(Path(p))),
    ("contract", lambda p: read_document(p)),
    ("partner registry", lambda p: read_structured(Path(p), what="partner registry")),
    ("secret", lambda p: load_secret(p)),
    ("secret", lambda p: secret_from_env_or_path(p, {})),
    ("secret", lambda p: secret_from_env_or_path(None, {"KETENX_SECRET_FILE": p})),
]
# Names of files to be made: only unmistakable key material is refused (docs/keys.md).
NEW_LOADERS = [
    ("new secret", lambda p: new_secret(p)),
    ("key name", lambda p: new_signing_key(Path(p), b"x")),
    ("identity name", lambda p: new_age_identity(Path(p))),
]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=KEY_BYTES, bech=BECH)
def test_every_loader_refuses_key_material_without_repeating_it(
    raw: bytes, bech: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for form in material_family(raw, bech):
        loaders = LOADERS + NEW_LOADERS if unmistakably_key_material(form) else LOADERS
        for what, load in loaders:
            with pytest.raises(KeyMaterialError) as info:
                load(form)
            text = info.value.diagnostics()
            assert f"the {what} path looks like key material (not shown)" in text
            for piece in [form, *form.split()]:
                if len(piece) >= 16:
                    assert piece not in text
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_a_file_whose_name_only_looks_random_is_used(tmp_path: Path) -> None:
    raw = bytes(range(32))
    named = tmp_path / raw.hex()
    named.write_text(format_secret(raw), encoding="ascii")
    named.chmod(0o600)
    assert load_secret(named).secret_bytes == raw
    # unmistakable key material is refused even when a file of that name exists
    (tmp_path / "AGE-SECRET-KEY-1X").write_text("x")
    with pytest.raises(KeyMaterialError, match="not shown"):
        load_age_identity(tmp_path / "AGE-SECRET-KEY-1X")


# --- weak Ed25519 keys in the registry ---------------------------------------------------------

P = 2**255 - 19
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "0100000000000000000000000000000000000000000000000000000000000080",  # -0 identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
]
NON_CANONICAL = [
    (y | sign).to_bytes(32, "little").hex() for y in range(P, 2**255) for sign in (0, 1 << 255)
]


def spki_pem(raw: bytes) -> bytes:
    der = bytes.fromhex("302a300506032b6570032100") + raw
    body = base64.b64encode(der).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n".encode()


@pytest.mark.parametrize("encoding", SMALL_ORDER + NON_CANONICAL)
def test_small_order_and_non_canonical_keys_are_refused(encoding: str) -> None:
    raw = bytes.fromhex(encoding)
    assert weak_public_key_problem(raw) is not None
    with pytest.raises(KeyMaterialError, match=r"small order|not a canonical"):
        load_public_key(spki_pem(raw))


def test_the_small_order_set_is_exactly_the_torsion_points() -> None:
    """y of the eight points P with 8·P = identity, computed here from the curve equation."""
    d = -121665 * pow(121666, -1, P) % P
    sqrt_m1 = pow(2, (P - 1) // 4, P)

    def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        (x1, y1), (x2, y2) = a, b
        t = d * x1 * x2 * y1 * y2 % P
        return (
            (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P,
            (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P,
        )

    y8 = int.from_bytes(bytes.fromhex(SMALL_ORDER[6]), "little") & ((1 << 255) - 1)
    x2 = (y8 * y8 - 1) * pow(d * y8 * y8 + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if x * x % P != x2:
        x = x * sqrt_m1 % P
    point, seen = (x, y8), set()
    q = point
    for _ in range(8):
        seen.add(q[1])
        q = add(q, point)
    assert q == point  # order 8
    assert {weak_public_key_problem(y.to_bytes(32, "little")) is not None for y in seen} == {True}
    assert seen == {0, 1, P - 1, y8, P - y8}


def test_ordinary_keys_are_not_weak() -> None:
    for seed in range(50):
        key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32).public_key()
        assert weak_public_key_problem(key.public_bytes_raw()) is None


# --- the KDF of private signing keys -----------------------------------------------------------


def pbkdf2_params(pem: bytes) -> tuple[bytes, int, bytes, bytes]:
    """(OIDs of PBES2 and PBKDF2 and the PRF and cipher, iterations) read from the DER."""
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    head = der[:120]
    assert bytes.fromhex("06092a864886f70d01050d") in head  # PBES2
    assert bytes.fromhex("06092a864886f70d01050c") in head  # PBKDF2
    assert bytes.fromhex("06082a864886f70d0209") in head  # hmacWithSHA256
    assert bytes.fromhex("060960864801650304012a") in head  # aes-256-cbc
    salt_at = head.index(bytes.fromhex("0410")) + 2
    salt = head[salt_at : salt_at + 16]
    int_at = salt_at + 16
    assert head[int_at] == 0x02
    count = int.from_bytes(head[int_at + 2 : int_at + 2 + head[int_at + 1]], "big")
    return der, count, salt, head


def test_the_default_kdf_is_pbkdf2_sha256_with_600000_iterations(tmp_path: Path) -> None:
    assert PBKDF2_ITERATIONS >= 600_000
    key_path, _ = new_signing_key(tmp_path / "k", b"pass phrase")
    pem = key_path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    _, count, salt, _ = pbkdf2_params(pem)
    assert count == PBKDF2_ITERATIONS
    assert len(set(salt)) > 1
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert load_private_key(key_path, b"pass phrase")


def test_keys_of_earlier_versions_still_load(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    old = tmp_path / "old.key"
    old.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )
    old.chmod(0o600)
    assert load_private_key(old, b"pw").private_bytes_raw() == bytes(range(32))
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        load_private_key(old, b"px")


def test_the_written_key_decrypts_to_the_same_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    pem = encrypted_pkcs8_pem(key, b"pw", iterations=1000)
    loaded = serialization.load_pem_private_key(pem, password=b"pw")
    assert isinstance(loaded, Ed25519PrivateKey)
    assert loaded.private_bytes_raw() == bytes(range(1, 33))
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(pem, password=b"pX")


# --- git gets a minimal environment ------------------------------------------------------------


def test_git_is_run_without_the_passphrase_or_other_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    dump = tmp_path / "env.txt"
    git = fake / "git"
    git.write_text(f'#!/bin/sh\nenv >> "{dump}"\nexit 1\n')
    git.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KETENX_PASSPHRASE", "planted-passphrase-31337")
    monkeypatch.setenv("KETENX_SECRET_FILE", "/planted/secret/path")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-aws-31337")
    monkeypatch.setenv("GIT_DIR", str(tmp_path))
    keys = tmp_path / "keys"
    keys.mkdir()
    path = keys / "s.secret"
    path.write_text(format_secret(bytes(range(32))), encoding="ascii")
    path.chmod(0o600)
    load_secret(path)
    seen = dump.read_text()
    assert "PATH=" in seen
    for planted in ("planted", "KETENX_", "AWS_", "GIT_DIR"):
        assert planted not in seen
    assert subprocess.run(["true"], check=False).returncode == 0


# --- documents: depth, size, and messages that quote nothing ----------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_deep_documents_are_a_clean_error(tmp_path: Path, suffix: str, depth: int) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text("[" * depth + "]" * depth)
    for read in (read_document, lambda p: read_structured(p, what="partner registry")):
        with pytest.raises(ContractError, match="nested"):
            read(path)


def test_a_document_at_the_depth_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text("[" * 64 + "]" * 64)
    assert read_structured(path, what="partner registry") is not None


def test_a_too_large_document_is_refused(tmp_path: Path) -> None:
    from ketenx.contract.document import MAX_DOCUMENT_BYTES

    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * MAX_DOCUMENT_BYTES)
    with pytest.raises(ContractError, match="larger than"):
        read_structured(path, what="contract")


@pytest.mark.parametrize(
    "text",
    [
        "a: *PLANTEDSECRETVALUE\n",
        "a: !PLANTEDSECRETVALUE x\n",
        "a: &x 1\nb: !!python/object:PLANTEDSECRETVALUE {}\n",
        'a: "PLANTEDSECRETVALUE\\q"\n',
    ],
)
def test_yaml_errors_quote_nothing_from_the_document(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ContractError) as info:
        read_document(path)
    assert "PLANTEDSECRETVALUE" not in info.value.diagnostics()


def test_a_file_name_with_a_nul_character_in_a_document_is_a_clean_error(tmp_path: Path) -> None:
    import json

    import yaml

    from ketenx.exchange.partners import lint_registry

    doc = yaml.safe_load((Path(__file__).parents[2] / "examples" / "contract.yaml").read_text())
    doc["schema"] = {"$ref": "a\0b.json"}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ContractError, match="NUL character"):
        read_document(path)
    registry = {
        "ketenx": 1,
        "partners": [
            {
                "name": "x",
                "oin": "00000001001234567000",
                "signing_keys": [{"public_key_file": "a\0b", "valid_from": "2026-01-01"}],
            }
        ],
    }
    [problem] = lint_registry(registry, tmp_path)
    assert problem.pointer == "/partners/0/signing_keys/0"
    assert "NUL character" in problem.message
