"""`ketenx pack`/`unpack`, `sign`/`verify`, `partners lint`: the exchange, tampering and misuse."""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

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


@pytest.mark.parametrize("source", ["csv", "parquet"])
def test_pack_unpack_parquet(run, ex, source):
    import pyarrow.parquet as pq

    from tests.parquet_helpers import write_parquet_of_csv

    if source == "parquet":
        schema = yaml.safe_load(SAMPLE_CONTRACT.read_text())["schema"]
        ex.export = write_parquet_of_csv(
            ex.export.read_text(), schema, ex.export.with_suffix(".parquet")
        )
    result, delivery = ex.pack(run, "--to", "parquet")
    assert result.code == 0, result.err
    opened = ex.unpack(run, delivery)
    assert opened.code == 0, opened.err
    data = ex.inbox / "data.parquet"
    assert data.exists() and not (ex.inbox / "data.csv").exists()
    rows = pq.read_table(data).to_pylist()
    assert len(rows) == 3 and all(r["persoon_id"].startswith("kx1_") for r in rows)
    assert b"111222333" not in data.read_bytes()
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
    assert predicate["records"] == {"input": 3, "output": 3, "dropped": 0, "suppressed": 0}


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
    assert "is not among the files offered" in run("verify", out, *base).err
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


# --- files on disk: no output over an input, permissions ------------------------------------------


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every file under ``root`` with its bytes (links by their target): a snapshot."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            out[str(path)] = "->" + str(path.readlink())
        elif path.is_file():
            out[str(path)] = path.read_bytes()
    return out


@dataclass
class Case:
    """One command, one of its inputs used as the output."""

    argv: list[str | Path]
    victim: Path
    env: dict[str, str] | None = None
    direct: bool = True  # the output argument is the input itself (else a file derived from it)


def _delivery(run, ex) -> Path:
    out = ex.root / "gemeente/out/d.csv"
    result = run("pseudonymise", ex.export, "-c", ex.root / "c.yaml", "-s", ex.secret, "-o", out)
    assert result.code == 0, result.err
    return out


def _packed(run, ex) -> Path:
    result, delivery = ex.pack(run)
    assert result.code == 0, result.err
    return delivery


def _case(name: str, run, ex) -> Case:
    """The commands × the kinds of input each reads (``OUT`` marks where the output goes)."""
    c = ex.root / "c.yaml"
    sidecar_contract = ex.root / "gemeente/out/x.csv.meta.json"
    sidecar_contract.write_text(json.dumps(yaml.safe_load(c.read_text())))
    other = ex.root / "gemeente/data/other.csv"
    other.write_bytes(ex.export.read_bytes())
    check = ["check", other, ex.export, "-c", c, "-o"]
    pseudo = ["pseudonymise", ex.export, "-c", c, "-s", ex.secret, "-o"]
    pack = ["pack", ex.export, "-c", c, "-s", ex.secret, "-k", ex.key, "-p", ex.partners, "-o"]
    if name == "check/data":
        return Case([*check, ex.export], ex.export)
    if name == "check/contract":
        return Case([*check, c], c)
    if name == "pseudonymise/data":
        return Case([*pseudo, ex.export], ex.export)
    if name == "pseudonymise/contract":
        return Case([*pseudo, c], c)
    if name == "pseudonymise/secret":
        return Case([*pseudo, ex.secret], ex.secret)
    if name == "pseudonymise/secret-from-env":
        argv = ["pseudonymise", ex.export, "-c", c, "-o", ex.secret]
        return Case(argv, ex.secret, {"KETENX_SECRET_FILE": str(ex.secret)})
    if name == "pseudonymise/sidecar-over-contract":
        argv = ["pseudonymise", ex.export, "-c", sidecar_contract, "-s", ex.secret, "-o"]
        return Case([*argv, ex.root / "gemeente/out/x.csv"], sidecar_contract, direct=False)
    if name.startswith("reidentify/"):
        d = _delivery(run, ex)
        meta = d.with_name(d.name + ".meta.json")
        base = ["reidentify", d, "-c", c, "-s", ex.secret, "-o"]
        victim = {"delivery": d, "metadata": meta, "contract": c, "secret": ex.secret}
        if name == "reidentify/explicit-meta":
            moved = ex.root / "m.json"
            moved.write_bytes(meta.read_bytes())
            return Case([*base, moved, "--meta", moved], moved)
        return Case([*base, victim[name.split("/")[1]]], victim[name.split("/")[1]])
    if name.startswith("sign/"):
        d = _delivery(run, ex)
        meta = d.with_name(d.name + ".meta.json")
        victim = {"file": d, "metadata": meta, "key": ex.key, "contract": c}[name.split("/")[1]]
        return Case(["sign", d, "-k", ex.key, "-c", c, "-o", victim], victim)
    if name.startswith("pack/"):
        kind = name.split("/")[1]
        victim = {
            "data": ex.export,
            "contract": c,
            "secret": ex.secret,
            "key": ex.key,
            "partners": ex.partners,
        }[kind]
        return Case([*pack, victim], victim)
    if name.startswith("unpack/"):
        delivery = _packed(run, ex)
        kind = name.split("/")[1]
        base = ["unpack", delivery, "-c", c, "-p", ex.partners, "-i", ex.identity, "-o"]
        if kind == "folder-is-the-delivery":
            return Case([*base, delivery], delivery)
        if kind == "folder-is-the-identity":
            return Case([*base, ex.identity], ex.identity)
        # an input the unpacked files would replace: the registry as DIR/data.meta.json
        inbox = ex.root / "ggd/in"
        inbox.mkdir()
        partners = inbox / "data.meta.json"
        partners.write_text(json.dumps(yaml.safe_load(ex.partners.read_text())))
        argv = ["unpack", delivery, "-c", c, "-p", partners, "-i", ex.identity, "-o", inbox]
        return Case(argv, partners, direct=False)
    raise AssertionError(name)


