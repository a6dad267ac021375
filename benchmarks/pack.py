"""Throughput and memory of `ketenx pack` and `ketenx unpack` (issue: signed deliveries, §6).

On 1,000,000 generated rows prints, from one run on the same file:
  * `pack` over `pseudonymise` of the same data: what signing, hashing, bundling and age
    encryption add (target <= 1.15x);
  * `unpack` over `check --side output` of the delivered data (target <= 1.5x);
  * peak memory of both (target < 100 MB).

    python benchmarks/pack.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from _common import ENGINE_CONTRACT, KETENX, OUT, peak_rss_mib, peak_tree_mib, run, sample_csv

CONTRACT = ENGINE_CONTRACT  # see _common


def setup() -> tuple[Path, Path, Path, Path]:
    """Keys and a partner registry in a private folder outside the repository."""
    home = Path.home() / ".ketenx-bench" / "pack"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True, mode=0o700)
    env = {**os.environ, "KETENX_PASSPHRASE": "bench passphrase"}

    def ketenx(*args: str) -> str:
        return subprocess.run(
            [*KETENX, *args], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    ketenx("keys", "new-secret", str(home / "p.secret"))
    ketenx("keys", "new-signing", str(home / "sign"))
    recipient = ketenx("keys", "new-identity", str(home / "ggd"))
    registry = {
        "ketenx": 1,
        "partners": [
            {
                "name": "Gemeente Voorbeeldstad",
                "oin": "00000001001234567000",
                "signing_keys": [{"public_key_file": "sign.pub", "valid_from": "2026-01-01"}],
            },
            {
                "name": "GGD Voorbeeldregio",
                "oin": "00000001009876543000",
                "age_recipients": [recipient],
            },
        ],
    }
    (home / "partners.yaml").write_text(yaml.safe_dump(registry))
    os.environ["KETENX_PASSPHRASE"] = "bench passphrase"
    return home / "p.secret", home / "sign.key", home / "partners.yaml", home / "ggd.age"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = sample_csv(args.rows)
    secret, key, partners, identity = setup()
    out_csv, delivery, inbox = OUT / "p.csv", OUT / "delivery.ketenx", OUT / "inbox"

    def pseudonymise() -> list[str]:
        for p in (out_csv, out_csv.with_name("p.csv.meta.json")):
            p.unlink(missing_ok=True)
        return [
            *KETENX,
            "pseudonymise",
            str(data),
            "-c",
            str(CONTRACT),
            "-s",
            str(secret),
            "-o",
            str(out_csv),
        ]

    def pack() -> list[str]:
        delivery.unlink(missing_ok=True)
        return [
            *KETENX,
            "pack",
            str(data),
            "-c",
            str(CONTRACT),
            "-s",
            str(secret),
            "-k",
            str(key),
            "-p",
            str(partners),
            "-o",
            str(delivery),
        ]

    def unpack() -> list[str]:
        shutil.rmtree(inbox, ignore_errors=True)
        return [
            *KETENX,
            "unpack",
            str(delivery),
            "-c",
            str(CONTRACT),
            "-p",
            str(partners),
            "-i",
            str(identity),
            "-o",
            str(inbox),
        ]

    check = [
        *KETENX,
        "check",
        str(inbox / "data.csv"),
        "-c",
        str(CONTRACT),
        "--side",
        "output",
        "--no-progress",
    ]
    best = {
        "pseudonymise": float("inf"),
        "pack": float("inf"),
        "unpack": float("inf"),
        "check": float("inf"),
    }
    for _ in range(3):  # interleaved; the fastest of each (see _common.paired)
        best["pseudonymise"] = min(best["pseudonymise"], run(pseudonymise(), repeat=1))
        best["pack"] = min(best["pack"], run(pack(), repeat=1))
        best["unpack"] = min(best["unpack"], run(unpack(), repeat=1))
        best["check"] = min(best["check"], run(check, repeat=1))
    mem_pack = peak_tree_mib(pack())  # with its helper process (PSS)
    mem_unpack = peak_rss_mib(unpack())
    print(f"rows: {args.rows:,}  delivery: {delivery.stat().st_size / 2**20:.0f} MiB")
    print(f"ketenx pseudonymise              {best['pseudonymise']:7.2f} s   1.00x")
    print(
        f"ketenx pack                      {best['pack']:7.2f} s   "
        f"{best['pack'] / best['pseudonymise']:.2f}x of pseudonymise   target <= 1.15x"
    )
    print(f"ketenx check --side output       {best['check']:7.2f} s   1.00x")
    print(
        f"ketenx unpack                    {best['unpack']:7.2f} s   "
        f"{best['unpack'] / best['check']:.2f}x of check --side output   target <= 1.5x"
    )
    print(
        f"peak memory pack (+helper) / unpack {mem_pack:5.1f} / {mem_unpack:5.1f} MiB   "
        "target < 100 MiB"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
