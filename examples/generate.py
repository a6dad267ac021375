#!/usr/bin/env python3
"""A seeded generator of synthetic Dutch persons for the sample contract (examples/contract.yaml).

Used by the demo, the tests and the benchmarks. Standard library only; it streams, so
millions of rows take constant memory. Every value is synthetic: BSNs are unique and pass the
11-proef but are drawn from a permutation, names are common Dutch (and other) names with
diacritics, postcodes are well-formed but random.

    python examples/generate.py --rows 1000 [--seed 42] [--format csv|jsonl|json]
        [--invalid-rate 0.01] [--invalid-rows 3,17] [-o PATH]

Python API:

* ``iter_records(rows, seed=42, invalid_rate=0.0, invalid_rows=())`` yields records (dicts in
  the column order of the contract; ``None`` for an empty value). Records with a planted
  invalid cell carry nothing special; the generator object's ``planted`` list (see
  :class:`Records`) says which (1-based row, field, kind) were planted.
* ``write_csv(records, fp)``, ``write_jsonl(records, fp)``, ``write_json(records, fp)``.
* ``main(argv=None) -> int``.

Same seed and arguments give byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

COLUMNS = (
    "bsn",
    "voornamen",
    "achternaam",
    "geboortedatum",
    "geslacht",
    "postcode",
    "huisnummer",
    "gemeente",
    "email_ouder",
    "lengte_cm",
    "gewicht_kg",
)

FIRST_NAMES = {
    "M": [
        "Daan",
        "Sem",
        "Lucas",
        "Bram",
        "Noah",
        "Jürgen",
        "Bülent",
        "Mohammed",
        "Thijs",
        "Jesse",
        "Ruben",
        "Sven",
        "Ömer",
        "Luuk",
        "Tijn",
        "Finn",
        "Joël",
        "Ayoub",
        "Mees",
        "Gijs",
    ],
    "V": [
        "Emma",
        "Julia",
        "Zoë",
        "Sophie",
        "Noor",
        "Anna",
        "Saar",
        "Fleur",
        "Lotte",
        "Chloë",
        "Eva",
        "Mila",
        "Iris",
        "Liv",
        "Yasmina",
        "Renée",
        "Inés",
        "Maëlle",
        "Fenna",
        "Lieke",
    ],
    "X": ["Robin", "Sam", "Kai", "Alex", "Noa", "Lou", "Charlie", "Quinn"],
}
SURNAMES = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Çelik",
    "Yılmaz",
    "El Amrani",
    "Ruiz-Peña",
    "Nguyễn",
    "Kowalczyk",
    "Öztürk",
    "Müller",
]
MUNICIPALITIES = [
    "Amsterdam",
    "Rotterdam",
    "'s-Gravenhage",
    "Utrecht",
    "Eindhoven",
    "Groningen",
    "Tilburg",
    "Almere",
    "Breda",
    "Nijmegen",
    "Apeldoorn",
    "Haarlem",
    "Arnhem",
    "Enschede",
    "Amersfoort",
    "Zaanstad",
    "'s-Hertogenbosch",
    "Zwolle",
    "Leiden",
    "Maastricht",
    "Dordrecht",
    "Ede",
    "Súdwest-Fryslân",
    "Leeuwarden",
    "Westland",
    "Alkmaar",
    "Emmen",
    "Delft",
    "Venlo",
    "Deventer",
]
MAIL_DOMAINS = ["example.nl", "voorbeeld.nl", "mail.example.org", "post.example.com"]
LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"

_W = (9, 8, 7, 6, 5, 4, 3, 2)
_HEAD = [sum(int(c) * w for c, w in zip(f"{n:04d}", _W[:4], strict=True)) for n in range(10_000)]
_TAIL = [sum(int(c) * w for c, w in zip(f"{n:04d}", _W[4:], strict=True)) for n in range(10_000)]
_M = 10**8  # first eight digits: a permutation of 0 .. 10^8 - 1 keeps the BSNs unique

INVALID_KINDS = ("bsn", "postcode", "date", "geslacht", "huisnummer", "email", "required")


def bsn_stream(seed: int) -> Iterator[str]:
    """Unique BSNs: an affine permutation of the first eight digits, plus the one check digit
    that satisfies the 11-proef (prefixes that need check digit 10 are skipped)."""
    rng = random.Random(seed ^ 0x5EED)
    a = rng.randrange(1, _M) | 1
    while a % 5 == 0:
        a += 2
    b = rng.randrange(_M)
    i = 0
    while True:
        p = (a * i + b) % _M
        i += 1
        check = (_HEAD[p // 10_000] + _TAIL[p % 10_000]) % 11
        if check == 10 or (p == 0 and check == 0):
            continue
        yield f"{p:08d}{check}"


class Records:
    """An iterator of records that remembers which cells it made invalid."""

    def __init__(
        self, rows: int, seed: int = 42, invalid_rate: float = 0.0, invalid_rows: Iterable[int] = ()
    ) -> None:
        self.rows = rows
        self.seed = seed
        self.invalid_rate = invalid_rate
        self.invalid_rows = set(invalid_rows)
        self.planted: list[tuple[int, str, str]] = []  # (row, field, kind)
        self._it = self._generate()

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._it)

    def _generate(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        bsns = bsn_stream(self.seed)
        choice, randrange, rand = rng.choice, rng.randrange, rng.random
        for row in range(1, self.rows + 1):
            sex = "V" if rand() < 0.49 else ("M" if rand() < 0.98 else "X")
            year = 2006 + randrange(20)
            month = 1 + randrange(12)
            day = 1 + randrange(28 if month == 2 else 30)
            first = choice(FIRST_NAMES[sex])
            if rand() < 0.3:
                first += " " + choice(FIRST_NAMES[choice("MV")])
            surname = choice(SURNAMES)
            letters = choice(LETTERS) + choice(LETTERS)
            if letters in ("SA", "SD", "SS"):
                letters = "SB"
            age = 2026 - year
            record: dict[str, Any] = {
                "bsn": next(bsns),
                "voornamen": first,
                "achternaam": surname,
                "geboortedatum": f"{year:04d}-{month:02d}-{day:02d}",
                "geslacht": sex,
                "postcode": f"{1000 + randrange(9000)} {letters}",
                "huisnummer": 1 + randrange(999),
                "gemeente": choice(MUNICIPALITIES),
                "email_ouder": (
                    f"ouder{row}.{surname.split()[-1].lower()}@{choice(MAIL_DOMAINS)}"
                    if rand() < 0.7
                    else None
                ),
                "lengte_cm": round(50 + age * 6.5 + rand() * 15, 1) if rand() < 0.9 else None,
                "gewicht_kg": round(3 + age * 3.2 + rand() * 8, 1) if rand() < 0.85 else None,
            }
            if row in self.invalid_rows or (self.invalid_rate and rand() < self.invalid_rate):
                self._plant(record, row, INVALID_KINDS[rng.randrange(len(INVALID_KINDS))])
            yield record

    def _plant(self, record: dict[str, Any], row: int, kind: str) -> None:
        if kind == "bsn":
            last = int(record["bsn"][8])
            record["bsn"] = record["bsn"][:8] + str((last + 1) % 10)  # the 11-proef fails
            field = "bsn"
        elif kind == "postcode":
            record["postcode"] = "0123 AB"
            field = "postcode"
        elif kind == "date":
            record["geboortedatum"] = f"{record['geboortedatum'][:4]}-02-30"
            field = "geboortedatum"
        elif kind == "geslacht":
            record["geslacht"] = "Q"
            field = "geslacht"
        elif kind == "huisnummer":
            record["huisnummer"] = "abc"
            field = "huisnummer"
        elif kind == "email":
            record["email_ouder"] = "ouder.zonder.apenstaartje.example.nl"
            field = "email_ouder"
        else:
            record["achternaam"] = None  # a required field left empty
            field = "achternaam"
        self.planted.append((row, field, kind))


def iter_records(
    rows: int, seed: int = 42, invalid_rate: float = 0.0, invalid_rows: Iterable[int] = ()
) -> Records:
    return Records(rows, seed=seed, invalid_rate=invalid_rate, invalid_rows=invalid_rows)


def write_csv(records: Iterable[dict[str, Any]], fp: IO[str]) -> None:
    writer = csv.writer(fp, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(["" if r[c] is None else r[c] for c in COLUMNS] for r in records)


def write_jsonl(records: Iterable[dict[str, Any]], fp: IO[str]) -> None:
    for r in records:
        fp.write(
            json.dumps(
                {k: v for k, v in r.items() if not (v is None and k == "achternaam")},
                ensure_ascii=False,
            )
        )
        fp.write("\n")


def write_json(records: Iterable[dict[str, Any]], fp: IO[str]) -> None:
    fp.write("[")
    for i, r in enumerate(records):
        fp.write(",\n" if i else "\n")
        fp.write(
            json.dumps(
                {k: v for k, v in r.items() if not (v is None and k == "achternaam")},
                ensure_ascii=False,
            )
        )
    fp.write("\n]\n")


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "json": write_json}


def _rows(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=sorted(WRITERS), default="csv")
    parser.add_argument("--invalid-rate", type=float, default=0.0)
    parser.add_argument("--invalid-rows", type=_rows, default=[])
    parser.add_argument("-o", "--output", default="-")
    args = parser.parse_args(argv)
    records = iter_records(args.rows, args.seed, args.invalid_rate, args.invalid_rows)
    if args.output == "-":
        WRITERS[args.format](records, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as fp:
            WRITERS[args.format](records, fp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