CASES = [
    "check/data",
    "check/contract",
    "pseudonymise/data",
    "pseudonymise/contract",
    "pseudonymise/secret",
    "pseudonymise/secret-from-env",
    "pseudonymise/sidecar-over-contract",
    "reidentify/delivery",
    "reidentify/metadata",
    "reidentify/explicit-meta",
    "reidentify/contract",
    "reidentify/secret",
    "sign/file",
    "sign/metadata",
    "sign/key",
    "sign/contract",
    "pack/data",
    "pack/contract",
    "pack/secret",
    "pack/key",
    "pack/partners",
    "unpack/folder-is-the-delivery",
    "unpack/folder-is-the-identity",
    "unpack/member-over-the-registry",
]


def _respell(ex, victim: Path, argv: list[str | Path], spelling: str, monkeypatch) -> list:
    """``argv`` with its last occurrence of ``victim`` as an output spelled another way."""
    if spelling == "same":
        other: str | Path = victim
    elif spelling == "relative":
        monkeypatch.chdir(ex.root)
        other = "./" + str(victim.relative_to(ex.root)).replace("/", "/./", 1)
    elif spelling == "symlink":
        other = ex.root / "alias"
        other.symlink_to(victim, target_is_directory=victim.is_dir())
    else:
        other = ex.root / "hardlink"
        os.link(victim, other)
    index = max(i for i, a in enumerate(argv) if a == victim and argv[i - 1] in ("-o", "--output"))
    return [*argv[:index], other, *argv[index + 1 :]]


#: Where the colliding file's name is derived from the output's, only the plain spelling.
_DERIVED = ("pseudonymise/sidecar-over-contract", "unpack/member-over-the-registry")


@pytest.mark.parametrize(
    ("name", "spelling"),
    [
        (name, spelling)
        for name in CASES
        for spelling in ("same", "relative", "symlink", "hardlink")
        if spelling == "same" or name not in _DERIVED
    ],
)
def test_no_command_writes_over_one_of_its_inputs(run, ex, monkeypatch, name, spelling):
    (ex.root / "c.yaml").write_bytes(SAMPLE_CONTRACT.read_bytes())
    case = _case(name, run, ex)
    assert case.direct == (name not in _DERIVED)
    argv = _respell(ex, case.victim, case.argv, spelling, monkeypatch) if case.direct else case.argv
    before = _tree(ex.root)
    result = run(*argv, env=case.env)
    assert result.code == 2, (result.code, result.err)
    assert "is an input of this command" in result.err and "Traceback" not in result.err
    lines = result.err.splitlines()
    # A usage error: the parser's format (usage line, then the error and its hint).
    assert lines[0].startswith("Usage: ketenx ") and lines[-2].startswith("Error: ")
    assert lines[-1] == "hint: choose another output path"
    assert _tree(ex.root) == before  # the input, and everything else, byte-identical
    assert ex.secret.read_text().split()[-1] not in result.out + result.err
    assert PASSPHRASE not in result.out + result.err


