"""Help and usage errors in ketenx's own words, applied once to the built command tree.

typer renders Python types in help (``{data}...``, ``<list[str]>``, ``<int range>``), cuts
command summaries at 45 characters, and reports bad option values in its validation
library's words ("Value error, 'xml' is not one of …", "Input should be greater than or
equal to 0"). :func:`polish` replaces those with placeholders (``DATA...``, ``FILE``, ``N``),
each command's one-line summary, and short messages that name the option and what it takes
— never the value given, which could be a secret pasted into the wrong option.

It adapts typer's own command objects (typer ≥ 0.29 ships its own copy of click); where an
attribute it needs is missing, that part is left as typer makes it, and the help tests fail.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from typer._click import exceptions as _exc

#: Placeholders by option name; otherwise by type (FILE, N, TEXT, [a|b|c]).
OPTION_METAVARS = {
    "--delimiter": "CHAR",
    "--not-before": "TIME",
    "--field": "FIELD",
    "--secret": "FILE",
    "--from": "FILE",
    "--input-format": "[csv|jsonl|json|parquet]",
}
#: ``unpack --output`` is a folder; ``contract init`` drafts from text formats only.
COMMAND_OPTION_METAVARS = {
    ("unpack", "--output"): "DIR",
    ("contract init", "--input-format"): "[csv|jsonl|json]",  # a draft is not made from Parquet
}

#: The one-line summary of each command in the command lists.
SUMMARIES = {
    "check": "Check data files against the contract.",
    "pseudonymise": "Check, pseudonymise and minimise data for the recipient.",
    "reidentify": "Decrypt the encrypted fields of a delivery (with the secret).",
    "sign": "Sign files as a DSSE envelope (in-toto statement).",
    "verify": "Verify files against a DSSE envelope and the partner registry.",
    "pack": "Check, pseudonymise, sign and encrypt into one delivery file.",
    "unpack": "Decrypt, verify and check a delivery, then write the inbox.",
    "risk": "Measure re-identification risk against the contract's thresholds.",
    "scan": "Find identifiers in the fields the contract keeps.",
    "contract": "Draft, lint and digest contracts; the output schema.",
    "contract lint": "Check contracts' shape and consistency.",
    "contract digest": "Print the contract's digest (sha256 over RFC 8785).",
    "contract output-schema": "Print the JSON Schema of one delivered record.",
    "contract init": "Draft a contract from an export (every field dropped).",
    "keys": "Make secrets, signing keys and age identities.",
    "keys new-secret": "Make a 256-bit pseudonymisation secret.",
    "keys new-signing": "Make an Ed25519 signing key pair.",
    "keys new-identity": "Make an age X25519 identity for receiving deliveries.",
    "partners": "The partner registry.",
    "partners lint": "Check a partner registry.",
}

#: Options of the ``ketenx`` command itself: given after a command, say where they go.
ROOT_OPTIONS = ("--debug", "--version")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def _choices(param: Any) -> list[str] | None:
    desc = getattr(param, "type_descriptor", None)
    if desc is None or not getattr(desc, "is_choice", False):
        return None
    return [c.value if isinstance(c, Enum) else str(c) for c in desc.choices or ()]


def _metavar(path: tuple[str, ...], param: Any) -> str:
    if param.param_type_name == "argument":
        return str(param.name).upper()
    name = max(param.opts, key=len)
    special = COMMAND_OPTION_METAVARS.get((" ".join(path), name)) or OPTION_METAVARS.get(name)
    if special:
        return special
    choices = _choices(param)
    if choices:
        return "[" + "|".join(choices) + "]"
    annotation = getattr(param.type_descriptor, "annotation", None)
    if annotation is int:
        return "N"
    if annotation is Path:
        return "FILE"
    return "TEXT"


def _range(param: Any) -> str:
    """``from 0 to 9``, ``of at least 0``, or nothing."""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"of at least {low}"
    if high is not None:
        return f"of at most {high}"
    return ""


def _message(param: Any) -> str:
    """What a bad value of ``param`` should have been (the value itself is not repeated)."""
    choices = _choices(param)
    if choices:
        return "must be one of: " + ", ".join(choices)
    if getattr(param.type_descriptor, "annotation", None) is int:
        return f"must be a whole number {_range(param)}".rstrip()
    return "is not a valid value"


def _wrap_value(param: Any) -> None:
    process: Callable[[Any, Any], Any] = param.process_value

    def process_value(ctx: Any, value: Any) -> Any:
        try:
            return process(ctx, value)
        except _exc.MissingParameter:
            raise
        except _exc.BadParameter:
            raise _exc.BadParameter(_message(param), ctx=ctx, param=param) from None

    param.process_value = process_value


def _wrap_parse(command: Any, path: tuple[str, ...]) -> None:
    parse: Callable[[Any, list[str]], Any] = command.parse_args

    def parse_args(ctx: Any, args: list[str]) -> Any:
        try:
            return parse(ctx, args)
        except _exc.NoSuchOption as exc:
            if exc.option_name in ROOT_OPTIONS:
                where = " ".join(path)
                raise _exc.NoSuchOption(
                    exc.option_name,
                    message=f"{exc.option_name} goes before the command: "
                    f"ketenx {exc.option_name} {where} …",
                    ctx=ctx,
                ) from None
            raise

    command.parse_args = parse_args


def _wrap_invoke(command: Any, debug: Callable[[], bool]) -> None:
    """A ketenx :class:`~ketenx.errors.UsageError` raised by a command is reported like the
    option parser's usage errors: the usage line, then ``Error: …`` (exit 2); with
    ``--debug`` the traceback comes first."""
    from ..errors import UsageError

    invoke: Callable[[Any], Any] = command.invoke

    def wrapped(ctx: Any) -> Any:
        try:
            return invoke(ctx)
        except UsageError as exc:
            if debug():
                traceback.print_exc(file=sys.stderr)
            from ..storage.material import withhold_key_material
            from ._wording import cli_wording

            text = cli_wording(exc).diagnostics()
            raise _exc.UsageError(withhold_key_material(text), ctx=ctx) from None

    command.invoke = wrapped


def _argument_names(param: Any, metavar: str) -> None:
    many = "..." if param.nargs != 1 else ""
    param._rich_display_name = lambda: metavar + many
    param._usage_display_name = lambda: (metavar if param.required else f"[{metavar}]") + many
    param.display_type = lambda ctx: ""


def _withhold_in_usage_errors() -> None:
    """The parser's own messages quote what it was given ("Got unexpected extra argument
    (…)"): key material in them is withheld, as in every other message."""
    from ..storage.material import withhold_key_material

    classes: list[type] = [_exc.ClickException]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    for cls in classes:
        own = cls.__dict__.get("format_message")
        if own is None or getattr(own, "_ketenx", False):
            continue

        def format_message(self: Any, _own: Any = own) -> str:
            return withhold_key_material(str(_own(self)))

        format_message._ketenx = True  # type: ignore[attr-defined]
        setattr(cls, "format_message", format_message)  # noqa: B010 - typer's own class


def polish(root: Any, *, debug: Callable[[], bool] = lambda: False) -> None:
    """Apply ketenx's placeholders, summaries and usage messages to the command tree."""
    with contextlib.suppress(AttributeError, TypeError):
        _withhold_in_usage_errors()
    for path, command in _commands(root):
        summary = SUMMARIES.get(" ".join(path))
        if summary:
            command.short_help = summary
        if getattr(command, "commands", None):
            continue
        with contextlib.suppress(AttributeError):
            _wrap_parse(command, path)
            _wrap_invoke(command, debug)
        for param in command.params:
            with contextlib.suppress(AttributeError):
                _wrap_value(param)
                metavar = _metavar(path, param)
                if param.param_type_name == "argument":
                    _argument_names(param, metavar)
                elif not (param.is_flag or param.count):
                    param.display_type = lambda ctx, m=metavar: m
                    if _range(param):
                        param._get_number_range_help_str = lambda p=param: (
                            "a whole number " + _range(p)
                        )
