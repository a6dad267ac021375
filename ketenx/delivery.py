"""Deliveries on disk: pseudonymise a file into a delivery plus its metadata sidecar, and
re-identify the encrypted fields of a delivery.

This is the edge layer behind ``ketenx pseudonymise`` and ``ketenx reidentify``: it opens
files, loads the secret (with its safety checks), draws the per-delivery nonce, reads the
clock for the metadata, and writes every output atomically. The work itself is done by
:mod:`ketenx.pipeline`.

The metadata sidecar (``OUT.meta.json``, ``schemas/delivery-meta.schema.json``) records what
was done — contract id and digest, key id, domain, policy, nonce, counts, the output's digest
and the input's *keyed* fingerprint — and never a secret, a value, or anything unkeyed computed
from the input (no plain digest, size or name of the input file: for a small delivery those
would let the recipient find the values by trying candidates, docs/threat-model.md).
"""

from __future__ import annotations

import datetime as _dt
import json
import secrets as _random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import __version__
from .contract import Contract
from .errors import InputFileError, RejectedError, UsageError
from .fileio import atomic_output, is_stream, open_input
from .jsonlimits import MAX_META_BYTES, read_path
from .pipeline import (
    KEYED,
    Keyring,
    PassResult,
    needs_secret,
    output_schema,
    pseudonymise_stream,
    raise_if_rejected,
    refuse_csv_for_structures,
)
from .progress import Progress, counted
from .readers import InputFormat, Malformed, check_delimiter, check_encoding, format_for
from .reports import count_of
from .validation import Violation, declared_types
from .writers import OUTPUT_FORMATS, OutputFormat

META_SUFFIX = ".meta.json"
META_SCHEMA_ID = "https://ketenx.example/schemas/delivery-meta/v3"
META_SCHEMA_V2 = "https://ketenx.example/schemas/delivery-meta/v2"
META_SCHEMA_V1 = "https://ketenx.example/schemas/delivery-meta/v1"
SCHEME = "kx1"


def output_format_for(name: str | None, to: str | None, default: str) -> OutputFormat:
    """The format of a data file ketenx writes: ``to`` (``--to``), else the one the file
    ``name``'s extension implies (``.csv``, ``.jsonl``/``.ndjson``, ``.json``), else
    ``default`` (the input's format). A ``--to`` that contradicts the extension is refused:
    every ketenx command (and most other tools) reads a file by its extension, so such a
    file would be misread."""
    implied = format_for(name) if name is not None else None
    if to is not None and implied is not None and to != implied:
        raise UsageError(
            f"{name}: the name says {implied} but --to says {to}; rename the output or drop --to"
        )
    fmt = to or implied or default
    for known in OUTPUT_FORMATS:
        if fmt == known:
            return known
    raise UsageError(f"unknown output format {fmt!r}")


def refuse_stream(output: Path) -> None:
    """A delivery is a file (its metadata, or its temporary work files, go next to it)."""
    if str(output) == "-":
        raise UsageError(
            "-o -: a delivery is written as a file (its metadata or its private work folder "
            "goes beside it), so it cannot go to standard output; name a file"
        )
    if is_stream(output):
        raise UsageError(f"{output}: the output must be a file, not a device, pipe or stream")


def meta_path_for(output: Path) -> Path:
    return output.with_name(output.name + META_SUFFIX)


