#!/usr/bin/env python3
"""Seeded synthetic data for every contract of the benchmark corpus (``benchmarks/corpus/``).

Each contract ``NAME.yaml`` has a generator here (:data:`CONTRACTS`): a list of columns, each
with a maker of valid values and the ways it can be broken. Valid data means what the
contract's schema accepts by the JSON Schema 2020-12 specification: BSNs that pass the
11-proef (about 10% with a leading zero), euro amounts as whole cents (``19.99``, ``0.07``),
postcodes in a municipality's PC4 range, real calendar dates, IBANs with their mod-97 check
digits, codes of the right pattern, and the cross-field rules (``dependentRequired``,
``if``/``then``/``else``) honoured.

With ``invalid_rate`` each record is, with that probability, made invalid with exactly
``errors_per_record`` errors (default 3): that many distinct columns are broken, each in one
way that breaks exactly one rule and does not interact with the others (a broken BSN keeps
its nine digits, so only ``nl-bsn`` fails; a column that decides an ``if`` is never broken).
What is planted is known: :class:`Summary` counts it by rule, and ``planted`` (a list given
by the caller) receives every ``(record, field, rule)``. Planting draws from random numbers
of its own, so a damaged file is the clean file of the same seed with only the planted cells
changed, and the valid and all-invalid files of a benchmark differ in nothing else.

Standard library only; it streams (memory does not grow with the rows): about 20,000 rows
a second of an 11-column contract on the reference machine, a third of that of the
45-column one (the benchmarks generate each file once, in bench-out/). The same seed and
arguments give byte-identical output (with the same Python version).

Command line::

    python benchmarks/corpus/generate.py NAME --rows 1000 [--seed 7] [--format csv|jsonl]
        [--invalid-rate 0.01] [--errors-per-record 3] [-o PATH]
    python benchmarks/corpus/generate.py --list

Python API::

    summary = generate("uwv-uitkeringen", 1000, path=Path("x.csv"), invalid_rate=1.0)
    summary.invalid_records, summary.error_counts      # 1000, Counter({"nl-bsn": 312, ...})
    for record, errors in iter_records("uwv-uitkeringen", 10): ...
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import json
import random
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


if str(HERE.parent) not in sys.path:  # benchmarks/, for _common
    sys.path.insert(0, str(HERE.parent))
from _common import generator  # noqa: E402

_EX = generator()  # examples/generate.py: its name, municipality and postcode tables


class _Absent:
    """A property that is not in the record (an empty CSV cell, a key left out of JSON)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()

Record = dict[str, Any]
Maker = Callable[[random.Random, Record], Any]
"""A valid value of one column, given the record so far (columns are made in order)."""


@dataclass(frozen=True)
class Break:
    """One way to break a column: exactly one error of ``rule`` at ``at`` (a JSON Pointer;
    default the column's own) when ``when`` holds for the record."""

    rule: str
    bad: Callable[[random.Random, Any], Any]  # the valid value -> the broken one
    at: str | None = None
    when: Callable[[Record], bool] | None = None


@dataclass(frozen=True)
class Col:
    name: str
    make: Maker
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A corpus contract's generator: its columns and the formats its data come in."""

    columns: tuple[Col, ...]
    formats: tuple[str, ...] = ("csv", "jsonl")


@dataclass
class Summary:
    """What :func:`generate` wrote."""

    records: int = 0
    invalid_records: int = 0
    error_counts: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(self.error_counts.values())


# --- value makers ------------------------------------------------------------------------------


def _weighted(weights: tuple[int, ...]) -> list[int]:
    """The weighted digit sum of every number of ``len(weights)`` digits, by number."""
    n = len(weights)
    return [
        sum(int(c) * w for c, w in zip(f"{i:0{n}d}", weights, strict=True)) for i in range(10**n)
    ]


_BSN_HIGH, _BSN_LOW = _weighted((9, 8, 7, 6)), _weighted((5, 4, 3, 2))


def bsn_value(rng: random.Random, record: Record | None = None) -> str:
    """A BSN passing the 11-proef: eight random digits and the check digit."""
    while True:
        prefix = rng.randrange(1, 10**8)
        high, low = divmod(prefix, 10**4)
        check = (_BSN_HIGH[high] + _BSN_LOW[low]) % 11
        if check < 10:
            return f"{prefix:08d}{check}"


def broken_bsn(_: random.Random, value: str) -> str:
    """The same nine digits but the last: the 11-proef fails (the sum moves by 1..9, not 11)."""
    return value[:8] + str((int(value[8]) + 1) % 10)


