"""ketenx against the kx1 test vectors and the RFC known answers (tests/vectors/pseudonyms/).

``pseudonyms.json`` is made by ``make_vectors.py``, a second implementation of
docs/spec/pseudonyms.md that does not import ketenx; ``kat.json`` is copied from RFC 4231,
RFC 5869 and RFC 5297.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from ketenx.contract.model import Contract
from ketenx.kx1 import FINGERPRINT_PATTERN, PSEUDONYM_PATTERN
from ketenx.records.normalise import normalise, normalise_many
from ketenx.storage.secrets import Secret, load_secret, parse_secret
from ketenx.transform.pipeline import pseudonymise_stream
from ketenx.transform.pseudonym import (
    HKDF_SALT,
    INFO_ENCRYPT,
    INFO_FINGERPRINT,
    INFO_PSEUDONYMISE,
    DecryptionError,
    Keyring,
    b64url,
    domain_id,
    effective_domain,
    fingerprint_of,
    hkdf_sha256,
    hmac_sha256,
)
from ketenx.transform.transformer import Transformer
from tests.helpers import ROOT, make_contract

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "pseudonyms"
DATA = json.loads((VECTORS / "pseudonyms.json").read_text(encoding="utf-8"))
KAT = json.loads((VECTORS / "kat.json").read_text(encoding="utf-8"))
SECRETS = {name: bytes.fromhex(s["hex"]) for name, s in DATA["secrets"].items()}
KEYRINGS: dict[tuple[str, str], Keyring] = {}


def keyring(secret: str, domain: str) -> Keyring:
    if (secret, domain) not in KEYRINGS:
        KEYRINGS[secret, domain] = Keyring.derive(SECRETS[secret], domain)
    return KEYRINGS[secret, domain]


def case_id(case: dict) -> str:
    return f"{case['secret']}-{case['domain']}-{case['normalise']}-{case['field']}"


@pytest.mark.parametrize("case", DATA["cases"], ids=case_id)
def test_case(case: dict) -> None:
    k = keyring(case["secret"], case["effective_domain"])
    text = normalise(case["input"], case["normalise"])
    assert text == case["normalised"]
    assert text.encode("utf-8").hex() == case["normalised_utf8_hex"]
    assert normalise_many([case["input"]], case["normalise"]) == [text]
    assert k.mac(text.encode("utf-8")).hex() == case["mac_hex"]
    assert k.pseudonymise(text) == case["pseudonym"]
    assert re.fullmatch(PSEUDONYM_PATTERN, case["pseudonym"])
    assert k.encrypt(text, case["field"]) == case["ciphertext"]
    assert k.decrypt(case["ciphertext"], case["field"]) == text


def test_columns_give_the_same_bytes_as_single_values() -> None:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for case in DATA["cases"]:
        groups.setdefault((case["secret"], case["effective_domain"], case["field"]), []).append(
            case
        )
    by_domain: dict[tuple[str, str], list[dict]] = {}
    for (secret, domain, field), cases in groups.items():
        k = keyring(secret, domain)
        texts = [c["normalised"] for c in cases]
        assert k.encrypt_many(texts, field) == [c["ciphertext"] for c in cases]
        by_domain.setdefault((secret, domain), []).extend(cases)
    for (secret, domain), cases in by_domain.items():
        k = keyring(secret, domain)
        for how in {c["normalise"] for c in cases}:
            some = [c for c in cases if c["normalise"] == how]
            assert normalise_many([c["input"] for c in some], how) == [
                c["normalised"] for c in some
            ]
        texts = [c["normalised"] for c in cases]
        assert k.pseudonymise_many(texts) == [c["pseudonym"] for c in cases]
        assert k.pseudonymise_many([]) == []


def _contract(entry: dict) -> Contract:
    return make_contract(
        entry["contract_id"],
        {"type": "object", "properties": {"bsn": {"type": "string"}}},
        {"bsn": {"treatment": "pseudonymise"}},
        recipient_oin=entry["recipient_oin"],
        pseudonymisation=entry["pseudonymisation"],
    )


@pytest.mark.parametrize("entry", DATA["domains"], ids=lambda d: d["name"])
def test_domains(entry: dict) -> None:
    contract = _contract(entry)
    assert domain_id(contract) == entry["domain"]
    policy = contract.pseudonymisation.get("policy", "deterministic")
    assert effective_domain(entry["domain"], policy, entry["nonce"]) == entry["effective_domain"]


def test_domain_keys() -> None:
    for k in DATA["domain_keys"]:
        d = k["effective_domain"].encode("utf-8")
        secret = SECRETS[k["secret"]]
        hmac_key = hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_PSEUDONYMISE + d, length=32)
        siv_key = hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_ENCRYPT + d, length=64)
        assert hmac_key.hex() == k["hmac_key_hex"]
        assert siv_key.hex() == k["siv_key_hex"]
    params = DATA["parameters"]
    assert HKDF_SALT.decode() == params["hkdf_salt"]
    assert INFO_PSEUDONYMISE.hex() == params["hkdf_info_pseudonymise_prefix_hex"]
    assert INFO_ENCRYPT.hex() == params["hkdf_info_encrypt_prefix_hex"]
    assert INFO_FINGERPRINT.hex() == params["hkdf_info_fingerprint_prefix_hex"]


def test_whitespace_is_what_the_spec_lists() -> None:
    listed = {int(cp[2:], 16) for cp in DATA["parameters"]["whitespace"]}
    assert {c for c in range(sys.maxunicode + 1) if chr(c).isspace()} == listed


def _secret_file(tmp_path: Path, text: str) -> Path:
    """``text`` as a secret file (UTF-8 bytes, mode 0600), as a reader finds it on disk."""
    path = tmp_path / "keys" / "s.secret"
    path.parent.mkdir(mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(text.encode("utf-8"))
    return path


def test_secret_files_and_key_ids() -> None:
    for name, s in DATA["secrets"].items():
        secret = parse_secret(s["file_line"])
        assert secret == Secret(key_id=s["key_id"], secret_bytes=SECRETS[name])
        assert Keyring.derive(secret, "d").key_id == s["key_id"]


@pytest.mark.parametrize("good", DATA["secret_files"]["good"], ids=lambda g: repr(g["text"][:3]))
def test_good_secret_files(good: dict, tmp_path: Path) -> None:
    for secret in (parse_secret(good["text"]), load_secret(_secret_file(tmp_path, good["text"]))):
        assert (secret.key_id, secret.secret_bytes.hex()) == (good["key_id"], good["secret_hex"])


@pytest.mark.parametrize("bad", DATA["secret_files"]["must_fail"], ids=lambda b: b["why"])
def test_bad_secret_files(bad: dict, tmp_path: Path) -> None:
    """Refused when read from a file (every row), and by the parser when the text is ASCII."""
    from ketenx.errors import KeyMaterialError

    with pytest.raises(KeyMaterialError) as info:
        load_secret(_secret_file(tmp_path, bad["text"]))
    refusals = [info.value]
    if bad["text"].isascii():
        with pytest.raises(KeyMaterialError) as parsed:
            parse_secret(bad["text"])
        refusals.append(parsed.value)
    for refusal in refusals:
        for secret in SECRETS.values():
            assert secret.hex() not in refusal.diagnostics()
            assert b64url(secret) not in refusal.diagnostics()


@pytest.mark.parametrize("row", DATA["decrypt"], ids=lambda r: r["why"] or "good")
def test_decrypt(row: dict) -> None:
    k = keyring(row["secret"], row["effective_domain"])
    if row["why"] is None:
        assert k.decrypt(row["token"], row["field"]) == row["plaintext"]
        return
    with pytest.raises(DecryptionError) as info:
        k.decrypt(row["token"], row["field"])
    assert row["token"] not in info.value.diagnostics()
    assert row["token"][5:] not in info.value.diagnostics()


# --- known answers for the building blocks ---------------------------------------------------


@pytest.mark.parametrize("case", KAT["hmac_sha256"]["cases"], ids=lambda c: f"rfc4231-{c['case']}")
def test_rfc4231_hmac_sha256(case: dict) -> None:
    assert hmac_sha256(bytes.fromhex(case["key"]), bytes.fromhex(case["data"])).hex() == case["mac"]


@pytest.mark.parametrize("case", KAT["hkdf_sha256"]["cases"], ids=lambda c: f"rfc5869-{c['case']}")
def test_rfc5869_hkdf_sha256(case: dict) -> None:
    ikm, salt = bytes.fromhex(case["ikm"]), bytes.fromhex(case["salt"])
    assert hmac_sha256(salt or bytes(32), ikm).hex() == case["prk"]  # the extract step
    okm = hkdf_sha256(ikm, salt=salt, info=bytes.fromhex(case["info"]), length=case["length"])
    assert okm.hex() == case["okm"]


@pytest.mark.parametrize("case", KAT["aes_siv"]["cases"], ids=lambda c: f"rfc5297-{c['case']}")
def test_rfc5297_aes_siv(case: dict) -> None:
    siv = AESSIV(bytes.fromhex(case["key"]))
    ad = [bytes.fromhex(a) for a in case["ad"]]
    plaintext = bytes.fromhex(case["plaintext"])
    assert siv.encrypt(plaintext, ad).hex() == case["output"]
    assert siv.decrypt(bytes.fromhex(case["output"]), ad) == plaintext


def test_precomputed_hmac_states_equal_hmac() -> None:
    # The keyring's HMAC from precomputed inner/outer states is RFC 2104 HMAC-SHA-256, for
    # keys shorter than, equal to and longer than the 64-byte block.
    for length in (0, 1, 20, 32, 63, 64, 65, 131):
        key = bytes((length * 7 + j) % 256 for j in range(length))
        for data in (b"", b"111222333", "Zoë".encode(), bytes(range(256)) * 3):
            assert hmac_sha256(key, data) == hmac.digest(key, data, "sha256")
    for i in range(10):
        key = bytes((i * 7 + j) % 256 for j in range(32))
        k = Keyring(key, bytes(64), domain="d")
        assert k.mac(b"x" * i) == hmac.digest(key, b"x" * i, "sha256")


# --- what the spec adds around the cases ---------------------------------------------------------


@pytest.mark.parametrize("row", DATA["input_fingerprints"], ids=lambda r: r["name"])
def test_input_fingerprint(row: dict) -> None:
    secret = SECRETS[row["secret"]]
    d = row["effective_domain"].encode("utf-8")
    key = hkdf_sha256(secret, salt=HKDF_SALT, info=INFO_FINGERPRINT + d, length=32)
    assert key.hex() == row["fingerprint_key_hex"]
    mac = keyring(row["secret"], row["effective_domain"]).fingerprinter()
    assert mac is not None
    data = bytes.fromhex(row["input_hex"])
    for i in range(0, len(data), 3):  # fed in pieces, as the pipeline reads
        mac.update(data[i : i + 3])
    assert fingerprint_of(mac) == row["fingerprint"]
    assert re.fullmatch(FINGERPRINT_PATTERN, row["fingerprint"])


def test_input_fingerprints_are_not_plain_digests() -> None:
    """Nobody without the secret can compute one: no row is an unkeyed digest, and the
    fingerprint key is none of the domain's other keys."""
    for row in DATA["input_fingerprints"]:
        data = bytes.fromhex(row["input_hex"])
        assert row["fingerprint"][5:] != hashlib.sha256(data).hexdigest()
        k = keyring(row["secret"], row["effective_domain"])
        assert row["fingerprint"][5:] != k.mac(data).hex()
    assert len({r["fingerprint"] for r in DATA["input_fingerprints"]}) == len(
        DATA["input_fingerprints"]
    )


