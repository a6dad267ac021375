"""Every command that reads CSV through the engine gives what the precise path gives.

``pseudonymise`` (input check, treatments, output check, privacy gates) and ``check --side
output`` run on each CSV corpus contract twice: with the columnar engine, and with
``Checker.iter_csv`` forced onto the precise path. Exit codes, output bytes and reports must
be the same, for valid data and for data in which every record has three errors; the pieces
are cut small so that the engine's batches, its hand-over and the precise reader's take-up
mid-file all occur.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ketenx.records.check import Checker
from ketenx.records.engine import csvsource

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "benchmarks"))  # for _common; never shadows another module
from _common import corpus  # noqa: E402

gen = corpus()
ROWS = 300
CSV = [name for name, spec in gen.CONTRACTS.items() if "csv" in spec.formats]


@pytest.fixture
def work(run: Any, tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "data").mkdir()
    (tmp_path / "keys").mkdir(mode=0o700)
    assert run("keys", "new-secret", tmp_path / "keys" / "s.secret").code == 0
    return tmp_path / "data", tmp_path / "keys" / "s.secret"


def both(monkeypatch: pytest.MonkeyPatch, step: Any) -> tuple[Any, Any]:
    """``step()`` on the engine, then on the precise path only."""
    monkeypatch.setattr(csvsource, "PIECE_BYTES", 2048)
    fast = step()
    engine_iter_csv = Checker.iter_csv

    def precise(self: Checker, *args: Any, **kwargs: Any) -> Any:
        return engine_iter_csv(self, *args, **{**kwargs, "precise": True})

    with monkeypatch.context() as m:
        m.setattr(Checker, "iter_csv", precise)
        slow = step()
    return fast, slow


@pytest.mark.parametrize("invalid", [False, True], ids=["valid", "invalid"])
@pytest.mark.parametrize("name", CSV)
def test_pseudonymise_and_the_output_check_are_the_same_on_both_paths(
    run: Any, work: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str, invalid: bool
) -> None:
    folder, secret = work
    contract = gen.engine_contract_path(name, folder.parent)
    data = folder / "in.csv"
    gen.generate(name, ROWS, path=data, fmt="csv", invalid_rate=1.0 if invalid else 0.0)

    def step() -> tuple[Any, ...]:
        out = folder / "out.csv"
        for p in (out, Path(f"{out}.meta.json")):
            p.unlink(missing_ok=True)
        result = run("pseudonymise", data, "-c", contract, "-s", secret, "-o", out, "--jobs", "1")
        written = out.read_bytes() if out.exists() else b""
        checked = run(
            "check", out if out.exists() else data, "-c", contract, "--format", "json",
            "--no-progress", *(["--side", "output"] if out.exists() else []),
        )  # fmt: skip
        report = json.loads(checked.out) if checked.out.strip() else {}
        for key in ("duration", "started", "finished"):
            report.pop(key, None)
        return result.code, result.err, written, checked.code, report

    fast, slow = both(monkeypatch, step)
    assert fast == slow
    assert fast[0] == (1 if invalid else 0)
