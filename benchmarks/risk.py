"""Speed and memory of the privacy gates: `ketenx risk` and `ketenx scan` (issue: privacy
gates, §5).

The setting of the issue: the sample contract's three quasi-identifiers (birth date to a
five-year age band, postcode to PC4, sex) and one sensitive attribute (the municipality,
with l = 2), on the country-wide sample data. Prints, from one run on the same file:
  * `ketenx risk` over a plain csv.reader pass (target ≤ 1.5×), on the Arrow path, and the
    precise path it steps aside to (the same file on standard input) for comparison;
  * `ketenx risk` against pycanon 1.3.6 (k-anonymity and l-diversity of the same generalised
    columns; target: at least 10× as fast). pycanon pins an older typer than ketenx, so it
    is fetched into bench-out/ without its dependencies, as tests/interop/test_pycanon.py
    does, and runs on the pandas that `make bench` installs;
  * `ketenx scan` over the csv.reader pass;
  * peak memory of `ketenx risk` (target < 150 MB at 1M rows).

    python benchmarks/risk.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import yaml
from _common import KETENX, OUT, PY, ROOT, paired, peak_rss_mib, sample_csv

CSV_READER = (
    "import csv,sys\nfor _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')): pass\n"
)
PYCANON = "pycanon==1.3.6"
# pycanon on the columns as the contract generalises them (it does not generalise: the
# generalisation is done with pandas first, as a pycanon user would).
PYCANON_RUN = """
import sys
sys.path.insert(0, sys.argv[2])
import pandas as pd
from pycanon import anonymity
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False,
                 usecols=["geboortedatum", "postcode", "geslacht", "gemeente"])
born = pd.to_datetime(df["geboortedatum"], format="%Y-%m-%d")
age = 2026 - born.dt.year - ((born.dt.month > 1) | ((born.dt.month == 1) & (born.dt.day > 1)))
low = (age // 5) * 5
df["geboortedatum"] = low.astype(str) + "-" + (low + 4).astype(str)
df["postcode"] = df["postcode"].str[:4]
qi = ["geboortedatum", "postcode", "geslacht"]
print(anonymity.k_anonymity(df, qi), anonymity.l_diversity(df, qi, ["gemeente"]))
"""


def contract() -> str:
    """examples/contract.yaml with a sensitive attribute (the issue's setting)."""
    doc = yaml.safe_load((ROOT / "examples" / "contract.yaml").read_text(encoding="utf-8"))
    doc["privacy"]["sensitive"] = ["gemeente"]
    doc["privacy"]["l"] = 2
    path = OUT / "risk-contract.yaml"
    OUT.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


def pycanon() -> str | None:
    """A folder holding pycanon (None, saying why, when it cannot be had)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas is not installed (make bench installs it): no pycanon figure")
        return None
    target = OUT / "pycanon"
    if not (target / "pycanon").exists():
        done = subprocess.run(
            [PY, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), PYCANON],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"cannot install {PYCANON}: no pycanon figure")
            return None
    return str(target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = str(sample_csv(args.rows))
    the_contract = contract()
    risk = [*KETENX, "risk", data, "--contract", the_contract, "--format", "json"]
    precise = ["sh", "-c", f'{" ".join(KETENX)} risk - --input-format csv --contract '
               f'"{the_contract}" --format json < "{data}"']  # fmt: skip
    scan = [*KETENX, "scan", data, "--contract", the_contract]
    baseline = [PY, "-c", CSV_READER, data]
    cmds = [baseline, risk, precise, scan]
    folder = pycanon()
    if folder is not None:
        cmds.append([PY, "-c", PYCANON_RUN, data, folder])
    times = paired(cmds, repeat=3)
    print(f"rows: {args.rows:,} (3 quasi-identifiers, 1 sensitive attribute)")
    print(f"csv.reader pass:         {times[0]:.2f} s")
    print(f"ketenx risk (Arrow):     {times[1]:.2f} s = {times[1] / times[0]:.2f}× csv.reader")
    print(f"ketenx risk (precise):   {times[2]:.2f} s = {times[2] / times[0]:.2f}× csv.reader")
    print(f"ketenx scan:             {times[3]:.2f} s = {times[3] / times[0]:.2f}× csv.reader")
    if len(times) > 4:
        ratio = times[4] / times[1]
        print(f"pycanon k and l:         {times[4]:.2f} s; ketenx risk {ratio:.1f}× as fast")
        print(f"pycanon peak RSS:        {peak_rss_mib(cmds[4]):.1f} MiB")
    print(f"ketenx risk peak RSS:    {peak_rss_mib(risk):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
