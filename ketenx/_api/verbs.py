"""The verbs of ``import ketenx``: one function per CLI command, the one flow that command
wires its options to (``docs/library.md``).

A verb takes library types — paths, a loaded :class:`~ketenx.contract.model.Contract` and
partner registry, a secret path or :class:`~ketenx.storage.secrets.Secret`, a key object or path —
and returns a frozen dataclass (:mod:`ketenx.exchange.results`). It reads no environment
variable and prints nothing; ``now=``, ``nonce=`` and ``delivery_id=`` pin the clock and the
random choices, so a caller (and a test) gets the same bytes twice. Every refusal is a
:class:`~ketenx.errors.KetenxError` whose message names files, records, fields and rules,
never a value, a secret or an option of the command line.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import ContractError, UsageError
from ..exchange.results import (
    CheckResult,
    PackResult,
    PseudonymiseResult,
    ReidentifyResult,
    RiskResult,
    ScanResult,
    SignResult,
    UnpackResult,
    VerifyResult,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..contract.model import Contract
    from ..exchange.partners import Registry
    from ..progress import Progress
    from ..records.readers import InputFormat
    from ..storage.secrets import Secret

StrPath: TypeAlias = "str | os.PathLike[str]"
#: A signing key: the key object, a private key file (with ``passphrase``), or a function
#: that returns the key object, called only once everything else was found in order.
SigningKeyLike: TypeAlias = "Ed25519PrivateKey | StrPath | Callable[[], Ed25519PrivateKey]"
#: Progress per file for :func:`check`: called with the file's name, a context manager that
#: gives a :class:`~ketenx.progress.Progress` (or None) while that file is read.
ProgressFor: TypeAlias = "Callable[[str], AbstractContextManager[Progress | None]]"

SIDES = ("input", "output")


# --------------------------------------------------------------------------- loading


def load_contract(path: StrPath) -> Contract:
    """Read and lint an exchange contract (YAML or JSON); :class:`ContractError` when it
    cannot be used."""
    from ..contract.model import load_contract as _load

    return _load(os.fspath(path))


def load_partners(path: StrPath) -> Registry:
    """Read and lint a partner registry: who may sign for which OIN and when, and the age
    recipients of each partner; :class:`ContractError` when it cannot be used."""
    from ..exchange.partners import load_registry

    return load_registry(os.fspath(path))


def _registry(partners: Registry | StrPath) -> Registry:
    from ..exchange.partners import Registry

    return partners if isinstance(partners, Registry) else load_partners(partners)


def _signing_key(key: SigningKeyLike, passphrase: bytes | None) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ..storage.keys import load_private_key

    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, str | os.PathLike):
        return load_private_key(Path(key), passphrase)
    return key()


def _identity(identity: Any) -> Any:
    """An age identity object as it is; a path: the identity file loaded."""
    from ..storage.keys import load_age_identity

    if isinstance(identity, str | os.PathLike):
        return load_age_identity(Path(identity))
    return identity


def _side(side: str) -> str:
    if side not in SIDES:
        raise UsageError("the side is `input` (the sender's data) or `output` (a delivery)")
    return side


def _formats(data: Sequence[str], input_format: str | None) -> list[InputFormat]:
    from ..exchange.delivery import InputFormatUnknown
    from ..records.readers import format_for

    formats: list[InputFormat] = []
    for name in data:
        fmt = input_format or format_for(name)
        if fmt is None:
            raise InputFormatUnknown(name)
        if fmt not in ("csv", "jsonl", "json", "parquet"):
            raise UsageError("the input format is csv, jsonl, json or parquet")
        if fmt == "parquet" and name == "-":
            from ..records.engine.parquet import NeedsFile

            raise NeedsFile()
        formats.append(fmt)  # type: ignore[arg-type]
    return formats


def _names(data: StrPath | Sequence[StrPath]) -> list[str]:
    if isinstance(data, str | os.PathLike):
        return [os.fspath(data)]
    return [os.fspath(d) for d in data]


def _no_progress(name: str) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


# --------------------------------------------------------------------------- check


def check(
    data: StrPath | Sequence[StrPath],
    contract: Contract,
    *,
    side: str = "input",
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    allow_empty: bool = False,
    max_errors: int = 1000,
    progress: ProgressFor | None = None,
) -> CheckResult:
    """Check data files against the contract: ``side="input"`` the sender's data against its
    schema, ``side="output"`` a delivery against the output schema and, re-measured, the
    contract's privacy thresholds. Bad data is a finding, not an exception: see
    ``result.valid`` and ``result.report``. Every file is opened before any is read."""
    from ..progress import counted
    from ..records.check import Checker
    from ..records.readers import check_delimiter, check_encoding, decoded
    from ..records.reports import CheckReport
    from ..records.validation import RecordSchema, Violation
    from ..storage.fileio import open_input
    from ..transform.delivered import DeliveredSide
    from ..transform.privacy_reports import failure_text

    output_side = _side(side) == "output"
    check_delimiter(delimiter)
    check_encoding(encoding)
    names = _names(data)
    formats = _formats(names, input_format)
    delivered = DeliveredSide.of(contract) if output_side else None
    schema = delivered.schema if delivered is not None else RecordSchema(dict(contract.schema))
    shown_for = progress or _no_progress
    reports = []
    with contextlib.ExitStack() as stack:
        streams = []
        for name in names:  # a missing file fails the run before anything is checked
            stream = open_input(name)
            if name != "-":
                stack.enter_context(stream)
            streams.append(stream)
        for name, fmt, stream in zip(names, formats, streams, strict=True):
            with shown_for(name) as shown:
                records = shown.records if shown is not None else None
                if delivered is not None:  # also re-measured against the privacy thresholds
                    checker, meter = delivered.checker(
                        max_errors=max_errors, allow_empty=allow_empty, progress=records
                    )
                else:
                    checker = Checker(
                        schema, max_errors=max_errors, allow_empty=allow_empty, progress=records
                    )
                    meter = None
                as_utf8 = decoded(counted(stream, shown), encoding)
                file_report = checker.check(as_utf8, fmt, path=name, delimiter=delimiter)
            assessment = meter.verdict() if meter is not None and not file_report.fatal else None
            for failure in assessment.failures if assessment is not None else ():
                file_report.add(Violation(0, "", failure.rule, failure_text(failure)))
            reports.append(file_report)
    from ..records.engine import explain

    report = CheckReport(
        files=reports,
        contract_id=contract.id,
        contract_version=contract.version,
        contract_digest=contract.digest(),
        side=side,
        paths=[(p.field, p.path, p.reason) for p in explain(schema)],
    )
    return CheckResult(
        report=report,
        valid=report.valid,
        records=report.records,
        invalid_records=report.invalid_records,
        side=side,
    )


# --------------------------------------------------------------------------- pseudonymise


def pseudonymise(
    data: StrPath,
    contract: Contract,
    output: StrPath,
    *,
    secret: StrPath | Secret | None = None,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    skip_check: bool = False,
    skip_risk: bool = False,
    allow_empty: bool = False,
    jobs: int = 1,
    now: _dt.datetime | None = None,
    nonce: bytes | str | None = None,
    progress: Progress | None = None,
) -> PseudonymiseResult:
    """Check ``data``, pseudonymise and minimise it for the contract's recipient, check the
    output and enforce the privacy gates; write ``output`` and ``output.meta.json``
    atomically. A rejected input writes nothing (:class:`RejectedError`).

    ``secret`` is the secret file (its safety checks apply) or a loaded secret; it is needed
    when the contract pseudonymises or encrypts a field. ``now`` is the metadata's creation
    time; ``nonce`` the per-delivery nonce of a ``per-delivery`` contract (16 bytes). With
    both pinned, the same input gives the same bytes. ``skip_check`` drops invalid input
    records instead of refusing them, ``skip_risk`` skips the risk gate (both unsafe, and
    recorded in the metadata); ``jobs`` > 1 keys in forked helper processes."""
    from ..exchange.delivery import write_pseudonymised

    return write_pseudonymised(
        data=os.fspath(data),
        contract=contract,
        secret=secret,
        output=Path(output),
        to=to,
        input_format=input_format,
        delimiter=delimiter,
        skip_check=skip_check,
        skip_risk=skip_risk,
        allow_empty=allow_empty,
        now=now,
        nonce=nonce,
        jobs=jobs,
        encoding=encoding,
        progress=progress,
    )


def reidentify(
    data: StrPath,
    contract: Contract,
    output: StrPath,
    *,
    secret: StrPath | Secret | None,
    fields: Sequence[str] = (),
    meta: StrPath | None = None,
    progress: Progress | None = None,
) -> ReidentifyResult:
    """Reverse the ``encrypt`` fields of a delivery (all, or the ``fields`` named by input or
    output name) with the secret that made it (a file or a loaded secret; None is refused,
    after the delivery's own checks), into ``output`` (created 0600). ``meta`` is
    the delivery's metadata (default: ``DATA.meta.json``). A one-way field cannot be
    reversed (:class:`RejectedError`)."""
    from ..exchange.delivery import write_reidentified

    return write_reidentified(
        data=Path(data),
        contract=contract,
        secret=secret,
        output=Path(output),
        fields=fields,
        meta_path=Path(meta) if meta is not None else None,
        progress=progress,
    )


# --------------------------------------------------------------------------- sign, verify


def sign(
    files: Sequence[StrPath],
    key: SigningKeyLike,
    *,
    contract: Contract | None = None,
    output: StrPath | None = None,
    passphrase: bytes | None = None,
    now: _dt.datetime | None = None,
    delivery_id: str | None = None,
) -> SignResult:
    """A DSSE envelope over ``files`` carrying an in-toto Statement v1 with the ketenx
    delivery predicate (written atomically to ``output`` when given). The sender comes from
    ``contract``, else from the metadata sidecar of a delivery among ``files``. ``now`` and
    ``delivery_id`` pin the creation time and the id (Ed25519 signatures are deterministic:
    with both, the envelope is the same bytes)."""
    from ..exchange.attest import build_predicate, rfc3339, sign_subjects
    from ..exchange.delivery import meta_path_for, read_meta
    from ..exchange.partners import public_key_id
    from ..storage.fileio import atomic_output, file_digest

    paths = [Path(f) for f in files]
    meta = None
    subjects = []
    for path in paths:
        subjects.append((path.name, file_digest(path)))
        if meta is None and meta_path_for(path).exists():
            meta = read_meta(meta_path_for(path))
    if len({name for name, _ in subjects}) != len(subjects):
        raise UsageError("two files have the same name: subjects are named by file name")
    if contract is None and meta is None:
        raise NoSender()
    private_key = _signing_key(key, passphrase)
    created = now or _dt.datetime.now(_dt.UTC)
    predicate = build_predicate(
        contract=contract, meta=meta, created=created, delivery_id=delivery_id
    )
    envelope = sign_subjects(subjects, predicate, private_key)
    if output is not None:
        with atomic_output(Path(output)) as fh:
            fh.write(json.dumps(envelope, indent=2).encode() + b"\n")
    return SignResult(
        envelope=envelope,
        output=Path(output) if output is not None else None,
        delivery_id=predicate["delivery_id"],
        created=rfc3339(created),
        key_id=public_key_id(private_key.public_key()),
        subjects=tuple(subjects),
    )


class NoSender(UsageError):
    """:func:`sign` was given neither a contract nor a delivery with its metadata."""

    def __init__(self) -> None:
        super().__init__(
            "give the contract (or sign a delivery with its .meta.json) to name the sender"
        )


def verify(
    files: Sequence[StrPath],
    signature: StrPath | Mapping[str, Any],
    partners: Registry | StrPath,
    *,
    contract: Contract | None = None,
    now: _dt.datetime | None = None,
) -> VerifyResult:
    """Verify ``files`` against a DSSE envelope (a file, or the parsed envelope): signed by
    a key registered for the sender's OIN, valid at the signing time and not revoked, every
    file a subject with its digest, and — with the ``contract`` you hold — under that
    agreement. :class:`VerificationError` names the check that failed."""
    from ..exchange.attest import verify_statement
    from ..exchange.dsse import read_envelope
    from ..storage.fileio import file_digest, open_input

    registry = _registry(partners)
    if isinstance(signature, Mapping):
        envelope: Any = signature
    else:
        with open_input(os.fspath(signature)) as fh:
            envelope = read_envelope(fh)
    offered = [(Path(f).name, file_digest(Path(f))) for f in files]
    verified = verify_statement(
        envelope, offered, registry, now=now or _dt.datetime.now(_dt.UTC), contract=contract
    )
    p = verified.predicate
    return VerifyResult(
        files=len(offered),
        delivery_id=p["delivery_id"],
        created=p["created"],
        sender_oin=p["sender"]["oin"],
        key_id=verified.signer.key_id,
        predicate=p,
    )


# --------------------------------------------------------------------------- pack, unpack


def pack(
    data: StrPath,
    contract: Contract,
    partners: Registry | StrPath,
    output: StrPath,
    *,
    secret: StrPath | Secret | None,
    key: SigningKeyLike,
    passphrase: bytes | None = None,
    encrypt: bool = True,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    allow_empty: bool = False,
    skip_risk: bool = False,
    jobs: int = 1,
    now: _dt.datetime | None = None,
    nonce: bytes | str | None = None,
    delivery_id: str | None = None,
    progress: Progress | None = None,
) -> PackResult:
    """check → pseudonymise → check the output → sign → encrypt to every age recipient the
    registry lists for the contract's recipient, into ONE file written atomically.

    ``now``, ``nonce`` and ``delivery_id`` pin the clock and the random choices: with them and
    ``encrypt=False`` the delivery is the same bytes (age encryption is randomised)."""
    from ..exchange.bundle import pack as _pack

    registry = _registry(partners)
    return _pack(
        data=os.fspath(data),
        contract=contract,
        registry=registry,
        private_key=_signing_key(key, passphrase),
        secret=secret,
        output=Path(output),
        encrypt=encrypt,
        to=to,
        input_format=input_format,
        delimiter=delimiter,
        now=now,
        nonce=nonce,
        delivery_id=delivery_id,
        jobs=jobs,
        allow_empty=allow_empty,
        encoding=encoding,
        progress=progress,
        skip_risk=skip_risk,
    )


def unpack(
    delivery: StrPath,
    contract: Contract,
    partners: Registry | StrPath,
    output_dir: StrPath,
    *,
    identity: Any = None,
    not_before: _dt.datetime | None = None,
    now: _dt.datetime | None = None,
    skip_risk: bool = False,
    progress: Progress | None = None,
) -> UnpackResult:
    """decrypt (with ``identity``: your age identity file, or its object) → verify
    signature, signer and digests → check the data against the output schema and the
    privacy thresholds → only then write data, metadata, statement and ``RECEIPT.txt`` into
    ``output_dir`` (new or empty), all at once or not at all. ``not_before`` refuses a
    delivery signed earlier; ``now`` is the time signers' validity is judged at."""
    from ..exchange.bundle import unpack as _unpack

    registry = _registry(partners)
    return _unpack(
        delivery=Path(delivery),
        contract=contract,
        registry=registry,
        identity=_identity(identity) if identity is not None else None,
        output_dir=Path(output_dir),
        not_before=not_before,
        now=now,
        progress=progress,
        skip_risk=skip_risk,
    )


# --------------------------------------------------------------------------- risk, scan


def risk(
    data: StrPath | Sequence[StrPath],
    contract: Contract,
    *,
    side: str = "input",
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    progress: ProgressFor | None = None,
) -> RiskResult:
    """Measure re-identification risk (k-anonymity, l-diversity, prosecutor risk) of the
    delivery the contract would make from ``data`` (``side="input"``) or of a delivery
    (``side="output"``) against the contract's privacy thresholds. ``progress`` is as for
    :func:`check`."""
    from ..records.readers import check_delimiter, check_encoding
    from ..transform.gates import measure_file
    from ..transform.privacy_reports import RiskReport
    from ..transform.risk import Policy, assess

    _side(side)
    check_delimiter(delimiter)
    check_encoding(encoding)
    names = _names(data)
    formats = _formats(names, input_format)
    policy = Policy.from_contract(contract)
    if not policy.declared:
        raise ContractError(
            f"{contract.source}: the contract names no quasi-identifier",
            hint="list them under privacy.quasi_identifiers",
        )
    reports = []
    for name, fmt in zip(names, formats, strict=True):
        with (progress or _no_progress)(name) as shown:
            counter = measure_file(
                name,
                fmt,
                contract,
                side=side,
                delimiter=delimiter,
                encoding=encoding,
                progress=shown,
            )
        reports.append(RiskReport(name, policy, assess(counter), side))
    return RiskResult(passed=all(r.assessment.passed for r in reports), reports=tuple(reports))


def scan(
    data: StrPath | Sequence[StrPath],
    contract: Contract,
    *,
    side: str = "input",
    input_format: str | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    progress: ProgressFor | None = None,
) -> ScanResult:
    """Look for identifiers (BSN, e-mail, IBAN, phone, address, date) in the fields the
    contract keeps; counts and record numbers only, never a value."""
    from ..records.readers import check_delimiter, check_encoding
    from ..transform.gates import file_columns
    from ..transform.privacy_reports import ScanReport
    from ..transform.scan import Scanner, scanned_fields
    from ..transform.transformer import output_schema

    output_side = _side(side) == "output"
    check_delimiter(delimiter)
    check_encoding(encoding)
    names = _names(data)
    formats = _formats(names, input_format)
    fields = scanned_fields(contract, side=side)
    schema = output_schema(contract) if output_side else dict(contract.schema)
    reports = []
    for name, fmt in zip(names, formats, strict=True):
        scanner = Scanner(fields)
        with (progress or _no_progress)(name) as shown:
            for columns, n in file_columns(
                name, fmt, schema, list(fields), delimiter, encoding, shown
            ):
                scanner.add(columns, n)
        reports.append(ScanReport(name, scanner.records, fields, scanner.results()))
    return ScanResult(passed=all(r.passed for r in reports), reports=tuple(reports))
