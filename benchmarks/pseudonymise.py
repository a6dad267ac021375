"""Throughput and memory of `ketenx pseudonymise` (issue: pseudonymise, §6).

On 1,000,000 generated rows (1 pseudonymised, 1 encrypted, 2 generalised, 2 dropped
columns) prints, from one run on the same file:
  * `ketenx pseudonymise` (input check included) over a plain csv.reader/csv.writer round
    trip (target <= 3x), with the default --jobs (the keyed operations in a forked helper
    when two cores are free) and with --jobs 1 (everything in one process);
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
from collections.abc import Callable
from pathlib import Path

import yaml
from _common import (
    ENGINE_CONTRACT,
    KETENX,
    OUT,
    PY,
    ROUND_TRIP,
    bench_secret,
    peak_rss_mib,
    peak_tree_mib,
    run,
    sample_csv,
)

from ketenx.transform.workers import available_jobs

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
    doc = yaml.safe_load(ENGINE_CONTRACT.read_text(encoding="utf-8"))
    doc["fields"]["huisnummer"] = {"treatment": "keep"}
    path = OUT / "contract-bench.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each")
    args = parser.parse_args()
    data = sample_csv(args.rows)
    contract = bench_contract()
    out = OUT / "pseudonymised.csv"
    meta = OUT / "pseudonymised.csv.meta.json"

    def ketenx(*jobs: str) -> list[str]:
        for p in (out, meta):
            p.unlink(missing_ok=True)
        return [
            *KETENX,
            "pseudonymise",
            str(data),
            "-c",
            str(contract),
            "-s",
            str(bench_secret()),
            "-o",
            str(out),
            *jobs,
        ]

    have_pandas = importlib.util.find_spec("pandas") is not None
    commands: dict[str, Callable[[], list[str]]] = {
        "rt": lambda: [PY, "-c", ROUND_TRIP, str(data), str(OUT / "roundtrip.csv")],
        "kx1": lambda: ketenx("--jobs", "1"),
        "kx": ketenx,
    }
    if have_pandas:
        commands["pd"] = lambda: [PY, "-c", PANDAS, str(data), str(OUT / "pandas.csv")]
    best = dict.fromkeys(commands, float("inf"))
    for _ in range(args.repeat):  # interleaved; the fastest of each (see _common.paired)
        for name, command in commands.items():
            best[name] = min(best[name], run(command(), repeat=1))
    t_rt, t_kx1, t_kx = best["rt"], best["kx1"], best["kx"]
    mem_kx1 = peak_rss_mib(ketenx("--jobs", "1"))
    mem_kx = peak_tree_mib(ketenx())
    jobs = available_jobs()
    print(f"rows: {args.rows:,}   --jobs auto = {jobs} on this machine")
    print(f"csv.reader + csv.writer round trip     {t_rt:7.2f} s   1.00x")
    print(f"ketenx pseudonymise --jobs 1           {t_kx1:7.2f} s   {t_kx1 / t_rt:.2f}x")
    print(
        f"ketenx pseudonymise (default --jobs)   {t_kx:7.2f} s   {t_kx / t_rt:.2f}x"
        "   target <= 3x (input check included)"
    )
    print(f"peak memory ketenx --jobs 1            {mem_kx1:7.1f} MiB   target < 100 MiB")
    print(f"peak memory ketenx + helpers (PSS)     {mem_kx:7.1f} MiB   target < 100 MiB")
    if have_pandas:
        t_pd = best["pd"]
        mem_pd = peak_rss_mib(commands["pd"]())
        print(
            f"pandas + hashlib (no check)            {t_pd:7.2f} s   {t_pd / t_rt:.2f}x   "
            f"ketenx is {t_pd / t_kx:.2f}x as fast ({t_pd / t_kx1:.2f}x with --jobs 1)"
            "   target > 1x"
        )
        print(f"peak memory pandas                     {mem_pd:7.1f} MiB")
    else:
        print("pandas not installed (pip install -e '.[bench]')")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("CI", "1")
    main()
