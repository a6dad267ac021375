"""The whole exchange in two calls: :func:`pack` at the sender, :func:`unpack` at the
recipient. Edge layer: files, clock, keys. Layout in ``docs/spec/delivery.md``.

A delivery is ONE file: an age-encrypted (unless ``--no-encrypt``) POSIX tar with exactly
these members, in this order::

    statement.dsse.json   DSSE envelope: in-toto Statement v1 over the three files below
    contract.json         the contract, RFC 8785 canonical JSON (its SHA-256 is the contract digest)
    data.meta.json        the delivery metadata (schemas/delivery-meta.schema.json)
    data.csv | data.jsonl | data.json | data.parquet   the pseudonymised, minimised records

Sign-then-encrypt: the signature binds the sender; age binds the recipient.

Both directions stream. ``pack`` stages only the pseudonymised records (they must be
complete before their digest can be signed, and the statement comes first in the tar), in
a private work folder beside the destination (:mod:`ketenx.storage.staging`); the tar is made on
the fly and read straight into the age encryption. ``unpack`` reads the (decrypted) tar as a
stream with its own strict reader (:class:`_Reader`), never with :mod:`tarfile`: only the
documented members, in order, each at most once, plain regular files with the documented
header fields, small members capped before they are read; the signature, signer and
subjects are verified before the data member is written anywhere, and the data is then
streamed into a private staging file, no longer than its signed size, its digest checked
as it streams. The inbox appears whole (one rename of a staged folder) or not at all.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import itertools
import json
import os
import unicodedata
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from ..canonical import canonical_bytes, sha256_digest
from ..contract.model import Contract
from ..errors import (
    KeyMaterialError,
    OperationalError,
    RejectedError,
    VerificationError,
)
from ..progress import Progress, counted
from ..records.readers import format_for
from ..records.strictjson import parse_document
from ..storage.fileio import open_file
from ..storage.staging import create_file, finish, publish, work_folder
from .attest import build_predicate, rfc3339, sign_subjects, verify_statement
from .partners import Registry, public_key_id
from .results import PackResult, UnpackResult

STATEMENT = "statement.dsse.json"
CONTRACT = "contract.json"
META = "data.meta.json"
DATA_NAMES = ("data.csv", "data.jsonl", "data.json", "data.parquet")
MEMBERS = (STATEMENT, CONTRACT, META)
AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_ARMOR = b"-----BEGIN AGE ENCRYPTED FILE-----"
RECEIPT = "RECEIPT.txt"

#: Largest accepted size of the small members, checked on the tar header before reading.
CAPS = {STATEMENT: 1 << 20, CONTRACT: 4 << 20, META: 4 << 20}
BLOCK = 512
RECORD = 20 * BLOCK  # tar's default record: the archive is zero-padded to a multiple
PAX_CAP = BLOCK  # a pax extended header carries one `size` record, nothing else
MEMBER_MODE = 0o644
CHUNK = 1 << 16


# The refusals below name what the library was given; the command line words them with its
# option names (ketenx._cli._wording): a library message never names an option.


class NoAgeRecipient(KeyMaterialError):
    """An encrypted delivery was asked for, and the registry has no age recipient for it."""

    def __init__(self, oin: str, source: str) -> None:
        super().__init__(
            f"no age recipient is registered for the recipient OIN {oin} in {source}",
            hint="add age_recipients to the partner, or pack without encryption",
        )


class IdentityNeeded(KeyMaterialError):
    """The delivery is encrypted and no age identity was given."""

    def __init__(self) -> None:
        super().__init__("the delivery is encrypted: give the age identity to decrypt it")


class NotEncrypted(VerificationError):
    """An age identity was given for a delivery that is not encrypted."""

    def __init__(self) -> None:
        super().__init__(
            "the delivery is not encrypted, but an age identity was given",
            hint="to accept an unencrypted delivery, unpack it without an identity",
        )


class TooEarly(VerificationError):
    """The delivery was signed before the earliest creation time accepted."""

    def __init__(self, created: str) -> None:
        super().__init__(
            f"the delivery was created at {created}, before the earliest time accepted"
        )
        self.created = created


# --------------------------------------------------------------------------- the tar


def _header(name: str, size: int, mtime: int) -> bytes:
    """The (pax) tar header of one member, as :mod:`tarfile` writes it."""
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = MEMBER_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict")


def _tar_chunks(members: list[tuple[str, bytes | Path]], mtime: int) -> Iterator[bytes]:
    """The delivery tar, in pieces: header, content and zero padding of every member, the
    end-of-archive marker (two zero blocks), zero padding to a whole 10240-byte record."""
    offset = 0
    for name, content in members:
        size = len(content) if isinstance(content, bytes) else content.stat().st_size
        head = _header(name, size, mtime)
        yield head
        if isinstance(content, bytes):
            yield content
        else:
            with open(content, "rb") as fh:
                copied = 0
                while chunk := fh.read(CHUNK):
                    copied += len(chunk)
                    yield chunk
            if copied != size:
                raise OperationalError("the staged data changed while it was packed")
        pad = -size % BLOCK
        yield bytes(pad)
        offset += len(head) + size + pad
    offset += 2 * BLOCK
    yield bytes(2 * BLOCK + (-offset % RECORD))


class _ChunkReader:
    """A readable binary stream over an iterator of byte strings (for pyrage's pull)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def readable(self) -> bool:
        return True


def _bad(what: str) -> VerificationError:
    return VerificationError(f"the delivery is not a valid ketenx bundle: {what}")


def _number(field: bytes, what: str) -> int:
    """An octal tar header number (digits, then NUL or space); base-256 is refused."""
    text = field.rstrip(b"\x00 ")
    if not text or text.strip(b"01234567"):
        raise _bad(f"the tar header's {what} is not an octal number")
    return int(text, 8)


def _parse_header(block: bytes) -> tuple[bytes, str, int, int]:
    """``(typeflag, name, size, mtime)`` of a ustar header block, checked field by field."""
    if block[257:265] != b"ustar\x0000":
        raise _bad("a tar header is not a POSIX ustar/pax header")
    stored = _number(block[148:156], "checksum")
    if stored != sum(block[:148]) + sum(block[156:]) + 8 * 0x20:
        raise _bad("a tar header's checksum is wrong")
    typeflag = block[156:157]
    raw_name = block[0:100].rstrip(b"\x00")
    if b"\x00" in raw_name:
        raise _bad("a member name holds a NUL byte")
    name = raw_name.decode("ascii", "replace")
    size = _number(block[124:136], "size")
    mtime = _number(block[136:148], "mtime")
    if typeflag == b"x":  # the pax header's own name, mode, owner are not used
        return typeflag, name, size, mtime
    if typeflag != b"0":
        raise _bad("a member is not a plain regular file (link, device, folder, sparse…)")
    if _number(block[100:108], "mode") != MEMBER_MODE:
        raise _bad("a member's mode is not 0644")
    if _number(block[108:116], "uid") or _number(block[116:124], "gid"):
        raise _bad("a member's owner is not uid/gid 0")
    if any(block[157:257]) or any(block[265:329]) or any(block[345:512]):
        raise _bad("a member has a link name, owner name or name prefix")
    for devfield in (block[329:337], block[337:345]):
        if devfield.rstrip(b"\x00 ") and _number(devfield, "device number"):
            raise _bad("a member has a device number")
    return typeflag, name, size, mtime


def _pax_size(body: bytes) -> int:
    """The one record a ketenx bundle's pax header may carry: ``size``."""
    records: dict[str, str] = {}
    text = body.rstrip(b"\x00")
    while text:
        length = text.partition(b" ")[0]
        if not length.isdigit() or int(length) > len(text) or int(length) <= len(length) + 1:
            raise _bad("a pax header is malformed")
        record, text = text[: int(length)], text[int(length) :]
        key, eq, value = record[len(length) + 1 : -1].partition(b"=")
        if not eq or not record.endswith(b"\n"):
            raise _bad("a pax header is malformed")
        if key != b"size" or key.decode() in records:
            raise _bad("a pax header carries a record other than one size (sparse, link, …)")
        if not value.isdigit():
            raise _bad("a pax size is not a number")
        records[key.decode()] = value.decode()
    if "size" not in records:
        raise _bad("a pax header carries no size")
    return int(records["size"])


@dataclass
class _Member:
    name: str
    size: int
    mtime: int


Wants = Generator[int, bytes, None]
"""A parser step: yields how many bytes it wants, receives them (fewer: the input ended)."""


class _Reader:
    """A push parser of a delivery tar: :meth:`write` the plaintext as it comes, then
    :meth:`close`. The parsing is written as a generator that asks for a number of bytes
    and receives exactly that many (fewer only at the end of the input), so that memory
    stays bounded by the largest request: a header, a capped small member, or a chunk.

    ``on_data(member, small)`` is called at the data member's header, with the three small
    members' bytes by name; it verifies them and returns the sink the data is streamed into
    (``write``) and the data's signed digest. Rules: ``docs/spec/delivery.md`` §6.1.
    """

    def __init__(
        self,
        on_data: Callable[[_Member, Mapping[str, bytes]], tuple[BinaryIO, str]],
    ) -> None:
        self._on_data = on_data
        self._buffer = bytearray()
        self._parser = self._parse()
        self._wanted: int | None = next(self._parser)
        self.offset = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        while self._wanted is not None and len(self._buffer) >= self._wanted:
            chunk = bytes(self._buffer[: self._wanted])
            del self._buffer[: self._wanted]
            self._send(chunk)
        if self._wanted is None and self._buffer:
            raise _bad("data follows the end of the tar")
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        """The input ended: the tar must have ended properly too."""
        while self._wanted is not None:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._send(chunk)

    def _send(self, chunk: bytes) -> None:
        self.offset += len(chunk)
        try:
            self._wanted = self._parser.send(chunk)
        except StopIteration:
            self._wanted = None

    @staticmethod
    def _exactly(size: int) -> Generator[int, bytes, bytes]:
        chunk = yield size
        if len(chunk) < size:
            raise _bad("the tar is truncated")
        return chunk

    def _member(self) -> Generator[int, bytes, _Member | None]:
        block = yield from self._exactly(BLOCK)
        if not any(block):
            return None
        typeflag, name, size, mtime = _parse_header(block)
        if typeflag == b"x":
            if size > PAX_CAP:
                raise _bad("a pax header is larger than allowed")
            body = yield from self._exactly(size + (-size % BLOCK))
            pax = _pax_size(body[:size])
            block = yield from self._exactly(BLOCK)
            if not any(block):
                raise _bad("a pax header is not followed by a member")
            typeflag, name, _, mtime = _parse_header(block)
            if typeflag != b"0":
                raise _bad("a pax header is not followed by a plain regular file")
            size = pax
        return _Member(name, size, mtime)

    def _padding(self, size: int) -> Wants:
        pad = yield from self._exactly(-size % BLOCK)
        if any(pad):
            raise _bad("a member's padding is not zero")

    def _parse(self) -> Wants:
        small: dict[str, bytes] = {}
        mtimes: list[int] = []
        for expected in MEMBERS:
            member = yield from self._member()
            _expect(member, expected, small)
            assert member is not None
            if member.size > CAPS[expected]:
                raise _bad(f"{expected} is larger than allowed ({CAPS[expected] >> 20} MiB)")
            small[expected] = yield from self._exactly(member.size)
            yield from self._padding(member.size)
            mtimes.append(member.mtime)
        member = yield from self._member()
        _expect(member, None, small)
        assert member is not None
        if len({*mtimes, member.mtime}) != 1:
            raise _bad("the members' modification times differ")
        sink, signed = self._on_data(member, small)
        digest = hashlib.sha256()
        left = member.size
        while left:
            chunk = yield from self._exactly(min(left, CHUNK))
            digest.update(chunk)
            sink.write(chunk)
            left -= len(chunk)
        if "sha256:" + digest.hexdigest() != signed:
            raise VerificationError(
                f"file {member.name} does not match its signed digest (changed?)"
            )
        yield from self._padding(member.size)
        following = yield from self._member()
        if following is not None:
            _expect(following, "", small | {member.name: b""})
        second = yield from self._exactly(BLOCK)
        if any(second):
            raise _bad("the end-of-archive marker is incomplete")
        end = self.offset
        while True:
            block = yield BLOCK
            if not block:
                return
            if len(block) < BLOCK or any(block) or self.offset > end + (-end % RECORD):
                raise _bad("data follows the end of the tar")


def _expect(member: _Member | None, expected: str | None, seen: Mapping[str, bytes]) -> None:
    """Refuse a member that is not the one the layout puts here (``None``: a data member;
    ``""``: nothing). Only the fixed member names are ever named in a message."""
    if member is None:
        missing = expected or "exactly one data file"
        raise _bad(f"{missing} is missing")
    name = member.name
    if name in seen:
        raise _bad(f"{name} occurs twice")
    if name not in (*MEMBERS, *DATA_NAMES):
        raise _bad("it holds an unexpected member")
    if (expected is None and name not in DATA_NAMES) or (expected is not None and name != expected):
        raise _bad(f"{name} is out of order")


# --------------------------------------------------------------------------- pack


def pack(
    *,
    data: str,
    contract: Contract,
    registry: Registry,
    private_key: Any,
    secret: Any,
    output: Path,
    encrypt: bool = True,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    now: _dt.datetime | None = None,
    nonce: bytes | str | None = None,
    delivery_id: str | None = None,
    jobs: int = 1,
    allow_empty: bool = False,
    encoding: str | None = None,
    progress: Progress | None = None,
    skip_risk: bool = False,
) -> PackResult:
    """check → pseudonymise → check output → sign → encrypt, into one delivery file.

    ``secret``: a secret file's path or a loaded :class:`ketenx.storage.secrets.Secret`. ``now``,
    ``nonce`` (the per-delivery pseudonymisation nonce) and ``delivery_id`` pin what would
    otherwise come from the clock and the random generator: with all three and
    ``encrypt=False`` the delivery is the same, byte for byte (age encryption is randomised).
    ``jobs`` > 1 runs the keyed operations in forked helper processes
    (:mod:`ketenx.transform.workers`).
    """
    from ..records.readers import check_encoding

    check_encoding(encoding)
    from .delivery import prepare, produce, suppressed_of
    from .seal import encrypt_stream

    created = (now or _dt.datetime.now(_dt.UTC)).replace(microsecond=0)
    recipients = registry.age_recipients(contract.recipient.oin)
    if encrypt and not recipients:
        raise NoAgeRecipient(contract.recipient.oin, str(registry.source))
    prep = prepare(
        data=data,
        contract=contract,
        secret=secret,
        output=output,
        to=to,
        input_format=input_format,
        delimiter=delimiter,
        output_is_data=False,
        nonce=nonce,
    )
    data_name = f"data.{prep.output_format}"

    with work_folder(output) as work:
        # Only the pseudonymised records are staged (0600, in the private work folder).
        data_path = work / data_name
        with create_file(data_path, private=True) as sink:
            result, meta = produce(
                data=data,
                contract=contract,
                prep=prep,
                sink=sink,
                output_name=data_name,
                created=created,
                spill_dir=work,
                delimiter=delimiter,
                skip_risk=skip_risk,
                allow_empty=allow_empty,
                jobs=jobs,
                encoding=encoding,
                progress=progress,
            )
        meta_bytes = json.dumps(meta, indent=2, ensure_ascii=False).encode() + b"\n"
        contract_bytes = canonical_bytes(contract.document)
        subjects = [
            (data_name, result.output_digest),
            (META, sha256_digest(meta_bytes)),
            (CONTRACT, sha256_digest(contract_bytes)),
        ]
        predicate = build_predicate(
            contract=contract, meta=meta, created=created, delivery_id=delivery_id
        )
        envelope = sign_subjects(subjects, predicate, private_key)
        envelope_bytes = json.dumps(envelope, indent=2).encode() + b"\n"
        for name, content in (
            (STATEMENT, envelope_bytes),
            (CONTRACT, contract_bytes),
            (META, meta_bytes),
        ):
            if len(content) > CAPS[name]:
                raise OperationalError(
                    f"{name} would be larger than a bundle allows ({CAPS[name] >> 20} MiB)"
                )
        members: list[tuple[str, bytes | Path]] = [
            (STATEMENT, envelope_bytes),
            (CONTRACT, contract_bytes),
            (META, meta_bytes),
            (data_name, data_path),
        ]
        tar = _ChunkReader(_tar_chunks(members, int(created.timestamp())))
        staged = work / "delivery"
        with create_file(staged) as out:
            if encrypt:
                encrypt_stream(tar, out, recipients)  # type: ignore[arg-type]
            else:
                while chunk := tar.read(CHUNK):
                    out.write(chunk)
            finish(out)
        data_path.unlink()
        publish(staged, output, folder=False)
    suppressed = suppressed_of(result)
    return PackResult(
        output=output,
        delivery_id=predicate["delivery_id"],
        created=created,
        records_in=result.records_in,
        records_out=result.records_out,
        records_dropped=result.records_in - result.records_out - suppressed,
        records_suppressed=suppressed,
        key_id=public_key_id(private_key.public_key()),
        secret_key_id=prep.domain_info["key_id"],
        recipients=len(recipients) if encrypt else 0,
        data_name=data_name,
        output_digest=result.output_digest,
    )


# --------------------------------------------------------------------------- unpack


def _json(content: bytes, what: str) -> Any:
    """A small member as strict JSON (no duplicate keys, NaN or deep nesting): a member two
    parsers could read differently is refused (its size was capped before it was read)."""
    return parse_document(
        content, what=f"the delivery's {what}", max_bytes=len(content), error=VerificationError
    )


def _refuse_existing_output(output_dir: Path) -> None:
    if not os.path.lexists(output_dir):
        return
    if output_dir.is_symlink() or not output_dir.is_dir():
        raise OperationalError(f"{output_dir}: exists and is not a folder")
    if any(output_dir.iterdir()):
        raise OperationalError(
            f"{output_dir}: the folder is not empty; refusing to overwrite",
            hint="unpack every delivery into a new (or empty) folder",
        )


@dataclass
class _Verification:
    """What :func:`unpack` learns while the bundle streams by."""

    contract: Contract
    registry: Registry
    now: _dt.datetime
    not_before: _dt.datetime | None
    inbox: Path
    verified: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    small: dict[str, bytes] = field(default_factory=dict)
    data_name: str = ""
    sink: BinaryIO | None = None

    def on_data(self, member: _Member, small: Mapping[str, bytes]) -> tuple[BinaryIO, str]:
        """Verify statement, signer, subjects and the signed size; then open the staging
        file the data streams into."""
        envelope = _json(small[STATEMENT], "signature envelope")
        meta = _json(small[META], "metadata")
        output = meta.get("output") if isinstance(meta, dict) else None
        if not isinstance(output, dict) or output.get("name") != member.name:
            raise VerificationError(f"the delivery's metadata does not describe {member.name}")
        signed_digest, signed_size = output.get("digest"), output.get("bytes")
        if not isinstance(signed_digest, str) or type(signed_size) is not int:
            raise VerificationError("the delivery's metadata states no data digest and size")
        files = [
            (member.name, signed_digest),
            (META, sha256_digest(small[META])),
            (CONTRACT, sha256_digest(small[CONTRACT])),
        ]
        contract = self.contract
        verified = verify_statement(envelope, files, self.registry, now=self.now, contract=contract)
        predicate = verified.predicate
        if sha256_digest(small[CONTRACT]) != contract.digest():
            raise VerificationError("the delivery's contract.json is not the contract you hold")
        records = predicate.get("records")
        if not isinstance(records, dict) or not all(
            type(records.get(k)) is int for k in ("input", "output", "dropped")
        ):
            raise VerificationError("the signed statement states no record counts")
        if records["output"] != output.get("records"):
            raise VerificationError("the signed record count differs from the metadata's")
        if self.not_before is not None and verified.created < self.not_before:
            raise TooEarly(rfc3339(verified.created))
        if member.mtime != int(verified.created.timestamp()):
            raise _bad("the members' modification time is not the signed creation time")
        if member.size != signed_size:
            raise VerificationError(
                f"the tar's {member.name} is not the size the signed metadata states"
            )
        self.verified, self.meta, self.small = verified, meta, dict(small)
        self.data_name = member.name
        self.sink = create_file(self.inbox / member.name, private=True)
        return self.sink, signed_digest


def unpack(
    *,
    delivery: Path,
    contract: Contract,
    registry: Registry,
    identity: Any | None,
    output_dir: Path,
    not_before: _dt.datetime | None = None,
    now: _dt.datetime | None = None,
    progress: Progress | None = None,
    skip_risk: bool = False,
) -> UnpackResult:
    """decrypt → verify signature, signer and digests → check the data against the output
    schema → only then show the data, metadata, statement and receipt in ``output_dir``,
    together (one rename), or nothing."""
    from .seal import decrypt_stream

    now = now or _dt.datetime.now(_dt.UTC)
    _refuse_existing_output(output_dir)
    with contextlib.ExitStack() as stack:
        src = counted(stack.enter_context(open_file(delivery)), progress)
        head = src.read(len(AGE_ARMOR))  # read once: the delivery may be a pipe
        encrypted = head.startswith(AGE_MAGIC) or head.startswith(AGE_ARMOR)
        if encrypted and identity is None:
            raise IdentityNeeded()
        if not encrypted and identity is not None:
            raise NotEncrypted()
        source = _ChunkReader(itertools.chain([head], iter(partial(src.read, CHUNK), b"")))
        work = stack.enter_context(work_folder(output_dir))
        inbox = work / "inbox"
        inbox.mkdir()  # the umask decides its mode, as for any new folder
        state = _Verification(contract, registry, now, not_before, inbox)
        reader = _Reader(state.on_data)
        try:
            if encrypted:
                decrypt_stream(source, reader, identity)  # type: ignore[arg-type]
            else:
                while chunk := source.read(CHUNK):
                    reader.write(chunk)
            reader.close()
            if state.sink is not None:
                finish(state.sink)
        finally:
            if state.sink is not None:
                state.sink.close()
        receipt = _check_data(state, encrypted, progress, skip_risk=skip_risk)
        for name, content in (
            (META, state.small[META]),
            (STATEMENT, state.small[STATEMENT]),
            (RECEIPT, receipt.encode("utf-8")),
        ):
            with create_file(inbox / name) as fh:
                fh.write(content)
                finish(fh)
        publish(inbox, output_dir, folder=True)
    predicate = state.verified.predicate
    return UnpackResult(
        output_dir=output_dir,
        data_path=output_dir / state.data_name,
        delivery_id=predicate["delivery_id"],
        created=predicate["created"],
        records=int(predicate["records"]["output"]),
        signer_key_id=state.verified.signer.key_id,
        encrypted=encrypted,
        receipt=receipt,
    )


def _check_data(
    state: _Verification,
    encrypted: bool,
    progress: Progress | None = None,
    *,
    skip_risk: bool = False,
) -> str:
    """Check the staged data against the output schema and the signed count; the receipt."""
    from ..records.reports import rejection
    from ..transform.delivered import DeliveredSide
    from ..transform.privacy_reports import failure_text

    contract, predicate = state.contract, state.verified.predicate
    expected = predicate["records"]["output"]
    checker, meter = DeliveredSide.of(contract).checker(
        max_errors=1,
        progress=progress.records if progress is not None else None,
        allow_empty=expected == 0,  # a signed empty delivery (pack --allow-empty)
        measure_risk=not skip_risk,
    )
    with open(state.inbox / state.data_name, "rb") as fh:
        report = checker.check(fh, format_for(state.data_name) or "csv")
    if not report.valid:
        v = report.errors[0]
        raise rejection(
            "delivered data",
            v.record,
            v.field,
            v.rule,
            v.message,
            more=report.total_errors - 1,
            hint="the delivered records do not match the contract's output schema; nothing "
            "was written",
        )
    if expected != report.records:
        raise VerificationError("the number of records differs from the signed count")
    assessment = None if meter is None else meter.verdict()
    if assessment is not None and not assessment.passed:
        raise RejectedError(
            "the delivered data does not meet its contract's privacy thresholds: "
            + "; ".join(map(failure_text, assessment.failures)),
            hint="ask the sender for a delivery that meets the contract (or one with a "
            "coarser contract); nothing was written",
        )
    p = predicate
    lines = [
        ("delivery id", p["delivery_id"]),
        ("created", p["created"]),
        ("sender", f"{contract.sender.name} (OIN {contract.sender.oin})"),
        ("signed by", state.verified.signer.key_id),
        ("recipient", f"{contract.recipient.name} (OIN {contract.recipient.oin})"),
        ("contract", f"{contract.id} version {contract.version} ({contract.digest()})"),
        ("purpose", contract.purpose),
        ("legal basis", contract.legal_basis),
        ("encryption", "age, to your identity" if encrypted else "NONE (not encrypted)"),
        ("records", f"{report.records} (signature, digests and output schema verified)"),
        ("privacy", _privacy_line(assessment, skip_risk)),
        ("data", f"{state.data_name} ({state.meta['output']['digest']})"),
    ]
    return "ketenx delivery receipt\n" + "".join(
        f"{label + ':':<13} {printable(value)}\n" for label, value in lines
    )


def _privacy_line(assessment: Any, skipped: bool) -> str:
    """The receipt's line on the re-measured privacy thresholds (figures only)."""
    if skipped:
        return "NOT re-measured (--unsafe-skip-risk)"
    if assessment is None:
        return "no thresholds in the contract"
    return (
        f"thresholds met, re-measured: smallest class {assessment.smallest_class}, "
        f"largest record risk {assessment.max_record_risk:g}"
    )


def printable(value: Any) -> str:
    """``value`` as one line of plain text: control and format characters, line and
    paragraph separators and backslashes escaped (``\\n``, ``\\x1b``, ``\\u2028``, ``\\\\``),
    so that a signed or contract string cannot forge lines or terminal escapes."""
    out = []
    for char in str(value):
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(char)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)
