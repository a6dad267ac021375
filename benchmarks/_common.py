"""Helpers for the benchmarks: sample data, timing of whole processes, peak memory.

Each benchmark prints ratios against baselines measured in the same run on the same file:
absolute seconds drift between runs on a shared machine, ratios much less.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
#: The contract the engine benchmarks run: the sample contract as it was before its privacy
#: thresholds (birth dates to year-month; no k). The country-wide sample data is nearly all
#: unique on its quasi-identifiers, so the privacy gate would refuse every delivery of it (as
#: it should); what the gate costs is measured apart, by gates.py, on one municipality's data.
ENGINE_CONTRACT = ROOT / "tests" / "vectors" / "contracts" / "sample.yaml"


def compiled(tree: Path) -> Path:
    """``tree``, with its ``ketenx`` package compiled to bytecode first, as pip compiles an
    installed wheel. Where bytecode is not written on import (``PYTHONDONTWRITEBYTECODE``, as
    on the reference machine and in many CI images), every run would otherwise compile
    ketenx's modules from source: about 0.2 s of each command's start-up."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "ketenx")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return tree


_COMPILED: list[Path] = []


def _once() -> None:
    """The working tree compiled (:func:`compiled`) before the first command is timed."""
    if not _COMPILED:
        _COMPILED.append(compiled(ROOT))


def load_module(name: str, path: Path) -> ModuleType:
    """The module in ``path``, a file outside any package, loaded once under ``name``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def generator() -> ModuleType:
    """``examples/generate.py``: the sample contract's persons."""
    return load_module("ketenx_generate", ROOT / "examples" / "generate.py")


def corpus() -> ModuleType:
    """``benchmarks/corpus/generate.py``: the corpus contracts and their generators."""
    return load_module("ketenx_corpus", ROOT / "benchmarks" / "corpus" / "generate.py")


def sample_csv(
    rows: int, *, seed: int = 7, invalid_rate: float = 0.0, name: str | None = None
) -> Path:
    """Generate (once) a CSV file of ``rows`` synthetic persons in bench-out/."""
    OUT.mkdir(exist_ok=True)
    path = OUT / (name or f"persons-{rows}-{seed}-{invalid_rate}.csv")
    if not path.exists():
        gen = generator()
        tmp = path.with_suffix(".part")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            gen.write_csv(gen.iter_records(rows, seed=seed, invalid_rate=invalid_rate), fh)
        tmp.rename(path)
    return path


def run(
    cmd: list[str], *, repeat: int = 3, cwd: Path | None = None, codes: tuple[int, ...] = (0, 1)
) -> float:
    """Median wall time (s) of ``cmd`` over ``repeat`` runs (an exit code in ``codes``
    expected; any other stops the benchmark)."""
    _once()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, cwd=cwd
        )
        times.append(time.perf_counter() - start)
        if proc.returncode not in codes:
            sys.exit(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return statistics.median(times)


def paired(
    cmds: list[list[str]], *, repeat: int = 5, codes: tuple[int, ...] = (0, 1)
) -> list[float]:
    """Fastest wall time of each command, the commands run interleaved ``repeat`` times: on a
    shared, noisy machine the minimum of interleaved runs is the most stable estimate."""
    best = [float("inf")] * len(cmds)
    for _ in range(repeat):
        for i, cmd in enumerate(cmds):
            best[i] = min(best[i], run(cmd, repeat=1, codes=codes))
    return best


# Baselines: what a plain Python script needs to read (and write back) the same file.
CSV_READER = (
    "import csv,sys\nfor _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')): pass\n"
)
JSONL_READER = (
    "import json,sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n"
    "    if line.strip(): json.loads(line)\n"
)
ROUND_TRIP = """
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8') as fin, \\
     open(sys.argv[2], 'w', newline='', encoding='utf-8') as fout:
    csv.writer(fout, lineterminator='\\n').writerows(csv.reader(fin))
"""
JSONL_ROUND_TRIP = """
import json, sys
with open(sys.argv[1], encoding='utf-8') as fin, open(sys.argv[2], 'w', encoding='utf-8') as fout:
    fout.writelines(json.dumps(json.loads(line), ensure_ascii=False) + '\\n' for line in fin)
"""


def bench_secret() -> Path:
    """A pseudonymisation secret for the benchmarks, outside every data folder."""
    folder = Path.home() / ".ketenx-bench"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "bench.secret"
    if not path.exists():
        from ketenx.storage.secrets import new_secret

        new_secret(path)
    return path


def peak_rss_mib(cmd: list[str]) -> float:
    """Peak RSS (MiB) of one run of ``cmd``, measured from a fresh parent process."""
    return peak_rss(cmd)[0]


def peak_rss(cmd: list[str]) -> tuple[float, int]:
    """Peak RSS (MiB) and exit code of one run of ``cmd``, from a fresh parent process."""
    _, mib, code = measured(cmd)
    return mib, code


def measured(cmd: list[str]) -> tuple[float, float, int]:
    """Wall time (s), peak RSS (MiB) and exit code of one run of ``cmd``, from a fresh parent
    process (which times the child alone, not its own start-up)."""
    _once()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True, check=False
    )
    seconds, mib, code = [*proc.stdout.split(), "nan", "nan", "-1"][:3]
    return float(seconds), float(mib), int(code)


def peak_tree_mib(cmd: list[str], interval: float = 0.01) -> float:
    """Peak memory (MiB) of ``cmd`` together with its child processes (ketenx's forked
    helpers): the sum of their PSS (shared pages counted once, split between the processes
    that share them), sampled every ``interval`` seconds from /proc. Linux only."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    while proc.poll() is None:
        total = sum(_pss_kib(pid) for pid in [proc.pid, *_children(proc.pid)])
        peak = max(peak, total / 1024)
        time.sleep(interval)
    return peak


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


_PEAK = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc.returncode)
"""

PY = sys.executable
KETENX = [PY, "-m", "ketenx"]
ENV = dict(os.environ)
