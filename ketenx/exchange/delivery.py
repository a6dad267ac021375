"""Deliveries on disk: pseudonymise a file into a delivery plus its metadata sidecar, and
re-identify the encrypted fields of a delivery.

This is the edge layer behind ``ketenx pseudonymise`` and ``ketenx reidentify``: it opens
files, loads the secret (with its safety checks), draws the per-delivery nonce, reads the
clock for the metadata, and writes every output atomically. The work itself is done by
:mod:`ketenx.transform.pipeline`.

The metadata sidecar (``OUT.meta.json``, ``schemas/delivery-meta.schema.json``) records what
was done — contract id and digest, key id, domain, policy, nonce, counts, the output's digest
and the input's *keyed* fingerprint — and never a secret, a value, or anything unkeyed computed
from the input (no plain digest, size or name of the input file: for a small delivery those
would let the recipient find the values by trying candidates, docs/threat-model.md).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import secrets as _random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._version import __version__
from ..contract.model import Contract
from ..errors import InputFileError, KeyMaterialError, RejectedError, UsageError
from ..progress import Progress, counted
from ..records.readers import InputFormat, Malformed, check_delimiter, check_encoding, format_for
from ..records.strictjson import read_document_path
from ..records.validation import Violation, declared_types
from ..records.writers import OUTPUT_FORMATS, OutputFormat
from ..rfc3339 import text as rfc3339_text
from ..storage.fileio import atomic_output, is_stream, open_input
from ..transform.pipeline import (
    PassResult,
    pseudonymise_stream,
    raise_if_rejected,
    refuse_csv_for_structures,
)
from ..transform.transformer import KEYED, Keyring, needs_secret
from .results import PseudonymiseResult, ReidentifyResult

if TYPE_CHECKING:
    from ..contract.model import FieldSpec
    from ..storage.secrets import Secret

#: Largest delivery metadata sidecar read.
MAX_META_BYTES = 8 << 20

META_SUFFIX = ".meta.json"
META_SCHEMA_ID = "https://ketenx.example/schemas/delivery-meta/v4"
META_SCHEMA_V3 = "https://ketenx.example/schemas/delivery-meta/v3"
META_SCHEMA_V2 = "https://ketenx.example/schemas/delivery-meta/v2"
META_SCHEMA_V1 = "https://ketenx.example/schemas/delivery-meta/v1"
SCHEME = "kx1"
#: ``checks.input`` of a delivery whose invalid input records were dropped (metadata v4;
#: version 3 wrote ``skipped (--unsafe-skip-check)``, read as this).
CHECK_SKIPPED = "skipped"
_V3_CHECK_SKIPPED = "skipped (--unsafe-skip-check)"


# The refusals below name what the library was given; the command line words them with its
# option names (ketenx._cli._wording): a library message never names an option.


class FormatContradiction(UsageError):
    """The output format asked for contradicts the output file's extension."""

    def __init__(self, name: str, implied: str, to: str) -> None:
        super().__init__(
            f"{name}: the name says {implied} but the output format asked for is {to}; "
            "rename the output or ask for no format"
        )
        self.name, self.implied, self.to = name, implied, to


class InputFormatUnknown(UsageError):
    """The input's format was not given and its name does not tell it."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name}: cannot tell the input format from the name; give it")
        self.name = name


class SecretNeeded(KeyMaterialError):
    """The contract keys a field (``pseudonymise``/``encrypt``), and no secret was given."""

    def __init__(self) -> None:
        super().__init__(
            "a pseudonymisation secret is needed: the contract pseudonymises or encrypts a field",
            hint="make one with `ketenx keys new-secret PATH`",
        )


class MetaNotFound(InputFileError):
    """A delivery's metadata sidecar is not where it was looked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: delivery metadata not found")
        self.path = path


class NotOutputShaped(RejectedError):
    """A delivery to re-identify does not match the contract's output schema."""

    def __init__(self, message: str, data: Path) -> None:
        super().__init__(
            message,
            hint="check it against the contract's output schema (the recipient's side) for "
            "the full report",
        )
        self.data = data


