"""Identifiers where the contract says there are none: ``ketenx scan`` (``docs/privacy.md``).

Free-text and code fields that a contract keeps are where identifiers leak ("bel moeder
06-12345678", a BSN typed into a remark). :class:`Scanner` looks at every kept string value
for tokens that pass ketenx's identifier checks and counts, per field and rule, the records
that hold one. It never keeps or returns a value: only field, rule and counts (and the first
record numbers, which say where to look).

Rules (each a regular expression that finds candidates, then a check that confirms them):

========== ===================================================================================
``nl-bsn``  nine digits (also written 1234.56.789 or 123.456.789) passing the 11-proef
``email``   an e-mail address (ketenx's ``email`` format)
``iban``    an IBAN, with or without spaces in groups of four, with a valid mod-97 checksum
``nl-phone`` a Dutch telephone number: ``0``, ``+31`` or ``0031`` and nine more digits,
            spaces or dashes allowed between them (06-12345678, +31 20 123 4567)
``nl-address`` a Dutch postcode followed by a house number (1234 AB 12, 1234AB-7)
``date``    a calendar date as a date of birth is written: dd-mm-yyyy, dd/mm/yyyy,
            dd.mm.yyyy or yyyy-mm-dd, a real day, in the years 1900 to this year
========== ===================================================================================

A field turns a rule off in the contract with ``scan: {ignore: [date]}`` (a field that
legitimately holds dates), or every rule with ``scan: false``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

from stdnum import iban as _iban

from ..records.formats import is_bsn, is_email, is_postcode

RULES = ("nl-bsn", "email", "iban", "nl-phone", "nl-address", "date")

_BSN = re.compile(r"(?<![\d.])(\d{4}\.\d{2}\.\d{3}|\d{3}\.\d{3}\.\d{3}|\d{9})(?![\d])")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)")
_PHONE = re.compile(r"(?<![\w+])(?:\+31|0031|0)[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?\d){8}(?![\d])")
_ADDRESS = re.compile(r"(?<!\d)([1-9]\d{3} ?[A-Za-z]{2})[ ,-]{1,3}(\d{1,5})(?![\d])")
_DATE = re.compile(
    r"(?<![\d])(?:(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})|(\d{4})-(\d{2})-(\d{2}))(?![\d])"
)


def _bsns(text: str) -> bool:
    return any(is_bsn(m.group(1).replace(".", "")) for m in _BSN.finditer(text))


def _emails(text: str) -> bool:
    return any(is_email(m.group(0).strip(".")) for m in _EMAIL.finditer(text))


def _ibans(text: str) -> bool:
    return any(_iban.is_valid(m.group(1)) for m in _IBAN.finditer(text))


def _phones(text: str) -> bool:
    return _PHONE.search(text) is not None


def _addresses(text: str) -> bool:
    return any(is_postcode(m.group(1).upper()) for m in _ADDRESS.finditer(text))


def _dates(text: str) -> bool:
    this_year = _dt.date.today().year
    for m in _DATE.finditer(text):
        if m.group(3):
            day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            year, month, day = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if not 1900 <= year <= this_year:
            continue
        try:
            _dt.date(year, month, day)
        except ValueError:
            continue
        return True
    return False


CHECKS: Mapping[str, Callable[[str], bool]] = {
    "nl-bsn": _bsns,
    "email": _emails,
    "iban": _ibans,
    "nl-phone": _phones,
    "nl-address": _addresses,
    "date": _dates,
}
# A cheap screen per rule: a value without these characters cannot hold the identifier.
_SCREENS: Mapping[str, Callable[[str], bool]] = {
    "nl-bsn": lambda t: sum(c.isdigit() for c in t) >= 9,
    "email": lambda t: "@" in t,
    "iban": lambda t: sum(c.isdigit() for c in t) >= 2 and any(c.isupper() for c in t),
    "nl-phone": lambda t: sum(c.isdigit() for c in t) >= 10,
    "nl-address": lambda t: sum(c.isdigit() for c in t) >= 5,
    "date": lambda t: sum(c.isdigit() for c in t) >= 6,
}
_FIRST = 5  # record numbers kept per finding


@dataclass
class Finding:
    """Records of one field in which one rule found an identifier: count, first records."""

    field: str
    rule: str
    records: int = 0
    first: list[int] = _field(default_factory=list)


def scanned_fields(contract: Any, *, side: str = "input") -> dict[str, tuple[str, ...]]:
    """The fields ``scan`` looks at (input names, or output names for ``side="output"``):
    every field the contract keeps as it is (``keep``) whose type allows a string, and the
    rules that apply to each (the contract's ``scan`` switch removed)."""
    from ..records.validation import declared_types

    props = contract.schema.get("properties", {})
    out: dict[str, tuple[str, ...]] = {}
    for name, spec in contract.fields.items():
        if spec.treatment != "keep":
            continue
        prop = props.get(name, {}) if isinstance(props, Mapping) else {}
        types = declared_types(prop) if isinstance(prop, Mapping) else None
        if types is not None and "string" not in types:
            continue
        switch = spec.params.get("scan", True)
        if switch is False:
            continue
        ignore = set(switch.get("ignore", ())) if isinstance(switch, Mapping) else set()
        rules = tuple(r for r in RULES if r not in ignore)
        if rules:
            out[spec.output_name if side == "output" else name] = rules
    return out


class Scanner:
    """Counts identifiers in batches of columns; keeps no value."""

    def __init__(self, fields: Mapping[str, Sequence[str]]) -> None:
        self.fields = {name: tuple(rules) for name, rules in fields.items()}
        self.records = 0
        self.findings: dict[tuple[str, str], Finding] = {}
        self._seen: dict[str, set[str]] = {name: set() for name in fields}  # values without hits
        self._cap = 100_000  # distinct clean values remembered per field (bounded memory)

    def add(self, columns: Mapping[str, Sequence[Any]], n: int, start: int | None = None) -> None:
        """A batch of ``n`` records; ``start`` is the number of the first (default: next)."""
        first = self.records + 1 if start is None else start
        self.records += n
        for name, rules in self.fields.items():
            col = columns.get(name)
            if col is None:
                continue
            clean = self._seen[name]
            for i, value in enumerate(col):
                if not isinstance(value, str) or value in clean:
                    continue
                hit = False
                for rule in rules:
                    if _SCREENS[rule](value) and CHECKS[rule](value):
                        hit = True
                        finding = self.findings.get((name, rule))
                        if finding is None:
                            finding = self.findings[name, rule] = Finding(name, rule)
                        finding.records += 1
                        if len(finding.first) < _FIRST:
                            finding.first.append(first + i)
                if not hit and len(clean) < self._cap:
                    clean.add(value)

    def results(self) -> list[Finding]:
        """Findings in field order, then rule order."""
        order = {name: i for i, name in enumerate(self.fields)}
        return sorted(self.findings.values(), key=lambda f: (order[f.field], RULES.index(f.rule)))


def scan_values(values: Iterable[str], rules: Sequence[str] = RULES) -> dict[str, int]:
    """How many of ``values`` each rule finds an identifier in (for tests and measurements)."""
    scanner = Scanner({"v": rules})
    batch = list(values)
    scanner.add({"v": batch}, len(batch))
    return {f.rule: f.records for f in scanner.results()}