@pytest.mark.parametrize("entry", DATA["default_normalisation"], ids=lambda e: json.dumps(e))
def test_default_normalisation_through_the_contract(entry: dict) -> None:
    """§5 step 2 as the pipeline applies it: a `format` reached through `$ref` does not count."""
    field = {"treatment": entry["treatment"]}
    if entry["normalise"]:
        field["normalise"] = entry["normalise"]
    schema = {"type": "object", "properties": {"x": entry["property"]}}
    if entry["$defs"]:
        schema["$defs"] = entry["$defs"]
    contract = make_contract("c", schema, {"x": field})
    (column,) = Transformer(contract, keyring("A", "d")).columns
    assert column.normalise == entry["default"]


@pytest.mark.parametrize("value", DATA["not_keyed"], ids=json.dumps)
@pytest.mark.parametrize("treatment", ["pseudonymise", "encrypt"])
def test_objects_and_arrays_are_never_keyed(value: object, treatment: str) -> None:
    with pytest.raises(ValueError):
        normalise(value, "text")
    contract = make_contract(
        "c", {"type": "object", "properties": {"x": {}}}, {"x": {"treatment": treatment}}
    )
    rows = [{"x": "a"}, {"x": value}]
    source = io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())
    sink = io.BytesIO()
    result = pseudonymise_stream(source, "jsonl", sink, "jsonl", contract, keyring("A", "d"))
    assert result.rejected and result.records_out == 0
    (error,) = result.report.errors
    assert (error.record, error.field, error.rule) == (2, "/x", "keyed-scalar")
    assert json.dumps(value) not in error.message


def test_the_spec_states_the_vector_counts() -> None:
    spec = (ROOT / "docs" / "spec" / "pseudonyms.md").read_text(encoding="utf-8")
    section = " ".join(spec[spec.index("## 9.") :].split())
    assert f"{len(DATA['cases'])} cases" in section
    assert f"{len(DATA['input_fingerprints'])} input fingerprints" in section
    must_fail = sum(1 for r in DATA["decrypt"] if r["why"])
    assert f"{must_fail} tokens that MUST NOT decrypt" in section
    assert f"{len(DATA['secret_files']['must_fail'])} secret files that MUST be refused" in section


def assert_generator_reproduces(vectors: Path, tmp_path: Path) -> None:
    """Run the folder's ``make_vectors.py`` into ``tmp_path``: it must rewrite ``vectors``
    byte for byte."""
    out = tmp_path / vectors.name
    subprocess.run(
        [sys.executable, str(vectors.with_name("make_vectors.py")), str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == vectors.read_bytes()


def test_generator_reproduces_the_vectors(tmp_path: Path) -> None:
    assert_generator_reproduces(VECTORS / "pseudonyms.json", tmp_path)
