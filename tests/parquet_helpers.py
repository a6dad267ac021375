"""Parquet files for the tests: records (JSON values) written with explicit Arrow types."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ketenx.records.validation import declared_types

ARROW_OF = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool_"}


def arrow_types(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The Arrow type of each property of a flat record schema (its one non-null type)."""
    import pyarrow as pa

    out = {}
    for name, prop in schema["properties"].items():
        types = (declared_types(prop, schema) or frozenset({"string"})) - {"null"}
        kind = "number" if "number" in types else sorted(types)[0]
        out[name] = getattr(pa, ARROW_OF[kind])()
    return out


def parquet_bytes(
    records: Sequence[Mapping[str, Any]],
    types: Mapping[str, Any],
    *,
    row_group_size: int | None = None,
) -> bytes:
    """The records as Parquet, one column per name of ``types``; an absent value is null."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {name: pa.array([r.get(name) for r in records], type=t) for name, t in types.items()}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def csv_records(text: str, schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The records of a CSV text as JSON values (as ``check`` reads them when valid): an
    empty cell absent, integer and number columns as numbers."""
    types = arrow_types(schema)
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        rec: dict[str, Any] = {}
        for name, cell in row.items():
            if cell == "":
                continue
            kind = str(types[name])
            rec[name] = int(cell) if kind == "int64" else float(cell) if kind == "double" else cell
        out.append(rec)
    return out


def write_parquet_of_csv(text: str, schema: Mapping[str, Any], path: Path) -> Path:
    path.write_bytes(parquet_bytes(csv_records(text, schema), arrow_types(schema)))
    return path


def jsonl_of(records: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