def _keyring_for(
    contract: Contract,
    secret_arg: str | None,
    environ: Mapping[str, str],
    data_paths: Sequence[Path],
    nonce_hex: str | None,
) -> tuple[Keyring | None, dict[str, Any]]:
    """The keyring of the contract's domain and the metadata that describes it."""
    from .pseudonym import Keyring as DomainKeyring
    from .pseudonym import domain_id, effective_domain
    from .secrets import ENV_VAR, load_secret, secret_from_env_or_path

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
    if not needs_secret(contract):
        given = secret_arg if secret_arg is not None else environ.get(ENV_VAR)
        if given:  # not needed, but given: refuse it all the same when it is given unsafely
            load_secret(secret_from_env_or_path(given, environ), data_paths=data_paths)
        return None, info
    secret = load_secret(secret_from_env_or_path(secret_arg, environ), data_paths=data_paths)
    info["key_id"] = secret.key_id
    keyring = DomainKeyring.derive(secret, effective_domain(domain, policy, nonce_hex))
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
    secret_arg: str | None,
    environ: Mapping[str, str],
    output: Path,
    to: str | None,
    input_format: str | None,
    delimiter: str | None = None,
    output_is_data: bool = True,
) -> Preparation:
    """Formats (the input's from its name unless given; the output's from ``to``, else from
    the output's name when ``output_is_data``, else the input's), the per-delivery nonce,
    and the domain's keyring from the secret (loaded with its safety checks against the
    input and output paths)."""
    check_delimiter(delimiter)
    fmt = input_format or format_for(data)
    if fmt is None:
        raise UsageError(f"{data}: cannot tell the input format from the name; use --input-format")
    in_fmt: InputFormat = fmt  # type: ignore[assignment]
    out_fmt = output_format_for(output.name if output_is_data else None, to, in_fmt)
    if data != "-" and Path(data).resolve() == output.resolve():
        raise UsageError("the output file must not be the input file")
    refuse_stream(output)
    policy = str(contract.pseudonymisation.get("policy", "deterministic"))
    nonce_hex = _random.token_bytes(16).hex() if policy == "per-delivery" else None
    data_paths = [output] if data == "-" else [Path(data), output]
    keyring, domain_info = _keyring_for(contract, secret_arg, environ, data_paths, nonce_hex)
    return Preparation(in_fmt, out_fmt, keyring, domain_info)