def test_sign_onto_a_signed_file_of_another_name_is_refused(run, ex):
    d = _delivery_with_contract(run, ex)
    envelope = ex.root / "gemeente/out/env.json"
    assert run("sign", d, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope).code == 0
    before = envelope.read_bytes()
    # `verify` reads, never writes; `sign -o` over an envelope that is being signed is refused
    result = run("sign", d, envelope, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope)
    assert result.code == 2 and "(the file to sign)" in result.err
    assert envelope.read_bytes() == before


def _delivery_with_contract(run, ex) -> Path:
    (ex.root / "c.yaml").write_bytes(SAMPLE_CONTRACT.read_bytes())
    return _delivery(run, ex)


@pytest.mark.parametrize("command", ["new-secret", "new-signing", "new-identity"])
def test_keys_never_overwrite_an_existing_file(run, ex, command):
    target = {
        "new-secret": ex.secret,
        "new-signing": ex.key.with_suffix(""),
        "new-identity": ex.identity.with_suffix(""),
    }[command]
    before = _tree(ex.root)
    result = run("keys", command, target)
    assert result.code == 3 and "exists" in result.err, result.err
    assert _tree(ex.root) == before


@pytest.fixture
def umask():
    original = os.umask(0o022)
    os.umask(original)
    yield os.umask
    os.umask(original)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_outputs_honour_the_umask_and_reidentified_data_is_0600(run, ex, umask, mask):
    umask(mask)
    out = ex.root / "gemeente/out/d.csv"
    meta = out.with_name("d.csv.meta.json")
    report = ex.root / "gemeente/out/report.json"
    envelope = ex.root / "gemeente/out/d.dsse.json"
    clear = ex.root / "gemeente/clear/back.csv"
    runs = [
        ("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out),
        ("check", ex.export, "-c", SAMPLE_CONTRACT, "-f", "json", "-o", report),
        ("sign", out, meta, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope),
        ("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", clear),
    ]
    for argv in runs:
        result = run(*argv)
        assert result.code == 0, (argv[0], result.err)
    result, delivery = ex.pack(run)
    assert result.code == 0, result.err
    for path in (out, meta, report, envelope, delivery):
        assert _mode(path) == 0o666 & ~mask, path.name
    assert _mode(clear) == 0o600  # personal data in the clear: private whatever the umask
    assert "ouder@example.nl" in clear.read_text(encoding="utf-8")  # really re-identified


def test_reidentified_data_replacing_a_readable_file_is_0600(run, ex, umask):
    umask(0o000)
    out = ex.root / "gemeente/out/d.csv"
    assert (
        run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out).code == 0
    )
    clear = ex.root / "gemeente/out/clear.csv"
    clear.write_text("old\n")
    clear.chmod(0o666)
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", clear)
    assert result.code == 0, result.err
    assert _mode(clear) == 0o600


# --- verification semantics: several signatures, names, JSON limits -----------------------------


def _add_signature(envelope: Path, key_path: Path, *, first: bool) -> None:
    import base64

    from ketenx.exchange.dsse import pae
    from ketenx.exchange.partners import public_key_id
    from ketenx.storage.keys import load_private_key

    env = json.loads(envelope.read_text())
    key = load_private_key(key_path, PASSPHRASE.encode())
    sig = key.sign(pae(env["payloadType"], base64.b64decode(env["payload"])))
    entry = {"keyid": public_key_id(key.public_key()), "sig": base64.b64encode(sig).decode()}
    env["signatures"] = [entry, *env["signatures"]] if first else [*env["signatures"], entry]
    envelope.write_text(json.dumps(env))


