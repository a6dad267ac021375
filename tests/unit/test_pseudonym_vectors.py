"""ketenx against the kx1 test vectors and the RFC known answers (tests/vectors/pseudonyms/)."""

from __future__ import annotations

import hmac
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ketenx.pseudonym import Keyring, hkdf_sha256, hmac_sha256, normalise, normalise_many
from ketenx.secrets import parse_secret

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "pseudonyms"
DATA = json.loads((VECTORS / "pseudonyms.json").read_text(encoding="utf-8"))
KAT = json.loads((VECTORS / "kat.json").read_text(encoding="utf-8"))
SECRETS = {name: bytes.fromhex(s["hex"]) for name, s in DATA["secrets"].items()}


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: f"{c['secret']}-{c['normalise']}")
def test_case(case):
    keyring = Keyring.from_secret_bytes(SECRETS[case["secret"]], case["domain"])
    text = normalise(case["input"], case["normalise"])
    assert text == case["normalised"]
    assert normalise_many([case["input"]], case["normalise"]) == [text]
    assert keyring.pseudonymise(text) == case["pseudonym"]
    assert keyring.pseudonymise_many([text]) == [case["pseudonym"]]
    assert keyring.encrypt(text, case["field"]) == case["ciphertext"]
    assert keyring.encrypt_many([text], case["field"]) == [case["ciphertext"]]
    assert keyring.decrypt(case["ciphertext"], case["field"]) == text


def test_secret_files_and_key_ids():
    for name, s in DATA["secrets"].items():
        secret = parse_secret(s["file_line"])
        assert secret.secret_bytes == SECRETS[name]
        assert secret.key_id == s["key_id"]


def test_domain_keys():
    for k in DATA["domain_keys"]:
        d = k["domain"].encode()
        secret = SECRETS[k["secret"]]
        assert (
            hkdf_sha256(
                secret, salt=b"ketenx/v1", info=b"ketenx/v1/pseudonymise\x00" + d, length=32
            ).hex()
            == k["hmac_key_hex"]
        )
        assert (
            hkdf_sha256(
                secret, salt=b"ketenx/v1", info=b"ketenx/v1/encrypt\x00" + d, length=64
            ).hex()
            == k["siv_key_hex"]
        )


@pytest.mark.parametrize("case", KAT["hmac_sha256"]["cases"], ids=lambda c: f"rfc4231-{c['case']}")
def test_rfc4231_hmac_sha256(case):
    assert hmac_sha256(bytes.fromhex(case["key"]), bytes.fromhex(case["data"])).hex() == case["mac"]


@pytest.mark.parametrize("case", KAT["hkdf_sha256"]["cases"], ids=lambda c: f"rfc5869-{c['case']}")
def test_rfc5869_hkdf_sha256(case):
    okm = hkdf_sha256(
        bytes.fromhex(case["ikm"]),
        salt=bytes.fromhex(case["salt"]),
        info=bytes.fromhex(case["info"]),
        length=case["length"],
    )
    assert okm.hex() == case["okm"]


def test_precomputed_hmac_states_equal_hmac():
    # The keyring's HMAC with precomputed inner/outer states is RFC 2104 HMAC-SHA-256.
    for i in range(20):
        key = bytes((i * 7 + j) % 256 for j in range(32))
        keyring = Keyring(key, bytes(64), domain="d", key_id="")
        for data in (b"", b"111222333", "Zoë".encode(), bytes(range(256))):
            assert keyring.mac(data) == hmac.digest(key, data, "sha256")


def test_generator_reproduces_the_vectors(tmp_path):
    out = tmp_path / "v.json"
    subprocess.run([sys.executable, str(VECTORS / "make_vectors.py"), str(out)], check=True)
    assert out.read_bytes() == (VECTORS / "pseudonyms.json").read_bytes()
