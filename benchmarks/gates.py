"""What the privacy gates cost inside `pseudonymise`, `pack` and `unpack` (privacy gates, §5).

On 1,000,000 generated rows of one municipality's export (everyone in Gouda, so that the
sample contract's k = 5 is met after suppressing under 1% of the records), prints, from one
run on the same file, each command with the gates (the sample contract: the exact class
count of three quasi-identifiers, suppression through the spill file, the scan of the kept
string fields) over the same command without them (the same contract without thresholds
and with `scan: false`):

  * `pack` with the gates over `pack` without them (target <= 1.15x);
  * `pseudonymise` likewise, and `unpack` (which re-measures) likewise;
  * peak memory of `pack` with the gates (target < 150 MiB).

    python benchmarks/gates.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml
from _common import KETENX, OUT, ROOT, generator, peak_tree_mib, run
from pack import setup

CONTRACT = ROOT / "examples" / "contract.yaml"


def gouda_csv(rows: int, seed: int = 7) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"gouda-{rows}-{seed}.csv"
    if not path.exists():
        gen = generator()
        tmp = path.with_suffix(".part")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            gen.write_csv(gen.iter_records(rows, seed=seed, gemeente="Gouda"), fh)
        tmp.rename(path)
    return path


def ungated(contract: Path) -> Path:
    """The contract without thresholds and without the scan: no gate runs."""
    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    doc["privacy"] = {"quasi_identifiers": doc["privacy"]["quasi_identifiers"]}
    for spec in doc["fields"].values():
        if spec.get("treatment") == "keep":
            spec["scan"] = False
    path = OUT / "contract-ungated.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    data = gouda_csv(args.rows)
    secret, key, partners, identity = setup()
    plain = ungated(CONTRACT)

    def pseudonymise(contract: Path, tag: str) -> list[str]:
        out = OUT / f"g-{tag}.csv"
        for p in (out, out.with_name(out.name + ".meta.json")):
            p.unlink(missing_ok=True)
        return [*KETENX, "pseudonymise", str(data), "-c", str(contract), "-s", str(secret),
                "-o", str(out), "--no-progress"]  # fmt: skip

    def pack(contract: Path, tag: str) -> list[str]:
        out = OUT / f"g-{tag}.ketenx"
        out.unlink(missing_ok=True)
        return [*KETENX, "pack", str(data), "-c", str(contract), "-s", str(secret), "-k",
                str(key), "-p", str(partners), "-o", str(out), "--no-progress"]  # fmt: skip

    def unpack(contract: Path, tag: str) -> list[str]:
        inbox = OUT / f"g-inbox-{tag}"
        shutil.rmtree(inbox, ignore_errors=True)
        return [*KETENX, "unpack", str(OUT / f"g-{tag}.ketenx"), "-c", str(contract), "-p",
                str(partners), "-i", str(identity), "-o", str(inbox), "--no-progress"]  # fmt: skip

    best: dict[str, float] = {}
    for _ in range(3):  # interleaved; the fastest of each (see _common.paired)
        for verb in (pseudonymise, pack, unpack):
            for contract, tag in ((CONTRACT, "gated"), (plain, "plain")):
                name = f"{verb.__name__} {tag}"
                best[name] = min(best.get(name, float("inf")), run(verb(contract, tag), repeat=1))
    mem = peak_tree_mib(pack(CONTRACT, "gated"))
    print(f"rows: {args.rows:,} (one municipality's export)")
    for verb, target in (("pseudonymise", ""), ("pack", "   target <= 1.15x"), ("unpack", "")):
        ratio = best[f"{verb} gated"] / best[f"{verb} plain"]
        print(
            f"ketenx {verb:<13} with the gates {best[f'{verb} gated']:7.2f} s, without "
            f"{best[f'{verb} plain']:7.2f} s   {ratio:.2f}x{target}"
        )
    print(f"peak memory pack with the gates (+helper) {mem:5.1f} MiB   target < 150 MiB")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
