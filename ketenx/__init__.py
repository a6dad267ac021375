"""ketenx: prepare a dataset for the hop from one government agency to the next.

Schema-check it against the exchange contract, pseudonymise and minimise it for one
recipient and purpose, and sign and seal the delivery. The library has the command line's
verbs (``docs/library.md``)::

    import ketenx

    contract = ketenx.load_contract("contract.yaml")
    ketenx.pseudonymise("export.csv", contract, "out/delivery.csv", secret="ggd.secret")

Every name in ``__all__`` is loaded on first use (PEP 562), so ``import ketenx`` and
``ketenx --version`` stay fast; everything not in ``__all__`` is private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._api.verbs import (
        check,
        load_contract,
        load_partners,
        pack,
        pseudonymise,
        reidentify,
        risk,
        scan,
        sign,
        unpack,
        verify,
    )
    from .contract.model import Contract
    from .errors import (
        ContractError,
        ExitCode,
        InputFileError,
        KetenxError,
        KeyMaterialError,
        OperationalError,
        RejectedError,
        UsageError,
        VerificationError,
    )
    from .exchange.partners import Registry
    from .exchange.results import (
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
    from .storage.secrets import Secret

_VERBS = (
    "load_contract",
    "load_partners",
    "check",
    "pseudonymise",
    "reidentify",
    "risk",
    "scan",
    "sign",
    "verify",
    "pack",
    "unpack",
)
_RESULTS = (
    "CheckResult",
    "PseudonymiseResult",
    "ReidentifyResult",
    "RiskResult",
    "ScanResult",
    "SignResult",
    "VerifyResult",
    "PackResult",
    "UnpackResult",
)
_ERRORS = (
    "KetenxError",
    "UsageError",
    "OperationalError",
    "ContractError",
    "InputFileError",
    "KeyMaterialError",
    "RejectedError",
    "VerificationError",
    "ExitCode",
)
#: Where each lazy export lives (module relative to this package).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(_VERBS, "._api.verbs"),
    **dict.fromkeys(_RESULTS, ".exchange.results"),
    **dict.fromkeys(_ERRORS, ".errors"),
    "Contract": ".contract.model",
    "Registry": ".exchange.partners",
    "Secret": ".storage.secrets",
}

# The same names as _EXPORTS (tests/api/test_exports.py): written out for linters and IDEs.
__all__ = [
    "CheckResult",
    "Contract",
    "ContractError",
    "ExitCode",
    "InputFileError",
    "KetenxError",
    "KeyMaterialError",
    "OperationalError",
    "PackResult",
    "PseudonymiseResult",
    "Registry",
    "ReidentifyResult",
    "RejectedError",
    "RiskResult",
    "ScanResult",
    "Secret",
    "SignResult",
    "UnpackResult",
    "UsageError",
    "VerificationError",
    "VerifyResult",
    "__version__",
    "check",
    "load_contract",
    "load_partners",
    "pack",
    "pseudonymise",
    "reidentify",
    "risk",
    "scan",
    "sign",
    "unpack",
    "verify",
]


def __getattr__(name: str) -> Any:
    """Load an export on first use (PEP 562) and keep it in the module's namespace."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'ketenx' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
