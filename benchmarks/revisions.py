"""Two revisions of ketenx side by side: is a refactoring free? (issue 11, "done when").

Exports ``--base`` (a git revision) into bench-out/ and runs it and the working tree on the
same files, commands interleaved, the fastest of ``--repeat`` runs each, in one run of this
script; prints the working tree's time over the base's per command. A ratio within a few
per cent of 1.00 is noise on a shared machine; the per-run spread is printed too.

Commands (the sample contract, 1M generated rows by default): ``check`` of valid data,
``check`` of data where every record is invalid, ``pseudonymise``, ``pack``, ``unpack`` and
``check --side output`` of the delivered data.

    python benchmarks/revisions.py --base REV [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from _common import ENGINE_CONTRACT, OUT, ROOT, compiled, measured, sample_csv
from pack import setup

CONTRACT = ENGINE_CONTRACT


def export(rev: str) -> Path:
    """The tree of ``rev`` (its ketenx package) in bench-out/rev-<commit>/."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    tree = OUT / f"rev-{commit[:12]}"
    if not (tree / "ketenx" / "__init__.py").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "ketenx", "schemas"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return compiled(tree)


Keys = tuple[Path, Path, Path, Path]


def commands(
    data: Path, invalid: Path, work: Path, keys: Keys
) -> dict[str, Callable[[], list[str]]]:
    """Each command as a function that clears its outputs and gives its argument list."""
    secret, key, partners, identity = keys
    out_csv, delivery, inbox = work / "p.csv", work / "delivery.ketenx", work / "inbox"
    ketenx = [sys.executable, "-m", "ketenx"]
    contract = ["-c", str(CONTRACT)]

    def pseudonymise() -> list[str]:
        for p in (out_csv, out_csv.with_name("p.csv.meta.json")):
            p.unlink(missing_ok=True)
        return [
            *ketenx,
            "pseudonymise",
            str(data),
            *contract,
            "-s",
            str(secret),
            "-o",
            str(out_csv),
        ]

    def pack() -> list[str]:
        delivery.unlink(missing_ok=True)
        return [*ketenx, "pack", str(data), *contract, "-s", str(secret), "-k", str(key),
                "-p", str(partners), "-o", str(delivery)]  # fmt: skip

    def unpack() -> list[str]:
        shutil.rmtree(inbox, ignore_errors=True)
        return [*ketenx, "unpack", str(delivery), *contract, "-p", str(partners),
                "-i", str(identity), "-o", str(inbox)]  # fmt: skip

    check = [*ketenx, "check", "--no-progress", *contract]
    return {
        "check": lambda: [*check, str(data)],
        "check invalid": lambda: [*check, str(invalid)],
        "pseudonymise": pseudonymise,
        "pack": pack,
        "unpack": unpack,
        "check --side output": lambda: [*check, "--side", "output", str(inbox / "data.csv")],
    }


EXPECTED = {"check invalid": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the git revision to compare against")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trees = {"base": export(args.base), "work": ROOT}
    data = sample_csv(args.rows)
    invalid = sample_csv(args.rows, invalid_rate=1.0)
    keys = setup()
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for side, tree in trees.items():  # interleaved: base, work, base, work, …
            work = OUT / f"revisions-{side}"
            work.mkdir(parents=True, exist_ok=True)
            os.environ["PYTHONPATH"] = str(tree)
            for name, cmd in commands(data, invalid, work, keys).items():
                seconds, _, code = measured(cmd())
                if code != EXPECTED.get(name, 0):
                    sys.exit(f"{side}: {name} exited {code}")
                times.setdefault((side, name), []).append(seconds)
    print(f"working tree over {args.base} ({trees['base'].name}), {args.rows:,} rows, "
          f"fastest of {args.repeat}:")  # fmt: skip
    for name in commands(data, invalid, OUT / "revisions-work", keys):
        base, work = min(times[("base", name)]), min(times[("work", name)])
        spread = max(times[("work", name)]) / work
        print(f"  {name:<22} {work / base:5.2f}×  ({work:6.2f} s vs {base:6.2f} s; "
              f"spread of the working tree's runs {spread:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
