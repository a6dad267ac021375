"""`ketenx check` of the same records as Parquet and as CSV (issue 10 §2, §4).

Prints, from one run on the same generated records:
  * the check of the Parquet file over the check of the CSV file (target ≤ 0.5×);
  * peak memory of the Parquet check (flat: one row group at a time) and of the CSV check.

    python benchmarks/parquet.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from _common import ENGINE_CONTRACT, KETENX, paired, peak_rss_mib, sample_csv

ARROW = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool_"}


def parquet_of(csv_path: Path) -> Path:
    """The CSV file as Parquet (once), each column typed as the contract's field: strings
    stay strings, integers int64, numbers double, an empty cell null; row groups of 131,072
    records."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    dst = csv_path.with_suffix(".parquet")
    if dst.exists():
        return dst
    schema = yaml.safe_load(ENGINE_CONTRACT.read_text())["schema"]
    types = {}
    for name, prop in schema["properties"].items():
        kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        kind = next(k for k in kinds if k != "null")
        types[name] = getattr(pa, ARROW[kind])()
    options = pcsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    reader = pcsv.open_csv(csv_path, convert_options=options)
    tmp = dst.with_suffix(".part")
    with pq.ParquetWriter(tmp, reader.schema) as writer:
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= 131_072:
                writer.write_table(pa.Table.from_batches(pending))
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending))
    tmp.rename(dst)
    return dst


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    csv_path = sample_csv(args.rows)
    pq_path = parquet_of(csv_path)
    check_csv = [*KETENX, "check", str(csv_path), "-c", str(ENGINE_CONTRACT)]
    check_pq = [*KETENX, "check", str(pq_path), "-c", str(ENGINE_CONTRACT)]
    t_csv, t_pq = paired([check_csv, check_pq], repeat=args.repeat)
    print(f"rows: {args.rows:,}")
    print(f"check CSV:     {t_csv:6.2f} s  ({args.rows / t_csv:,.0f} records/s)")
    print(f"check Parquet: {t_pq:6.2f} s  ({args.rows / t_pq:,.0f} records/s)")
    print(f"Parquet / CSV: {t_pq / t_csv:.2f}×  (target ≤ 0.5×)")
    print(f"peak memory, Parquet check: {peak_rss_mib(check_pq):.0f} MiB")
    print(f"peak memory, CSV check:     {peak_rss_mib(check_csv):.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