def write_pseudonymised(
    *,
    data: str,
    contract: Contract,
    secret_arg: str | None,
    environ: Mapping[str, str],
    output: Path,
    to: str | None = None,
    input_format: str | None = None,
    delimiter: str | None = None,
    skip_check: bool = False,
    skip_risk: bool = False,
    allow_empty: bool = False,
    now: _dt.datetime | None = None,
    jobs: int = 1,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> str:
    """Pseudonymise ``data`` into ``output`` and ``output.meta.json``; return a summary line.

    Raises :class:`RejectedError` (nothing written) when the input is rejected.
    """
    check_encoding(encoding)
    prep = prepare(
        data=data,
        contract=contract,
        secret_arg=secret_arg,
        environ=environ,
        output=output,
        to=to,
        input_format=input_format,
        delimiter=delimiter,
    )
    meta_path = meta_path_for(output)
    with atomic_output(output) as sink:  # a rejected delivery leaves `with`: nothing stays
        result, meta = produce(
            data=data,
            contract=contract,
            prep=prep,
            sink=sink,
            output_name=output.name,
            created=now or _dt.datetime.now(_dt.UTC),
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
    return (
        f"ketenx pseudonymise: {count_of(result.records_out, 'record')} written to {output} "
        f"(metadata in {meta_path.name}){left_out(result)}"
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


def left_out(result: PassResult) -> str:
    """What a summary line says of the records that were not delivered, if any."""
    suppressed = result.privacy.suppressed if result.privacy is not None else 0
    dropped = result.records_in - result.records_out - suppressed
    return (
        f", {count_of(dropped, 'invalid record')} dropped (--unsafe-skip-check)" if dropped else ""
    ) + (
        f", {count_of(suppressed, 'record')} suppressed to meet the contract's privacy thresholds"
        if suppressed
        else ""
    )


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
        "created": created.astimezone(_dt.UTC).isoformat().replace("+00:00", "Z"),
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
            "input": "skipped (--unsafe-skip-check)" if not result.checked else "passed",
            "output": "passed",
            "records_dropped": result.records_in
            - result.records_out
            - (result.privacy.suppressed if result.privacy is not None else 0),
        },
        "privacy": result.privacy.record() if result.privacy is not None else None,
    }


def read_meta(path: Path) -> dict[str, Any]:
    """A delivery's metadata, checked against its schema. Version 1 (ketenx before the keyed
    input fingerprint) is still read: its input name, digest and size are dropped and its
    fingerprint is null, so nothing downstream sees them."""
    try:
        meta: dict[str, Any] = read_path(
            path, what=f"{path}: delivery metadata", max_bytes=MAX_META_BYTES, error=InputFileError
        )
    except FileNotFoundError:
        raise InputFileError(f"{path}: delivery metadata not found (pass it with --meta)") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read delivery metadata: {exc.strerror}") from None
    from jsonschema import Draft202012Validator

    from .resources import load_schema

    validator = Draft202012Validator(load_schema("delivery-meta.schema.json"))
    if isinstance(meta, dict) and meta.get("$schema", META_SCHEMA_V1) == META_SCHEMA_V1:
        meta = _upgrade_v1(meta)
    if isinstance(meta, dict) and meta.get("$schema") == META_SCHEMA_V2 and "privacy" not in meta:
        meta = {**meta, "$schema": META_SCHEMA_ID, "privacy": None}  # before the privacy gates
    if not isinstance(meta, dict) or not validator.is_valid(meta):
        raise InputFileError(f"{path}: not a complete ketenx delivery metadata file")
    return meta


def _upgrade_v1(meta: dict[str, Any]) -> dict[str, Any]:
    """Version-1 metadata in the version-2 form (then read as version 3): the input's
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
    secret_arg: str | None,
    environ: Mapping[str, str],
    output: Path,
    fields: Sequence[str] = (),
    meta_path: Path | None = None,
    progress: Progress | None = None,
) -> str:
    """Reverse the encrypted fields of a delivery; return a summary line."""
    from .check import Checker
    from .pseudonym import Keyring as DomainKeyring
    from .pseudonym import effective_domain
    from .secrets import load_secret, secret_from_env_or_path
    from .validation import RecordSchema, record_columns
    from .writers import RecordWriter

    if str(output) != "-":  # `-o -`: the records to standard output (no sidecar is written)
        refuse_stream(output)
    meta = read_meta(meta_path or meta_path_for(data))
    if meta.get("contract", {}).get("digest") != contract.digest():
        raise RejectedError(
            "the delivery was made under another contract (digest differs from this contract's)"
        )
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
    targets = [s for s in encrypted if not wanted or s.name in wanted]
    if not encrypted:
        raise RejectedError("the contract has no encrypted fields: nothing can be re-identified")

    info = meta["pseudonymisation"]
    secret = load_secret(secret_from_env_or_path(secret_arg, environ), data_paths=[data, output])
    if info.get("key_id") != secret.key_id:
        raise RejectedError(
            f"this secret (key id {secret.key_id}) did not make the delivery "
            f"(key id {info.get('key_id')})"
        )
    keyring = DomainKeyring.derive(
        secret, effective_domain(str(info["domain"]), str(info["policy"]), info.get("nonce"))
    )
    fmt = format_for(data.name) or str(meta.get("output", {}).get("format", ""))
    if fmt not in OUTPUT_FORMATS:
        raise UsageError(f"{data}: a delivery is CSV, JSON Lines or a JSON array")
    out_fmt = output_format_for(output.name, None, fmt)
    schema = RecordSchema(output_schema(contract))
    if out_fmt == "csv":
        refuse_csv_for_structures(schema.schema)
    checker = Checker(schema, max_errors=20)
    checker.unneutralise = True
    checker.allow_empty = meta.get("output", {}).get("records") == 0  # made with --allow-empty
    names = list(schema.property_names)
    string_cols = frozenset(n for n in names if "string" in _prop_types(schema, n))
    from .check import FileReport

    in_props = contract.schema.get("properties", {})
    restorers = {s.name: _restorer(in_props.get(s.name, {})) for s in targets}
    report = FileReport(path=str(data), max_errors=20)
    if progress is not None:
        checker.progress = progress.records
    with open_input(str(data)) as opened, atomic_output(output, private=True) as sink:
        source = counted(opened, progress)
        writer = RecordWriter(sink, out_fmt, names, string_cols)
        batches: Any = (
            checker.iter_csv(source, report)
            if fmt == "csv"
            else checker.iter_json(source, report, fmt)
        )
        try:
            for batch in batches:
                if batch.rejected or not report.valid:
                    break
                columns = (
                    dict(batch.columns) if fmt == "csv" else record_columns(batch.records, names)[0]
                )
                for spec in targets:
                    col = columns.get(spec.output_name)
                    if col is not None:
                        back = restorers[spec.name]
                        columns[spec.output_name] = [
                            v if not isinstance(v, str) else back(keyring.decrypt(v, spec.name))
                            for v in col
                        ]
                writer.write(columns, batch.size)
        except Malformed as problem:
            report.add(Violation(problem.record, "", problem.rule, problem.message))
        checker.finish(report)
        if not report.valid:
            v = report.errors[0]
            raise RejectedError(
                f"the delivery does not match the output schema: record {v.record}, "
                f"field {v.field}: rule {v.rule}; nothing was written",
                hint=f"run `ketenx check {data} --side output` for the full report",
            )
        writer.close()
    return (
        f"ketenx reidentify: {count_of(report.records, 'record')}, "
        f"{len(targets)} fields re-identified, written to {output}"
    )


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


__all__ = ["KEYED", "delivery_meta", "meta_path_for", "write_pseudonymised", "write_reidentified"]