def output_format_for(name: str | None, to: str | None, default: str) -> OutputFormat:
    """The format of a data file ketenx writes: ``to``, else the one the file ``name``'s
    extension implies (``.csv``, ``.jsonl``/``.ndjson``, ``.json``), else ``default`` (the
    input's format). A ``to`` that contradicts the extension is refused
    (:class:`FormatContradiction`): every ketenx command (and most other tools) reads a file
    by its extension, so such a file would be misread."""
    implied = format_for(name) if name is not None else None
    if to is not None and implied is not None and to != implied:
        raise FormatContradiction(str(name), implied, to)
    fmt = to or implied or default
    for known in OUTPUT_FORMATS:
        if fmt == known:
            return known
    raise UsageError(f"unknown output format {fmt!r}")


class StreamOutput(UsageError):
    """A delivery was to be written to standard output (``-``)."""

    def __init__(self) -> None:
        super().__init__(
            "a delivery is written as a file (its metadata or its private work folder goes "
            "beside it), so it cannot go to standard output; name a file"
        )


def refuse_stream(output: Path) -> None:
    """A delivery is a file (its metadata, or its temporary work files, go next to it)."""
    if str(output) == "-":
        raise StreamOutput()
    if is_stream(output):
        raise UsageError(f"{output}: the output must be a file, not a device, pipe or stream")


def meta_path_for(output: Path) -> Path:
    return output.with_name(output.name + META_SUFFIX)


def resolve_nonce(contract: Contract, nonce: bytes | str | None) -> str | None:
    """The per-delivery nonce (32 hex digits) of a ``per-delivery`` contract: ``nonce`` when
    given (16 bytes, or their hex), else 16 fresh random bytes; None for the deterministic
    policy (a nonce given for it is refused: it would not be used)."""
    policy = str(contract.pseudonymisation.get("policy", "deterministic"))
    if policy != "per-delivery":
        if nonce is not None:
            raise UsageError("a nonce is used only by the per-delivery pseudonymisation policy")
        return None
    if nonce is None:
        return _random.token_bytes(16).hex()
    raw: object = nonce
    if isinstance(nonce, str):
        try:
            raw = bytes.fromhex(nonce) if len(nonce) == 32 else None
        except ValueError:
            raw = None
    if not isinstance(raw, bytes) or len(raw) != 16:
        raise UsageError("a per-delivery nonce is 16 bytes (or their 32 hex digits)")
    return raw.hex()


def load_secret_for(
    secret: str | os.PathLike[str] | Secret | None, data_paths: Sequence[Path]
) -> Secret | None:
    """A secret object as it is; a secret file loaded with its safety checks against the
    data's and the output's paths (:func:`ketenx.storage.secrets.load_secret`)."""
    from ..storage.secrets import Secret, load_secret

    if secret is None or isinstance(secret, Secret):
        return secret
    return load_secret(Path(secret), data_paths=data_paths)


def _keyring_for(
    contract: Contract,
    secret: str | os.PathLike[str] | Secret | None,
    data_paths: Sequence[Path],
    nonce_hex: str | None,
) -> tuple[Keyring | None, dict[str, Any]]:
    """The keyring of the contract's domain and the metadata that describes it."""
    from ..transform.pseudonym import Keyring as DomainKeyring
    from ..transform.pseudonym import domain_id, effective_domain

    policy = str(contract.pseudonymisation.get("policy", "deterministic"))
    domain = domain_id(contract)
    info: dict[str, Any] = {
        "scheme": SCHEME,
        "policy": policy,
        "domain": domain,
        "shared_domain": "domain" in contract.pseudonymisation,
        "nonce": nonce_hex,
        "key_id": None,
    }
    # A secret that is not needed but given is still refused when it is given unsafely.
    loaded = load_secret_for(secret, data_paths)
    if not needs_secret(contract):
        return None, info
    if loaded is None:
        raise SecretNeeded()
    info["key_id"] = loaded.key_id
    keyring = DomainKeyring.derive(loaded, effective_domain(domain, policy, nonce_hex))
    return keyring, info


@dataclass(frozen=True)
class Preparation:
    """What a pseudonymising run needs before the first record: formats and keys."""

    input_format: InputFormat
    output_format: OutputFormat
    keyring: Keyring | None
    domain_info: dict[str, Any]


