"""`ketenx pack`/`unpack`, `sign`/`verify`, `partners lint`: the exchange, tampering and misuse."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

PASSPHRASE = "correct horse battery staple"


@dataclass
class Exchange:
    root: Path
    export: Path
    secret: Path
    key: Path
    partners: Path
    identity: Path
    inbox: Path

    def pack(
        self,
        run,
        *extra,
        out: str = "delivery.age",
        key: Path | None = None,
        partners: Path | None = None,
    ):
        target = self.root / "gemeente" / "out" / out
        result = run(
            "pack",
            self.export,
            "-c",
            SAMPLE_CONTRACT,
            "-s",
            self.secret,
            "-k",
            key or self.key,
            "-p",
            partners or self.partners,
            "-o",
            target,
            *extra,
        )
        return result, target

    def unpack(
        self,
        run,
        delivery: Path,
        *extra,
        identity: Path | None = None,
        partners: Path | None = None,
    ):
        return run(
            "unpack",
            delivery,
            "-c",
            SAMPLE_CONTRACT,
            "-p",
            partners or self.partners,
            "-i",
            identity or self.identity,
            "-o",
            self.inbox,
            *extra,
        )


def registry(ex_root: Path, *, key_pub: str, recipient: str, **key_fields) -> Path:
    doc = {
        "ketenx": 1,
        "partners": [
            {
                "name": "Gemeente Voorbeeldstad",
                "oin": "00000001001234567000",
                "signing_keys": [
                    {"public_key_file": key_pub, "valid_from": "2026-01-01", **key_fields}
                ],
            },
            {
                "name": "GGD Voorbeeldregio",
                "oin": "00000001009876543000",
                "age_recipients": [recipient],
            },
        ],
    }
    path = ex_root / f"partners-{len(list(ex_root.glob('partners*')))}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def ex(run, tmp_path, monkeypatch) -> Exchange:
    monkeypatch.setenv("KETENX_PASSPHRASE", PASSPHRASE)
    for d in ("gemeente/keys", "gemeente/data", "gemeente/out", "ggd/keys"):
        (tmp_path / d).mkdir(parents=True, mode=0o700)
    assert run("keys", "new-secret", tmp_path / "gemeente/keys/p.secret").code == 0
    assert run("keys", "new-signing", tmp_path / "gemeente/keys/sign").code == 0
    result = run("keys", "new-identity", tmp_path / "ggd/keys/ggd")
    assert result.code == 0
    recipient = result.out.strip()
    export = tmp_path / "gemeente/data/export.csv"
    export.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    partners = registry(tmp_path, key_pub="gemeente/keys/sign.pub", recipient=recipient)
    return Exchange(
        tmp_path,
        export,
        tmp_path / "gemeente/keys/p.secret",
        tmp_path / "gemeente/keys/sign.key",
        partners,
        tmp_path / "ggd/keys/ggd.age",
        tmp_path / "ggd/inbox",
    )


def test_pack_unpack_round_trip(run, ex):
    result, delivery = ex.pack(run)
    assert result.code == 0, result.err
    assert delivery.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert not [p for p in delivery.parent.iterdir() if p.name != delivery.name]
    opened = ex.unpack(run, delivery)
    assert opened.code == 0, opened.err
    assert "delivery id:" in opened.out and "GGD Voorbeeldregio" in opened.out
    assert sorted(p.name for p in ex.inbox.iterdir()) == [
        "RECEIPT.txt",
        "data.csv",
        "data.meta.json",
        "statement.dsse.json",
    ]
    data = (ex.inbox / "data.csv").read_text()
    assert "Zoë" not in data and "111222333" not in data
    assert run("check", ex.inbox / "data.csv", "-c", SAMPLE_CONTRACT, "--side", "output").code == 0
    # the receipt names the delivery id, so a pipeline can refuse a replay
    receipt = (ex.inbox / "RECEIPT.txt").read_text()
    statement = json.loads((ex.inbox / "statement.dsse.json").read_text())
    assert statement["payloadType"] == "application/vnd.in-toto+json"
    assert receipt.splitlines()[1].split()[-1] in opened.out


@pytest.mark.parametrize("to", ["jsonl", "json"])
def test_pack_unpack_json_formats(run, ex, to):
    result, delivery = ex.pack(run, "--to", to)
    assert result.code == 0, result.err
    opened = ex.unpack(run, delivery)
    assert opened.code == 0, opened.err
    data = ex.inbox / f"data.{to}"
    assert data.exists() and not (ex.inbox / "data.csv").exists()
    text = data.read_text(encoding="utf-8")
    records = json.loads(text) if to == "json" else [json.loads(x) for x in text.splitlines()]
    assert len(records) == 3 and all(r["persoon_id"].startswith("kx1_") for r in records)
    assert run("check", data, "-c", SAMPLE_CONTRACT, "--side", "output").code == 0


def test_no_encrypt_bundle_is_a_plain_tar(run, ex):
    result, delivery = ex.pack(run, "--no-encrypt", out="delivery.tar")
    assert result.code == 0, result.err
    with tarfile.open(delivery) as tar:
        assert tar.getnames() == [
            "statement.dsse.json",
            "contract.json",
            "data.meta.json",
            "data.csv",
        ]
    assert (
        run("unpack", delivery, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox).code == 0
    )


def rewrite_member(src: Path, dst: Path, name: str, change) -> None:
    with tarfile.open(src) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as out:
        for info, data in members:
            if info.name == name:
                data = change(data)
                info.size = len(data)
            out.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("member", "change", "message"),
    [
        ("data.csv", lambda b: b.replace(b"V,", b"M,", 1), "does not match its signed digest"),
        (
            "data.meta.json",
            lambda b: b.replace(b'"records": 3', b'"records": 2', 1),
            "does not match its signed digest",
        ),
        ("contract.json", lambda b: b[:-1] + b" ", "does not match its signed digest"),
        ("statement.dsse.json", lambda b: b.replace(b'"sig": "', b'"sig": "A', 1), "base64"),
        (
            "statement.dsse.json",
            lambda b: b.replace(b"in-toto+json", b"in-toto+jsox"),
            "payloadType",
        ),
    ],
)
def test_tampered_bundle_is_refused(run, ex, member, change, message):
    _, delivery = ex.pack(run, "--no-encrypt", out="d.tar")
    bad = ex.root / "bad.tar"
    rewrite_member(delivery, bad, member, change)
    result = run("unpack", bad, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox)
    assert result.code == 1, result.err
    assert message in result.err
    assert not ex.inbox.exists() or not any(ex.inbox.iterdir())


def test_flipping_ciphertext_bytes_is_detected(run, ex):
    _, delivery = ex.pack(run)
    raw = bytearray(delivery.read_bytes())
    for position in (30, len(raw) // 2, len(raw) - 5):
        bad = bytearray(raw)
        bad[position] ^= 0x01
        path = ex.root / f"bad-{position}.age"
        path.write_bytes(bad)
        result = ex.unpack(run, path)
        assert result.code == 1, (position, result.err)
        assert "Traceback" not in result.err
    assert not ex.inbox.exists() or not any(ex.inbox.iterdir())


def test_unregistered_signer_is_refused(run, ex):
    assert run("keys", "new-signing", ex.root / "gemeente/keys/rogue").code == 0
    result, delivery = ex.pack(run, key=ex.root / "gemeente/keys/rogue.key")
    assert result.code == 0
    refused = ex.unpack(run, delivery)
    assert refused.code == 1 and "trusted key" in refused.err


def test_other_recipient_cannot_open(run, ex):
    assert run("keys", "new-identity", ex.root / "ggd/keys/other").code == 0
    _, delivery = ex.pack(run)
    refused = ex.unpack(run, delivery, identity=ex.root / "ggd/keys/other.age")
    assert refused.code == 1 and "not encrypted to this identity" in refused.err


def test_revoked_or_expired_key(run, ex):
    _, delivery = ex.pack(run)
    recipient = yaml.safe_load(ex.partners.read_text())["partners"][1]["age_recipients"][0]
    revoked = registry(ex.root, key_pub="gemeente/keys/sign.pub", recipient=recipient, revoked=True)
    result = ex.unpack(run, delivery, partners=revoked)
    assert result.code == 1 and "revoked" in result.err
    expired = registry(
        ex.root, key_pub="gemeente/keys/sign.pub", recipient=recipient, valid_until="2026-01-31"
    )
    result = ex.unpack(run, delivery, partners=expired)
    assert result.code == 1 and "outside the validity" in result.err


def test_not_before(run, ex):
    _, delivery = ex.pack(run)
    result = ex.unpack(run, delivery, "--not-before", "2999-01-01")
    assert result.code == 1 and "before --not-before" in result.err
    assert ex.unpack(run, delivery, "--not-before", "2000-01-01T00:00:00Z").code == 0


def test_operational_failures_exit_3(run, ex):
    _, delivery = ex.pack(run)
    assert ex.unpack(run, ex.root / "missing.age").code == 3
    assert ex.unpack(run, delivery, identity=ex.root / "missing.age").code == 3
    broken = ex.root / "broken.age"
    broken.write_text("AGE-SECRET-KEY-1NOTAKEY\n")
    broken.chmod(0o600)
    result = ex.unpack(run, delivery, identity=broken)
    assert result.code == 3 and "NOTAKEY" not in result.err


def test_wrong_passphrase(run, ex, monkeypatch):
    monkeypatch.setenv("KETENX_PASSPHRASE", "wrong passphrase 123")
    result, delivery = ex.pack(run)
    assert result.code == 3
    assert "Traceback" not in result.err and "wrong passphrase 123" not in result.err
    assert "passphrase" in result.err
    assert not delivery.exists()


def test_no_age_recipient_registered(run, ex):
    doc = yaml.safe_load(ex.partners.read_text())
    del doc["partners"][1]["age_recipients"]
    doc["partners"][0]["signing_keys"][0]["public_key_file"] = str(
        ex.root / "gemeente/keys/sign.pub"
    )
    path = ex.root / "norecipient.yaml"
    path.write_text(yaml.safe_dump(doc))
    result, _ = ex.pack(run, partners=path)
    assert result.code == 3 and "no age recipient" in result.err


def test_private_material_never_printed(run, ex):
    result, delivery = ex.pack(run)
    opened = ex.unpack(run, delivery)
    text = result.out + result.err + opened.out + opened.err
    assert PASSPHRASE not in text
    assert "AGE-SECRET-KEY" not in text and "PRIVATE KEY" not in text
    assert ex.secret.read_text().split()[-1] not in text


# --- sign and verify ------------------------------------------------------------------------------


@pytest.fixture
def signed(run, ex):
    out = ex.root / "gemeente/out/d.csv"
    assert (
        run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out).code == 0
    )
    meta = out.with_name("d.csv.meta.json")
    envelope = ex.root / "gemeente/out/d.dsse.json"
    result = run("sign", out, meta, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope)
    assert result.code == 0, result.err
    return out, meta, envelope


def test_sign_and_verify(run, ex, signed):
    out, meta, envelope = signed
    result = run(
        "verify", out, meta, "--signature", envelope, "-p", ex.partners, "-c", SAMPLE_CONTRACT
    )
    assert result.code == 0, result.err
    assert result.out.startswith("OK:")
    predicate = json.loads(
        __import__("base64").b64decode(json.loads(envelope.read_text())["payload"])
    )["predicate"]
    assert predicate["pseudonymisation"]["key_id"].startswith("kx1k_")
    assert predicate["records"] == {"input": 3, "output": 3, "dropped": 0}


def test_verify_refusals(run, ex, signed, tmp_path):
    out, meta, envelope = signed
    base = ("--signature", envelope, "-p", ex.partners)
    # a changed byte
    changed = tmp_path / "x" / out.name
    changed.parent.mkdir()
    changed.write_bytes(out.read_bytes().replace(b"V,", b"M,", 1))
    assert "signed digest" in run("verify", changed, meta, *base).err
    # a renamed file
    renamed = tmp_path / "renamed.csv"
    renamed.write_bytes(out.read_bytes())
    assert "not a subject" in run("verify", renamed, meta, *base).err
    # a missing subject
    assert "is missing" in run("verify", out, *base).err
    # another contract
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    doc["version"] = 4
    other = tmp_path / "v4.yaml"
    other.write_text(yaml.safe_dump(doc, allow_unicode=True))
    result = run("verify", out, meta, *base, "-c", other)
    assert result.code == 1 and "another contract" in result.err


@pytest.mark.parametrize("where", ["payload", "sig"])
def test_flipped_envelope_bytes(run, ex, signed, where):
    out, meta, envelope = signed
    env = json.loads(envelope.read_text())
    import base64

    if where == "payload":
        raw = bytearray(base64.b64decode(env["payload"]))
        raw[len(raw) // 2] ^= 1
        env["payload"] = base64.b64encode(bytes(raw)).decode()
    else:
        raw = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
        raw[3] ^= 1
        env["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    envelope.write_text(json.dumps(env))
    result = run("verify", out, meta, "--signature", envelope, "-p", ex.partners)
    assert result.code == 1 and "trusted key" in result.err


def test_partners_lint(run, ex, tmp_path):
    assert run("partners", "lint", ex.partners).code == 0
    doc = yaml.safe_load(ex.partners.read_text())
    doc["partners"][0]["signing_keys"][0]["public_key_file"] = str(
        ex.root / "gemeente/keys/sign.pub"
    )
    doc["partners"][0]["signing_keys"].append(
        dict(doc["partners"][0]["signing_keys"][0], valid_from="2026-06-01")
    )
    doc["partners"][0]["signing_keys"].append(
        {"public_key_file": "nope.pub", "valid_from": "2026-01-01"}
    )
    doc["partners"][1]["oin"] = doc["partners"][0]["oin"]
    assert run("keys", "new-signing", ex.root / "gemeente/keys/second").code == 0
    doc["partners"][0]["signing_keys"].append(
        {
            "public_key_file": str(ex.root / "gemeente/keys/second.pub"),
            "valid_from": "2026-01-01",
            "valid_until": "2025-01-01",
        }
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    result = run("partners", "lint", bad)
    assert result.code == 1
    for expected in (
        "duplicate OIN",
        "public_key_file: public key file not found",
        "valid_until lies before valid_from",
        "overlapping",
    ):
        assert expected in result.err, expected


def test_an_empty_delivery_packs_with_allow_empty_and_unpacks(run, ex):
    ex.export.write_text(ex.export.read_text(encoding="utf-8").splitlines()[0] + "\n")
    refused, delivery = ex.pack(run)
    assert refused.code == 1 and "no-records" in refused.err and not delivery.exists()
    result, delivery = ex.pack(run, "--allow-empty")
    assert result.code == 0, result.err
    opened = ex.unpack(run, delivery)
    assert opened.code == 0, opened.err
    assert (ex.inbox / "data.csv").read_text().count("\n") == 1
