"""Found by this session's outside-in audit of the hardening work; each test plants the
hostile input and asserts the refusal and that nothing changed or leaked."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ketenx.errors import VerificationError
from tests.cli.test_delivery_cli import Exchange, ex  # noqa: F401 - the fixture
from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, Result, csv_text


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _refused(result: Result) -> None:
    assert result.code == 2, (result.code, result.err)
    assert "is an input of this command" in result.err


@pytest.mark.parametrize("command", ["risk", "scan"])
@pytest.mark.parametrize("victim", ["data", "contract"])
def test_gate_reports_never_overwrite_an_input(
    tmp_path: Path, run: Any, command: str, victim: str
) -> None:
    data = tmp_path / "one.csv"
    data.write_text(csv_text(*GOOD_ROWS))
    contract = tmp_path / "c.yaml"
    contract.write_bytes(SAMPLE_CONTRACT.read_bytes())
    target = data if victim == "data" else contract
    before = _tree(tmp_path)
    for spelling in (target, Path("./") / target.relative_to(tmp_path)):
        done = run(command, data, "--contract", contract, "--output", tmp_path / spelling.name)
        _refused(done)
    assert _tree(tmp_path) == before


def _contract_with_ref(tmp_path: Path) -> tuple[Path, Path]:
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(doc["schema"]))
    doc["schema"] = {"$ref": "schema.json"}
    contract = tmp_path / "cref.yaml"
    contract.write_text(yaml.safe_dump(doc))
    return contract, schema


@pytest.mark.parametrize("command", ["check", "risk", "scan", "pseudonymise"])
def test_the_contracts_schema_file_is_an_input(tmp_path: Path, run: Any, command: str) -> None:
    contract, schema = _contract_with_ref(tmp_path)
    data = tmp_path / "one.csv"
    data.write_text(csv_text(*GOOD_ROWS))
    before = _tree(tmp_path)
    extra = ["-s", tmp_path / "no.secret"] if command == "pseudonymise" else []
    _refused(run(command, data, "--contract", contract, *extra, "--output", schema))
    assert _tree(tmp_path) == before


def test_a_key_file_the_registry_names_is_an_input(run: Any, ex: Exchange) -> None:  # noqa: F811
    pub = ex.root / "gemeente" / "keys" / "sign.pub"
    before = pub.read_bytes()
    done = run(
        "pack",
        ex.export,
        "-c",
        SAMPLE_CONTRACT,
        "-s",
        ex.secret,
        "-k",
        ex.key,
        "-p",
        ex.partners,
        "-o",
        pub,
    )
    _refused(done)
    assert "public key in the partner registry" in done.err
    assert pub.read_bytes() == before


@pytest.mark.parametrize(
    "name", ["bsn11122_2333", "tel06_1234_5678", "a11122_2333", "b11122-2333", "x1112-22333"]
)
def test_digits_split_up_are_still_withheld(tmp_path: Path, run: Any, name: str) -> None:
    from ketenx.records.names import safe_name

    assert not safe_name(name)
    header = "bsn,voornamen,achternaam,geboortedatum,geslacht,postcode,huisnummer,gemeente"
    data = tmp_path / "e.csv"
    data.write_text(csv_text(GOOD_ROWS[0].rsplit(",", 3)[0] + ",x", header=header + f",{name}"))
    for fmt in ("text", "json", "sarif", "github", "junit"):
        done = run("check", data, "-c", SAMPLE_CONTRACT, "-f", fmt)
        assert name not in done.out + done.err, fmt


@pytest.mark.parametrize(
    ("doc", "what"),
    [
        (b'{"a": 1e999}', "too large"),
        (b'{"a": -1e400}', "too large"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b'{"a": ["x", {"b": "\\ud83d"}]}', "lone surrogate"),
    ],
)
def test_strict_documents_refuse_infinity_and_lone_surrogates(doc: bytes, what: str) -> None:
    from ketenx.records.strictjson import parse_document

    with pytest.raises(VerificationError) as info:
        parse_document(doc, what="the statement", max_bytes=1000, error=VerificationError)
    assert what in str(info.value)
    assert parse_document(
        b'{"a": "\\ud83d\\ude00", "b": 1e300}', what="x", max_bytes=99, error=VerificationError
    ) == {"a": "\U0001f600", "b": 1e300}


def test_a_missing_subject_is_not_named() -> None:
    from ketenx.exchange.attest import build_predicate, sign_subjects, verify_statement
    from tests.unit.test_verify_signatures import CONTRACT, CREATED, KEYS, NOW, REGISTRY

    hostile = "ZZPLANT\x1b[31m111222333"
    files = [("data.csv", "sha256:" + "ab" * 32), (hostile, "sha256:" + "cd" * 32)]
    envelope = sign_subjects(
        files, build_predicate(contract=CONTRACT, meta=None, created=CREATED), KEYS["valid"]
    )
    with pytest.raises(VerificationError) as info:
        verify_statement(envelope, files[:1], REGISTRY, now=NOW)
    assert "subject 1 of the signed statement is not among the files offered" in str(info.value)
    assert "ZZPLANT" not in str(info.value) and "\x1b" not in str(info.value)


def test_a_malformed_predicate_names_no_signed_member(tmp_path: Path) -> None:
    from ketenx.exchange.attest import build_predicate, sign_subjects, verify_statement
    from tests.unit.test_verify_signatures import CONTRACT, CREATED, FILES, KEYS, NOW, REGISTRY

    predicate = build_predicate(contract=CONTRACT, meta=None, created=CREATED)
    predicate["sender"] = {"ZZPLANT\x1b[2J": 1}
    envelope = sign_subjects(FILES, predicate, KEYS["valid"])
    with pytest.raises(VerificationError) as info:
        verify_statement(envelope, FILES, REGISTRY, now=NOW)
    assert "ZZPLANT" not in str(info.value) and "\x1b" not in str(info.value)


def test_sign_carries_only_the_known_checks(tmp_path: Path, run: Any, ex: Exchange) -> None:  # noqa: F811
    delivery = ex.root / "gemeente" / "out" / "d.csv"
    assert (
        run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", delivery).code
        == 0
    )
    meta_path = delivery.with_name("d.csv.meta.json")
    meta = json.loads(meta_path.read_text())
    meta["checks"]["input_sha256"] = "ab" * 32
    meta_path.write_text(json.dumps(meta))
    refused = run(
        "sign", delivery, meta_path, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", tmp_path / "s.dsse"
    )
    assert refused.code == 3  # the metadata schema allows no other member
    meta["checks"].pop("input_sha256")
    meta["extra_top"] = 1
    meta_path.write_text(json.dumps(meta))
    assert (
        run(
            "sign",
            delivery,
            meta_path,
            "-k",
            ex.key,
            "-c",
            SAMPLE_CONTRACT,
            "-o",
            tmp_path / "s2.dsse",
        ).code
        == 3
    )
    meta.pop("extra_top")
    meta_path.write_text(json.dumps(meta))
    signed = tmp_path / "s3.dsse"
    assert (
        run("sign", delivery, meta_path, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", signed).code
        == 0
    )
    statement = json.loads(base64.b64decode(json.loads(signed.read_text())["payload"]))
    assert set(statement["predicate"]["checks"]) == {"input", "output", "records_dropped"}


@pytest.mark.parametrize(
    "material",
    [
        "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        "-----BEGIN PRIVATE KEY-----",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ],
)
def test_a_data_path_that_is_key_material_is_not_repeated(run: Any, material: str) -> None:
    for args in (["check", material, "--input-format", "csv", "-c", SAMPLE_CONTRACT],):
        done = run(*args)
        assert done.code in (2, 3), done.err
        assert material not in done.out + done.err and "Traceback" not in done.err


def test_an_unregistered_sender_oin_is_not_repeated() -> None:
    from ketenx.exchange.attest import build_predicate, sign_subjects, verify_statement
    from tests.unit.test_verify_signatures import CONTRACT, CREATED, FILES, KEYS, NOW, REGISTRY

    predicate = build_predicate(contract=CONTRACT, meta=None, created=CREATED)
    predicate["sender"]["oin"] = "ZZPLANT\x1b[31m"
    envelope = sign_subjects(FILES, predicate, KEYS["valid"])
    with pytest.raises(VerificationError) as info:
        verify_statement(envelope, FILES, REGISTRY, now=NOW)
    assert "ZZPLANT" not in str(info.value) and "\x1b" not in str(info.value)


def test_new_signing_key_without_passphrase_names_the_unsafe_option(
    tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETENX_PASSPHRASE", raising=False)
    done = run("keys", "new-signing", tmp_path / "k" / "sign")
    assert done.code == 3 and "--unsafe-no-passphrase" in done.err
    assert not (tmp_path / "k" / "sign.key").exists()


def test_partners_lint_counts_in_the_right_number(tmp_path: Path, run: Any) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('ketenx: 1\npartners:\n  - oin: "00000001001234567000"\n')
    done = run("partners", "lint", path)
    assert done.code == 1
    assert "the required member `name` is missing" in done.err
    assert done.err.rstrip().endswith("REJECTED: 1 error")


# --- second audit: key material quoted from names, outputs over key files --------------------

AGE = "AGE-SECRET-KEY-1W8XV90QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
HEX = "df9e39f49870027cd0dd9cea23b96093695b3a7f5b9f6f60011bda6d81be5063"


@pytest.mark.parametrize("where", ["top", "fields", "properties"])
@pytest.mark.parametrize("material", [AGE, HEX, "-----BEGIN PRIVATE KEY-----"])
def test_lint_never_quotes_key_material_used_as_a_name(
    tmp_path: Path, run: Any, where: str, material: str
) -> None:
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    if where == "top":
        doc[material] = "x"
    elif where == "fields":
        doc["fields"][material] = {"treatment": "drop"}
    else:
        doc["schema"]["properties"][material] = {"type": "string"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc))
    for args in (
        ["contract", "lint", path],
        ["contract", "digest", path],
        ["check", "x.csv", "-c", path],
    ):
        done = run(*args)
        assert done.code in (1, 3), (args, done.err)
        assert material not in done.out + done.err, args
        assert HEX[:40] not in done.out + done.err


@pytest.mark.parametrize("argument", [HEX, "a" + HEX, f"{HEX}.csv"])
def test_key_bytes_as_a_data_path_or_value_are_not_repeated(
    tmp_path: Path, run: Any, argument: str
) -> None:
    for args in (
        ["check", argument, "-c", SAMPLE_CONTRACT],
        ["check", "x.csv", argument, "-c", SAMPLE_CONTRACT],
        [
            "unpack",
            "d.kx",
            "-c",
            SAMPLE_CONTRACT,
            "-p",
            "p.yaml",
            "-o",
            "o",
            "--not-before",
            argument,
        ],
    ):
        done = run(*args)
        assert done.code in (1, 2, 3), (args, done.err)
        assert HEX not in done.out + done.err, (args, done.err)


def test_no_output_replaces_a_secret_a_key_or_a_registry(tmp_path: Path, run: Any) -> None:
    from tests.helpers import ROOT

    data = tmp_path / "data" / "x.csv"
    data.parent.mkdir()
    data.write_text(csv_text(*GOOD_ROWS))
    keys = tmp_path / "keys"
    assert run("keys", "new-secret", keys / "p.secret").code == 0
    assert run("keys", "new-identity", keys / "ggd").code == 0
    assert run("keys", "new-signing", keys / "g", "--unsafe-no-passphrase").code == 0
    registry = tmp_path / "partners.yaml"
    registry.write_bytes((ROOT / "examples" / "partners.yaml").read_bytes())
    contract = tmp_path / "other-contract.yaml"
    contract.write_bytes(SAMPLE_CONTRACT.read_bytes())
    victims = [
        keys / "p.secret",
        keys / "g.key",
        keys / "g.pub",
        keys / "ggd.age",
        keys / "ggd.age.pub",
        registry,
        contract,
    ]
    before = _tree(tmp_path)
    for victim in victims:
        for command in ("check", "scan"):
            done = run(command, data, "-c", SAMPLE_CONTRACT, "-o", victim)
            assert done.code == 2, (command, victim, done.err)
            assert "an output never replaces it" in done.err
    assert _tree(tmp_path) == before
    report = tmp_path / "report.txt"
    assert run("check", data, "-c", SAMPLE_CONTRACT, "-o", report).code == 0
    assert run("check", data, "-c", SAMPLE_CONTRACT, "-o", report).code == 0  # a report, again
