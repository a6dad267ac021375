"""Every figure over the whole corpus (issue 10 §4): one row per contract of benchmarks/corpus/.

For each corpus contract, in one run, with its baselines measured in the same run on the same
generated file (commands interleaved, the fastest of ``--repeat`` runs each):

  * ``ketenx check`` of valid data over a plain ``csv.reader`` pass (JSON Lines contracts: over
    ``json.loads`` per line); target ≤ 1.5× on a flat contract, ≤ 3× on any;
  * ``ketenx pseudonymise`` (default ``--jobs``, input check included) over a ``csv.reader`` +
    ``csv.writer`` round trip (JSON Lines: ``json.loads`` + ``json.dumps``); target ≤ 1.5× on a
    flat contract (the issue sets none for nested ones; 3× is shown);
  * ``ketenx check`` of a file where every record has three errors over the valid file;
    target ≤ 1.5×;
  * with ``--jsonl``, check of the same records as JSON Lines over CSV (flat contracts);
    target ≤ 1.5×;
  * peak memory (``ru_maxrss`` of a child process, measured in the same runs) of both checks
    and of pseudonymise (the largest of its processes); target < 150 MB (with
    ``--big-rows``, also of the invalid check at that size: flat from 1M to 5M rows);
  * the same check ratio net of start-up: ``ketenx check`` of the file's first record and
    ``python -c pass`` are timed too and subtracted (at 200,000 rows ketenx's imports and
    contract lint weigh as much as the check itself; the issue's targets are at 1M rows);
  * how many fields take the columnar engine's kernels, are decided per distinct value, take
    a native validator (jsonschema-rs), or go through the per-record reference
    (``ketenx.records.engine.explain``).

A run whose exit code is not the expected one (0 for valid data, 1 for invalid) is marked: a
check that rejects valid data, or a pseudonymise that refuses it, is a wrong answer, and its
time is not comparable. The table ends with the contracts that miss a target.

    python benchmarks/corpus_bench.py [--rows 1000000] [--big-rows 0] [--repeat 3]
        [--only NAME,NAME] [--jsonl] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    CSV_READER,
    JSONL_READER,
    JSONL_ROUND_TRIP,
    KETENX,
    OUT,
    PY,
    ROUND_TRIP,
    bench_secret,
    corpus,
    measured,
    peak_rss_mib,
)

gen = corpus()
TARGET_MEMORY = 150.0


@dataclass
class Row:
    name: str
    fmt: str
    columns: int
    nested: bool
    check: float = 0.0
    pseudonymise: float = 0.0
    invalid: float = 0.0
    memory: list[float] = field(default_factory=list)
    memory_big: float | None = None
    jsonl: float | None = None  # check of the same records as JSON Lines over CSV
    net: float = 0.0  # check over csv.reader, both without their start-up
    paths: str = ""  # fields by engine path: columnar / per value / precise
    wrong: list[str] = field(default_factory=list)

    @property
    def check_target(self) -> float:
        return 3.0 if self.nested else 1.5

    @property
    def misses(self) -> list[str]:
        out = list(self.wrong)
        if self.check > self.check_target:
            out.append(f"check {self.check:.1f}x > {self.check_target}x")
        if self.pseudonymise > self.check_target:
            out.append(f"pseudonymise {self.pseudonymise:.1f}x > {self.check_target}x")
        if self.invalid > 1.5:
            out.append(f"invalid {self.invalid:.2f}x > 1.5x")
        if max(self.memory, default=0) >= TARGET_MEMORY:
            out.append(f"memory {max(self.memory):.0f} MiB")
        if self.jsonl is not None and self.jsonl > 1.5:
            out.append(f"JSON Lines {self.jsonl:.2f}x of CSV > 1.5x")
        if self.memory_big is not None and self.memory_big >= TARGET_MEMORY:
            out.append(f"memory at --big-rows {self.memory_big:.0f} MiB")
        return out


def data(name: str, rows: int, fmt: str, invalid: bool) -> Path:
    """The generated file (made once, in bench-out/corpus/)."""
    folder = OUT / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{rows}{'-invalid' if invalid else ''}.{fmt}"
    if not path.exists():
        gen.generate(name, rows, path=path, fmt=fmt, invalid_rate=1.0 if invalid else 0.0)
    return path


def measure(name: str, rows: int, repeat: int, big_rows: int, jsonl: bool = False) -> Row:
    spec = gen.CONTRACTS[name]
    fmt = spec.formats[0]  # CSV for every flat contract, JSON Lines for the nested one
    row = Row(name, fmt, len(spec.columns), nested=fmt == "jsonl")
    (OUT / "corpus").mkdir(parents=True, exist_ok=True)
    contract = str(gen.engine_contract_path(name, OUT / "corpus"))  # the engine, not the gate
    good, bad = data(name, rows, fmt, False), data(name, rows, fmt, True)
    first = OUT / "corpus" / f"{name}-first.{fmt}"
    with open(good, "rb") as fin:
        first.write_bytes(b"".join(fin.readline() for _ in range(1 if row.nested else 2)))
    row.paths = engine_paths(contract)
    out = OUT / "corpus" / f"{name}-out.{fmt}"
    reader, round_trip = (
        (JSONL_READER, JSONL_ROUND_TRIP) if row.nested else (CSV_READER, ROUND_TRIP)
    )
    check = [*KETENX, "check", "--contract", contract, "--no-progress", "--format", "json"]

    def pseudonymise() -> list[str]:
        for p in (out, Path(f"{out}.meta.json")):
            p.unlink(missing_ok=True)
        return [*KETENX, "pseudonymise", str(good), "-c", contract, "-s", str(bench_secret()),
                "-o", str(out)]  # fmt: skip

    runs = {
        "python": ([PY, "-c", "pass"], 0, ""),
        "start-up": ([*check, str(first)], 0, "check rejects valid data"),
        "read": ([PY, "-c", reader, str(good)], 0, ""),
        "check": ([*check, str(good)], 0, "check rejects valid data"),
        "invalid": ([*check, str(bad)], 1, "check accepts invalid data"),
        "round trip": ([PY, "-c", round_trip, str(good), str(out) + ".rt"], 0, ""),
        "pseudonymise": (pseudonymise(), 0, "pseudonymise refuses valid data"),
    }
    if jsonl and not row.nested:  # the same records as JSON Lines
        twin = data(name, rows, "jsonl", False)
        runs["check jsonl"] = ([*check, str(twin)], 0, "check rejects valid JSON Lines")
    best = dict.fromkeys(runs, float("inf"))
    peak = dict.fromkeys(runs, 0.0)
    for _ in range(repeat):  # interleaved, the fastest of each (see _common.paired)
        for what, (cmd, want, wrong) in runs.items():
            if what == "pseudonymise":
                cmd = pseudonymise()  # removes the previous output first
            seconds, mib, code = measured(cmd)
            best[what], peak[what] = min(best[what], seconds), max(peak[what], mib)
            if code != want and wrong and f"{wrong} (exit {code})" not in row.wrong:
                row.wrong.append(f"{wrong} (exit {code})")
    row.check, row.invalid = best["check"] / best["read"], best["invalid"] / best["check"]
    row.net = (best["check"] - best["start-up"]) / max(best["read"] - best["python"], 1e-3)
    row.pseudonymise = best["pseudonymise"] / best["round trip"]
    row.memory = [peak["check"], peak["invalid"], peak["pseudonymise"]]
    if "check jsonl" in best:
        row.jsonl = best["check jsonl"] / best["check"]
    if big_rows:
        big = data(name, big_rows, fmt, True)
        row.memory_big = peak_rss_mib([*check, str(big)])
    for p in (out, Path(f"{out}.meta.json"), Path(str(out) + ".rt")):
        p.unlink(missing_ok=True)
    return row


def engine_paths(contract: str) -> str:
    """Fields by the engine's path: columnar / per distinct value / native / per record."""
    from ketenx.contract.model import load_contract
    from ketenx.records.engine import explain

    paths = [p.path for p in explain(load_contract(contract).schema)]
    return "/".join(str(paths.count(k)) for k in ("columnar", "per-value", "native", "precise"))


