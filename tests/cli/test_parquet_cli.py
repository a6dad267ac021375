"""Parquet on the command line: `check`, `pseudonymise --to parquet`, `reidentify`,
`check --side output`, exit codes, standard input and hostile files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, csv_text
from tests.parquet_helpers import arrow_types, csv_records, parquet_bytes, write_parquet_of_csv

SCHEMA: dict[str, Any] = yaml.safe_load(SAMPLE_CONTRACT.read_text())["schema"]
BSNS = ("111222333", "012345672", "123456782")


def export(dirs, rows=GOOD_ROWS, name="in.parquet") -> Path:
    return write_parquet_of_csv(csv_text(*rows), SCHEMA, dirs[0] / name)


def test_check_a_valid_and_an_invalid_parquet_file(run, dirs):
    good = export(dirs)
    result = run("check", good, "-c", SAMPLE_CONTRACT)
    assert result.code == 0, result.err
    assert "3 records valid" in result.out
    records = csv_records(csv_text(*GOOD_ROWS), SCHEMA)
    records[1]["bsn"] = 12345672  # an integer where the contract has a string
    types = {**arrow_types(SCHEMA), "bsn": __import__("pyarrow").int64()}
    bad = dirs[0] / "bad.parquet"
    bad.write_bytes(parquet_bytes([{**r, "bsn": int(r["bsn"])} for r in records], types))
    result = run("check", bad, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1
    report = json.loads(result.out)
    errors = report["errors"]
    assert {(e["record"], e["field"], e["rule"]) for e in errors} == {
        (1, "/bsn", "type"),
        (2, "/bsn", "type"),
        (3, "/bsn", "type"),
    }
    for value in (*BSNS, "12345672", "Zoë"):
        assert value not in result.out + result.err


def test_parquet_from_standard_input_is_a_usage_error(run, dirs, secret):
    data = export(dirs).read_bytes()
    result = run("check", "-", "--input-format", "parquet", "-c", SAMPLE_CONTRACT, stdin=data)
    assert result.code == 2 and "standard input" in result.err
    out = dirs[0] / "out.parquet"
    args = ("-", "--input-format", "parquet", "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    result = run("pseudonymise", *args, stdin=data)
    assert result.code == 2 and "standard input" in result.err
    assert not out.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],
        lambda b: b"PAR1" + b"\x00" * 64 + b[-8:],
        lambda b: b[:-12] + b"\xff\xff\xff\x7fPAR1",
        lambda b: b"not parquet at all",
    ],
)
def test_a_hostile_file_fails_closed_without_a_value(run, dirs, secret, damage):
    path = export(dirs)
    path.write_bytes(damage(path.read_bytes()))
    result = run("check", path, "-c", SAMPLE_CONTRACT)
    assert result.code == 1, result.out + result.err
    assert "cannot be read as Parquet" in result.out
    out = dirs[0] / "out.parquet"
    result2 = run("pseudonymise", path, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result2.code == 1
    assert not out.exists() and not list(dirs[0].glob("out*"))
    text = result.out + result.err + result2.out + result2.err
    assert "Traceback" not in text and "Zoë" not in text and "111222333" not in text


def test_an_unsupported_column_type_is_refused(run, dirs):
    import datetime as dt

    import pyarrow as pa

    records = csv_records(csv_text(*GOOD_ROWS), SCHEMA)
    types = {**arrow_types(SCHEMA), "geboortedatum": pa.timestamp("s")}
    rows = [{**r, "geboortedatum": dt.datetime(2015, 3, 2)} for r in records]
    path = dirs[0] / "ts.parquet"
    path.write_bytes(parquet_bytes(rows, types))
    result = run("check", path, "-c", SAMPLE_CONTRACT)
    assert result.code == 1
    assert "column-type" in result.out and "timestamp" in result.out
    assert "2015" not in result.out


def test_pseudonymise_to_parquet_then_check_and_reidentify(run, dirs, secret):
    src = export(dirs)
    out = dirs[0] / "out.parquet"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 0, result.err
    meta = json.loads((dirs[0] / "out.parquet.meta.json").read_text())
    assert meta["output"]["format"] == "parquet" and meta["input"]["format"] == "parquet"
    table = pq.read_table(out)
    assert table.schema.names == [
        "persoon_id", "geboortedatum", "geslacht", "postcode", "gemeente", "email_ouder",
        "lengte_cm", "gewicht_kg",
    ]  # fmt: skip
    assert not table.schema.field("persoon_id").nullable
    assert table.schema.field("email_ouder").nullable
    raw = out.read_bytes()
    for value in (*BSNS, "Zoë", "Jansen", "ouder@example.nl", "1234 AB"):
        assert value.encode() not in raw
    assert run("check", out, "-c", SAMPLE_CONTRACT, "--side", "output").code == 0
    back = dirs[0] / "back.parquet"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", back)
    assert result.code == 0, result.err
    emails = pq.read_table(back).column("email_ouder").to_pylist()
    assert emails == ["ouder@example.nl", None, None]
    as_jsonl = dirs[0] / "back.jsonl"
    assert run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", as_jsonl).code == 0
    first = json.loads(as_jsonl.read_text().splitlines()[0])
    assert first["email_ouder"] == "ouder@example.nl"


def test_parquet_and_csv_inputs_give_the_same_delivery(run, dirs, secret):
    """The same records as CSV and as Parquet: the same pseudonymised records (the
    deterministic fields; encryption draws a fresh nonce)."""
    csv_in = dirs[0] / "in.csv"
    csv_in.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    outs = []
    for src in (csv_in, export(dirs)):
        out = dirs[0] / f"from-{src.suffix[1:]}.jsonl"
        result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
        assert result.code == 0, result.err
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        outs.append([{k: v for k, v in r.items() if k != "email_ouder"} for r in rows])
    assert outs[0] == outs[1]
    pq_out = dirs[0] / "from-csv.parquet"
    assert run("pseudonymise", csv_in, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", pq_out).code == 0
    table = pq.read_table(pq_out).to_pylist()
    assert [{k: v for k, v in r.items() if k != "email_ouder"} for r in table] == [
        {**dict.fromkeys(("lengte_cm", "gewicht_kg")), **r} for r in outs[0]
    ]


def test_invalid_parquet_input_writes_nothing(run, dirs, secret):
    records = csv_records(csv_text(*GOOD_ROWS), SCHEMA)
    records[2]["geslacht"] = "Q"
    path = dirs[0] / "in.parquet"
    path.write_bytes(parquet_bytes(records, arrow_types(SCHEMA)))
    out = dirs[0] / "out.parquet"
    result = run("pseudonymise", path, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 1
    assert "record 3" in result.err and "/geslacht" in result.err
    assert not list(dirs[0].glob("out*"))


def test_to_parquet_is_refused_for_a_contract_without_one_type_per_field(
    run, dirs, secret, tmp_path
):
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    doc["schema"]["properties"]["gemeente"] = {"type": ["string", "integer"]}
    contract = tmp_path / "c.yaml"
    contract.write_text(yaml.safe_dump(doc))
    src = dirs[0] / "in.csv"
    src.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    out = dirs[0] / "out.parquet"
    result = run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out)
    assert result.code == 2 and "/gemeente" in result.err
    assert not out.exists()


def test_risk_scan_and_contract_init_read_parquet(run, dirs, tmp_path):
    """The privacy commands and `contract init` take a Parquet file as they take its CSV;
    from standard input they refuse it (exit 2), as every command does."""
    example = Path(__file__).resolve().parents[2] / "examples" / "contract.yaml"
    data = export(dirs)
    as_csv = dirs[0] / "in.csv"
    as_csv.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    for command in ("risk", "scan"):
        on_parquet = run(command, data, "-c", example, "-f", "json")
        on_csv = run(command, as_csv, "-c", example, "-f", "json")
        assert on_parquet.code == on_csv.code and on_parquet.code in (0, 1), on_parquet.err
        figures = [json.loads(r.out)["files"][0] for r in (on_parquet, on_csv)]
        for f in figures:
            f.pop("file")
        assert figures[0] == figures[1]
        assert not any(b in on_parquet.out + on_parquet.err for b in BSNS)
        piped = run(command, "-", "--input-format", "parquet", "-c", example,
                    stdin=data.read_bytes())  # fmt: skip
        assert piped.code == 2 and "standard input" in piped.err
    draft = run("contract", "init", "--from", data)
    assert draft.code == 0, draft.err
    assert "format: nl-bsn" in draft.out and not any(b in draft.out for b in BSNS)
    piped = run("contract", "init", "--from", "-", "--input-format", "parquet",
                stdin=data.read_bytes())  # fmt: skip
    assert piped.code == 2 and "standard input" in piped.err