_POSTCODE_LETTERS = [
    a + b
    for a in _EX.POSTCODE_LETTERS
    for b in _EX.POSTCODE_LETTERS
    if a + b not in ("SA", "SD", "SS")
]
_PLACES: list[tuple[str, str]] = [  # (PC4, municipality), by population
    (str(pc4), name)
    for name, thousands, ranges in _EX.MUNICIPALITIES
    for pc4 in itertools.islice(
        itertools.cycle([p for lo, hi in ranges for p in range(lo, hi + 1)]), max(1, thousands)
    )
]


def postcode_value(rng: random.Random, record: Record | None = None) -> str:
    """``1234 AB`` (one in ten written ``1234AB``) in a real municipality's PC4 range."""
    pc4 = rng.choice(_PLACES)[0]
    return pc4 + ("" if rng.random() < 0.1 else " ") + rng.choice(_POSTCODE_LETTERS)


def _bad_postcode(_: random.Random, value: str) -> str:
    return "0" + value[1:]  # a PC4 never starts with 0


def _dates(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first).toordinal(), dt.date.fromisoformat(last).toordinal()
    return [dt.date.fromordinal(d).isoformat() for d in range(start, end + 1)]


def date_between(first: str, last: str) -> Maker:
    days = _dates(first, last)
    return lambda rng, _: rng.choice(days)


def _bad_date(_: random.Random, value: str) -> str:
    return value[:5] + "02-30"  # February 30th: the date's form, not a calendar day


def choice(values: Sequence[Any], weights: Sequence[float] | None = None) -> Maker:
    pool = list(values)
    if weights is None:
        return lambda rng, _: rng.choice(pool)
    table = list(
        itertools.chain.from_iterable(
            [v] * round(w * 100) for v, w in zip(pool, weights, strict=True)
        )
    )
    return lambda rng, _: rng.choice(table)


def digits(n: int, *, first: str = "") -> Maker:
    return lambda rng, _: first + f"{rng.randrange(10**n):0{n}d}"


def integer(lo: int, hi: int) -> Maker:
    return lambda rng, _: rng.randint(lo, hi)


def cents(lo: int, hi: int) -> Maker:
    """A euro amount from ``lo`` to ``hi`` cents, as the nearest double to the decimal (what
    JSON and CSV carry: ``19.99``)."""
    return lambda rng, _: rng.randint(lo, hi) / 100


def decimal(lo: float, hi: float, places: int = 1) -> Maker:
    scale = 10**places
    return lambda rng, _: rng.randint(round(lo * scale), round(hi * scale)) / scale


def boolean(share: float = 0.5) -> Maker:
    return lambda rng, _: rng.random() < share


def nullable(maker: Maker, share_null: float, null: Any = None) -> Maker:
    """``maker``'s value, or ``null`` (``ABSENT`` for a field that is left out) that often."""
    return lambda rng, record: null if rng.random() < share_null else maker(rng, record)


_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB", "BUNQ")


_BANK_DIGITS = {bank: "".join(str(int(c, 36)) for c in bank) for bank in _BANKS}


def iban_value(rng: random.Random, record: Record | None = None) -> str:
    """A Dutch IBAN with the right mod-97 check digits (ISO 13616: the BBAN, then ``NL00``
    with letters as 10..35, modulo 97)."""
    bank = rng.choice(_BANKS)
    account = f"{rng.randrange(10**10):010d}"
    check = 98 - int(_BANK_DIGITS[bank] + account + "232100") % 97
    return f"NL{check:02d}{bank}{account}"


def _bad_iban(_: random.Random, value: str) -> str:
    return value[:-1] + str((int(value[-1]) + 1) % 10)  # one digit off: mod 97 fails


_FIRST = [n for names in _EX.FIRST_NAMES.values() for n in names]


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name.replace("ı", "i"))
    return "".join(c for c in plain if c.isascii() and c.isalnum()).lower()


_MAIL_NAMES = sorted({_ascii(n) for n in (*_FIRST, *_EX.SURNAMES)} - {""})


def email_value(rng: random.Random, record: Record | None = None) -> str:
    return f"{rng.choice(_MAIL_NAMES)}.{rng.choice(_MAIL_NAMES)}@{rng.choice(_EX.MAIL_DOMAINS)}"


def _bad_email(_: random.Random, value: str) -> str:
    return value.replace("@", ".")


def first_names(rng: random.Random, record: Record | None = None) -> str:
    return rng.choice(_FIRST) + (" " + rng.choice(_FIRST) if rng.random() < 0.25 else "")


def surname(rng: random.Random, record: Record | None = None) -> str:
    return str(rng.choice(_EX.SURNAMES))


def municipality(rng: random.Random, record: Record | None = None) -> str:
    return rng.choice(_PLACES)[1]


def gemeentecode(rng: random.Random, record: Record | None = None) -> str:
    return f"GM{rng.choice(_GM):04d}"


_GM = list(range(3, 2000, 7))


def const(value: Any) -> Maker:
    return lambda rng, _: value


# --- breakers ------------------------------------------------------------------------------------


