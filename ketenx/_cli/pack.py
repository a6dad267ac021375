"""``ketenx pack`` and ``ketenx unpack``: the whole exchange in two commands."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import typer

from ._common import CONTRACT_OPTION, JOBS_OPTION, load_contract, resolve_jobs, stderr
from ._inputs import contract_inputs, registry_inputs
from ._progress import PROGRESS_OPTION, display, size_of
from .check import DELIMITER_HELP, ENCODING_OPTION, InputFormatChoice
from .pseudonymise import (
    ALLOW_EMPTY_OPTION,
    SECRET_OPTION,
    UNSAFE_SKIP_RISK_OPTION,
    ToFormat,
    left_out,
    secret_file,
    secret_path,
    skip_risk_warning,
)
from .sign import KEY_OPTION, PARTNERS_OPTION, load_signing_key


def pack(
    data: str = typer.Argument(
        ..., help="Input file (CSV, JSON Lines or JSON array); `-` for stdin."
    ),
    contract: Path = CONTRACT_OPTION,
    secret: str | None = SECRET_OPTION,
    key: Path = KEY_OPTION,
    partners: Path = PARTNERS_OPTION,
    output: Path = typer.Option(..., "--output", "-o", help="The delivery file to write."),
    no_encrypt: bool = typer.Option(
        False, "--no-encrypt", help="Sign but do not encrypt (for a channel that encrypts itself)."
    ),
    to: ToFormat | None = typer.Option(
        None, "--to", help="Format of the delivered records (default: the input's)."
    ),
    input_format: InputFormatChoice | None = typer.Option(None, "--input-format"),
    delimiter: str | None = typer.Option(None, "--delimiter", help=DELIMITER_HELP),
    encoding: str | None = ENCODING_OPTION,
    allow_empty: bool = ALLOW_EMPTY_OPTION,
    unsafe_skip_risk: bool = UNSAFE_SKIP_RISK_OPTION,
    jobs: int = JOBS_OPTION,
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """check → pseudonymise → check the output → sign → encrypt to the recipient, into ONE
    file, written atomically."""
    from .._api.verbs import pack as _pack
    from ..exchange.partners import load_registry
    from ..records.reports import count_of
    from ..storage.fileio import refuse_output_over_inputs

    refuse_output_over_inputs(
        [output],
        [
            ("data file", data),
            *contract_inputs(contract),
            *registry_inputs(partners),
            ("signing key", key),
            ("secret", secret_path(secret)),
        ],
    )
    if unsafe_skip_risk:
        stderr(skip_risk_warning("signed statement"))
    the_contract = load_contract(contract)
    registry = load_registry(partners)
    private_key = load_signing_key(key)
    with display(f"ketenx pack {data}", size_of(data), progress) as shown:
        result = _pack(
            data,
            the_contract,
            registry,
            output,
            secret=secret_file(secret),
            key=private_key,
            encrypt=not no_encrypt,
            to=to.value if to else None,
            input_format=input_format.value if input_format else None,
            delimiter=delimiter,
            jobs=resolve_jobs(jobs),
            allow_empty=allow_empty,
            encoding=encoding,
            progress=shown,
            skip_risk=unsafe_skip_risk,
        )
    sealed = (
        f"encrypted to {result.recipients} age recipient(s)"
        if result.encrypted
        else "NOT encrypted"
    )
    stderr(
        f"ketenx pack: {count_of(result.records_out, 'record')}, delivery {result.delivery_id}, "
        f"signed and {sealed}: {output}{left_out(result)}"
    )


def unpack(
    delivery: Path = typer.Argument(..., help="A delivery made by `ketenx pack`."),
    contract: Path = CONTRACT_OPTION,
    partners: Path = PARTNERS_OPTION,
    identity: Path | None = typer.Option(
        None, "--identity", "-i", envvar="KETENX_IDENTITY", help="Your age identity (NAME.age)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the data and receipt."),
    not_before: str | None = typer.Option(
        None, "--not-before", help="Refuse deliveries created before this RFC 3339 time or date."
    ),
    unsafe_skip_risk: bool = typer.Option(
        False,
        "--unsafe-skip-risk",
        help="Do not re-measure the contract's re-identification thresholds on the delivered "
        "data. Warned about and said in the receipt.",
    ),
    progress: bool | None = PROGRESS_OPTION,
) -> None:
    """decrypt → verify signature, signer and digests → check the data against the output
    schema and the contract's privacy thresholds → only then write the data and a receipt.
    Exit 1 for a rejected delivery."""
    from .._api.verbs import unpack as _unpack
    from ..errors import UsageError
    from ..exchange.bundle import DATA_NAMES, META, RECEIPT, STATEMENT
    from ..exchange.partners import load_registry
    from ..records.reports import count_of
    from ..storage.fileio import refuse_output_over_inputs
    from ..storage.keys import load_age_identity

    written = [output, *(output / name for name in (*DATA_NAMES, META, STATEMENT, RECEIPT))]
    refuse_output_over_inputs(
        written,
        [
            ("delivery", delivery),
            *contract_inputs(contract),
            *registry_inputs(partners),
            ("age identity", identity),
        ],
    )
    if unsafe_skip_risk:
        stderr(
            "ketenx: warning: --unsafe-skip-risk: the delivered data is not re-measured against "
            "the contract's re-identification thresholds; the receipt says so"
        )
    the_contract = load_contract(contract)
    registry = load_registry(partners)
    age_identity = load_age_identity(identity) if identity is not None else None
    earliest = parse_time(not_before) if not_before else None
    if str(output) == "-":
        raise UsageError("-o -: the inbox is a folder of four files, not a stream; name a folder")
    with display(f"ketenx unpack {delivery}", size_of(delivery), progress) as shown:
        result = _unpack(
            delivery,
            the_contract,
            registry,
            output,
            identity=age_identity,
            not_before=earliest,
            progress=shown,
            skip_risk=unsafe_skip_risk,
        )
    typer.echo(result.receipt, nl=False)
    stderr(f"ketenx unpack: OK: {count_of(result.records, 'record')} in {result.data_path}")


def parse_time(text: str) -> _dt.datetime:
    """``--not-before``: an RFC 3339 time or a date (midnight UTC)."""
    from ..errors import UsageError
    from ..rfc3339 import parse

    try:
        when = parse(text, date=True)
    except ValueError:
        raise UsageError(f"--not-before: not an RFC 3339 time or date: {text}") from None
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


def register(app: typer.Typer) -> None:
    app.command("pack")(pack)
    app.command("unpack")(unpack)
