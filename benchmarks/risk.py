"""Speed and memory of the privacy gates: `ketenx risk` and `ketenx scan` (issue: privacy
gates, §5).

Prints, from one run on the same generated file (the sample contract: three
quasi-identifiers, geboortedatum as year-month, postcode as pc4, geslacht):
  * `ketenx risk` over a plain csv.reader pass (target ≤ 1.5×);
  * `ketenx risk` against pandas `groupby(...).size()` on the same generalised columns, the
    usual way to count classes in Python (pycanon needs pandas and pins an older typer,
    so it cannot share ketenx's environment; the pandas count is what it does inside);
  * `ketenx scan` over the csv.reader pass;
  * peak memory of `ketenx risk` at 1M rows (target < 150 MB).

    python benchmarks/risk.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys

from _common import ENGINE_CONTRACT, KETENX, PY, paired, peak_rss_mib, sample_csv

CONTRACT = ENGINE_CONTRACT  # see _common

CSV_READER = (
    "import csv,sys\nfor _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')): pass\n"
)
PANDAS = """
import sys, pandas as pd
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False,
                 usecols=["geboortedatum", "postcode", "geslacht"])
df["geboortedatum"] = df["geboortedatum"].str[:7]
df["postcode"] = df["postcode"].str[:4]
sizes = df.groupby(["geboortedatum", "postcode", "geslacht"]).size()
print(int(sizes.min()), len(sizes))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = sample_csv(args.rows)
    risk = [*KETENX, "risk", str(data), "--contract", str(CONTRACT), "--format", "json"]
    scan = [*KETENX, "scan", str(data), "--contract", str(CONTRACT)]
    baseline = [PY, "-c", CSV_READER, str(data)]
    cmds = [baseline, risk, scan]
    try:
        import pandas  # noqa: F401

        cmds.append([PY, "-c", PANDAS, str(data)])
    except ImportError:
        print("pandas is not installed (make bench installs it): no peer figure")
    times = paired(cmds, repeat=3)
    print(f"rows: {args.rows:,}")
    print(f"csv.reader pass:        {times[0]:.2f} s")
    print(f"ketenx risk:            {times[1]:.2f} s = {times[1] / times[0]:.2f}× csv.reader")
    print(f"ketenx scan:            {times[2]:.2f} s = {times[2] / times[0]:.2f}× csv.reader")
    if len(times) > 3:
        ratio = times[3] / times[1]
        print(f"pandas groupby count:   {times[3]:.2f} s; ketenx risk {ratio:.2f}× as fast")
    print(f"ketenx risk peak RSS:   {peak_rss_mib(risk):.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
