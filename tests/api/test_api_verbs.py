"""The verbs of ``import ketenx``: each one's happy path, a refusal, and pinned outputs.

No test reads the wall clock: every verb that involves one gets ``now=NOW`` (and ``nonce=``,
``delivery_id=`` where randomness is involved). A refusal asserts the class (and so the exit
code), that nothing was written, that no planted value is repeated and that the message
names no command-line option.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import ketenx
from tests.api.agencies import PASSPHRASE, RECIPIENT_OIN, SENDER_OIN, Agencies, make_agencies
from tests.helpers import GOOD_ROWS, NOW, csv_text

BAD_BSN = "123456789"  # fails the nl-bsn eleven-test
DELIVERY_ID = "6f1c2a4e-0000-4000-8000-000000000001"


def _no_option_named(exc: BaseException) -> str:
    assert isinstance(exc, ketenx.KetenxError)
    text = exc.diagnostics()
    assert "--" not in text, text  # the library names parameters, never options
    return text


def _contract(agencies: Agencies) -> ketenx.Contract:
    return ketenx.load_contract(agencies.contract)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _per_delivery(agencies: Agencies) -> ketenx.Contract:
    from ketenx.contract.model import Contract

    doc = yaml.safe_load(agencies.contract.read_text(encoding="utf-8"))
    doc["pseudonymisation"] = {"policy": "per-delivery"}
    return Contract.from_document(doc)


def _bad_export(agencies: Agencies) -> Path:
    bad = GOOD_ROWS[0].replace("111222333", BAD_BSN)
    path = agencies.root / "data" / "bad.csv"
    path.write_text(csv_text(bad, *GOOD_ROWS[1:]), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- loading


def test_load_contract_and_partners(agencies: Agencies) -> None:
    contract = _contract(agencies)
    assert isinstance(contract, ketenx.Contract)
    assert contract.sender.oin == SENDER_OIN and contract.digest().startswith("sha256:")
    registry = ketenx.load_partners(agencies.partners)
    assert isinstance(registry, ketenx.Registry)
    assert registry.age_recipients(RECIPIENT_OIN)


def test_load_contract_refuses_a_broken_contract(agencies: Agencies) -> None:
    broken = agencies.root / "broken.yaml"
    broken.write_text("ketenx: 1\nid: x\n", encoding="utf-8")
    with pytest.raises(ketenx.ContractError) as info:
        ketenx.load_contract(broken)
    assert info.value.exit_code == ketenx.ExitCode.OPERATIONAL
    with pytest.raises(ketenx.ContractError):
        ketenx.load_partners(broken)


# --------------------------------------------------------------------------- check


def test_check_accepts_a_valid_export(agencies: Agencies) -> None:
    result = ketenx.check(agencies.export, _contract(agencies))
    assert isinstance(result, ketenx.CheckResult)
    assert (result.valid, result.records, result.invalid_records, result.side) == (
        True,
        3,
        0,
        "input",
    )
    assert json.loads(result.render("json"))["valid"] is True


def test_check_reports_an_invalid_record_without_its_value(agencies: Agencies) -> None:
    result = ketenx.check([agencies.export, _bad_export(agencies)], _contract(agencies))
    assert not result.valid and result.records == 6 and result.invalid_records == 1
    for fmt in ("text", "json", "junit", "sarif", "github"):
        rendered = result.render(fmt)
        assert "nl-bsn" in rendered and BAD_BSN not in rendered


def test_check_refuses_what_it_cannot_do(agencies: Agencies) -> None:
    contract = _contract(agencies)
    with pytest.raises(ketenx.UsageError) as info:
        ketenx.check(agencies.export, contract, side="sideways")
    _no_option_named(info.value)
    nameless = agencies.root / "data" / "export"
    nameless.write_bytes(agencies.export.read_bytes())
    with pytest.raises(ketenx.UsageError) as info:
        ketenx.check(nameless, contract)
    _no_option_named(info.value)
    with pytest.raises(ketenx.InputFileError):
        ketenx.check(agencies.root / "data" / "missing.csv", contract)


# --------------------------------------------------------------------------- pseudonymise


def test_pseudonymise_writes_the_delivery_and_describes_it(agencies: Agencies) -> None:
    contract = _contract(agencies)
    out = agencies.root / "out" / "delivery.csv"
    result = ketenx.pseudonymise(agencies.export, contract, out, secret=agencies.secret, now=NOW)
    assert isinstance(result, ketenx.PseudonymiseResult)
    assert _files(out.parent) == ["delivery.csv", "delivery.csv.meta.json"]
    assert result.output == out and result.meta_path == out.with_name("delivery.csv.meta.json")
    assert (result.records_in, result.records_out) == (3, 3)
    assert (result.records_dropped, result.records_suppressed) == (0, 0)
    assert result.output_digest == "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.output_bytes == out.stat().st_size and result.output_format == "csv"
    assert result.key_id is not None and result.key_id.startswith("kx1k_")
    assert result.input_fingerprint is not None and result.input_fingerprint.startswith("kx1f_")
    assert result.created == NOW and result.nonce is None
    assert result.contract_digest == contract.digest()
    meta = json.loads(result.meta_path.read_text(encoding="utf-8"))
    assert meta == result.metadata
    assert meta["$schema"] == "https://ketenx.example/schemas/delivery-meta/v4"
    assert meta["created"] == "2026-06-02T12:00:00Z"
    assert meta["pseudonymisation"]["key_id"] == result.key_id
    assert "111222333" not in out.read_text(encoding="utf-8")


def test_pseudonymise_with_the_clock_pinned_gives_the_same_bytes(agencies: Agencies) -> None:
    contract = _contract(agencies)
    outs = []
    for run in ("a", "b"):
        (agencies.root / "out" / run).mkdir()
        out = agencies.root / "out" / run / "delivery.jsonl"
        ketenx.pseudonymise(agencies.export, contract, out, secret=agencies.secret, now=NOW)
        outs.append((out.read_bytes(), out.with_name(out.name + ".meta.json").read_bytes()))
    assert outs[0] == outs[1]


def test_pseudonymise_per_delivery_nonce_is_pinned_or_fresh(agencies: Agencies) -> None:
    contract = _per_delivery(agencies)
    made: dict[str, tuple[bytes, Any]] = {}
    for run, nonce in (("a", bytes(16)), ("b", "00" * 16), ("c", None)):
        (agencies.root / "out" / run).mkdir()
        out = agencies.root / "out" / run / "d.csv"
        result = ketenx.pseudonymise(
            agencies.export, contract, out, secret=agencies.secret, now=NOW, nonce=nonce
        )
        made[run] = (out.read_bytes(), result.nonce)
    assert made["a"] == made["b"] and made["a"][1] == "00" * 16
    assert made["c"][0] != made["a"][0] and made["c"][1] not in (None, "00" * 16)
    for wrong in (b"short", "zz" * 16, "00" * 15, 16):
        with pytest.raises(ketenx.UsageError) as info:
            ketenx.pseudonymise(
                agencies.export, contract, agencies.root / "out" / "e.csv",
                secret=agencies.secret, nonce=wrong,  # type: ignore[arg-type]
            )  # fmt: skip
        _no_option_named(info.value)
    with pytest.raises(ketenx.UsageError):  # the deterministic policy uses no nonce
        ketenx.pseudonymise(
            agencies.export, _contract(agencies), agencies.root / "out" / "e.csv",
            secret=agencies.secret, nonce=bytes(16),
        )  # fmt: skip
    assert not (agencies.root / "out" / "e.csv").exists()


def test_pseudonymise_refuses_an_invalid_input_and_writes_nothing(agencies: Agencies) -> None:
    with pytest.raises(ketenx.RejectedError) as info:
        ketenx.pseudonymise(
            _bad_export(agencies),
            _contract(agencies),
            agencies.root / "out" / "delivery.csv",
            secret=agencies.secret,
            now=NOW,
        )
    assert info.value.exit_code == ketenx.ExitCode.REJECTED
    text = info.value.diagnostics()
    assert "nl-bsn" in text and BAD_BSN not in text
    assert _files(agencies.root / "out") == []


def test_pseudonymise_refuses_unknown_formats(agencies: Agencies) -> None:
    out = agencies.root / "out" / "d.csv"
    for wrong in ({"input_format": "xml"}, {"to": "xml"}, {"to": "json"}):
        with pytest.raises(ketenx.UsageError) as info:
            ketenx.pseudonymise(
                agencies.export, _contract(agencies), out, secret=agencies.secret, **wrong
            )
        _no_option_named(info.value)
    assert _files(out.parent) == []


def test_pseudonymise_without_a_secret_is_refused(agencies: Agencies) -> None:
    with pytest.raises(ketenx.KeyMaterialError) as info:
        ketenx.pseudonymise(agencies.export, _contract(agencies), agencies.root / "out" / "d.csv")
    assert "secret is needed" in _no_option_named(info.value)
    assert _files(agencies.root / "out") == []


def test_pseudonymise_skip_check_drops_and_records_it(agencies: Agencies) -> None:
    out = agencies.root / "out" / "d.csv"
    result = ketenx.pseudonymise(
        _bad_export(agencies), _contract(agencies), out, secret=agencies.secret, now=NOW,
        skip_check=True,
    )  # fmt: skip
    assert (result.records_in, result.records_out, result.records_dropped) == (3, 2, 1)
    checks = result.metadata["checks"]
    assert checks == {"input": "skipped", "output": "passed", "records_dropped": 1}


def test_pseudonymise_accepts_a_loaded_secret(agencies: Agencies) -> None:
    from ketenx.storage.secrets import load_secret

    secret = load_secret(agencies.secret)
    assert isinstance(secret, ketenx.Secret)
    out = agencies.root / "out" / "d.csv"
    result = ketenx.pseudonymise(agencies.export, _contract(agencies), out, secret=secret, now=NOW)
    assert result.key_id == secret.key_id


# --------------------------------------------------------------------------- reidentify


def test_reidentify_gives_back_the_encrypted_fields(agencies: Agencies) -> None:
    contract = _contract(agencies)
    out = agencies.root / "out" / "d.csv"
    made = ketenx.pseudonymise(agencies.export, contract, out, secret=agencies.secret, now=NOW)
    assert "ouder@example.nl" not in out.read_text(encoding="utf-8")
    back = agencies.root / "out" / "back.csv"
    result = ketenx.reidentify(out, contract, back, secret=agencies.secret)
    assert isinstance(result, ketenx.ReidentifyResult)
    assert result.records == 3 and result.fields == ("email_ouder",)
    assert result.key_id == made.key_id and result.output == back
    assert "ouder@example.nl" in back.read_text(encoding="utf-8")
    assert back.stat().st_mode & 0o777 == 0o600


def test_reidentify_refuses_another_secret_and_a_one_way_field(agencies: Agencies) -> None:
    from ketenx.storage.secrets import new_secret

    contract = _contract(agencies)
    out = agencies.root / "out" / "d.csv"
    ketenx.pseudonymise(agencies.export, contract, out, secret=agencies.secret, now=NOW)
    other = agencies.root / "keys" / "other.secret"
    new_secret(other)
    back = agencies.root / "out" / "back.csv"
    with pytest.raises(ketenx.RejectedError) as info:
        ketenx.reidentify(out, contract, back, secret=other)
    assert "did not make the delivery" in _no_option_named(info.value)
    with pytest.raises(ketenx.RejectedError) as info:
        ketenx.reidentify(out, contract, back, secret=agencies.secret, fields=["persoon_id"])
    _no_option_named(info.value)
    with pytest.raises(ketenx.InputFileError) as info:
        ketenx.reidentify(out, contract, back, secret=agencies.secret, meta=out.parent / "x")
    _no_option_named(info.value)
    assert not back.exists()


def test_version_3_metadata_is_read_as_version_4(agencies: Agencies) -> None:
    """Version 3 said `skipped (--unsafe-skip-check)`; it is read (and signed) as `skipped`."""
    contract = _contract(agencies)
    out = agencies.root / "out" / "d.csv"
    made = ketenx.pseudonymise(
        _bad_export(agencies), contract, out, secret=agencies.secret, now=NOW, skip_check=True
    )
    old = json.loads(made.meta_path.read_text(encoding="utf-8"))
    old["$schema"] = "https://ketenx.example/schemas/delivery-meta/v3"
    old["checks"]["input"] = "skipped (--unsafe-skip-check)"
    made.meta_path.write_text(json.dumps(old), encoding="utf-8")
    back = ketenx.reidentify(
        out, contract, agencies.root / "out" / "back.csv", secret=agencies.secret
    )
    assert back.records == 2
    signed = ketenx.sign(
        [out, made.meta_path], agencies.signing_key, passphrase=PASSPHRASE, now=NOW
    )
    assert signed.envelope["payloadType"] == "application/vnd.in-toto+json"
    from ketenx.exchange.dsse import b64decode

    statement = json.loads(b64decode(signed.envelope["payload"], what="payload"))
    assert statement["predicate"]["checks"]["input"] == "skipped"
    old["checks"]["input"] = "failed"  # never a value of any version
    made.meta_path.write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(ketenx.InputFileError):
        ketenx.reidentify(out, contract, agencies.root / "out" / "b2.csv", secret=agencies.secret)


# --------------------------------------------------------------------------- sign, verify


def _delivered(agencies: Agencies) -> list[Path]:
    out = agencies.root / "out" / "d.csv"
    ketenx.pseudonymise(agencies.export, _contract(agencies), out, secret=agencies.secret, now=NOW)
    return [out, out.with_name("d.csv.meta.json")]


def test_sign_then_verify(agencies: Agencies) -> None:
    files = _delivered(agencies)
    envelope = agencies.root / "out" / "d.dsse.json"
    signed = ketenx.sign(
        files, agencies.signing_key, passphrase=PASSPHRASE, output=envelope, now=NOW,
        delivery_id=DELIVERY_ID,
    )  # fmt: skip
    assert isinstance(signed, ketenx.SignResult)
    assert signed.delivery_id == DELIVERY_ID and signed.created == "2026-06-02T12:00:00Z"
    assert signed.key_id.startswith("sha256:") and signed.output == envelope
    assert [name for name, _ in signed.subjects] == ["d.csv", "d.csv.meta.json"]
    assert json.loads(envelope.read_text(encoding="utf-8")) == signed.envelope
    verified = ketenx.verify(
        files, envelope, agencies.partners, contract=_contract(agencies), now=NOW
    )
    assert isinstance(verified, ketenx.VerifyResult)
    assert (verified.files, verified.delivery_id, verified.sender_oin, verified.key_id) == (
        2,
        DELIVERY_ID,
        SENDER_OIN,
        signed.key_id,
    )
    # the parsed envelope and a loaded registry do as well
    again = ketenx.verify(files, signed.envelope, ketenx.load_partners(agencies.partners), now=NOW)
    assert again == verified


def test_sign_with_the_clock_and_id_pinned_gives_the_same_envelope(agencies: Agencies) -> None:
    from ketenx.storage.keys import load_private_key

    files = _delivered(agencies)
    key = load_private_key(agencies.signing_key, PASSPHRASE)
    one, two = (
        ketenx.sign(files, key, contract=_contract(agencies), now=NOW, delivery_id=DELIVERY_ID)
        for _ in range(2)
    )
    assert json.dumps(one.envelope) == json.dumps(two.envelope)


def test_verify_refuses_a_changed_file(agencies: Agencies) -> None:
    files = _delivered(agencies)
    signed = ketenx.sign(files, agencies.signing_key, passphrase=PASSPHRASE, now=NOW)
    files[0].write_bytes(files[0].read_bytes() + b"\n")
    with pytest.raises(ketenx.VerificationError) as info:
        ketenx.verify(files, signed.envelope, agencies.partners, now=NOW)
    assert info.value.exit_code == ketenx.ExitCode.REJECTED
    assert "does not match its signed digest" in _no_option_named(info.value)


def test_sign_refuses_without_a_sender_before_the_key_is_unlocked(agencies: Agencies) -> None:
    lone = agencies.root / "out" / "lone.txt"
    lone.write_text("x", encoding="utf-8")

    def key() -> Any:
        raise AssertionError("the key is unlocked only when everything else is in order")

    with pytest.raises(ketenx.UsageError) as info:
        ketenx.sign([lone], key, now=NOW)
    assert "sender" in _no_option_named(info.value)


# --------------------------------------------------------------------------- pack, unpack


def _pack(agencies: Agencies, out: Path, **kw: Any) -> ketenx.PackResult:
    return ketenx.pack(
        agencies.export, _contract(agencies), agencies.partners, out, secret=agencies.secret,
        key=agencies.signing_key, passphrase=PASSPHRASE, now=NOW, **kw,
    )  # fmt: skip


def test_pack_then_unpack(agencies: Agencies) -> None:
    delivery = agencies.root / "out" / "delivery.ketenx"
    packed = _pack(agencies, delivery)
    assert isinstance(packed, ketenx.PackResult)
    assert packed.encrypted and packed.recipients == 1 and packed.data_name == "data.csv"
    assert (packed.records_in, packed.records_out, packed.records_dropped) == (3, 3, 0)
    assert packed.created == NOW and packed.secret_key_id is not None
    assert _files(delivery.parent) == ["delivery.ketenx"]
    inbox = agencies.root / "inbox"
    opened = ketenx.unpack(
        delivery, _contract(agencies), agencies.partners, inbox, identity=agencies.identity,
        now=NOW,
    )  # fmt: skip
    assert isinstance(opened, ketenx.UnpackResult)
    assert (opened.delivery_id, opened.records, opened.encrypted) == (packed.delivery_id, 3, True)
    assert opened.signer_key_id == packed.key_id and opened.created == "2026-06-02T12:00:00Z"
    assert opened.data_path == inbox / "data.csv" and opened.data_path.exists()
    assert (inbox / "RECEIPT.txt").read_text(encoding="utf-8") == opened.receipt
    digest = "sha256:" + hashlib.sha256(opened.data_path.read_bytes()).hexdigest()
    assert digest == packed.output_digest
    assert ketenx.check(opened.data_path, _contract(agencies), side="output").valid


def test_pack_pinned_and_unencrypted_gives_the_same_bytes(agencies: Agencies) -> None:
    made = []
    for run in ("a", "b"):
        out = agencies.root / "out" / f"{run}.ketenx"
        result = _pack(agencies, out, encrypt=False, delivery_id=DELIVERY_ID)
        assert not result.encrypted and result.delivery_id == DELIVERY_ID
        made.append(out.read_bytes())
    assert made[0] == made[1]
    opened = ketenx.unpack(
        agencies.root / "out" / "a.ketenx", _contract(agencies), agencies.partners,
        agencies.root / "inbox", now=NOW,
    )  # fmt: skip
    assert not opened.encrypted and opened.delivery_id == DELIVERY_ID


def test_pack_refuses_an_invalid_input_and_writes_nothing(agencies: Agencies) -> None:
    bad = _bad_export(agencies)
    with pytest.raises(ketenx.RejectedError) as info:
        ketenx.pack(
            bad, _contract(agencies), agencies.partners, agencies.root / "out" / "d.ketenx",
            secret=agencies.secret, key=agencies.signing_key, passphrase=PASSPHRASE, now=NOW,
        )  # fmt: skip
    assert BAD_BSN not in info.value.diagnostics()
    assert _files(agencies.root / "out") == []


def test_pack_refuses_encryption_without_a_recipient(agencies: Agencies) -> None:
    doc = yaml.safe_load(agencies.partners.read_text(encoding="utf-8"))
    del doc["partners"][1]["age_recipients"]
    agencies.partners.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ketenx.KeyMaterialError) as info:
        _pack(agencies, agencies.root / "out" / "d.ketenx")
    assert "no age recipient" in _no_option_named(info.value)
    assert _files(agencies.root / "out") == []


def test_unpack_refusals_name_no_option(agencies: Agencies) -> None:
    delivery = agencies.root / "out" / "delivery.ketenx"
    _pack(agencies, delivery)
    contract, inbox = _contract(agencies), agencies.root / "inbox"
    with pytest.raises(ketenx.KeyMaterialError) as info:
        ketenx.unpack(delivery, contract, agencies.partners, inbox, now=NOW)
    assert "encrypted" in _no_option_named(info.value)
    with pytest.raises(ketenx.VerificationError) as info:
        ketenx.unpack(
            delivery, contract, agencies.partners, inbox, identity=agencies.identity, now=NOW,
            not_before=NOW + _dt.timedelta(days=1),
        )  # fmt: skip
    assert "created at 2026-06-02T12:00:00Z" in _no_option_named(info.value)
    assert _files(inbox) == []
    plain = agencies.root / "out" / "plain.ketenx"
    _pack(agencies, plain, encrypt=False)
    with pytest.raises(ketenx.VerificationError) as info:
        ketenx.unpack(plain, contract, agencies.partners, inbox, identity=agencies.identity)
    assert "not encrypted" in _no_option_named(info.value)


# --------------------------------------------------------------------------- risk, scan


def test_risk_measures_the_delivery_the_contract_would_make(agencies: Agencies) -> None:
    result = ketenx.risk(agencies.export, _contract(agencies))
    assert isinstance(result, ketenx.RiskResult) and result.passed
    (report,) = result.reports
    assert report.assessment.records == 3
    assert "111222333" not in result.render("json")


def test_risk_refuses_a_contract_without_quasi_identifiers(agencies: Agencies) -> None:
    from ketenx.contract.model import Contract

    doc = yaml.safe_load(agencies.contract.read_text(encoding="utf-8"))
    del doc["privacy"]
    with pytest.raises(ketenx.ContractError) as info:
        ketenx.risk(agencies.export, Contract.from_document(doc))
    _no_option_named(info.value)


def test_scan_finds_an_identifier_in_a_kept_field(agencies: Agencies) -> None:
    contract = _contract(agencies)
    assert ketenx.scan(agencies.export, contract).passed
    planted = GOOD_ROWS[0].replace("Utrecht", "ouder@example.nl")
    leaky = agencies.root / "data" / "leaky.csv"
    leaky.write_text(csv_text(planted), encoding="utf-8")
    result = ketenx.scan(leaky, contract)
    assert isinstance(result, ketenx.ScanResult) and not result.passed
    assert "ouder@example.nl" not in result.render("text")


def test_progress_is_told_per_file_in_counts_only(agencies: Agencies) -> None:
    told: list[tuple[str, str, int]] = []

    class Told:
        def __init__(self, name: str) -> None:
            self.name = name

        def records(self, done: int) -> None:
            told.append((self.name, "records", done))

        def read(self, done: int) -> None:
            told.append((self.name, "bytes", done))

    @contextlib.contextmanager
    def progress(name: str) -> Iterator[Told]:
        yield Told(name)

    contract, export = _contract(agencies), str(agencies.export)
    size = agencies.export.stat().st_size
    for verb in (ketenx.check, ketenx.risk, ketenx.scan):
        told.clear()
        verb(export, contract, progress=progress)
        assert (export, "bytes", size) in told, verb
        assert max(done for _, what, done in told if what == "records") == 3, verb


# --------------------------------------------------------------------------- results


def test_results_are_frozen_and_hold_no_secret(tmp_path: Path) -> None:
    agencies = make_agencies(tmp_path)
    out = tmp_path / "out" / "d.csv"
    result = ketenx.pseudonymise(
        agencies.export, ketenx.load_contract(agencies.contract), out, secret=agencies.secret,
        now=NOW,
    )  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.records_out = 0  # type: ignore[misc]
    secret_line = agencies.secret.read_text(encoding="ascii").strip().splitlines()[-1]
    encoded = secret_line.split()[-1]
    assert encoded not in repr(result) and encoded not in json.dumps(result.metadata)