def _to(value: Any) -> Callable[[random.Random, Any], Any]:
    return lambda rng, _: value


def _gone(rng: random.Random, value: Any) -> Any:
    return ABSENT


def _present(name: str) -> Callable[[Record], bool]:
    return lambda record: record.get(name, ABSENT) not in (ABSENT, None)


BSN = Break("nl-bsn", broken_bsn)
POSTCODE = Break("nl-postcode", _bad_postcode)
DATE = Break("date", _bad_date)
IBAN = Break("iban", _bad_iban)
EMAIL = Break("email", _bad_email)
REQUIRED = Break("required", _gone)
NOT_A_BOOLEAN = Break("type", _to("ja"))
NOT_A_NUMBER = Break("type", _to("n.v.t."))


def pattern(bad: str) -> Break:
    return Break("pattern", _to(bad))


def only_if_present(brk: Break, name: str) -> Break:
    return Break(brk.rule, brk.bad, brk.at, _present(name))


def below(column: str, brk: Break, key: str) -> Break:
    """``brk`` applied to member ``key`` of the object in ``column``."""

    def bad(rng: random.Random, obj: dict[str, Any]) -> dict[str, Any]:
        out = dict(obj)
        value = brk.bad(rng, obj[key])
        if value is ABSENT:
            del out[key]
        else:
            out[key] = value
        return out

    return Break(brk.rule, bad, f"/{column}/{key}")


# --- the corpus ----------------------------------------------------------------------------------

BIRTH_CHILD = date_between("2006-01-01", "2025-12-31")
BIRTH_ADULT = date_between("1940-01-01", "2007-12-31")
RECENT = date_between("2020-01-01", "2026-11-30")


def _obj(**makers: Maker) -> Maker:
    def make(rng: random.Random, record: Record) -> dict[str, Any]:
        out = {}
        for key, maker in makers.items():
            value = maker(rng, record)
            if value is not ABSENT:
                out[key] = value
        return out

    return make


def _codes(rng: random.Random, _: Record) -> list[str]:
    n = rng.choice((1, 1, 1, 2, 2, 3, 4))
    return [
        f"{rng.choice(('41', '43', '45', '46', '47', '48'))}{c}" for c in rng.sample(_PRODUCT, n)
    ]


_PRODUCT = [f"{letter}{n:02d}" for letter in "ABCDEGP" for n in range(1, 40)]


def _period(rng: random.Random, record: Record) -> str:
    return f"{rng.randint(2022, 2026)}-{rng.randint(1, 12):02d}"


def _temporary(record: Record) -> bool:
    return str(record["verblijfsstatus"]).endswith("-tijdelijk")


def _if_temporary(maker: Maker) -> Maker:
    return lambda rng, record: maker(rng, record) if _temporary(record) else ABSENT


def _not_temporary(record: Record) -> bool:
    return not _temporary(record)


def _partner(maker: Maker) -> Maker:
    return lambda rng, record: maker(rng, record) if record["heeft_toeslagpartner"] else ABSENT


def _holder(rng: random.Random, record: Record) -> Any:
    return ABSENT if record["rekeningnummer"] is ABSENT else surname(rng)


_DEPENDENT = Break("dependentRequired", _gone)

GGD_JEUGD = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col("voornamen", first_names, (Break("maxLength", _to("x" * 201)),)),
        Col("achternaam", surname),
        Col("geboortedatum", BIRTH_CHILD, (DATE, REQUIRED)),
        Col("geslacht", choice("VMX", (0.4975, 0.4975, 0.005)), (Break("enum", _to("Q")),)),
        Col("postcode", postcode_value, (POSTCODE,)),
        Col("huisnummer", integer(1, 999), (Break("type", _to("12a")),)),
        Col("gemeente", municipality),
        Col(
            "email_ouder",
            nullable(email_value, 0.25, ABSENT),
            (only_if_present(Break("email", _bad_email), "email_ouder"),),
        ),
        Col("lengte_cm", nullable(decimal(45, 200), 0.06), (Break("minimum", _to(20)),)),
        Col("gewicht_kg", nullable(decimal(3, 110), 0.125), (Break("maximum", _to(300)),)),
    )
)

UWV = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col(
            "uitkeringssoort",
            choice(
                ("WW", "WIA-IVA", "WIA-WGA", "ZW", "Wajong", "TW"),
                (0.35, 0.1, 0.15, 0.2, 0.15, 0.05),
            ),
            (Break("enum", _to("AOW")),),
        ),
        Col("ingangsdatum", RECENT, (DATE,)),
        Col("periode", _period, (pattern("2025-13"),)),
        Col("bedrag_bruto", cents(5000, 450000), (Break("multipleOf", _to(1234.567)),)),
        Col("bedrag_netto", cents(4000, 350000), (Break("minimum", _to(-12.5)),)),
        Col("loonheffingskorting", boolean(0.8), (NOT_A_BOOLEAN,)),
        Col("vakantiegeld_inbegrepen", boolean(0.1)),
        Col("rekeningnummer", iban_value, (IBAN,)),
        Col("postcode", postcode_value, (POSTCODE,)),
    )
)

