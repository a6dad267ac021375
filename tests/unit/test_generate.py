"""The synthetic-data generator, examples/generate.py (demo, tests, benchmarks)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from stdnum.nl import postcode as stdnum_postcode

from ketenx.contract.model import load_contract
from ketenx.records.check import Checker
from ketenx.records.formats import FORMATS, is_bsn
from ketenx.records.readers import InputFormat
from tests.helpers import load_generator

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "examples" / "contract.yaml"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return load_generator()


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(load_contract(CONTRACT).schema)


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return Draft202012Validator(schema, format_checker=checker)


def written(gen: ModuleType, fmt: str, records: Any) -> str:
    buffer = io.StringIO()
    gen.WRITERS[fmt](records, buffer)
    return buffer.getvalue()


def errors_by_cell(
    validator: Draft202012Validator, objects: list[dict[str, Any]]
) -> Counter[tuple[int, str]]:
    """(1-based row, field) of every schema error; a missing required field
    counts as an error in that field."""
    found: Counter[tuple[int, str]] = Counter()
    for row, obj in enumerate(objects, 1):
        for error in validator.iter_errors(obj):
            if error.validator == "required":
                fields = [f for f in error.validator_value if f not in obj]
            else:
                fields = [str(error.path[0])]
            found.update((row, f) for f in fields)
    return found


def test_columns_are_the_contract_properties(gen: ModuleType, schema: dict[str, Any]) -> None:
    assert list(gen.COLUMNS) == list(schema["properties"])
    assert set(gen.REQUIRED) == set(schema["required"])


def test_same_seed_same_bytes_other_seed_other_data(gen: ModuleType) -> None:
    for fmt in ("csv", "jsonl", "json"):
        one = written(gen, fmt, gen.iter_records(3000, seed=1, invalid_rate=0.01))
        assert one == written(gen, fmt, gen.iter_records(3000, seed=1, invalid_rate=0.01))
        assert one != written(gen, fmt, gen.iter_records(3000, seed=2, invalid_rate=0.01))
    # A row does not depend on how many rows there are.
    short = written(gen, "csv", gen.iter_records(100, seed=1))
    assert written(gen, "csv", gen.iter_records(5000, seed=1)).startswith(short)


def test_bsns_unique_valid_and_some_with_leading_zero(gen: ModuleType) -> None:
    bsns = [r[0] for r in gen.iter_records(50_000, seed=3).tuples()]
    assert len(set(bsns)) == len(bsns)
    assert all(map(is_bsn, bsns))
    assert 0.08 < sum(b.startswith("0") for b in bsns) / len(bsns) < 0.12
    # Well scrambled: no step between consecutive BSNs repeats often.
    steps = Counter(int(b) - int(a) for a, b in itertools.pairwise(bsns))
    assert steps.most_common(1)[0][1] < 5


def test_clean_records_validate_against_the_contract(
    gen: ModuleType, validator: Draft202012Validator
) -> None:
    records = list(gen.iter_records(3000, seed=4))
    assert all(list(r) == list(gen.COLUMNS) for r in records)
    assert not errors_by_cell(validator, records)
    lines = written(gen, "jsonl", gen.iter_records(3000, seed=4)).splitlines()
    assert [json.loads(line) for line in lines] == records


def test_values_look_like_young_dutch_persons(gen: ModuleType) -> None:
    records = list(gen.iter_records(20_000, seed=5))
    first_names = {n for r in records for n in r["voornamen"].split()}
    surnames = {r["achternaam"] for r in records}
    assert {"Zoë", "Bülent", "Chloë"} <= first_names
    assert {"van der Meer", "Çelik", "Ruiz-Peña", "Nguyễn"} <= surnames
    diacritics = sum(not (r["voornamen"] + r["achternaam"]).isascii() for r in records)
    assert diacritics > 0.1 * len(records)
    assert {"'s-Hertogenbosch", "Súdwest-Fryslân", "Nuenen, Gerwen en Nederwetten"} <= {
        r["gemeente"] for r in records
    }
    assert {r["geslacht"] for r in records} == {"M", "V", "X"}
    assert min(r["geboortedatum"] for r in records) >= "2006-01-01"
    assert max(r["geboortedatum"] for r in records) <= "2025-12-31"
    assert len({r["geboortedatum"] for r in records}) > 6000
    postcodes = {r["postcode"] for r in records}
    assert all(re.fullmatch(r"[1-9][0-9]{3} [A-Z]{2}", p) for p in postcodes)
    assert all(stdnum_postcode.is_valid(p) for p in postcodes)
    assert all(type(r["huisnummer"]) is int and 1 <= r["huisnummer"] <= 999 for r in records)
    for field, low, high in (("lengte_cm", 45, 215), ("gewicht_kg", 2, 130)):
        values = [r[field] for r in records if r[field] is not None]
        assert 0.8 < len(values) / len(records) < 0.97  # empty sometimes
        assert all(type(v) is float and low < v < high and round(v, 1) == v for v in values)
    emails = [r["email_ouder"] for r in records if r["email_ouder"] is not None]
    assert 0.6 < len(emails) / len(records) < 0.9
    assert all(re.fullmatch(r"[a-z0-9.-]+@[a-z.]+\.[a-z]+", e) for e in emails)
    # Babies are smaller than teenagers; a municipality's postcodes are its own.
    babies = [r["lengte_cm"] for r in records if r["geboortedatum"] >= "2025" and r["lengte_cm"]]
    teens = [r["lengte_cm"] for r in records if r["geboortedatum"] < "2008" and r["lengte_cm"]]
    assert max(babies) < min(teens)
    assert {r["postcode"][:2] for r in records if r["gemeente"] == "Amsterdam"} == {"10", "11"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_fast_writers_write_what_csv_and_json_modules_write(gen: ModuleType, fmt: str) -> None:
    records = gen.iter_records(5000, seed=6, invalid_rate=0.02, invalid_rows=[1, 5000])
    fast = written(gen, fmt, records)
    rows = list(gen.iter_records(5000, seed=6, invalid_rate=0.02, invalid_rows=[1, 5000]))
    assert fast == written(gen, fmt, rows)  # the generic path, from dicts
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(gen.COLUMNS)
        writer.writerows([r[c] for c in gen.COLUMNS] for r in rows)
        assert fast == buffer.getvalue()
    else:
        objects = [
            {k: v for k, v in r.items() if v is not None or k not in gen.REQUIRED} for r in rows
        ]
        lines = [json.dumps(o, ensure_ascii=False) for o in objects]
        if fmt == "jsonl":
            assert fast == "".join(f"{line}\n" for line in lines)
        else:
            assert fast == "[\n" + ",\n".join(lines) + "\n]\n"


def test_planted_cells_are_exactly_the_invalid_ones(
    gen: ModuleType, validator: Draft202012Validator
) -> None:
    records = gen.iter_records(5000, seed=7, invalid_rate=0.03, invalid_rows=[1, 17, 5000])
    objects = [json.loads(line) for line in written(gen, "jsonl", records).splitlines()]
    planted = records.planted
    assert {1, 17, 5000} <= {p.row for p in planted}
    assert 100 < len(planted) < 200
    assert {p.kind for p in planted} == set(gen.INVALID_KINDS)
    assert errors_by_cell(validator, objects) == Counter((p.row, p.field) for p in planted)
    assert planted == list(gen.iter_planted(5000, 7, 0.03, [1, 17, 5000]))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_ketenx_check_finds_the_planted_cells(
    gen: ModuleType, schema: dict[str, Any], fmt: InputFormat
) -> None:
    records = gen.iter_records(3000, seed=8, invalid_rate=0.02, invalid_rows=[3, 17, 256])
    data = written(gen, fmt, records).encode()
    checker = Checker.for_schema(schema, max_errors=10_000)
    report = checker.check(io.BytesIO(data), fmt)
    assert report.records == 3000
    assert {(v.record, v.field) for v in report.errors} == {
        (p.row, "/" + p.field) for p in records.planted
    }


def test_damaged_data_is_the_clean_data_with_planted_cells(gen: ModuleType) -> None:
    clean = list(gen.iter_records(2000, seed=9))
    damaged = gen.iter_records(2000, seed=9, invalid_rate=0.05, invalid_rows=[2])
    changed = {
        row: [c for c in gen.COLUMNS if a[c] != b[c]]
        for row, (a, b) in enumerate(zip(clean, damaged, strict=True), 1)
        if a != b
    }
    assert changed == {p.row: [p.field] for p in damaged.planted}
    # Listed rows take the kinds in turn; the kind of another row follows from seed and row.
    listed = list(gen.iter_planted(2000, 9, invalid_rows=[7, 6, 5, 4, 3, 2, 1]))
    assert [p.kind for p in listed] == list(gen.INVALID_KINDS)
    assert [p.row for p in listed] == [1, 2, 3, 4, 5, 6, 7]
    by_rate = {p.row: p for p in gen.iter_planted(2000, 9, invalid_rate=1.0)}
    assert len(by_rate) == 2000
    assert all(by_rate[p.row] == p for p in damaged.planted if p.row != 2)


def test_csv_round_trips_with_leading_zeros(gen: ModuleType) -> None:
    records = list(gen.iter_records(3000, seed=10))
    text = written(gen, "csv", gen.iter_records(3000, seed=10))
    assert "\r" not in text and text.endswith("\n")
    assert '"Nuenen, Gerwen en Nederwetten"' in text  # quoted: it holds commas
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == gen.COLUMNS
    assert [r[0] for r in rows[1:]] == [r["bsn"] for r in records]
    assert any(r[0].startswith("0") for r in rows[1:])
    expected = [["" if v is None else str(v) for v in r.values()] for r in records]
    assert rows[1:] == expected


def test_json_array_parses_and_streams(gen: ModuleType) -> None:
    text = written(gen, "json", gen.iter_records(1000, seed=11))
    assert json.loads(text) == list(gen.iter_records(1000, seed=11))
    assert json.loads(written(gen, "json", gen.iter_records(0))) == []


def test_dicts_taken_then_writer_continues(gen: ModuleType) -> None:
    records = gen.iter_records(3000, seed=12, invalid_rows=[2, 2500])
    it = iter(records)
    first = [next(it), next(it)]
    rest = written(gen, "csv", records).splitlines()
    assert first == list(gen.iter_records(2, seed=12, invalid_rows=[2]))
    full = written(gen, "csv", gen.iter_records(3000, seed=12, invalid_rows=[2, 2500]))
    lines = full.splitlines()
    assert rest == [lines[0], *lines[3:]]
    assert [p.row for p in records.planted] == [2, 2500]


def test_cli(gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.jsonl"
    assert gen.main(["--rows", "5", "--format", "jsonl", "--seed", "3", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == list(gen.iter_records(5, seed=3))
    assert gen.main(["--rows", "4", "--seed", "3", "--invalid-rows", "2,4"]) == 0
    text = capsys.readouterr().out
    assert text == written(gen, "csv", gen.iter_records(4, seed=3, invalid_rows=[2, 4]))
    for bad in (["--invalid-rows", "5"], ["--invalid-rows", "x"], ["--invalid-rate", "2"]):
        with pytest.raises(SystemExit) as exit_info:
            gen.main(["--rows", "4", *bad])
        assert exit_info.value.code == 2


def test_one_municipality_s_export(gen: ModuleType) -> None:
    """--gemeente: everyone lives there, with its own PC4s; the other columns are those of the
    country-wide file of the same seed (only the place changes)."""
    local = list(gen.iter_records(500, seed=3, gemeente="Gouda"))
    country = list(gen.iter_records(500, seed=3))
    assert {r["gemeente"] for r in local} == {"Gouda"}
    assert {r["postcode"][:4] for r in local} <= {str(pc) for pc in range(2800, 2812)}
    assert len({r["postcode"][:4] for r in local}) > 5
    for a, b in zip(local, country, strict=True):
        assert {k: v for k, v in a.items() if k not in ("postcode", "gemeente")} == {
            k: v for k, v in b.items() if k not in ("postcode", "gemeente")
        }
    with pytest.raises(ValueError, match="unknown municipality"):
        gen.iter_records(5, gemeente="Atlantis")