def prepare(
    *,
    data: str,
    contract: Contract,
    secret: str | os.PathLike[str] | Secret | None,
    output: Path,
    to: str | None,
    input_format: str | None,
    delimiter: str | None = None,
    output_is_data: bool = True,
    nonce: bytes | str | None = None,
) -> Preparation:
    """Formats (the input's from its name unless given; the output's from ``to``, else from
    the output's name when ``output_is_data``, else the input's), the per-delivery nonce,
    and the domain's keyring from the secret (loaded with its safety checks against the
    input and output paths)."""
    check_delimiter(delimiter)
    fmt = input_format or format_for(data)
    if fmt is None:
        raise InputFormatUnknown(data)
    if fmt not in OUTPUT_FORMATS:  # the formats read are the formats written
        raise UsageError("the input format is csv, jsonl, json or parquet")
    in_fmt: InputFormat = fmt
    if in_fmt == "parquet" and data == "-":
        from ..records.engine.parquet import NeedsFile

        raise NeedsFile()
    out_fmt = output_format_for(output.name if output_is_data else None, to, in_fmt)
    if data != "-" and Path(data).resolve() == output.resolve():
        raise UsageError("the output file must not be the input file")
    refuse_stream(output)
    nonce_hex = resolve_nonce(contract, nonce)
    data_paths = [output] if data == "-" else [Path(data), output]
    keyring, domain_info = _keyring_for(contract, secret, data_paths, nonce_hex)
    return Preparation(in_fmt, out_fmt, keyring, domain_info)