CAK = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col("agb_code", digits(6, first="98"), (pattern("9800123"),)),
        Col(
            "productcode",
            lambda rng, _: rng.choice(("02A01", "04A02", "05A03", "06B01", "07C03")),
            (pattern("2A01"),),
        ),
        Col("startdatum", RECENT, (DATE, REQUIRED)),
        Col("einddatum", nullable(RECENT, 0.6), (only_if_present(DATE, "einddatum"),)),
        Col("uren_per_week", nullable(decimal(0.5, 40), 0.2), (Break("maximum", _to(200)),)),
        Col("eigen_bijdrage_code", nullable(integer(0, 99), 0.3), (Break("maximum", _to(100)),)),
        Col(
            "toelichting", nullable(lambda rng, _: "Indicatie " + rng.choice(_PRODUCT), 0.7, ABSENT)
        ),
        Col("aantal_eenheden", nullable(integer(1, 400), 0.2), (Break("maximum", _to(10000)),)),
        Col("postcode", postcode_value, (POSTCODE,)),
    )
)

SVB = Spec(
    (
        Col("bsn_ouder", bsn_value, (BSN,)),
        Col("bsn_kind", bsn_value, (BSN,)),
        Col("geboortedatum_kind", date_between("2008-01-01", "2025-12-31"), (DATE,)),
        Col(
            "kwartaal",
            lambda rng, _: f"{rng.randint(2023, 2026)}-Q{rng.randint(1, 4)}",
            (pattern("2025-Q5"),),
        ),
        Col(
            "bedrag",
            lambda rng, _: rng.choice((269.76, 327.56, 385.36, 539.52, 655.12)),
            (Break("minimum", _to(-1)),),
        ),
        Col("aantal_kinderen", integer(1, 6), (Break("maximum", _to(21)),)),
        Col("betaaldatum", RECENT, (DATE,)),
        Col("rekeningnummer", iban_value, (IBAN,)),
        Col("postcode", postcode_value, (POSTCODE,)),
    )
)

_MERKEN = (
    "VOLKSWAGEN",
    "TOYOTA",
    "KIA",
    "PEUGEOT",
    "RENAULT",
    "OPEL",
    "SKODA",
    "BMW",
    "FORD",
    "MERCEDES-BENZ",
    "HYUNDAI",
    "VOLVO",
    "CITROEN",
    "TESLA",
    "DS",
    "ALFA ROMEO",
)
_KENTEKEN_CHARS = "BDFGHJKLNPRSTVXZ0123456789"


def _kenteken(rng: random.Random, _: Record) -> str:
    return "".join(rng.choice(_KENTEKEN_CHARS) for _ in range(6))


def _phone(rng: random.Random, _: Record) -> str:
    head = rng.choice(("06", "+316", "010", "020", "030", "0570"))
    body_len = 10 - len(head) if head.startswith("0") else 12 - len(head)
    return head + f"{rng.randrange(10**body_len):0{body_len}d}"


RDW = Spec(
    (
        Col("kenteken", _kenteken, (pattern("AB-12-CD"),)),
        Col(
            "voertuigsoort",
            choice(
                ("Personenauto", "Bedrijfsauto", "Motorfiets", "Bromfiets"), (0.8, 0.1, 0.06, 0.04)
            ),
            (pattern("Vrachtauto"),),
        ),
        Col("merk", choice(_MERKEN), (pattern("volkswagen"),)),
        Col("datum_toelating", date_between("2000-01-01", "2026-06-30"), (pattern("2021-3-01"),)),
        Col("apk_vervaldatum", lambda rng, _: rng.choice(_APK), (pattern("2027-01-31"),)),
        Col(
            "brandstof", choice("BDELHC", (0.6, 0.1, 0.25, 0.03, 0.01, 0.01)), (pattern("Benzine"),)
        ),
        Col("bsn_houder", bsn_value, (pattern("12345678"),)),
        Col("postcode", postcode_value, (pattern("1234 ab"),)),
        Col("huisnummer", lambda rng, _: str(rng.randint(1, 400)), (pattern("12a"),)),
        Col("gemeentecode", gemeentecode, (pattern("GM12345"),)),
        Col("telefoon", _phone, (pattern("06-12345678"),)),
    )
)
_APK = [d.replace("-", "") for d in _dates("2026-12-01", "2028-12-31")]

