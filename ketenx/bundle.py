"""The whole exchange in two calls: :func:`pack` at the sender, :func:`unpack` at the
recipient. Edge layer: files, clock, keys. Layout in ``docs/spec/delivery.md``.

A delivery is ONE file: an age-encrypted (unless ``--no-encrypt``) POSIX tar with exactly
these members, in this order::

    statement.dsse.json   DSSE envelope: in-toto Statement v1 over the three files below
    contract.json         the contract, RFC 8785 canonical JSON (its SHA-256 is the contract digest)
    data.meta.json        the delivery metadata (schemas/delivery-meta.schema.json)
    data.csv | data.jsonl | data.json   the pseudonymised, minimised records

Sign-then-encrypt: the signature binds the sender; age binds the recipient.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .attest import build_predicate, rfc3339, sign_subjects, verify_statement
from .canonical import canonical_bytes, sha256_digest
from .contract import Contract
from .dsse import read_envelope
from .errors import (
    InputFileError,
    KeyMaterialError,
    OperationalError,
    RejectedError,
    UsageError,
    VerificationError,
)
from .fileio import atomic_output, file_digest, open_input
from .partners import Registry
from .readers import format_for

STATEMENT = "statement.dsse.json"
CONTRACT = "contract.json"
META = "data.meta.json"
DATA_NAMES = ("data.csv", "data.jsonl", "data.json")
MEMBERS = (STATEMENT, CONTRACT, META)
AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
RECEIPT = "RECEIPT.txt"


@contextlib.contextmanager
def _workdir(near: Path) -> Iterator[Path]:
    """A private temporary folder next to ``near`` (same file system), removed afterwards."""
    folder = near if near.is_dir() else near.parent
    with tempfile.TemporaryDirectory(
        prefix=".ketenx-", dir=folder if folder.is_dir() else None
    ) as d:
        Path(d).chmod(0o700)
        yield Path(d)


def _add(tar: tarfile.TarFile, name: str, source: Path | bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if isinstance(source, bytes):
        info.size = len(source)
        tar.addfile(info, io.BytesIO(source))
    else:
        info.size = source.stat().st_size
        with open(source, "rb") as fh:
            tar.addfile(info, fh)


def pack(
    *,
    data: str,
    contract: Contract,
    registry: Registry,
    private_key: Any,
    secret_arg: str | None,
    environ: Mapping[str, str],
    output: Path,
    encrypt: bool = True,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    now: _dt.datetime | None = None,
    jobs: int = 1,
    allow_empty: bool = False,
) -> str:
    """check → pseudonymise → check output → sign → encrypt, into one delivery file.

    ``jobs`` > 1 runs the keyed operations in forked helper processes (:mod:`ketenx.workers`).
    """
    from .delivery import delivery_meta, prepare
    from .pipeline import pseudonymise_stream, raise_if_rejected
    from .seal import encrypt_stream

    created = now or _dt.datetime.now(_dt.UTC)
    recipients = registry.age_recipients(contract.recipient.oin)
    if encrypt and not recipients:
        raise KeyMaterialError(
            f"no age recipient is registered for the recipient OIN {contract.recipient.oin} "
            f"in {registry.source}",
            hint="add age_recipients to the partner, or use --no-encrypt",
        )
    prep = prepare(
        data=data,
        contract=contract,
        secret_arg=secret_arg,
        environ=environ,
        output=output,
        to=to,
        input_format=input_format,
        delimiter=delimiter,
        output_is_data=False,
    )
    in_fmt, out_fmt, keyring = prep.input_format, prep.output_format, prep.keyring
    domain_info = prep.domain_info
    data_name = f"data.{out_fmt}"

    with _workdir(output.parent) as work, contextlib.ExitStack() as stack:
        source = open_input(data)
        if data != "-":
            stack.enter_context(source)
        data_path = work / data_name
        with open(data_path, "wb") as sink:
            result = pseudonymise_stream(
                source,
                in_fmt,
                sink,
                out_fmt,
                contract,
                keyring,
                path=data,
                delimiter=delimiter,
                jobs=jobs,
                allow_empty=allow_empty,
            )
        raise_if_rejected(result)
        meta = delivery_meta(
            contract,
            result,
            domain_info,
            input_name=data,
            input_format=in_fmt,
            output_name=data_name,
            output_format=out_fmt,
            created=created,
        )
        meta_bytes = json.dumps(meta, indent=2, ensure_ascii=False).encode() + b"\n"
        contract_bytes = canonical_bytes(contract.document)
        subjects = [
            (data_name, result.output_digest),
            (META, sha256_digest(meta_bytes)),
            (CONTRACT, sha256_digest(contract_bytes)),
        ]
        predicate = build_predicate(contract=contract, meta=meta, created=created)
        envelope = sign_subjects(subjects, predicate, private_key)
        envelope_bytes = json.dumps(envelope, indent=2).encode() + b"\n"

        tar_path = work / "delivery.tar"
        mtime = int(created.timestamp())
        with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, STATEMENT, envelope_bytes, mtime)
            _add(tar, CONTRACT, contract_bytes, mtime)
            _add(tar, META, meta_bytes, mtime)
            _add(tar, data_name, data_path, mtime)
        data_path.unlink()
        with open(tar_path, "rb") as plain, atomic_output(output) as out:
            if encrypt:
                encrypt_stream(plain, out, recipients)  # type: ignore[arg-type]
            else:
                shutil.copyfileobj(plain, out, 1 << 20)
    sealed = f"encrypted to {len(recipients)} age recipient(s)" if encrypt else "NOT encrypted"
    return (
        f"ketenx pack: {result.records_out} records, delivery {predicate['delivery_id']}, "
        f"signed and {sealed}: {output}"
    )


@dataclass(frozen=True)
class Unpacked:
    delivery_id: str
    created: str
    records: int
    data_name: str
    receipt: str


def _open_plain(delivery: Path, identity: Any | None, work: Path) -> Path:
    """The delivery's tar: decrypted into ``work`` when it is age-encrypted."""
    from .seal import decrypt_stream

    try:
        with open(delivery, "rb") as fh:
            head = fh.read(len(AGE_ARMOR))
    except FileNotFoundError:
        raise InputFileError(f"{delivery}: file not found") from None
    except OSError as exc:
        raise InputFileError(f"{delivery}: cannot read: {exc.strerror}") from None
    if not (head.startswith(AGE_MAGIC) or head.startswith(AGE_ARMOR)):
        return delivery
    if identity is None:
        raise KeyMaterialError("the delivery is encrypted: give the age identity (--identity)")
    plain = work / "delivery.tar"
    with open(delivery, "rb") as src, open(plain, "wb") as dst:
        decrypt_stream(src, dst, identity)
    return plain