def render(rows: list[Row], n: int, markdown: bool) -> str:
    head = [
        "contract", "shape", "fields col./value/native/record", "check ×", "target",
        "net of start-up", "pseudonymise ×", "target",
        "invalid/valid", "target", "JSONL/CSV", "peak MiB (check ok/bad, pseud.)", "wrong answers",
    ]  # fmt: skip
    body = []
    for r in rows:
        shape = f"{r.columns} col. {'JSONL nested' if r.nested else 'CSV flat'}"
        mem = " / ".join(f"{m:.0f}" for m in r.memory)
        if r.memory_big is not None:
            mem += f" (big: {r.memory_big:.0f})"
        body.append([
            r.name, shape, r.paths, f"{r.check:.2f}×", f"≤ {r.check_target}×", f"{r.net:.2f}×",
            f"{r.pseudonymise:.2f}×",
            f"≤ {r.check_target}×", f"{r.invalid:.2f}×", "≤ 1.5×",
            "—" if r.jsonl is None else f"{r.jsonl:.2f}× (≤ 1.5×)", mem,
            "; ".join(r.wrong) or "none",
        ])  # fmt: skip
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
    else:
        widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in
                 [head, *body]]  # fmt: skip
    checks = [r.check for r in rows]
    nets = [r.net for r in rows]
    pseud = [r.pseudonymise for r in rows]
    lines.append("")
    lines.append(
        f"{n:,} rows per contract; median check {statistics.median(checks):.1f}× "
        f"(range {min(checks):.1f}–{max(checks):.1f}×; net of start-up "
        f"{statistics.median(nets):.1f}×, range {min(nets):.1f}–{max(nets):.1f}×), "
        "median pseudonymise "
        f"{statistics.median(pseud):.1f}× (range {min(pseud):.1f}–{max(pseud):.1f}×)"
    )
    missing = [r for r in rows if r.misses]
    lines.append(f"contracts that miss a target: {len(missing)} of {len(rows)}")
    lines += [f"  {r.name}: {', '.join(r.misses)}" for r in missing]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=0, help="also peak memory at this size")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each")
    parser.add_argument("--only", default="", help="comma-separated contract names")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--jsonl", action="store_true", help="also check flat contracts' data as JSON Lines"
    )
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(gen.CONTRACTS)
    unknown = sorted(set(names) - set(gen.CONTRACTS))
    if unknown:
        parser.error(f"unknown contracts: {', '.join(unknown)}")
    rows = []
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        rows.append(measure(name, args.rows, args.repeat, args.big_rows, args.jsonl))
        print(
            render(rows[-1:], args.rows, args.markdown).splitlines()[2 if args.markdown else 1],
            file=sys.stderr,
        )
    print(render(rows, args.rows, args.markdown))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("CI", "1")
    main()
