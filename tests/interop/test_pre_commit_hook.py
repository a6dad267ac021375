"""The `ketenx-check` hook works when the pre-commit framework installs it from this repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.interop, pytest.mark.slow]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_hook_from_this_repository(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: pre-commit installs hooks from a git repository")
    # A clone of the committed state of this repository is what a consumer's `repo:` names.
    source = tmp_path / "ketenx.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(source)], check=True)
    rev = git("rev-parse", "HEAD", cwd=source).strip()

    consumer = tmp_path / "consumer"
    (consumer / "exports").mkdir(parents=True)
    git("init", "-q", cwd=consumer)
    shutil.copy(SAMPLE_CONTRACT, consumer / "contract.yaml")
    (consumer / "exports" / "good.csv").write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    (consumer / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {source}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: ketenx-check\n"
        "        args: [--contract, contract.yaml]\n"
        "        files: ^exports/.*\\.(csv|jsonl|ndjson|json)$\n"
    )
    (consumer / "exports" / "README.md").write_text("not data\n", encoding="utf-8")
    git("add", "-A", cwd=consumer)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "CI": "true"}
    env.pop("VIRTUAL_ENV", None)

    def hook() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [pre_commit, "run", "--all-files", "--color", "never"],
            cwd=consumer,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    ok = hook()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ketenx check" in ok.stdout and "Passed" in ok.stdout

    bad = GOOD_ROWS[0].replace("111222333", "111222334")
    (consumer / "exports" / "bad.csv").write_text(csv_text(bad), encoding="utf-8")
    git("add", "-A", cwd=consumer)
    failed = hook()
    assert failed.returncode == 1
    assert "record 1, field /bsn: rule nl-bsn" in failed.stdout
    assert "111222334" not in failed.stdout

    # One run covers every file (require_serial): one report, with --output too.
    for i in range(8):
        (consumer / "exports" / f"more{i}.csv").write_text(csv_text(*GOOD_ROWS), "utf-8")
    config = consumer / ".pre-commit-config.yaml"
    config.write_text(
        config.read_text().replace(
            "args: [--contract, contract.yaml]",
            "args: [--contract, contract.yaml, --format, json, --output, report.json]",
        )
    )
    git("add", "-A", cwd=consumer)
    reported = hook()
    assert reported.returncode == 1
    report = json.loads((consumer / "report.json").read_text())
    assert report["valid"] is False
    assert len(report["files"]) == 10  # good, bad and the eight more: all in one report
