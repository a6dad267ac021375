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


def test_lint_explain_says_per_field_how_check_reads_it(tmp_path: Path, run: Run) -> None:
    """`contract lint --explain`: one line per schema property with its path and reason
    (ketenx.records.engine.explain); a pattern RE2 cannot carry exactly is decided per value."""
    from tests.helpers import contract_document

    doc = contract_document(
        "explain",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "naam": {"type": "string", "pattern": "^\\p{L}+$"},
                "n": {"type": "integer", "minimum": 0},
            },
        },
        {"code": {"treatment": "keep"}, "naam": {"treatment": "drop"}, "n": {"treatment": "keep"}},
    )
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = run("contract", "lint", path, "--explain")
    assert result.code == 0
    lines = {line.split()[0]: line.split()[1] for line in result.out.splitlines()[1:]}
    assert lines == {"code": "columnar", "naam": "per-value", "n": "columnar"}
    plain = run("contract", "lint", path)
    assert plain.out.strip() == f"{path}: OK"
