"""The sample-data generator (examples/generate.py) used by the demo and the benchmarks."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

from ketenx.check import Checker
from ketenx.contract import load_contract
from ketenx.formats import is_bsn
from tests.conftest import SAMPLE_CONTRACT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location(
        "ketenx_generate", ROOT / "examples" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["ketenx_generate"] = module
    spec.loader.exec_module(module)
    return module


def as_csv(gen, records) -> bytes:
    buf = io.StringIO()
    gen.write_csv(records, buf)
    return buf.getvalue().encode()


def test_deterministic_per_seed(gen):
    assert as_csv(gen, gen.iter_records(300, seed=1)) == as_csv(gen, gen.iter_records(300, seed=1))
    assert as_csv(gen, gen.iter_records(300, seed=1)) != as_csv(gen, gen.iter_records(300, seed=2))


def test_bsns_unique_valid_with_leading_zeros(gen):
    bsns = [r["bsn"] for r in gen.iter_records(50_000, seed=3)]
    assert len(set(bsns)) == len(bsns)
    assert all(map(is_bsn, bsns))
    assert 0.05 < sum(b.startswith("0") for b in bsns) / len(bsns) < 0.15


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_clean_records_pass_the_contract(gen, fmt):
    buf = io.StringIO()
    gen.WRITERS[fmt](gen.iter_records(2000, seed=4), buf)
    report = Checker.for_schema(load_contract(SAMPLE_CONTRACT).schema).check(
        io.BytesIO(buf.getvalue().encode()), fmt
    )
    assert report.valid, report.errors[:3]
    assert report.records == 2000


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_planted_rows_are_exactly_the_invalid_ones(gen, fmt):
    records = gen.iter_records(3000, seed=5, invalid_rate=0.02, invalid_rows=[1, 17])
    buf = io.StringIO()
    gen.WRITERS[fmt](records, buf)
    report = Checker.for_schema(load_contract(SAMPLE_CONTRACT).schema, max_errors=10_000).check(
        io.BytesIO(buf.getvalue().encode()), fmt
    )
    planted = {(row, "/" + field) for row, field, _ in records.planted}
    assert {1, 17} <= {row for row, _ in planted}
    assert {(v.record, v.field) for v in report.errors} == planted


def test_csv_round_trip_and_json_array(gen):
    text = as_csv(gen, gen.iter_records(500, seed=6)).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == gen.COLUMNS
    assert any(r[0].startswith("0") for r in rows[1:])
    buf = io.StringIO()
    gen.write_json(gen.iter_records(10, seed=6), buf)
    assert len(json.loads(buf.getvalue())) == 10


def test_cli(gen, tmp_path):
    out = tmp_path / "x.jsonl"
    assert gen.main(["--rows", "5", "--format", "jsonl", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 5