TOESLAGEN = Spec(
    (
        Col("bsn_aanvrager", bsn_value, (BSN,)),
        Col("geboortedatum", BIRTH_ADULT, (DATE,)),
        Col("heeft_toeslagpartner", boolean(0.45)),
        Col(
            "bsn_partner",
            _partner(bsn_value),
            (only_if_present(BSN, "bsn_partner"),),
        ),
        Col(
            "geboortedatum_partner",
            _partner(BIRTH_ADULT),
            (Break("dependentRequired", _gone, None, _present("bsn_partner")),),
        ),
        Col("huurtoeslag", boolean(0.4), (NOT_A_BOOLEAN,)),
        Col("zorgtoeslag", boolean(0.7), (Break("type", _to("1")),)),
        Col("kindgebonden_budget", boolean(0.3)),
        Col("kinderopvangtoeslag", boolean(0.15), (REQUIRED,)),
        Col("toetsingsinkomen", integer(0, 90000), (Break("minimum", _to(-100)),)),
        Col(
            "rekeningnummer",
            nullable(iban_value, 0.1, ABSENT),
            (only_if_present(IBAN, "rekeningnummer"),),
        ),
        Col(
            "tenaamstelling",
            _holder,
            (Break("dependentRequired", _gone, None, _present("rekeningnummer")),),
        ),
        Col("postcode", postcode_value, (POSTCODE,)),
    )
)

IND = Spec(
    (
        Col("v_nummer", digits(10), (pattern("123456789"),)),
        Col("bsn", bsn_value, (BSN,)),
        Col("nationaliteit", lambda rng, _: rng.choice(_NATIONALITIES), (pattern("NL"),)),
        Col(
            "verblijfsstatus",
            choice(
                ("regulier-tijdelijk", "regulier-onbepaald", "asiel-tijdelijk", "asiel-onbepaald"),
                (0.45, 0.2, 0.25, 0.1),
            ),
        ),
        Col("ingangsdatum", RECENT, (DATE,)),
        Col(
            "einddatum",
            _if_temporary(date_between("2026-12-01", "2031-12-31")),
            (
                Break("required", _gone, when=_temporary),
                Break("false", _to("2030-01-01"), when=_not_temporary),
            ),
        ),
        Col(
            "verlenging_aangevraagd",
            _if_temporary(boolean(0.3)),
            (
                Break("type", _to("nee"), when=_temporary),
                Break("false", _to(False), when=_not_temporary),
            ),
        ),
        Col("gemeentecode", gemeentecode, (pattern("0363"),)),
    )
)
_NATIONALITIES = ("0052", "0057", "0100", "0131", "0158", "0263", "0302", "0336", "0339", "0407")

_STREETS = (
    "Kerkstraat",
    "Dorpsstraat",
    "Schoolstraat",
    "Molenweg",
    "Stationsweg",
    "Julianalaan",
    "Beatrixstraat",
    "Wilhelminastraat",
    "Nieuwstraat",
    "Markt",
    "Lange Voorhout",
)

JEUGDZORG = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col("geboortedatum", BIRTH_CHILD, (DATE,)),
        Col(
            "adres",
            _obj(
                postcode=postcode_value,
                huisnummer=integer(1, 400),
                huisletter=nullable(choice("ABCD"), 0.85, ABSENT),
                woonplaats=municipality,
            ),
            (below("adres", POSTCODE, "postcode"), below("adres", REQUIRED, "huisnummer")),
        ),
        Col("gemeentecode", gemeentecode, (pattern("GM123"),)),
        Col(
            "productcodes",
            _codes,
            (
                Break("pattern", lambda rng, codes: ["45a10", *codes[1:]], at="/productcodes/0"),
                Break("uniqueItems", lambda rng, codes: [*codes, codes[0]], at="/productcodes"),
                Break("minItems", _to([]), at="/productcodes"),
            ),
        ),
        Col(
            "traject",
            _obj(
                startdatum=RECENT,
                einddatum=nullable(RECENT, 0.5),
                aanbieder_agb=digits(6, first="98"),
                met_verwijzing=boolean(0.7),
            ),
            (
                below("traject", NOT_A_BOOLEAN, "met_verwijzing"),
                below("traject", DATE, "startdatum"),
            ),
        ),
        Col("email_ouder", nullable(email_value, 0.3), (only_if_present(EMAIL, "email_ouder"),)),
    ),
    formats=("jsonl",),
)

RIVM = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col("vaccinatiedatum", RECENT, (DATE,)),
        Col(
            "vaccin",
            choice(("DKTP-Hib-HepB", "Pneu", "BMR", "MenACWY", "HPV", "DTP", "RSV")),
            (Break("enum", _to("Covid-19")),),
        ),
    )
)

