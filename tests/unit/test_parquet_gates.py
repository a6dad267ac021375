"""Parquet for the privacy gates (`risk`, `scan`) and `contract init` (issue 10 §2): the
same figures, findings and draft as the same records in CSV or JSON Lines; what is not read
is refused by column position, never by value, never cast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ketenx
from ketenx.contract.draft import draft_contract
from tests.helpers import ROOT, load_generator
from tests.parquet_helpers import arrow_types, csv_records, jsonl_of, parquet_bytes

EXAMPLE = ROOT / "examples" / "contract.yaml"


GEN = load_generator()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One municipality's export as CSV, JSON Lines and Parquet (the same records)."""
    folder = tmp_path_factory.mktemp("export")
    csv_path = folder / "export.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        GEN.write_csv(GEN.iter_records(600, seed=42, gemeente="Gouda"), fh)
    schema = ketenx.load_contract(EXAMPLE).schema
    records = csv_records(csv_path.read_text(encoding="utf-8"), schema)
    (folder / "export.jsonl").write_bytes(jsonl_of(records))
    (folder / "export.parquet").write_bytes(
        parquet_bytes(records, arrow_types(schema), row_group_size=97)
    )
    return {fmt: folder / f"export.{fmt}" for fmt in ("csv", "jsonl", "parquet")}


def _figures(result: ketenx.RiskResult) -> list[dict[str, Any]]:
    out = json.loads(result.render("json"))["files"]
    for figures in out:
        figures.pop("file")
    return list(out)


@pytest.mark.parametrize("side", ["input", "output"])
def test_risk_of_parquet_is_the_risk_of_the_same_records(
    export: dict[str, Path], side: str, tmp_path: Path
) -> None:
    contract = ketenx.load_contract(EXAMPLE)
    if side == "output":  # a delivery: pseudonymise the CSV to Parquet and to CSV
        from ketenx.storage.secrets import new_secret

        (tmp_path / "keys").mkdir(mode=0o700)
        secret = new_secret(tmp_path / "keys" / "s.secret")
        made = {}
        for fmt in ("csv", "parquet"):
            out = tmp_path / f"d.{fmt}"
            ketenx.pseudonymise(export["csv"], contract, out, secret=secret, skip_risk=True)
            made[fmt] = out
    else:
        made = {fmt: export[fmt] for fmt in ("csv", "jsonl", "parquet")}
    figures = {fmt: _figures(ketenx.risk(path, contract, side=side)) for fmt, path in made.items()}
    assert figures["parquet"] == figures["csv"]
    assert figures["parquet"][0]["records"] == 600
    if "jsonl" in figures:
        assert figures["jsonl"] == figures["csv"]


def test_scan_of_parquet_finds_what_it_finds_in_csv(tmp_path: Path) -> None:
    from tests.helpers import make_contract

    schema = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "opmerking": {"type": ["string", "null"]}},
    }
    fields = {"id": {"treatment": "keep", "scan": False}, "opmerking": {"treatment": "keep"}}
    contract = make_contract("scan-pq", schema, fields)
    records = [{"id": "a", "opmerking": "geen"}, {"id": "b", "opmerking": "bel 06-12345678"},
               {"id": "c"}]  # fmt: skip
    pq_path = tmp_path / "notes.parquet"
    pq_path.write_bytes(parquet_bytes(records, arrow_types(schema)))
    jl_path = tmp_path / "notes.jsonl"
    jl_path.write_bytes(jsonl_of(records))
    found = {p.suffix: ketenx.scan(p, contract) for p in (pq_path, jl_path)}
    assert not found[".parquet"].passed
    texts = {k: json.loads(r.render("json")) for k, r in found.items()}
    for doc in texts.values():
        for f in doc["files"]:
            f.pop("file")
    assert texts[".parquet"] == texts[".jsonl"]
    assert "12345678" not in found[".parquet"].render("text")


def test_a_column_of_another_type_than_its_field_is_refused(tmp_path: Path) -> None:
    """An integer column for the string BSN is not cast: `check` names the records."""
    import pyarrow as pa

    contract = ketenx.load_contract(EXAMPLE)
    types = arrow_types(contract.schema)
    types["postcode"] = pa.int64()
    records = [{"postcode": 2801}, {"postcode": 2802}]
    path = tmp_path / "wrong.parquet"
    path.write_bytes(parquet_bytes(records, types))
    with pytest.raises(ketenx.RejectedError) as info:
        ketenx.risk(path, contract)
    message = info.value.message
    assert (
        "rule parquet" in message
        and "Parquet integer column for a field of another type" in message
    )
    assert "2801" not in message and "postcode" not in message.split("column")[0]


def test_a_column_of_a_type_ketenx_does_not_read_is_refused(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    contract = ketenx.load_contract(EXAMPLE)
    path = tmp_path / "ts.parquet"
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    pq.write_table(pa.table({"postcode": pa.array([when], type=pa.timestamp("s"))}), path)
    with pytest.raises(ketenx.RejectedError) as refused_risk:
        ketenx.risk(path, contract)
    with path.open("rb") as fh, pytest.raises(ketenx.RejectedError) as refused_draft:
        draft_contract(fh, "parquet")
    for info in (refused_risk, refused_draft):
        assert "timestamp column, which ketenx does not read" in info.value.message
        assert "2026" not in info.value.message


def test_contract_init_from_parquet_drafts_what_csv_of_the_same_records_drafts(
    export: dict[str, Path],
) -> None:
    """A null is what an empty cell is (the field nullable, not required); the fields in
    the file's column order."""
    drafts = {}
    for fmt in ("csv", "parquet"):
        with export[fmt].open("rb") as fh:
            drafts[fmt] = draft_contract(fh, fmt, source="the export")  # type: ignore[arg-type]
    assert drafts["parquet"].text == drafts["csv"].text
    assert drafts["parquet"].records == 600


def test_contract_init_from_a_parquet_file_without_records_drafts_its_columns(
    tmp_path: Path,
) -> None:
    contract = ketenx.load_contract(EXAMPLE)
    empty_pq = tmp_path / "empty.parquet"
    empty_pq.write_bytes(parquet_bytes([], arrow_types(contract.schema)))
    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(contract.schema["properties"]) + "\n", encoding="utf-8")
    with empty_pq.open("rb") as a, header_only.open("rb") as b:
        from_pq, from_csv = draft_contract(a, "parquet"), draft_contract(b, "csv")
    assert from_pq.records == 0
    assert [f.name for f in from_pq.fields] == list(contract.schema["properties"])
    assert [f.name for f in from_pq.fields] == [f.name for f in from_csv.fields]
