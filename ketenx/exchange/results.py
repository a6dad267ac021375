"""What the verbs of :mod:`ketenx` return: frozen dataclasses of counts, digests, key ids,
verdicts and the paths written — never a value from the data, a secret or key material.

Standard library only, so that ``from ketenx import PseudonymiseResult`` loads nothing heavy.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..records.reports import CheckReport


@dataclass(frozen=True)
class CheckResult:
    """What :func:`ketenx.check` found in the files checked.

    ``report`` is the whole report (every file, every violation listed up to
    ``max_errors``: record, field and rule, never a value); :meth:`render` writes it in one
    of the report formats."""

    report: CheckReport = field(repr=False)
    valid: bool
    records: int
    invalid_records: int
    side: str

    def render(self, fmt: str = "text", *, color: bool = False) -> str:
        """The report as ``text``, ``json``, ``junit``, ``sarif`` or ``github``."""
        from ..records.reports import render

        return render(self.report, fmt, color=color)


@dataclass(frozen=True)
class PseudonymiseResult:
    """A delivery written by :func:`ketenx.pseudonymise`: the data file and its metadata."""

    output: Path
    meta_path: Path
    created: _dt.datetime
    records_in: int
    records_out: int
    records_dropped: int  # invalid input records dropped (``skip_check=True``)
    records_suppressed: int  # records suppressed to meet the privacy thresholds
    output_format: str
    output_digest: str  # sha256:… of the delivered file
    output_bytes: int
    input_fingerprint: str | None  # kx1f_…: keyed, never a plain digest of the input
    key_id: str | None  # the secret's key id (None: the contract keys no field)
    domain: str
    nonce: str | None  # the per-delivery nonce (hex), None for the deterministic policy
    contract_digest: str
    metadata: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ReidentifyResult:
    """What :func:`ketenx.reidentify` wrote (created 0600: personal data in the clear)."""

    output: Path
    records: int
    fields: tuple[str, ...]  # the encrypted fields reversed (input names)
    key_id: str


@dataclass(frozen=True)
class SignResult:
    """A DSSE envelope made by :func:`ketenx.sign` (and where it was written, if anywhere)."""

    envelope: Mapping[str, Any] = field(repr=False)
    output: Path | None
    delivery_id: str
    created: str  # RFC 3339
    key_id: str  # the signing key's id (sha256:… of its public key)
    subjects: tuple[tuple[str, str], ...]  # (file name, sha256:…)


@dataclass(frozen=True)
class VerifyResult:
    """A statement :func:`ketenx.verify` accepted: by whom and when it was signed."""

    files: int
    delivery_id: str
    created: str  # RFC 3339
    sender_oin: str
    key_id: str  # the registered key whose signature verified
    predicate: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PackResult:
    """A sealed delivery written by :func:`ketenx.pack`: ONE file."""

    output: Path
    delivery_id: str
    created: _dt.datetime
    records_in: int
    records_out: int
    records_dropped: int
    records_suppressed: int
    key_id: str  # the signing key's id
    secret_key_id: str | None  # the pseudonymisation secret's key id
    recipients: int  # age recipients it is encrypted to (0: not encrypted)
    data_name: str  # the data member: data.csv, data.jsonl or data.json
    output_digest: str  # sha256:… of the data member

    @property
    def encrypted(self) -> bool:
        return self.recipients > 0


@dataclass(frozen=True)
class UnpackResult:
    """An inbox written by :func:`ketenx.unpack`, after everything verified."""

    output_dir: Path
    data_path: Path
    delivery_id: str
    created: str  # RFC 3339, as signed
    records: int
    signer_key_id: str
    encrypted: bool
    receipt: str  # the text of RECEIPT.txt


@dataclass(frozen=True)
class RiskResult:
    """The re-identification risk :func:`ketenx.risk` measured, per file."""

    passed: bool
    reports: tuple[Any, ...] = field(repr=False)  # a privacy_reports.RiskReport per file

    def render(self, fmt: str = "text") -> str:
        from ..transform.privacy_reports import risk_report

        return risk_report(list(self.reports), fmt)


@dataclass(frozen=True)
class ScanResult:
    """The identifiers :func:`ketenx.scan` found in kept fields, per file (counts only)."""

    passed: bool
    reports: tuple[Any, ...] = field(repr=False)  # a privacy_reports.ScanReport per file

    def render(self, fmt: str = "text") -> str:
        from ..transform.privacy_reports import scan_report

        return scan_report(list(self.reports), fmt)