DUO = Spec(
    (
        Col("bsn", bsn_value, (BSN,)),
        Col(
            "leerlingnummer", lambda rng, _: str(rng.randrange(10**5, 10**10)), (pattern("12345"),)
        ),
        Col(
            "brin",
            lambda rng, _: f"{rng.randint(0, 99):02d}{rng.choice(_BRIN)}",
            (pattern("12ab"),),
        ),
        Col(
            "onderwijssoort",
            choice(("PO", "SO", "VO", "VSO", "MBO"), (0.5, 0.03, 0.35, 0.02, 0.1)),
            (Break("enum", _to("HBO")),),
        ),
        Col("leerjaar", integer(1, 8), (Break("enum", _to(9)),)),
        Col(
            "inschrijvingsstatus",
            choice(("ingeschreven", "uitgeschreven", "vrijstelling"), (0.93, 0.05, 0.02)),
            (Break("enum", _to("verzuim")),),
        ),
        Col("land", const("NL"), (Break("const", _to("BE")),)),
        Col("schooljaar", const("2025-2026")),
        Col("geboortedatum", BIRTH_CHILD, (DATE,)),
        Col("postcode", postcode_value, (POSTCODE,)),
    )
)
_BRIN = ("AA", "AB", "BC", "DE", "GH", "KL", "MN", "PR", "ST", "XZ")


def _wide() -> Spec:
    """The 45 columns of ``sociaal-domein-breed.yaml``."""
    yes = NOT_A_BOOLEAN
    return Spec(
        (
            Col("bsn", bsn_value, (BSN,)),
            Col("a_nummer", digits(10), (pattern("123456789"),)),
            Col("voornamen", first_names),
            Col("voorvoegsel", nullable(choice(("van", "de", "van der", "van den", "ter")), 0.7)),
            Col("geslachtsnaam", surname, (REQUIRED,)),
            Col("geboortedatum", BIRTH_ADULT, (DATE,)),
            Col("geslacht", choice("MVO", (0.49, 0.49, 0.02)), (Break("enum", _to("X")),)),
            Col(
                "geboorteland",
                choice(("6030", "6030", "6030", "5022", "6043", "5049")),
                (pattern("NL"),),
            ),
            Col(
                "nationaliteit",
                choice(("0001", "0001", "0001", "0052", "0263", "0057")),
                (pattern("1"),),
            ),
            Col(
                "burgerlijke_staat",
                choice(("ongehuwd", "gehuwd", "geregistreerd_partner", "gescheiden", "weduwe")),
                (Break("enum", _to("samen")),),
            ),
            Col("straatnaam", choice(_STREETS)),
            Col("huisnummer", integer(1, 400), (Break("minimum", _to(0)),)),
            Col(
                "huisletter",
                nullable(choice("ABC"), 0.9),
                (only_if_present(pattern("AB"), "huisletter"),),
            ),
            Col("huisnummertoevoeging", nullable(choice(("1", "2", "bis", "hs", "II")), 0.85)),
            Col("postcode", postcode_value, (POSTCODE,)),
            Col("woonplaats", municipality),
            Col("gemeentecode", gemeentecode, (pattern("GM12"),)),
            Col("wijkcode", digits(6, first="WK"), (pattern("WK12345"),)),
            Col("buurtcode", digits(8, first="BU"), (pattern("BU1234567"),)),
            Col("datum_inschrijving", date_between("1990-01-01", "2026-10-31"), (DATE,)),
            Col("aantal_personen_huishouden", integer(1, 8), (Break("maximum", _to(21)),)),
            Col("aantal_kinderen", integer(0, 5), (Break("type", _to("twee")),)),
            Col(
                "type_huishouden",
                choice(("alleenstaand", "paar", "paar-met-kinderen", "eenouder", "overig")),
                (Break("enum", _to("gezin")),),
            ),
            Col(
                "inkomen_huishouden",
                nullable(decimal(0, 120000, 2), 0.1),
                (Break("minimum", _to(-1)),),
            ),
            *(Col(name, boolean(share), (yes,)) for name, share in _WIDE_FLAGS),
            Col(
                "startdatum_traject",
                nullable(RECENT, 0.5),
                (only_if_present(DATE, "startdatum_traject"),),
            ),
            Col(
                "klantmanager",
                lambda rng, _: rng.choice(_INITIALS) + f"{rng.randint(0, 999):03d}",
                (pattern("ab123"),),
            ),
            Col("email", nullable(email_value, 0.4), (only_if_present(EMAIL, "email"),)),
            Col(
                "telefoon", nullable(_phone, 0.3), (only_if_present(pattern("12345"), "telefoon"),)
            ),
            Col(
                "rekeningnummer",
                nullable(iban_value, 0.2),
                (only_if_present(IBAN, "rekeningnummer"),),
            ),
            Col(
                "opleidingsniveau",
                choice(("basis", "vmbo", "havo-vwo", "mbo", "hbo-wo", "onbekend")),
                (Break("enum", _to("mavo")),),
            ),
            Col(
                "arbeidsstatus",
                choice(
                    (
                        "werkend",
                        "werkzoekend",
                        "arbeidsongeschikt",
                        "student",
                        "gepensioneerd",
                        "overig",
                    )
                ),
                (Break("enum", _to("zzp")),),
            ),
            Col("uren_werk_per_week", nullable(decimal(0, 40), 0.4), (Break("maximum", _to(81)),)),
            Col(
                "uzovi",
                choice(("3311", "3313", "3343", "3351", "3358", "7029", "8971")),
                (pattern("331"),),
            ),
            Col("huisarts_agb", digits(6, first="01"), (pattern("0112345"),)),
            Col("laatste_contact", RECENT, (DATE,)),
            Col("aantal_contacten", integer(0, 60), (Break("maximum", _to(1000)),)),
            Col(
                "dossiernummer",
                lambda rng, _: f"SD-{rng.randint(2015, 2026)}-{rng.randrange(10**6):06d}",
                (pattern("SD-2025-12345"),),
            ),
            Col(
                "opmerkingen",
                nullable(choice(("Afspraak gemist", "Verhuisd", "Zie dossier")), 0.8),
                (Break("maxLength", _to("x" * 501)),),
            ),
            Col(
                "mutatietijdstip",
                lambda rng, _: (
                    rng.choice(_DAYS) + f"T{rng.randint(0, 23):02d}:"
                    f"{rng.randint(0, 59):02d}:00+01:00"
                ),
                (Break("date-time", _to("2025-01-01 12:00")),),
            ),
        )
    )


