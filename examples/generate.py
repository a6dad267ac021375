#!/usr/bin/env python3
"""Seeded synthetic Dutch persons for the sample contract (``examples/contract.yaml``).

Used by the demo, the tests and the benchmarks. Standard library only. It streams (memory
does not grow with the number of rows) and is fast (a million CSV rows in a few seconds):
random numbers are drawn a batch at a time and index small lookup tables, and CSV lines
and JSON objects are assembled from cells encoded once, when the tables are built.

Command line::

    python examples/generate.py --rows 1000 [--seed 42] [--format csv|jsonl|json]
        [--invalid-rate 0.01] [--invalid-rows 3,17] [--gemeente Gouda] [-o PATH]

Python API::

    records = iter_records(rows, seed=42, invalid_rate=0.0, invalid_rows=(), gemeente=None)
    write_csv(records, fp)      # or write_jsonl / write_json; fp is a text file
    records.planted             # [Planted(row=3, field="postcode", kind="postcode"), ...]
    iter_planted(rows, seed=42, invalid_rate=0.0, invalid_rows=())  # the same, up front
    main(argv=None) -> int

``iter_records`` returns a :class:`Records`: iterating it yields one ``dict`` per person,
keys in :data:`COLUMNS` order, ``None`` for an empty value (``Records.tuples()`` yields
tuples instead). The writers take any iterable of such dicts; given a fresh
:class:`Records` they take a fast path. ``None`` is written as an empty CSV cell, and in
JSON as ``null`` in an optional field but as an absent key in a required one (the schema
forbids ``null`` there, so an empty required field is a missing one, as in CSV).

The data:

* ``bsn``: unique, passing the 11-proef, about 10% with a leading zero. The first eight
  digits of the i-th BSN are the i-th number of a permutation of 0 .. 10^8 - 1 drawn from
  the seed (a four-round Feistel network on two halves of four digits: better scrambled
  than an affine map ``a*i + b mod 10^8``, at a similar cost); the ninth digit is the check
  digit that makes the 11-proef hold. Prefixes that would need a check digit of 10 (one in
  eleven) are skipped, as is ``000000000``. Unique without remembering anything; about
  90.9 million per seed, so at most :data:`MAX_ROWS` rows.
* ``voornamen`` (one, sometimes two) by sex and ``achternaam``: common Dutch names and
  names of other origins, some with diacritics (Zoë, Bülent, Çelik, Ruiz-Peña, Nguyễn).
* ``geboortedatum``: uniform over 2006-01-01 .. 2025-12-31 (real calendar days).
* ``geslacht``: V and M about equally often, X rarely (0.5%).
* ``gemeente``: weighted by population, with a ``postcode`` in (approximately) that
  municipality's PC4 range and two letters (not F, I, O, Q, U or Y; not SA, SD or SS).
  With ``gemeente="Gouda"`` (``--gemeente Gouda``) everyone lives in that one
  municipality, as in a municipality's own export (the demo's risk gate needs that: a
  country-wide PC4 leaves nearly everyone unique).
* ``huisnummer``: 1 .. 999, small numbers far more often than large ones.
* ``email_ouder``: an address at an example domain made from the surname; empty for 25%.
* ``lengte_cm``, ``gewicht_kg``: one decimal, following Dutch growth curves for the age
  on 2026-01-01 and the sex, weight correlated with length; empty for 6% and 12.5%.

Invalid cells: each row listed in ``invalid_rows`` (1-based) or chosen by ``invalid_rate``
(each row independently, with that probability) gets exactly one invalid cell. The listed
rows take the kinds of :data:`INVALID_KINDS` in turn (``--invalid-rows 1,2,3,4,5,6,7``
plants one of each); another row's kind follows from the seed and the row number. Planting
uses random numbers of its own, so a damaged file is the clean file of the same seed with
just the planted cells changed. ``Records.planted`` lists the planted cells in row order
as the rows are generated (complete once the records are exhausted); :func:`iter_planted`
gives the same list without generating any data.

The same seed and arguments give byte-identical output (with the same Python version: the
data come from ``random.Random(seed)``), and a row does not depend on the number of rows:
``--rows 1000`` writes the first 1,000 rows of ``--rows 1000000``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import io
import itertools
import json
import math
import operator
import os
import random
import statistics
import sys
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, NamedTuple

Row = tuple[Any, ...]

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
REQUIRED = COLUMNS[:8]
"""The fields the sample contract requires: the first eight columns."""

INVALID_KINDS = ("bsn", "postcode", "date", "geslacht", "huisnummer", "email", "required")
"""The kinds of invalid cell that can be planted:

``bsn`` (the last digit changed, so the 11-proef fails), ``postcode`` (``0123 AB``),
``date`` (February 30th), ``geslacht`` (``Q``), ``huisnummer`` (``abc``), ``email`` (an
address without ``@``) and ``required`` (one of :data:`REQUIRED` left empty)."""

FIELD_OF_KIND = {
    "bsn": "bsn",
    "postcode": "postcode",
    "date": "geboortedatum",
    "geslacht": "geslacht",
    "huisnummer": "huisnummer",
    "email": "email_ouder",
}

BIRTH_YEARS = range(2006, 2026)

# --- reference data ----------------------------------------------------------------------
# Names are listed roughly by popularity; the n-th name (from 0) has weight 1 / (n + 8).
# fmt: off
FIRST_NAMES: Mapping[str, tuple[str, ...]] = {
    "M": (
        "Noah", "Liam", "Luca", "Sem", "Mees", "Daan", "Levi", "Finn", "Milan", "Bram",
        "Adam", "Mohammed", "Jesse", "Noud", "Luuk", "Thomas", "Lucas", "James", "Siem",
        "Teun", "Daniël", "Gijs", "Thijs", "Boaz", "Hugo", "Joël", "Olivier", "Ruben",
        "Yusuf", "Raphaël", "Ayoub", "Noël", "Ömer", "Emir", "Jayden", "Bülent", "Rayan",
        "Mikaël", "Björn", "Sébastien",
    ),
    "V": (
        "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva",
        "Liv", "Lotte", "Evi", "Noor", "Anna", "Saar", "Lieke", "Olivia", "Fenna", "Nina",
        "Chloë", "Lina", "Fleur", "Maud", "Roos", "Noëlle", "Elif", "Anaïs", "Fatima",
        "Maëlle", "Inès", "Renée", "Malak", "Ayşe", "Lizzy", "Şeyma", "Amélie", "Hélène",
        "Jasmijn", "Ilse",
    ),
    "X": ("Robin", "Sam", "Noa", "Kai", "Alex", "Charlie", "Lou", "Jip", "Quinn", "Sasha"),
}

SURNAMES: tuple[str, ...] = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
    "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
    "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
    "de Graaf", "van der Meer", "Yılmaz", "van der Linden", "Kok", "Jacobs", "de Haan",
    "Vermeulen", "van den Heuvel", "El Amrani", "van der Veen", "van den Broek",
    "de Bruijn", "Kaya", "van der Heijden", "Schouten", "van Beek", "Willems", "Çelik",
    "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "Öztürk",
    "van Dam", "van der Wal", "Prins", "Blom", "Huisman", "Nguyễn", "Peeters", "de Jonge",
    "Kuipers", "Şahin", "van Veen", "Post", "Kuiper", "Benali", "Veenstra", "Kramer",
    "van den Brink", "Scholten", "Kowalczyk", "van Wijk", "Postma", "Martens", "Ruiz-Peña",
    "Vink", "de Ruiter", "Timmermans", "Groen", "Müller", "Gerritsen", "Jonker", "van Loon",
    "Demir", "Boer", "van der Velde", "Willemsen", "Trần", "Smeets", "de Lange",
    "dos Santos", "de Vos", "Bosch", "Wiśniewski", "van Dongen", "Schipper", "de Koning",
    "Gonçalves", "van der Laan", "Koning", "Lefèvre", "Driessen", "Hermans", "El Idrissi",
    "Evers", "Sánchez", "Hofman", "Bosman", "Schäfer", "Wolters",
)

# (Name as CBS writes it, inhabitants in thousands, PC4 ranges); both numbers approximate.
MUNICIPALITIES: tuple[tuple[str, int, tuple[tuple[int, int], ...]], ...] = (
    ("Amsterdam", 932, ((1011, 1109),)),
    ("Rotterdam", 670, ((3011, 3089),)),
    ("'s-Gravenhage", 566, ((2491, 2599),)),
    ("Utrecht", 374, ((3511, 3585),)),
    ("Eindhoven", 243, ((5611, 5658),)),
    ("Groningen", 243, ((9711, 9747),)),
    ("Tilburg", 229, ((5011, 5049),)),
    ("Almere", 222, ((1311, 1364),)),
    ("Breda", 186, ((4811, 4839),)),
    ("Nijmegen", 182, ((6511, 6546),)),
    ("Apeldoorn", 167, ((7311, 7339),)),
    ("Arnhem", 166, ((6811, 6846),)),
    ("Haarlem", 163, ((2011, 2037),)),
    ("Haarlemmermeer", 161, ((2131, 2136), (2151, 2153))),
    ("'s-Hertogenbosch", 160, ((5211, 5249),)),
    ("Enschede", 160, ((7511, 7548),)),
    ("Amersfoort", 160, ((3811, 3829),)),
    ("Zaanstad", 159, ((1501, 1509), (1541, 1567))),
    ("Zwolle", 131, ((8011, 8046),)),
    ("Leiden", 127, ((2311, 2334),)),
    ("Zoetermeer", 127, ((2711, 2729),)),
    ("Leeuwarden", 126, ((8911, 8939),)),
    ("Maastricht", 122, ((6211, 6229),)),
    ("Dordrecht", 121, ((3311, 3329),)),
    ("Ede", 120, ((6711, 6718), (6721, 6722))),
    ("Westland", 115, ((2671, 2695),)),
    ("Alkmaar", 110, ((1811, 1829),)),
    ("Emmen", 108, ((7811, 7891),)),
    ("Delft", 105, ((2611, 2629),)),
    ("Venlo", 103, ((5911, 5928),)),
    ("Deventer", 102, ((7411, 7431),)),
    ("Oss", 95, ((5341, 5351),)),
    ("Helmond", 94, ((5701, 5709),)),
    ("Purmerend", 93, ((1441, 1448),)),
    ("Hilversum", 92, ((1211, 1223),)),
    ("Sittard-Geleen", 92, ((6131, 6137), (6160, 6167))),
    ("Súdwest-Fryslân", 91, ((8601, 8608), (8701, 8702), (8711, 8711))),
    ("Heerlen", 87, ((6411, 6422),)),
    ("Hengelo", 82, ((7551, 7559),)),
    ("Lelystad", 82, ((8211, 8245),)),
    ("Schiedam", 80, ((3111, 3125),)),
    ("Roosendaal", 78, ((4701, 4709),)),
    ("Gouda", 75, ((2801, 2809),)),
    ("Vlaardingen", 75, ((3131, 3138),)),
    ("Assen", 69, ((9401, 9409),)),
    ("Capelle aan den IJssel", 67, ((2901, 2909),)),
    ("Katwijk", 67, ((2221, 2225),)),
    ("Den Helder", 57, ((1781, 1789),)),
    ("De Fryske Marren", 52, ((8501, 8539),)),
    ("Noardeast-Fryslân", 45, ((9101, 9109), (9135, 9137))),
    ("Tytsjerksteradiel", 32, ((9251, 9264),)),
    ("Gemert-Bakel", 31, ((5421, 5427),)),
    ("Bergen (NH.)", 30, ((1861, 1873),)),
    ("Nuenen, Gerwen en Nederwetten", 23, ((5671, 5674),)),
    ("Bergen (L.)", 13, ((5854, 5856),)),
    ("Terschelling", 5, ((8881, 8897),)),
    ("Schiermonnikoog", 1, ((9166, 9166),)),
)

# Median length (cm) and weight (kg) at the ages 0.5, 1.5, .., 19.5 (roughly the Dutch
# growth curves). Length varies by 4% (sd), weight by a log-normal BMI factor (sd 0.12).
GROWTH: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "M": (
        (68.5, 84, 94.5, 102.5, 110, 117, 124, 130.5, 136.5, 142, 147.5, 153, 159.5, 166.5,
         173.5, 178.5, 181.5, 183, 183.5, 184),
        (8.0, 11.8, 14.2, 16.4, 18.6, 21.0, 23.6, 26.4, 29.5, 32.8, 36.5, 40.7, 45.6, 51.5,
         57.5, 62.5, 66.3, 69.2, 71.3, 72.8),
    ),
    "V": (
        (66.5, 82.5, 93.5, 101.5, 109, 116, 123, 129.5, 135.5, 141, 147, 153.5, 160, 165,
         168, 169.5, 170, 170.5, 170.5, 170.5),
        (7.5, 11.2, 13.7, 15.9, 18.1, 20.6, 23.2, 26.0, 29.2, 32.7, 36.6, 41.2, 46.1, 50.9,
         54.6, 57.0, 58.6, 59.7, 60.4, 60.9),
    ),
}
# fmt: on

SEX_SHARES = {"V": 0.4975, "M": 0.4975, "X": 0.005}
SECOND_NAME_SHARE = 0.25  # persons with a second first name
POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"  # F, I, O, Q, U and Y do not occur
MAIL_DOMAINS = ("example.nl", "example.com", "mail.example.org", "voorbeeld.example")
NULL_EMAIL_SHARE = 0.25

# --- lookup tables -----------------------------------------------------------------------
# A random column is one 12-bit number per row that indexes a table of 4096 slots, in which
# each value fills about its share of the slots (the birth date takes 16 bits). Tables this
# small stay in the processor's cache, which matters more than anything else here.

_SLOTS = 1 << 12


def _spread(weights: Sequence[float]) -> list[int]:
    """A table of ``_SLOTS`` indexes into ``weights``, each filling its share of the slots
    (values with less than half a slot's worth of weight may not occur at all)."""
    total = math.fsum(weights)
    table: list[int] = []
    cumulative = 0.0
    for i, w in enumerate(weights):
        cumulative += w
        table.extend([i] * (round(cumulative / total * _SLOTS) - len(table)))
    return table


def _zipf(n: int) -> list[float]:
    return [1 / (rank + 8) for rank in range(n)]


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-mixed 64-bit hash of ``x``."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _ascii_slug(name: str) -> str:
    """``"van der Meer"`` -> ``"vandermeer"``, ``"Ruiz-Peña"`` -> ``"ruiz-pena"``."""
    plain = unicodedata.normalize("NFKD", name.replace("ı", "i"))
    return "".join(c for c in plain if c.isascii() and (c.isalnum() or c == "-")).lower()


def _encoded(table: Sequence[Any], encode: Callable[[Any], str]) -> list[str]:
    """``table`` with each value encoded (once per distinct value)."""
    of = {value: encode(value) for value in dict.fromkeys(table)}
    return [of[value] for value in table]


# Offsets into the growth tables: 64 slots per sex, 3 sexes per age.
_SEX_BLOCK = {"M": 0, "V": 64, "X": 128}
_AGE_BLOCK = 3 * 64


def _name_tables() -> tuple[list[str], list[str], list[int]]:
    """Parallel tables: first name(s), sex, and the sex's offset in the growth tables. A
    second first name comes from the same list (for X: from any list)."""
    items: list[tuple[str, str]] = []
    weights: list[float] = []
    for sex, names in FIRST_NAMES.items():
        own = _zipf(len(names))
        share = SEX_SHARES[sex] / math.fsum(own)
        seconds = [
            (name, w)
            for other_sex, other_names in FIRST_NAMES.items()
            if sex in ("X", other_sex)
            for name, w in zip(other_names, _zipf(len(other_names)), strict=True)
        ]
        seconds_total = math.fsum(w for _, w in seconds)
        for name, w in zip(names, own, strict=True):
            items.append((sex, name))
            weights.append(share * w * (1 - SECOND_NAME_SHARE))
            for second, w2 in seconds:
                if second != name:
                    items.append((sex, f"{name} {second}"))
                    weights.append(share * w * SECOND_NAME_SHARE * w2 / seconds_total)
    picks = [items[i] for i in _spread(weights)]
    return [n for _, n in picks], [s for s, _ in picks], [_SEX_BLOCK[s] for s, _ in picks]


def _place_tables() -> tuple[list[str], list[str]]:
    """Parallel tables: municipality, and a PC4 in it followed by a space."""
    items: list[tuple[str, str]] = []
    weights: list[float] = []
    for name, inhabitants, ranges in MUNICIPALITIES:
        pc4s = [pc4 for low, high in ranges for pc4 in range(low, high + 1)]
        items += [(name, f"{pc4} ") for pc4 in pc4s]
        weights += [inhabitants / len(pc4s)] * len(pc4s)
    picks = [items[i] for i in _spread(weights)]
    return [name for name, _ in picks], [pc4 for _, pc4 in picks]


def _letters_table() -> list[str]:
    pairs = [a + b for a in POSTCODE_LETTERS for b in POSTCODE_LETTERS]
    pairs = [p for p in pairs if p not in ("SA", "SD", "SS")]
    return [pairs[i] for i in _spread([1.0] * len(pairs))]


def _date_tables() -> tuple[list[str], list[int]]:
    """Birth dates in ISO form, and the offset of each one's age in the growth tables (age
    on 2026-01-01 in whole years: 0 for the last birth year, 19 for the first)."""
    first = dt.date(BIRTH_YEARS[0], 1, 1).toordinal()
    last = dt.date(BIRTH_YEARS[-1], 12, 31).toordinal()
    days = [dt.date.fromordinal(d) for d in range(first, last + 1)]
    return [d.isoformat() for d in days], [(BIRTH_YEARS[-1] - d.year) * _AGE_BLOCK for d in days]


def _mail_tables() -> tuple[list[str], list[str]]:
    """Parallel tables: what precedes the surname in the address (``""``: no address), and
    what follows it."""
    initials = "abcdefghijklmnoprstvwy"
    prefixes: list[str] = []
    tails: list[str] = []
    for slot in range(_SLOTS):
        if slot < NULL_EMAIL_SHARE * _SLOTS:
            prefixes.append("")
            tails.append("")
            continue
        h = _mix(slot)  # scrambled, so that the parts vary independently
        initial = initials[(h >> 8) % len(initials)]
        prefixes.append(("ouders.", "fam.", f"{initial}.", initial)[h % 4])
        number = f"{(h >> 16) % 100:02d}" if (h >> 24) % 4 == 0 else ""
        tails.append(f"{number}@{MAIL_DOMAINS[(h >> 32) % len(MAIL_DOMAINS)]}")
    return prefixes, tails


def _growth_tables() -> tuple[list[float | None], list[float | None]]:
    """Length and weight tables: 64 slots per sex (M, V, X) per age, one decimal.

    Length slot ``s``: empty when ``s % 16 == 0``, else a quantile of the length
    distribution, increasing with ``s``. Weight slot ``8 * j + b``: empty when ``b == 0``,
    else BMI quantile ``b`` times the squared length at the middle of length bucket ``j``
    (length slots ``8 * j`` .. ``8 * j + 7``), so that weight follows length.
    """
    norm = statistics.NormalDist()
    full = [s for s in range(64) if s % 16]
    z_length = {s: norm.inv_cdf((k + 0.5) / len(full)) for k, s in enumerate(full)}
    z_bucket = [norm.inv_cdf((j + 0.5) / 8) for j in range(8)]
    z_bmi = [norm.inv_cdf((k + 0.5) / 7) for k in range(7)]
    lengths: list[float | None] = []
    weights: list[float | None] = []
    for age in range(len(BIRTH_YEARS)):
        medians = {}
        for sex in ("M", "V"):
            length, weight = GROWTH[sex][0][age], GROWTH[sex][1][age]
            medians[sex] = (length, weight / (length / 100) ** 2)
        medians["X"] = (
            (medians["M"][0] + medians["V"][0]) / 2,
            (medians["M"][1] + medians["V"][1]) / 2,
        )
        for sex in ("M", "V", "X"):
            length, bmi = medians[sex]
            for s in range(64):
                z = z_length.get(s)
                lengths.append(None if z is None else round(length * (1 + 0.04 * z), 1))
            for s in range(64):
                bucket, b = divmod(s, 8)
                if b == 0:
                    weights.append(None)
                    continue
                metres = length * (1 + 0.04 * z_bucket[bucket]) / 100
                weights.append(round(bmi * math.exp(0.12 * z_bmi[b - 1]) * metres**2, 1))
    return lengths, weights


_NAME, _SEX, _SEX_OFFSET = _name_tables()
_SURNAME = [SURNAMES[i] for i in _spread(_zipf(len(SURNAMES)))]
_SLUG = [_ascii_slug(s) for s in _SURNAME]
_GEMEENTE, _PC4 = _place_tables()
_LETTERS = _letters_table()
_DATE, _AGE_OFFSET = _date_tables()
_HOUSE_NUMBER = [n + 1 for n in _spread([(n + 10) ** -1.5 for n in range(1, 1000)])]
_MAIL_PREFIX, _MAIL_TAIL = _mail_tables()
_LENGTH, _WEIGHT = _growth_tables()
# A 12-bit body number k: length slot k >> 6, weight slot (length bucket, BMI quantile).
_LENGTH_SLOT = [k >> 6 for k in range(_SLOTS)]
_WEIGHT_SLOT = [(k >> 9) * 8 + (k & 7) for k in range(_SLOTS)]

# --- BSNs --------------------------------------------------------------------------------
# The first eight digits of the i-th BSN are the i-th number of a permutation of 0 .. 10^8-1:
# a Feistel network of four rounds on its two halves of four digits, with round functions
# drawn from the seed. The ninth digit is the check digit that makes the 11-proef hold.
_HALF = 10**4  # a half: four digits
_ROUNDS = 4
_DIGITS4 = [f"{n:04d}" for n in range(_HALF)]
# Weighted digit sums (weights 9..2) of the first four and of the second four digits.
_SUM_HEAD = [sum(int(c) * w for c, w in zip(d, (9, 8, 7, 6), strict=True)) for d in _DIGITS4]
_SUM_TAIL = [sum(int(c) * w for c, w in zip(d, (5, 4, 3, 2), strict=True)) for d in _DIGITS4]
# The check digit d (weight -1) makes sum - d divisible by 11: d = sum mod 11, and there is
# none when that is 10. Only 00000000 has the sum 0 (the weights are positive): skipped too.
_CHECK_DIGIT: list[str | None] = [
    str(s % 11) if s % 11 < 10 and s else None for s in range(_SUM_HEAD[-1] + _SUM_TAIL[-1] + 1)
]
MAX_ROWS = 90_000_000
"""More rows than this would run out of unique BSNs (there are about 90.9 million)."""


def _bsns(rng: random.Random) -> Iterator[str]:
    """Unique valid BSNs, in the order of a permutation drawn from ``rng``."""
    raw = rng.getrandbits(16 * _HALF * _ROUNDS).to_bytes(2 * _HALF * _ROUNDS, "little")
    numbers = array("H", raw)
    if sys.byteorder == "big":
        numbers.byteswap()
    rounds = [[u % _HALF for u in numbers[r * _HALF : (r + 1) * _HALF]] for r in range(_ROUNDS)]
    return itertools.chain.from_iterable(map(_bsn_chunk, range(_HALF), itertools.repeat(rounds)))


def _bsn_chunk(high: int, rounds: list[list[int]]) -> Iterator[str]:
    """The BSNs of i = high * 10^4 .. high * 10^4 + 9999 (skipping those without one)."""
    mod, add, repeat = operator.mod, operator.add, itertools.repeat
    left: Iterable[int] = repeat(high, _HALF)
    right: list[int] = list(range(_HALF))
    for f in rounds:  # (L, R) -> (R, L + F(R) mod 10^4): each round a bijection
        left, right = (
            right,
            list(map(mod, map(add, left, map(f.__getitem__, right)), repeat(_HALF))),
        )
    heads, tails = list(left), right
    sums = map(add, map(_SUM_HEAD.__getitem__, heads), map(_SUM_TAIL.__getitem__, tails))
    checks = list(map(_CHECK_DIGIT.__getitem__, sums))
    keep = list(map(operator.is_not, checks, repeat(None)))
    return map(
        add,
        map(
            add,
            map(_DIGITS4.__getitem__, itertools.compress(heads, keep)),
            map(_DIGITS4.__getitem__, itertools.compress(tails, keep)),
        ),
        itertools.compress(checks, keep),
    )


# --- invalid cells -----------------------------------------------------------------------


class Planted(NamedTuple):
    """One planted invalid cell: 1-based row, field, and kind (see :data:`INVALID_KINDS`)."""

    row: int
    field: str
    kind: str


def _check_arguments(rows: int, invalid_rate: float, invalid_rows: Iterable[int]) -> list[int]:
    if not 0 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be between 0 and {MAX_ROWS:_}")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("the invalid rate must be between 0 and 1")
    listed = sorted(set(invalid_rows))
    if listed and (listed[0] < 1 or listed[-1] > rows):
        raise ValueError(f"invalid rows must be between 1 and the number of rows ({rows})")
    return listed


def _rate_rows(rows: int, seed: int, rate: float) -> Iterator[int]:
    """Each row with probability ``rate``, by geometrically distributed gaps."""
    if rate <= 0.0:
        return
    if rate >= 1.0:
        yield from range(1, rows + 1)
        return
    rng = random.Random(f"examples/generate.py invalid rate {seed}")
    log_skip = math.log1p(-rate)
    row = 0
    while True:
        skipped = math.log(1.0 - rng.random()) / log_skip  # rows until the next one chosen
        if row + skipped >= rows:
            return
        row += 1 + int(skipped)
        yield row


def _planted(rows: int, seed: int, invalid_rate: float, listed: list[int]) -> Iterator[Planted]:
    rank = {row: i for i, row in enumerate(listed)}
    merged = heapq.merge(listed, _rate_rows(rows, seed, invalid_rate))
    for row, _ in itertools.groupby(merged):  # each chosen row once
        h = _mix(_mix(seed) ^ row)
        i = rank.get(row)
        kind = INVALID_KINDS[(h if i is None else i) % len(INVALID_KINDS)]
        field = FIELD_OF_KIND.get(kind) or REQUIRED[(h >> 16) % len(REQUIRED)]
        yield Planted(row, field, kind)


def iter_planted(
    rows: int, seed: int = 42, invalid_rate: float = 0.0, invalid_rows: Iterable[int] = ()
) -> Iterator[Planted]:
    """The invalid cells that :func:`iter_records` plants with these arguments, in row order
    (computed without generating the data)."""
    listed = _check_arguments(rows, invalid_rate, invalid_rows)
    return _planted(rows, seed, invalid_rate, listed)


def _plant(row: Row, planted: Planted) -> Row:
    """``row`` with the invalid cell ``planted`` in it."""
    cells = list(row)
    i = COLUMNS.index(planted.field)
    match planted.kind:
        case "bsn":  # another last digit changes the 11-proef sum by 1 to 9: not 0 mod 11
            cells[i] = cells[i][:8] + str((int(cells[i][8]) + 1) % 10)
        case "postcode":
            cells[i] = "0123 AB"  # a postcode never starts with 0
        case "date":
            cells[i] = cells[i][:4] + "-02-30"
        case "geslacht":
            cells[i] = "Q"
        case "huisnummer":
            cells[i] = "abc"
        case "email":
            cells[i] = "ouders.zonder.apenstaartje.example.nl"
        case _:
            cells[i] = None
    return tuple(cells)


# --- text renderings ----------------------------------------------------------------------
# CSV lines and JSON objects are assembled from cells encoded once per table value, with the
# csv and json modules; rows with a planted cell go through those modules as they are. The
# tests hold both paths to the same output.


def _csv_line(row: Sequence[Any]) -> str:
    """``row`` as :func:`csv.writer` writes it (``None``: an empty cell)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


def _csv_value(value: Any) -> str:
    return _csv_line([value, ""])[:-2]  # as a cell among others


_json_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json_object(row: Row) -> str:
    """``row`` as a JSON object; an empty required field is left out (it is missing)."""
    obj = dict(zip(COLUMNS, row, strict=True))
    if None in row[: len(REQUIRED)]:
        for name in REQUIRED:
            if obj[name] is None:
                del obj[name]
    return _json_encode(obj)


# Columns written without encoding: strings that never need quoting or escaping.
_RAW = ("bsn", "geboortedatum", "geslacht", "postcode")
_RAW_VALUES = [*_DATE, *_SEX, *_PC4, *_LETTERS, *_SLUG, *_MAIL_PREFIX, *_MAIL_TAIL]
assert _encoded(_RAW_VALUES, _csv_value) == _RAW_VALUES
assert _encoded(_RAW_VALUES, _json_encode) == [f'"{v}"' for v in _RAW_VALUES]


class _Text(NamedTuple):
    """How a text format writes a row: the tables of encoded cells and the text around
    and between them (12 pieces for 11 cells)."""

    around: tuple[str, ...]
    name: list[str]
    surname: list[str]
    house: list[str]
    gemeente: list[str]
    mail_prefix: list[str]
    mail_tail: list[str]
    no_mail: str
    length: list[str]
    weight: list[str]
    row: Callable[[Row], str]  # the slow way, for any row


def _text(
    encode: Callable[[Any], str], row: Callable[[Row], str], around: Sequence[str], quote: str
) -> _Text:
    """A :class:`_Text` from the encoder of one value, the writer of a row, the text around
    the cells and the quote around a string that needs no escaping."""
    return _Text(
        tuple(around),
        _encoded(_NAME, encode),
        _encoded(_SURNAME, encode),
        _encoded(_HOUSE_NUMBER, encode),
        _encoded(_GEMEENTE, encode),  # CSV: "Nuenen, Gerwen en Nederwetten" is quoted
        [p and quote + p for p in _MAIL_PREFIX],
        [t and t + quote for t in _MAIL_TAIL],
        encode(None),
        _encoded(_LENGTH, encode),
        _encoded(_WEIGHT, encode),
        row,
    )


def _json_around() -> list[str]:
    """``{"bsn": "``, ``", "voornamen": ``, .., ``}``: keys, and quotes for raw cells."""
    around = []
    for i, column in enumerate(COLUMNS):
        before = ('"' if i and COLUMNS[i - 1] in _RAW else "") + (", " if i else "{")
        around.append(before + _json_encode(column) + ": " + ('"' if column in _RAW else ""))
    return [*around, ('"' if COLUMNS[-1] in _RAW else "") + "}"]


_CSV = _text(_csv_value, _csv_line, ["", *[","] * (len(COLUMNS) - 1), "\n"], "")
_JSON = _text(_json_encode, _json_object, _json_around(), '"')


# --- records -----------------------------------------------------------------------------
_BATCH = 2048
_LOW_NIBBLE = bytes(b & 0x0F for b in range(256))


class _Batch(NamedTuple):
    """A batch of rows as their random numbers (one list per column), the number of its
    first row, and the invalid cells to plant in it."""

    first_row: int
    bsn: list[str]
    name: list[int]
    surname: list[int]
    place: list[int]
    letters: list[int]
    house: list[int]
    mail: list[int]
    body: list[int]
    date: list[int]
    planted: list[Planted]

    def _keys(self) -> Iterator[tuple[Any, ...]]:
        """Per row: the random numbers, and the row's block in the growth tables."""
        growth = map(
            operator.add,
            map(_AGE_OFFSET.__getitem__, self.date),
            map(_SEX_OFFSET.__getitem__, self.name),
        )
        return zip(*self[1:-1], growth, strict=True)

    def tuples(self) -> list[Row]:
        rows = [
            (
                bsn,
                _NAME[n],
                _SURNAME[s],
                _DATE[d],
                _SEX[n],
                _PC4[p] + _LETTERS[le],
                _HOUSE_NUMBER[h],
                _GEMEENTE[p],
                _MAIL_PREFIX[m] + _SLUG[s] + _MAIL_TAIL[m] if _MAIL_PREFIX[m] else None,
                _LENGTH[g + _LENGTH_SLOT[k]],
                _WEIGHT[g + _WEIGHT_SLOT[k]],
            )
            for bsn, n, s, p, le, h, m, k, d, g in self._keys()
        ]
        for planted in self.planted:
            i = planted.row - self.first_row
            rows[i] = _plant(rows[i], planted)
        return rows

    def text(self, text: _Text) -> list[str]:
        """The rows of :meth:`tuples` as ``text.row`` writes them, only faster."""
        a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11 = text.around
        name, surname, house, gemeente = text.name, text.surname, text.house, text.gemeente
        mail_prefix, mail_tail, no_mail = text.mail_prefix, text.mail_tail, text.no_mail
        length, weight = text.length, text.weight
        lines = [
            f"{a0}{bsn}{a1}{name[n]}{a2}{surname[s]}{a3}{_DATE[d]}{a4}{_SEX[n]}"
            f"{a5}{_PC4[p]}{_LETTERS[le]}{a6}{house[h]}{a7}{gemeente[p]}"
            f"{a8}{mail_prefix[m] + _SLUG[s] + mail_tail[m] if mail_prefix[m] else no_mail}"
            f"{a9}{length[g + _LENGTH_SLOT[k]]}{a10}{weight[g + _WEIGHT_SLOT[k]]}{a11}"
            for bsn, n, s, p, le, h, m, k, d, g in self._keys()
        ]
        for planted in self.planted:
            i = planted.row - self.first_row
            lines[i] = text.row(self._one(i).tuples()[0])
        return lines

    def _one(self, i: int) -> _Batch:
        """Row ``i`` of this batch alone, with what is planted in it."""
        row = self.first_row + i
        columns = [[column[i]] for column in self[1:-1]]
        return _Batch._make([row, *columns, [p for p in self.planted if p.row == row]])


def _random_columns(rng: random.Random, n: int) -> list[list[int]]:
    """Seven columns of ``n`` random 12-bit numbers and one of 16-bit numbers (the last),
    the same on every platform."""
    columns = 8
    raw = bytearray(rng.getrandbits(16 * n * columns).to_bytes(2 * n * columns, "little"))
    twelve = 2 * n * (columns - 1)
    raw[1:twelve:2] = raw[1:twelve:2].translate(_LOW_NIBBLE)  # the high byte of each number
    numbers = array("H", raw)
    if sys.byteorder == "big":
        numbers.byteswap()
    values = numbers.tolist()
    return [values[c * n : (c + 1) * n] for c in range(columns)]


def _places(gemeente: str | None) -> list[int] | None:
    """The place slots of one municipality (``None``: the whole country)."""
    if gemeente is None:
        return None
    slots = [p for p, name in enumerate(_GEMEENTE) if name == gemeente]
    if not slots:
        raise ValueError(f"unknown municipality (or too small to have a place): {gemeente}")
    return slots


def _batches(
    rows: int, seed: int, plants: Iterator[Planted], gemeente: str | None = None
) -> Iterator[_Batch]:
    rng = random.Random(seed)
    places = _places(gemeente)
    bsns = _bsns(rng)
    plant = next(plants, None)
    for first in range(1, rows + 1, _BATCH):
        n = min(_BATCH, rows + 1 - first)
        # Numbers for a whole batch even when fewer rows are left, so that a row does not
        # depend on how many rows there are.
        columns = [column[:n] for column in _random_columns(rng, _BATCH)]
        name, surname, place, letters, house, mail, body, date16 = columns
        if places is not None:  # one municipality's export: its own postcodes only
            place = [places[p % len(places)] for p in place]
        date = [(u * len(_DATE)) >> 16 for u in date16]  # an even spread over the days
        bsn = list(itertools.islice(bsns, n))
        if len(bsn) < n:
            raise ValueError("this seed has run out of unique BSNs")
        planted = []
        while plant is not None and plant.row < first + n:
            planted.append(plant)
            plant = next(plants, None)
        yield _Batch(first, bsn, name, surname, place, letters, house, mail, body, date, planted)


class Records:
    """The records of :func:`iter_records`. Iterate for dicts (or use :meth:`tuples`);
    ``planted`` lists the invalid cells planted so far (all once the records are used up)."""

    def __init__(
        self,
        rows: int,
        seed: int = 42,
        invalid_rate: float = 0.0,
        invalid_rows: Iterable[int] = (),
        gemeente: str | None = None,
    ) -> None:
        listed = _check_arguments(rows, invalid_rate, invalid_rows)
        _places(gemeente)  # fails early for an unknown municipality
        self.rows = rows
        self.seed = seed
        self.planted: list[Planted] = []
        plants = _planted(rows, seed, invalid_rate, listed)
        self._batches = map(self._note, _batches(rows, seed, plants, gemeente))
        self._tuples = itertools.chain.from_iterable(map(_Batch.tuples, self._batches))
        self._started = False

    def _note(self, batch: _Batch) -> _Batch:
        self.planted += batch.planted
        return batch

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(dict, map(zip, itertools.repeat(COLUMNS), self.tuples()))

    def tuples(self) -> Iterator[Row]:
        """The remaining records as tuples in :data:`COLUMNS` order."""
        self._started = True
        return self._tuples

    def _lines(self, text: _Text) -> Iterator[str]:
        """The remaining records written by ``text`` (fast while no record has been taken)."""
        if self._started:
            return map(text.row, self._tuples)
        self._started = True
        return itertools.chain.from_iterable(
            map(operator.methodcaller("text", text), self._batches)
        )


def iter_records(
    rows: int,
    seed: int = 42,
    invalid_rate: float = 0.0,
    invalid_rows: Iterable[int] = (),
    gemeente: str | None = None,
) -> Records:
    """``rows`` synthetic persons of ``seed``, with invalid cells planted as asked; with
    ``gemeente``, all living in that municipality (one municipality's export)."""
    return Records(
        rows, seed=seed, invalid_rate=invalid_rate, invalid_rows=invalid_rows, gemeente=gemeente
    )


# --- writers -----------------------------------------------------------------------------


def _lines(records: Iterable[Mapping[str, Any]], text: _Text) -> Iterator[str]:
    if isinstance(records, Records):
        return records._lines(text)
    return (text.row(tuple(r.get(c) for c in COLUMNS)) for r in records)


def _write_chunked(fp: IO[str], lines: Iterable[str]) -> None:
    """Write many short strings in few ``fp.write`` calls."""
    it = iter(lines)
    while chunk := "".join(itertools.islice(it, _BATCH)):
        fp.write(chunk)


def write_csv(records: Iterable[Mapping[str, Any]], fp: IO[str]) -> None:
    """A header and a row per record: comma, LF, minimal quoting, ``None`` an empty cell.

    Open ``fp`` with ``encoding="utf-8", newline=""``.
    """
    fp.write(_csv_line(COLUMNS))
    _write_chunked(fp, _lines(records, _CSV))


def write_jsonl(records: Iterable[Mapping[str, Any]], fp: IO[str]) -> None:
    """One JSON object per line (UTF-8 as is; ``null`` for an empty optional field)."""
    _write_chunked(fp, map(operator.add, _lines(records, _JSON), itertools.repeat("\n")))


def write_json(records: Iterable[Mapping[str, Any]], fp: IO[str]) -> None:
    """A JSON array of the objects of :func:`write_jsonl`, one per line, streamed."""
    objects = _lines(records, _JSON)
    first = next(objects, None)
    if first is None:
        fp.write("[]\n")
        return
    fp.write("[\n" + first)
    _write_chunked(fp, map(operator.add, itertools.repeat(",\n"), objects))
    fp.write("\n]\n")


WRITERS: Mapping[str, Callable[[Iterable[Mapping[str, Any]], IO[str]], None]] = {
    "csv": write_csv,
    "jsonl": write_jsonl,
    "json": write_json,
}


# --- command line ------------------------------------------------------------------------


def _row_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected row numbers separated by commas") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Synthetic Dutch persons for examples/contract.yaml (see the docstring).",
    )
    parser.add_argument("--rows", type=int, required=True, help="number of records")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--format", choices=tuple(WRITERS), default="csv")
    parser.add_argument(
        "--invalid-rate", type=float, default=0.0, help="fraction of rows with an invalid cell"
    )
    parser.add_argument(
        "--invalid-rows", type=_row_list, default=[], help="rows with an invalid cell: 3,17"
    )
    parser.add_argument(
        "--gemeente",
        default=None,
        help="everyone lives in this municipality, e.g. Gouda (one municipality's export; "
        "default: the whole country)",
    )
    parser.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        records = iter_records(
            args.rows, args.seed, args.invalid_rate, args.invalid_rows, gemeente=args.gemeente
        )
    except ValueError as exc:
        parser.error(str(exc))
    write = WRITERS[args.format]
    if args.output != "-":
        with open(args.output, "w", encoding="utf-8", newline="") as fp:
            write(records, fp)
        return 0
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a replaced sys.stdout
        write(records, sys.stdout)
        return 0
    sys.stdout.flush()
    out = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        write(records, out)
        out.flush()
    except BrokenPipeError:  # piped into head, say: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        out.detach()
    return 0


if __name__ == "__main__":
    sys.exit(main())