def write_pseudonymised(
    *,
    data: str,
    contract: Contract,
    secret: str | os.PathLike[str] | Secret | None,
    output: Path,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    skip_check: bool = False,
    skip_risk: bool = False,
    allow_empty: bool = False,
    now: _dt.datetime | None = None,
    nonce: bytes | str | None = None,
    jobs: int = 1,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> PseudonymiseResult:
    """Pseudonymise ``data`` into ``output`` and ``output.meta.json``.

    Raises :class:`RejectedError` (nothing written) when the input is rejected.
    """
    check_encoding(encoding)
    prep = prepare(
        data=data,
        contract=contract,
        secret=secret,
        output=output,
        to=to,
        input_format=input_format,
        delimiter=delimiter,
        nonce=nonce,
    )
    meta_path = meta_path_for(output)
    created = now or _dt.datetime.now(_dt.UTC)
    with atomic_output(output) as sink:  # a rejected delivery leaves `with`: nothing stays
        result, meta = produce(
            data=data,
            contract=contract,
            prep=prep,
            sink=sink,
            output_name=output.name,
            created=created,
            spill_dir=output.resolve().parent,
            delimiter=delimiter,
            skip_check=skip_check,
            skip_risk=skip_risk,
            allow_empty=allow_empty,
            jobs=jobs,
            encoding=encoding,
            progress=progress,
        )
    try:
        with atomic_output(meta_path) as fh:
            fh.write(json.dumps(meta, indent=2, ensure_ascii=False).encode() + b"\n")
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    suppressed = suppressed_of(result)
    info = prep.domain_info
    return PseudonymiseResult(
        output=output,
        meta_path=meta_path,
        created=created,
        records_in=result.records_in,
        records_out=result.records_out,
        records_dropped=result.records_in - result.records_out - suppressed,
        records_suppressed=suppressed,
        output_format=prep.output_format,
        output_digest=result.output_digest,
        output_bytes=result.output_bytes,
        input_fingerprint=result.input_fingerprint,
        key_id=info["key_id"],
        domain=str(info["domain"]),
        nonce=info["nonce"],
        contract_digest=contract.digest(),
        metadata=meta,
    )


def produce(
    *,
    data: str,
    contract: Contract,
    prep: Preparation,
    sink: IO[bytes],
    output_name: str,
    created: _dt.datetime,
    spill_dir: Path,
    delimiter: str | None = None,
    skip_check: bool = False,
    skip_risk: bool = False,
    allow_empty: bool = False,
    jobs: int = 1,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> tuple[PassResult, dict[str, Any]]:
    """The one sequence that makes a delivery, for ``pseudonymise`` and ``pack``: stream
    ``data`` through the pass (check, treat, check the output, the privacy gates) into
    ``sink``, refuse a rejected delivery (:class:`RejectedError`; the caller discards
    ``sink``), and describe it in its metadata."""
    source = open_input(data)
    try:
        result = pseudonymise_stream(
            source,
            prep.input_format,
            sink,
            prep.output_format,
            contract,
            prep.keyring,
            path=data,
            delimiter=delimiter,
            skip_check=skip_check,
            skip_risk=skip_risk,
            allow_empty=allow_empty,
            jobs=jobs,
            encoding=encoding,
            progress=progress,
            spill_dir=spill_dir,
        )
    finally:
        if data != "-":
            source.close()
    raise_if_rejected(result)
    meta = delivery_meta(
        contract,
        result,
        prep.domain_info,
        input_name=data,
        input_format=prep.input_format,
        output_name=output_name,
        output_format=prep.output_format,
        created=created,
    )
    return result, meta


def suppressed_of(result: PassResult) -> int:
    """The records the privacy gates suppressed in a pass."""
    return result.privacy.suppressed if result.privacy is not None else 0


def delivery_meta(
    contract: Contract,
    result: PassResult,
    domain_info: Mapping[str, Any],
    *,
    input_name: str,
    input_format: str,
    output_name: str,
    output_format: str,
    created: _dt.datetime,
) -> dict[str, Any]:
    """The metadata sidecar of a delivery (``schemas/delivery-meta.schema.json``).

    ``input_name`` is not recorded: a file name can name a person, and it is none of the
    recipient's business."""
    fields = contract.fields
    return {
        "$schema": META_SCHEMA_ID,
        "ketenx_version": __version__,
        "created": rfc3339_text(created),
        "contract": {
            "id": contract.id,
            "version": contract.version,
            "digest": contract.digest(),
        },
        "sender_oin": contract.sender.oin,
        "recipient_oin": contract.recipient.oin,
        "purpose": contract.purpose,
        "legal_basis": contract.legal_basis,
        "processing_activity": contract.processing_activity,
        "pseudonymisation": dict(domain_info),
        "fields": {
            name: {
                "treatment": spec.treatment,
                "output": None if spec.treatment == "drop" else spec.output_name,
            }
            for name, spec in fields.items()
        },
        "input": {  # personal data: no name, plain digest or size (docs/spec/delivery.md §1)
            "format": input_format,
            "fingerprint": result.input_fingerprint,
            "records": result.records_in,
        },
        "output": {
            "name": output_name,
            "format": output_format,
            "digest": result.output_digest,
            "bytes": result.output_bytes,
            "records": result.records_out,
        },
        "checks": {
            "input": CHECK_SKIPPED if not result.checked else "passed",
            "output": "passed",
            "records_dropped": result.records_in - result.records_out - suppressed_of(result),
        },
        "privacy": result.privacy.record() if result.privacy is not None else None,
    }


def read_meta(path: Path) -> dict[str, Any]:
    """A delivery's metadata, checked against its schema, in the form of version 4.

    Older versions are still read: version 3 wrote ``checks.input`` as ``skipped
    (--unsafe-skip-check)`` (read as ``skipped``); version 2 had no ``privacy`` (read as
    null); version 1 (before the keyed input fingerprint) had the input's name, digest and
    size, which are dropped (its fingerprint is null), so nothing downstream sees them."""
    try:
        meta: dict[str, Any] = read_document_path(
            path, what=f"{path}: delivery metadata", max_bytes=MAX_META_BYTES, error=InputFileError
        )
    except FileNotFoundError:
        raise MetaNotFound(path) from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read delivery metadata: {exc.strerror}") from None
    from jsonschema import Draft202012Validator

    from ..resources import load_schema

    validator = Draft202012Validator(load_schema("delivery-meta.schema.json"))
    if isinstance(meta, dict) and meta.get("$schema", META_SCHEMA_V1) == META_SCHEMA_V1:
        meta = _upgrade_v1(meta)
    if isinstance(meta, dict) and meta.get("$schema") == META_SCHEMA_V2 and "privacy" not in meta:
        meta = {**meta, "$schema": META_SCHEMA_V3, "privacy": None}  # before the privacy gates
    if isinstance(meta, dict) and meta.get("$schema") == META_SCHEMA_V3:
        meta = _upgrade_v3(meta)
    if not isinstance(meta, dict) or not validator.is_valid(meta):
        raise InputFileError(f"{path}: not a complete ketenx delivery metadata file")
    return meta


def _upgrade_v3(meta: dict[str, Any]) -> dict[str, Any]:
    """Version-3 metadata in the version-4 form: ``checks.input`` without the option name.
    Anything else a version-3 document holds is left for the schema to judge."""
    checks = meta.get("checks")
    if isinstance(checks, dict) and checks.get("input") == _V3_CHECK_SKIPPED:
        checks = {**checks, "input": CHECK_SKIPPED}
    return {**meta, "$schema": META_SCHEMA_ID, "checks": checks}


def _upgrade_v1(meta: dict[str, Any]) -> dict[str, Any]:
    """Version-1 metadata in the version-2 form (then read as version 4): the input's
    unkeyed name, digest and size dropped, no fingerprint. A document that is not even
    version 1 is left to fail."""
    source = meta.get("input")
    if not isinstance(source, dict) or not {"digest", "bytes"} <= source.keys():
        return meta
    kept = {k: v for k, v in source.items() if k not in ("name", "digest", "bytes")}
    return {**meta, "$schema": META_SCHEMA_V2, "input": {**kept, "fingerprint": None}}


def write_reidentified(
    *,
    data: Path,
    contract: Contract,
    secret: str | os.PathLike[str] | Secret | None,
    output: Path,
    fields: Sequence[str] = (),
    meta_path: Path | None = None,
    progress: Progress | None = None,
) -> ReidentifyResult:
    """Reverse the encrypted fields of a delivery (``output`` is created 0600)."""
    from ..records.parquetwriter import make_writer
    from ..records.validation import record_columns
    from ..transform.delivered import DeliveredSide

    if str(output) != "-":  # `-o -`: the records to standard output (no sidecar is written)
        refuse_stream(output)
    meta = read_meta(meta_path or meta_path_for(data))
    if meta.get("contract", {}).get("digest") != contract.digest():
        raise RejectedError(
            "the delivery was made under another contract (digest differs from this contract's)"
        )
    targets = _reidentified_fields(contract, fields)
    loaded = load_secret_for(secret, [data, output])
    if loaded is None:
        raise SecretNeeded()
    keyring = _delivery_keyring(meta["pseudonymisation"], loaded)
    fmt = format_for(data.name) or str(meta.get("output", {}).get("format", ""))
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"{data}: a delivery is CSV, JSON Lines, a JSON array or Parquet")
    out_fmt = output_format_for(output.name, None, fmt)
    delivered = DeliveredSide.of(contract)
    schema = delivered.schema
    if out_fmt == "csv":
        refuse_csv_for_structures(schema.schema)
    checker, _ = delivered.checker(
        max_errors=20,
        allow_empty=meta.get("output", {}).get("records") == 0,  # an empty delivery
        progress=progress.records if progress is not None else None,
        measure_risk=False,  # the recipient's own data, re-identified: nothing is delivered
    )
    names = list(schema.property_names)
    string_cols = frozenset(n for n in names if "string" in _prop_types(schema, n))
    from ..records.batches import FileReport

    in_props = contract.schema.get("properties", {})
    restorers = {s.name: _restorer(in_props.get(s.name, {})) for s in targets}
    report = FileReport(path=str(data), max_errors=20)
    with open_input(str(data)) as opened, atomic_output(output, private=True) as sink:
        source = counted(opened, progress)
        writer = make_writer(
            sink, out_fmt, names, string_cols, _restored_schema(schema, targets, in_props)
        )
        batches: Any = (
            checker.iter_csv(source, report)
            if fmt == "csv"
            else checker.iter_parquet(opened, report)
            if fmt == "parquet"
            else checker.iter_json(source, report, fmt)
        )
        try:
            for batch in batches:
                if batch.rejected or not report.valid:
                    break
                columns = (
                    dict(batch.columns)
                    if fmt in ("csv", "parquet")
                    else record_columns(batch.records, names)[0]
                )
                for spec in targets:
                    col = columns.get(spec.output_name)
                    if col is not None:
                        columns[spec.output_name] = _decrypted(col, spec.name, keyring, restorers)
                writer.write(columns, batch.size)
        except Malformed as problem:
            report.add(Violation(problem.record, "", problem.rule, problem.message))
        checker.finish(report)
        if not report.valid:
            v = report.errors[0]
            raise NotOutputShaped(
                f"the delivery does not match the output schema: record {v.record}, "
                f"field {v.field}: rule {v.rule}; nothing was written",
                data,
            )
        writer.close()
    return ReidentifyResult(
        output=output,
        records=report.records,
        fields=tuple(s.name for s in targets),
        key_id=loaded.key_id,
    )


def _restored_schema(
    schema: Any, targets: Sequence[FieldSpec], in_props: Mapping[str, Any]
) -> dict[str, Any]:
    """The output schema with each re-identified field's property as the contract's input
    property (its values are restored to the input's type): the Parquet columns' types."""
    restored = dict(schema.schema)
    props = dict(restored.get("properties", {}))
    for spec in targets:
        if spec.output_name in props:
            props[spec.output_name] = in_props.get(spec.name, {})
    restored["properties"] = props
    return restored


def _reidentified_fields(contract: Contract, fields: Sequence[str]) -> list[FieldSpec]:
    """The encrypted fields to reverse: those named (by input or output name), else all.
    A field not delivered is a :class:`UsageError`; a one-way one, or a contract without
    encrypted fields, a :class:`RejectedError`."""
    by_output = {
        spec.output_name: spec for spec in contract.fields.values() if spec.treatment != "drop"
    }
    wanted: list[str] = []
    for name in fields:
        spec = contract.fields.get(name) or by_output.get(name)
        if spec is None or spec.treatment == "drop":
            raise UsageError(f"field `{name}` is not in the delivery")
        if spec.treatment != "encrypt":
            raise RejectedError(
                f"field `{name}` has treatment `{spec.treatment}`: only encrypted fields can be "
                "re-identified"
            )
        wanted.append(spec.name)
    encrypted = [s for s in contract.fields.values() if s.treatment == "encrypt"]
    if not encrypted:
        raise RejectedError("the contract has no encrypted fields: nothing can be re-identified")
    return [s for s in encrypted if not wanted or s.name in wanted]


def _delivery_keyring(info: Mapping[str, Any], secret: Secret) -> Keyring:
    """The keyring that made a delivery, from its metadata's ``pseudonymisation`` member;
    another secret than the one that made it is a :class:`RejectedError`."""
    from ..transform.pseudonym import Keyring as DomainKeyring
    from ..transform.pseudonym import effective_domain

    if info.get("key_id") != secret.key_id:
        raise RejectedError(
            f"this secret (key id {secret.key_id}) did not make the delivery "
            f"(key id {info.get('key_id')})"
        )
    domain = effective_domain(str(info["domain"]), str(info["policy"]), info.get("nonce"))
    return DomainKeyring.derive(secret, domain)


def _decrypted(
    column: Sequence[Any],
    field: str,
    keyring: Keyring,
    restorers: Mapping[str, Callable[[str], Any]],
) -> list[Any]:
    """A column of ciphertexts as the values that were encrypted (null and absent stay)."""
    back = restorers[field]
    return [v if not isinstance(v, str) else back(keyring.decrypt(v, field)) for v in column]


def _restorer(input_property: Mapping[str, Any]) -> Callable[[str], Any]:
    """How a decrypted text becomes the input value again: a string stays text; a number or
    boolean (a property whose ``type`` does not allow strings) was encrypted as its JSON
    text (docs/spec/pseudonyms.md §5) and is parsed back."""
    if "string" in (declared_types(input_property) or {"string"}):
        return str

    def parse(text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            return text

    return parse


def _prop_types(schema: Any, name: str) -> frozenset[str]:
    return declared_types(schema.schema["properties"][name]) or frozenset({"string"})


__all__ = [
    "KEYED",
    "delivery_meta",
    "meta_path_for",
    "read_meta",
    "write_pseudonymised",
    "write_reidentified",
]