_WIDE_FLAGS = (
    ("bijstand", 0.1),
    ("wmo_voorziening", 0.15),
    ("jeugdhulp", 0.1),
    ("schuldhulp", 0.05),
    ("wlz_indicatie", 0.04),
    ("participatietraject", 0.08),
)
_INITIALS = [a + b for a in "ABDGHJKMPRSTVW" for b in "ABDEGHJKMNPRSTVW"]
_DAYS = _dates("2024-01-01", "2026-11-30")
WIDE = _wide()

CONTRACTS: dict[str, Spec] = {
    "ggd-jeugd": GGD_JEUGD,
    "uwv-uitkeringen": UWV,
    "cak-wmo-nullables": CAK,
    "svb-kinderbijslag": SVB,
    "rdw-voertuigen": RDW,
    "toeslagen-partner": TOESLAGEN,
    "ind-verblijf": IND,
    "jeugdzorg-trajecten": JEUGDZORG,
    "sociaal-domein-breed": WIDE,
    "rivm-vaccinaties-smal": RIVM,
    "duo-leerplicht": DUO,
}
"""Every corpus contract (``NAME.yaml`` beside this file) with its generator."""


def contract_path(name: str) -> Path:
    """The contract file of corpus contract ``name``."""
    if name not in CONTRACTS:
        raise ValueError(f"no corpus contract {name!r} (known: {', '.join(CONTRACTS)})")
    return HERE / f"{name}.yaml"


def engine_contract_path(name: str, folder: Path) -> Path:
    """Corpus contract ``name`` without its privacy thresholds, written into ``folder``: what
    the engine's tests and benchmarks pseudonymise. Generated records are nearly all unique
    on their quasi-identifiers, so the privacy gate would refuse every delivery (as it
    should); the gate is measured apart, by ``benchmarks/gates.py``."""
    import yaml

    doc = yaml.safe_load(contract_path(name).read_text(encoding="utf-8"))
    privacy = doc.get("privacy") or {}
    doc["privacy"] = {k: v for k, v in privacy.items() if k == "quasi_identifiers"}
    path = folder / f"{name}.engine.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --- records and writers -------------------------------------------------------------------------

Planted = tuple[int, str, str]
"""(record number from 1, field as a JSON Pointer, rule) of one planted error."""


def iter_records(
    name: str,
    n_rows: int,
    *,
    seed: int = 7,
    invalid_rate: float = 0.0,
    errors_per_record: int = 3,
) -> Iterator[tuple[Record, list[Planted]]]:
    """``n_rows`` records of contract ``name`` (``ABSENT`` for a property left out), each with
    the errors planted in it (none for a valid record)."""
    contract_path(name)
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be between 0 and 1")
    if errors_per_record < 1:
        raise ValueError("errors_per_record must be at least 1")
    columns = CONTRACTS[name].columns
    rng = random.Random(f"{name}/{seed}")
    bad_rng = random.Random(f"{name}/{seed}/invalid")  # planting never moves the valid data
    for number in range(1, n_rows + 1):
        record: Record = {}
        for col in columns:
            record[col.name] = col.make(rng, record)
        planted: list[Planted] = []
        if invalid_rate and bad_rng.random() < invalid_rate:
            planted = _plant(record, columns, bad_rng, number, errors_per_record)
        yield record, planted


