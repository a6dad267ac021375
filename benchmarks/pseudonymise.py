"""Throughput and memory of `ketenx pseudonymise` (issue: pseudonymise, §6).

On 1,000,000 generated rows (1 pseudonymised, 1 encrypted, 2 generalised, 2 dropped
columns) prints, from one run on the same file:
  * `ketenx pseudonymise` (input check included) over a plain csv.reader/csv.writer round
    trip (target <= 3x);
  * over a pandas + hashlib script doing the same transformation without any check (target:
    faster), when pandas is installed (`pip install -e '.[bench]'`);
  * peak memory of both (target < 100 MB; pandas needs about 750 MB).

    python benchmarks/pseudonymise.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import yaml
from _common import KETENX, OUT, PY, ROOT, peak_rss_mib, run, sample_csv

ROUND_TRIP = """
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8') as fin, \\
     open(sys.argv[2], 'w', newline='', encoding='utf-8') as fout:
    csv.writer(fout, lineterminator='\\n').writerows(csv.reader(fin))
"""

PANDAS = """
import base64, hashlib, hmac, sys
import pandas as pd
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
key = hashlib.sha256(b"bench").digest()
siv = AESSIV(key + key)
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
df["persoon_id"] = [
    "kx1_" + base64.urlsafe_b64encode(hmac.digest(key, v.encode(), "sha256")[:20]).decode()[:27]
    for v in df.pop("bsn")
]
def enc(v):
    return "kx1e_" + base64.urlsafe_b64encode(siv.encrypt(v.encode(), [b"e"])).decode() if v else ""
df["email_ouder"] = [enc(v) for v in df["email_ouder"]]
df["geboortedatum"] = df["geboortedatum"].str.slice(0, 7)
df["postcode"] = df["postcode"].str.slice(0, 4)
df = df.drop(columns=["voornamen", "achternaam"])
df.to_csv(sys.argv[2], index=False)
"""


def bench_contract() -> Path:
    """The sample contract with 2 dropped columns (huisnummer kept)."""
    doc = yaml.safe_load((ROOT / "examples" / "contract.yaml").read_text(encoding="utf-8"))
    doc["fields"]["huisnummer"] = {"treatment": "keep"}
    path = OUT / "contract-bench.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def secret() -> Path:
    folder = Path.home() / ".ketenx-bench"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "bench.secret"
    if not path.exists():
        from ketenx.secrets import new_secret

        new_secret(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = sample_csv(args.rows)
    contract = bench_contract()
    out = OUT / "pseudonymised.csv"
    meta = OUT / "pseudonymised.csv.meta.json"

    def ketenx() -> list[str]:
        for p in (out, meta):
            p.unlink(missing_ok=True)
        return [
            *KETENX,
            "pseudonymise",
            str(data),
            "-c",
            str(contract),
            "-s",
            str(secret()),
            "-o",
            str(out),
        ]

    t_rt, t_kx = float("inf"), float("inf")
    for _ in range(5):  # interleaved; the fastest of each (see _common.paired)
        t_rt = min(
            t_rt, run([PY, "-c", ROUND_TRIP, str(data), str(OUT / "roundtrip.csv")], repeat=1)
        )
        t_kx = min(t_kx, run(ketenx(), repeat=1))
    mem_kx = peak_rss_mib(ketenx())
    print(f"rows: {args.rows:,}")
    print(f"csv.reader + csv.writer round trip  {t_rt:7.2f} s   1.00x")
    print(f"ketenx pseudonymise (with check)    {t_kx:7.2f} s   {t_kx / t_rt:.2f}x   target <= 3x")
    print(f"peak memory ketenx                  {mem_kx:7.1f} MiB   target < 100 MiB")
    if importlib.util.find_spec("pandas") is not None:
        cmd = [PY, "-c", PANDAS, str(data), str(OUT / "pandas.csv")]
        t_pd = run(cmd, repeat=1)
        mem_pd = peak_rss_mib(cmd)
        print(
            f"pandas + hashlib (no check)         {t_pd:7.2f} s   {t_pd / t_rt:.2f}x   "
            f"ketenx is {t_pd / t_kx:.2f}x as fast   target > 1x"
        )
        print(f"peak memory pandas                  {mem_pd:7.1f} MiB")
    else:
        print("pandas not installed (pip install -e '.[bench]')")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("CI", "1")
    main()
