"""The command line's wording of library refusals that concern an option.

A library message never names an option (the library has parameters, not ``--flags``); a few
refusals are raised as private subclasses of the public error classes so that the command
line can say them in its own terms: ``--to``, ``--secret PATH or KETENX_SECRET_FILE``,
``--identity``, ``--not-before``. :func:`cli_wording` is applied once, in
:func:`ketenx._cli.main`, to the error about to be printed; the error keeps its class and so
its exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ..errors import KetenxError

Wording = Callable[[Any], tuple[str, str | None]]


def _delivery() -> dict[str, Wording]:
    from ..storage.secrets import ENV_VAR

    return {
        "FormatContradiction": lambda e: (
            f"{e.name}: the name says {e.implied} but --to says {e.to}; "
            "rename the output or drop --to",
            None,
        ),
        "InputFormatUnknown": lambda e: (
            f"{e.name}: cannot tell the input format from the name; use --input-format",
            None,
        ),
        "SecretNeeded": lambda e: (
            f"a pseudonymisation secret is needed: --secret PATH or {ENV_VAR}",
            e.hint,
        ),
        "MetaNotFound": lambda e: (
            f"{e.path}: delivery metadata not found (pass it with --meta)",
            None,
        ),
        "NotOutputShaped": lambda e: (
            e.message,
            f"run `ketenx check {e.data} --side output` for the full report",
        ),
        "StreamOutput": lambda e: (f"-o -: {e.message}", None),
    }


def _bundle() -> dict[str, Wording]:
    return {
        "NoAgeRecipient": lambda e: (
            e.message,
            "add age_recipients to the partner, or use --no-encrypt",
        ),
        "IdentityNeeded": lambda e: (
            "the delivery is encrypted: give the age identity (--identity)",
            None,
        ),
        "NotEncrypted": lambda e: (
            e.message,
            "to accept an unencrypted delivery, unpack it without --identity "
            "(and without KETENX_IDENTITY)",
        ),
        "TooEarly": lambda e: (
            f"the delivery was created at {e.created}, before --not-before",
            None,
        ),
    }


def _verbs() -> dict[str, Wording]:
    return {
        "NoSender": lambda e: (
            "give --contract (or sign a delivery with its .meta.json) to name the sender",
            None,
        ),
    }


_WORDINGS = {
    "ketenx.exchange.delivery": _delivery,
    "ketenx.exchange.bundle": _bundle,
    "ketenx._api.verbs": _verbs,
}


def cli_wording(exc: KetenxError) -> KetenxError:
    """``exc`` with the command line's message and hint, when the library raised it as one
    of the refusals above (its module is loaded then: nothing is imported for this)."""
    module = type(exc).__module__
    if module not in _WORDINGS or module not in sys.modules:
        return exc
    word = _WORDINGS[module]().get(type(exc).__name__)
    if word is not None:
        exc.message, exc.hint = word(exc)
        exc.args = (exc.message,)
    return exc