def _plant(
    record: Record, columns: Sequence[Col], rng: random.Random, number: int, n: int
) -> list[Planted]:
    """Break ``n`` distinct columns of ``record`` (in place), one rule each."""
    options = [
        (col, [b for b in col.breaks if b.when is None or b.when(record)]) for col in columns
    ]
    breakable = [(col, breaks) for col, breaks in options if breaks]
    if len(breakable) < n:
        raise ValueError(f"record {number} has only {len(breakable)} columns that can be broken")
    # Decide every `when` on the valid record first: no break may change another's condition.
    chosen = [(col, rng.choice(breaks)) for col, breaks in rng.sample(breakable, n)]
    planted = []
    for col, brk in chosen:
        record[col.name] = brk.bad(rng, record[col.name])
        planted.append((number, f"/{col.name}" if brk.at is None else brk.at, brk.rule))
    return planted


def _cell(value: Any) -> str:
    if value is ABSENT or value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        raise ValueError("a CSV cell cannot hold an object or an array")
    return str(value)


def _json_line(record: Record) -> str:
    present = {k: v for k, v in record.items() if v is not ABSENT}
    return json.dumps(present, ensure_ascii=False, separators=(",", ":")) + "\n"


def write(
    name: str,
    n_rows: int,
    fp: IO[str],
    *,
    seed: int = 7,
    invalid_rate: float = 0.0,
    errors_per_record: int = 3,
    fmt: str = "csv",
    planted: list[Planted] | None = None,
) -> Summary:
    """Write the data of :func:`iter_records` to the text file ``fp`` (open it with
    ``encoding="utf-8", newline=""``): CSV with a header, comma, LF, minimal quoting, or JSON
    Lines. ``planted``, when given, receives every planted error."""
    contract_path(name)
    if fmt not in CONTRACTS[name].formats:
        raise ValueError(f"corpus contract {name!r} has no {fmt!r} data")
    summary = Summary()
    records = iter_records(
        name, n_rows, seed=seed, invalid_rate=invalid_rate, errors_per_record=errors_per_record
    )
    writer = csv.writer(fp, lineterminator="\n")
    if fmt == "csv":
        writer.writerow([col.name for col in CONTRACTS[name].columns])
    buffer: list[Any] = []
    for record, errors in records:
        summary.records += 1
        if errors:
            summary.invalid_records += 1
            summary.error_counts.update(rule for _, _, rule in errors)
            if planted is not None:
                planted.extend(errors)
        buffer.append(list(map(_cell, record.values())) if fmt == "csv" else _json_line(record))
        if len(buffer) == 4096:
            _flush(fp, writer, buffer, fmt)
    _flush(fp, writer, buffer, fmt)
    return summary


def _flush(fp: IO[str], writer: Any, buffer: list[Any], fmt: str) -> None:
    if fmt == "csv":
        writer.writerows(buffer)
    else:
        fp.write("".join(buffer))
    buffer.clear()


def generate(
    contract_name: str,
    n_rows: int,
    *,
    path: Path,
    seed: int = 7,
    invalid_rate: float = 0.0,
    errors_per_record: int = 3,
    fmt: str = "csv",
    planted: list[Planted] | None = None,
) -> Summary:
    """Write ``n_rows`` records of ``contract_name`` to ``path``, whole or not at all."""
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fp:
            summary = write(
                contract_name,
                n_rows,
                fp,
                seed=seed,
                invalid_rate=invalid_rate,
                errors_per_record=errors_per_record,
                fmt=fmt,
                planted=planted,
            )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="generate.py", description="Synthetic data for a corpus contract (see the docstring)."
    )
    parser.add_argument("name", nargs="?", choices=tuple(CONTRACTS), help="corpus contract")
    parser.add_argument("--list", action="store_true", help="list the contracts and formats")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", dest="fmt", choices=("csv", "jsonl"))
    parser.add_argument("--invalid-rate", type=float, default=0.0)
    parser.add_argument("--errors-per-record", type=int, default=3)
    parser.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    args = parser.parse_args(argv)
    if args.list or args.name is None:
        for name, spec in CONTRACTS.items():
            print(f"{name}\t{len(spec.columns)} columns\t{'/'.join(spec.formats)}")
        return 0
    fmt = args.fmt or CONTRACTS[args.name].formats[0]
    options: dict[str, Any] = {
        "seed": args.seed,
        "invalid_rate": args.invalid_rate,
        "errors_per_record": args.errors_per_record,
        "fmt": fmt,
    }
    try:
        if args.output != "-":
            summary = generate(args.name, args.rows, path=Path(args.output), **options)
        else:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            summary = write(args.name, args.rows, out, **options)
            out.flush()
            out.detach()
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"{summary.records} records, {summary.invalid_records} invalid, {summary.errors} errors",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