@pytest.mark.parametrize("first", [True, False])
def test_another_partners_or_an_unknown_signature_does_not_hide_the_senders(
    run, ex, signed, tmp_path, first
):
    out, meta, envelope = signed
    assert run("keys", "new-signing", ex.root / "ggd/keys/ggd-sign").code == 0
    assert run("keys", "new-signing", ex.root / "rogue").code == 0
    _add_signature(envelope, ex.root / "ggd/keys/ggd-sign.key", first=first)
    _add_signature(envelope, ex.root / "rogue.key", first=first)
    doc = yaml.safe_load(ex.partners.read_text())
    doc["partners"][1]["signing_keys"] = [
        {"public_key_file": "ggd/keys/ggd-sign.pub", "valid_from": "2026-01-01"}
    ]
    both = ex.root / "partners-both.yaml"
    both.write_text(yaml.safe_dump(doc))
    for partners in (ex.partners, both):
        result = run("verify", out, meta, "--signature", envelope, "-p", partners)
        assert result.code == 0, result.err
        assert result.out.startswith("OK:")


def test_verify_refuses_two_files_with_the_same_name(run, ex, signed, tmp_path):
    out, meta, envelope = signed
    for folder, content in (("evil", out.read_bytes().replace(b"V,", b"M,", 1)), ("good", None)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / out.name).write_bytes(content or out.read_bytes())
    base = ("--signature", envelope, "-p", ex.partners)
    for files in (
        (tmp_path / "evil" / out.name, tmp_path / "good" / out.name, meta),
        (tmp_path / "good" / out.name, tmp_path / "evil" / out.name, meta),
        (out, out, meta),
    ):
        result = run("verify", *files, *base)
        assert result.code == 2, result.err
        assert "same name" in result.err and "OK" not in result.out


DEEP = b'{"payload": ' + b"[" * 100_000 + b'"Zo\xc3\xab-PLANTED"' + b"]" * 100_000 + b"}"


def _one_clean_line(result, code: int) -> None:
    assert result.code == code, result.err
    assert "Traceback" not in result.err and "RecursionError" not in result.err
    assert result.err.startswith("ketenx: error: ") and result.err.count("\n") == 1
    assert "PLANTED" not in result.out + result.err


@pytest.mark.parametrize(
    "content",
    [DEEP, b"[" * 100_000, b" " * ((4 << 20) + 1), b'{"payload": "' + b"A" * (4 << 20) + b'"}'],
    ids=["deep", "unclosed", "spaces-over-the-limit", "payload-over-the-limit"],
)
def test_verify_refuses_a_deep_or_huge_envelope_cleanly(run, ex, signed, content):
    out, meta, envelope = signed
    envelope.write_bytes(content)
    result = run("verify", out, meta, "--signature", envelope, "-p", ex.partners)
    _one_clean_line(result, 1)


@pytest.mark.parametrize(
    "content",
    [DEEP, b"[" * 100_000, b'{"a": ' + b" " * (8 << 20) + b"1}"],
    ids=["deep", "unclosed", "over-the-limit"],
)
def test_a_deep_or_huge_metadata_sidecar_is_refused_cleanly(run, ex, signed, tmp_path, content):
    out, meta, _ = signed
    meta.write_bytes(content)
    before = _tree(ex.root)
    clear = tmp_path / "clear.csv"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", clear)
    _one_clean_line(result, 3)
    assert "delivery metadata" in result.err and not clear.exists()
    result = run("sign", out, "-k", ex.key, "-o", tmp_path / "e.json")
    _one_clean_line(result, 3)
    assert _tree(ex.root) == before and not (tmp_path / "e.json").exists()


@pytest.mark.parametrize(
    "content",
    [DEEP, b" " * ((4 << 20) + 1)],
    ids=["deep", "over-the-limit"],
)
def test_unpack_refuses_a_deep_or_huge_statement_member_cleanly(run, ex, content):
    _, delivery = ex.pack(run, "--no-encrypt", out="d.tar")
    bad = ex.root / "bad.tar"
    rewrite_member(delivery, bad, "statement.dsse.json", lambda _: content)
    result = run("unpack", bad, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox)
    _one_clean_line(result, 1)
    assert not ex.inbox.exists() or not any(ex.inbox.iterdir())
