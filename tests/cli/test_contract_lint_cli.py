"""`ketenx contract lint` over several files (as the pre-commit hook passes them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from tests.helpers import SAMPLE_CONTRACT, Result

Run = Callable[..., Result]


def _bad(tmp_path: Path) -> Path:
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    doc["purpose"] = " "
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_every_contract_is_linted(tmp_path: Path, run: Run) -> None:
    bad = _bad(tmp_path)
    done = run("contract", "lint", SAMPLE_CONTRACT, bad)
    assert done.code == 1
    assert f"{SAMPLE_CONTRACT}: OK" in done.out
    assert f"{bad}: REJECTED: 1 error" in done.err


def test_all_good_is_ok(run: Run) -> None:
    done = run("contract", "lint", SAMPLE_CONTRACT, SAMPLE_CONTRACT)
    assert done.code == 0 and done.out.count(": OK") == 2


def test_an_unreadable_contract_is_exit_3_after_the_others(tmp_path: Path, run: Run) -> None:
    bad = _bad(tmp_path)
    done = run("contract", "lint", tmp_path / "missing.yaml", bad, SAMPLE_CONTRACT)
    assert done.code == 3
    assert "missing.yaml" in done.err and f"{bad}: REJECTED" in done.err
    assert f"{SAMPLE_CONTRACT}: OK" in done.out