def _extract(tar_path: Path, work: Path) -> dict[str, Path]:
    """The members of a delivery tar, extracted into ``work``; anything unexpected refused."""
    members: dict[str, Path] = {}
    try:
        with tarfile.open(tar_path, "r:") as tar:
            for info in tar:
                name = info.name
                if not info.isreg() or name not in (*MEMBERS, *DATA_NAMES):
                    raise VerificationError(
                        "the delivery holds an unexpected member (not a ketenx delivery)"
                    )
                if name in members:
                    raise VerificationError(f"the delivery holds {name} twice")
                target = work / ("m-" + name)
                src = tar.extractfile(info)
                assert src is not None
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                members[name] = target
    except tarfile.TarError:
        raise VerificationError("the delivery is not a valid ketenx bundle (bad tar)") from None
    data = [n for n in DATA_NAMES if n in members]
    missing = [n for n in MEMBERS if n not in members]
    if missing or len(data) != 1:
        what = ", ".join(missing) if missing else "exactly one data file"
        raise VerificationError(f"the delivery is incomplete: {what} missing")
    return members


def unpack(
    *,
    delivery: Path,
    contract: Contract,
    registry: Registry,
    identity: Any | None,
    output_dir: Path,
    not_before: _dt.datetime | None = None,
    now: _dt.datetime | None = None,
) -> Unpacked:
    """decrypt → verify signature, signer and digests → check the data against the output
    schema → only then write the data and a receipt into ``output_dir``."""
    from .check import Checker
    from .pipeline import output_schema
    from .reports import place_of
    from .validation import RecordSchema

    now = now or _dt.datetime.now(_dt.UTC)
    if output_dir.exists() and not output_dir.is_dir():
        raise OperationalError(f"{output_dir}: exists and is not a folder")
    # The work folder lives next to the output folder (same file system, so the final move
    # is a rename); the output folder itself is only made once everything verified.
    near = output_dir if output_dir.is_dir() else output_dir.resolve().parent
    with _workdir(near) as work:
        members = _extract(_open_plain(delivery, identity, work), work)
        data_name = next(n for n in DATA_NAMES if n in members)
        with open(members[STATEMENT], "rb") as fh:
            envelope = read_envelope(fh)
        files = [(name, file_digest(members[name])) for name in (data_name, META, CONTRACT)]
        verified = verify_statement(
            envelope, files, registry, now=now, contract_digest=contract.digest()
        )
        predicate = verified.predicate
        if predicate["recipient"]["oin"] != contract.recipient.oin:
            raise VerificationError("the delivery is addressed to another recipient OIN")
        if predicate["sender"]["oin"] != contract.sender.oin:
            raise VerificationError("the delivery comes from another sender than the contract's")
        if not_before is not None and verified.created < not_before:
            raise VerificationError(
                f"the delivery was created at {rfc3339(verified.created)}, before --not-before"
            )
        expected = (predicate.get("records") or {}).get("output")
        checker = Checker(RecordSchema(output_schema(contract)), max_errors=1)
        checker.unneutralise = True
        checker.allow_empty = expected == 0  # a signed empty delivery (pack --allow-empty)
        with open(members[data_name], "rb") as fh:
            report = checker.check(fh, format_for(data_name) or "csv")
        if not report.valid:
            v = report.errors[0]
            place = place_of(v.record, (v.rule,))
            raise RejectedError(
                f"the delivered data does not match the output schema: {place}, field "
                f"{v.field or '-'}: rule {v.rule} ({report.invalid_records} invalid records)"
            )
        if expected is not None and expected != report.records:
            raise VerificationError("the number of records differs from the signed count")

        receipt = _receipt(verified, contract, data_name, dict(files)[data_name], report.records)
        targets = {
            data_name: members[data_name],
            META: members[META],
            STATEMENT: members[STATEMENT],
        }
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperationalError(f"{output_dir}: cannot create: {exc.strerror}") from None
        for name in (*targets, RECEIPT):
            if (output_dir / name).exists():
                raise OperationalError(f"{output_dir / name} already exists; refusing to overwrite")
        for name, path in targets.items():
            path.chmod(0o644)
            path.replace(output_dir / name)
        with atomic_output(output_dir / RECEIPT) as fh:
            fh.write(receipt.encode("utf-8"))
    return Unpacked(
        delivery_id=predicate["delivery_id"],
        created=predicate["created"],
        records=report.records,
        data_name=data_name,
        receipt=receipt,
    )


def _receipt(verified: Any, contract: Contract, data_name: str, digest: str, records: int) -> str:
    p = verified.predicate
    c = p.get("contract") or {}
    return (
        "ketenx delivery receipt\n"
        f"delivery id:  {p['delivery_id']}\n"
        f"created:      {p['created']}\n"
        f"sender:       {contract.sender.name} (OIN {p['sender']['oin']})\n"
        f"signed by:    {verified.signer.key_id}\n"
        f"recipient:    {contract.recipient.name} (OIN {p['recipient']['oin']})\n"
        f"contract:     {c.get('id')} version {c.get('version')} ({c.get('digest')})\n"
        f"purpose:      {p.get('purpose')}\n"
        f"legal basis:  {p.get('legal_basis')}\n"
        f"records:      {records} (signature, digests and output schema verified)\n"
        f"data:         {data_name} ({digest})\n"
    )


def parse_time(text: str) -> _dt.datetime:
    """``--not-before``: an RFC 3339 time or a date (midnight UTC)."""
    try:
        # RFC 3339 allows lower-case "t" and "z"; fromisoformat only knows upper case.
        when = _dt.datetime.fromisoformat((text[:10] + text[10:].upper()).replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--not-before: not an RFC 3339 time or date: {text}") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)
