"""Throughput, memory and start-up of `ketenx check` (issue: foundation, §6).

Prints, from one run on the same generated file:
  * records/s of `ketenx check` and its time over a plain csv.reader pass (target ≤ 3×,
    stretch ≤ 1.5×);
  * `frictionless validate` with an equivalent Table Schema, when installed (target: ketenx
    ≥ 10× faster);
  * a file where every record is invalid, over a valid one (target ≤ 1.5×);
  * peak memory at 1M and 5M rows (target < 100 MB, and flat);
  * the check net of start-up (the check of the first record and `python -c pass` timed too);
  * `ketenx --version` and `ketenx contract lint` over `python -c 'import typer'` (target ≤ 2×).

    python benchmarks/check.py [--rows 1000000] [--big-rows 5000000] [--no-frictionless]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from _common import (
    CSV_READER,
    ENGINE_CONTRACT,
    KETENX,
    OUT,
    PY,
    paired,
    peak_rss_mib,
    run,
    sample_csv,
)

CONTRACT = ENGINE_CONTRACT  # see _common


def all_invalid(src: Path) -> Path:
    """The same file with every BSN broken (last digit changed: the 11-proef fails)."""
    dst = src.with_name(src.stem + "-all-invalid.csv")
    if not dst.exists():
        with (
            open(src, encoding="utf-8", newline="") as fin,
            open(dst, "w", encoding="utf-8", newline="") as fout,
        ):
            fout.write(fin.readline())
            for line in fin:
                d = int(line[8])
                fout.write(line[:8] + str((d + 1) % 10) + line[9:])
    return dst


def table_schema() -> Path:
    """An equivalent frictionless Table Schema (patterns for the formats)."""
    path = OUT / "table-schema.json"
    fields = [
        {"name": "bsn", "type": "string", "constraints": {"required": True, "pattern": "[0-9]{9}"}},
        {
            "name": "voornamen",
            "type": "string",
            "constraints": {"required": True, "minLength": 1, "maxLength": 200},
        },
        {
            "name": "achternaam",
            "type": "string",
            "constraints": {"required": True, "minLength": 1, "maxLength": 200},
        },
        {"name": "geboortedatum", "type": "date", "constraints": {"required": True}},
        {
            "name": "geslacht",
            "type": "string",
            "constraints": {"required": True, "enum": ["M", "V", "X"]},
        },
        {
            "name": "postcode",
            "type": "string",
            "constraints": {"required": True, "pattern": "[1-9][0-9]{3} ?[A-Z]{2}"},
        },
        {
            "name": "huisnummer",
            "type": "integer",
            "constraints": {"required": True, "minimum": 1, "maximum": 99999},
        },
        {"name": "gemeente", "type": "string", "constraints": {"required": True, "minLength": 1}},
        {
            "name": "email_ouder",
            "type": "string",
            "constraints": {"pattern": "[^@ ]+@[^@ .]+(\\.[^@ .]+)+"},
        },
        {"name": "lengte_cm", "type": "number", "constraints": {"minimum": 30, "maximum": 250}},
        {"name": "gewicht_kg", "type": "number", "constraints": {"minimum": 1, "maximum": 250}},
    ]
    path.write_text(json.dumps({"fields": fields}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=5_000_000)
    parser.add_argument("--no-frictionless", action="store_true")
    args = parser.parse_args()

    data = sample_csv(args.rows)
    bad = all_invalid(data)
    check = [*KETENX, "check", "--contract", str(CONTRACT), "--no-progress", "--format", "json"]
    first = data.with_name(data.stem + "-first.csv")
    with open(data, "rb") as fin:
        first.write_bytes(fin.readline() + fin.readline())
    t_csv, t_check, t_bad, t_py, t_start = paired(
        [
            [PY, "-c", CSV_READER, str(data)],
            [*check, str(data)],
            [*check, str(bad)],
            [PY, "-c", "pass"],
            [*check, str(first)],
        ]
    )
    mem = peak_rss_mib([*check, str(data)])
    print(f"rows: {args.rows:,}  file: {data.stat().st_size / 2**20:.0f} MiB")
    print(f"plain csv.reader pass        {t_csv:7.2f} s   1.00x")
    print(
        f"ketenx check (valid)         {t_check:7.2f} s   {t_check / t_csv:.2f}x   "
        f"{args.rows / t_check:,.0f} records/s   target <= 3x (stretch 1.5x)"
    )
    net = (t_check - t_start) / max(t_csv - t_py, 1e-3)
    print(
        f"  net of start-up            {t_check - t_start:7.2f} s   {net:.2f}x   (ketenx start-up "
        f"{t_start:.2f} s: imports, contract, pyarrow; python {t_py:.2f} s)"
    )
    print(
        f"ketenx check (all invalid)   {t_bad:7.2f} s   {t_bad / t_check:.2f}x of valid   "
        "target <= 1.5x"
    )
    print(f"peak memory, {args.rows:,} rows   {mem:7.1f} MiB   target < 100 MiB")

    frictionless = shutil.which("frictionless") or str(Path(PY).parent / "frictionless")
    if not args.no_frictionless and Path(frictionless).exists():
        schema = table_schema()
        # frictionless refuses absolute paths outside its working folder ("not safe").
        t_fl = run(
            [frictionless, "validate", "--schema", schema.name, data.name], repeat=1, cwd=OUT
        )
        print(
            f"frictionless validate        {t_fl:7.2f} s   {t_fl / t_csv:.2f}x   "
            f"ketenx is {t_fl / t_check:.1f}x faster   target >= 10x"
        )
    else:
        print("frictionless validate        not installed (pip install -e '.[bench]')")

    if args.big_rows:
        big = sample_csv(args.big_rows)
        mem_big = peak_rss_mib([*check, str(big)])
        print(f"peak memory, {args.big_rows:,} rows   {mem_big:7.1f} MiB   target < 100 MiB, flat")

    lint = [*KETENX, "contract", "lint", str(CONTRACT)]
    t_typer, t_version, t_lint = paired(
        [[PY, "-c", "import typer"], [*KETENX, "--version"], lint], repeat=9
    )
    print(
        f"ketenx --version             {t_version:7.3f} s   {t_version / t_typer:.2f}x of "
        f"`import typer`   target <= 2x"
    )
    print(
        f"ketenx contract lint         {t_lint:7.3f} s   {t_lint / t_typer:.2f}x of "
        f"`import typer`   target <= 2x (no pyarrow: tests/unit/test_engine.py)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
