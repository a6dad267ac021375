"""The `ketenx-check` hook works when the pre-commit framework installs it from this repository.

The repository the consumer's `repo:` names is a one-commit copy of the working tree (tracked
files as they are now, and new files git does not ignore), so the test checks the change being
made, not the last commit. It skips, with the reason, when no package index is reachable:
pre-commit installs the hook's dependencies from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GOOD_ROWS, ROOT, SAMPLE_CONTRACT, csv_text, package_index_unreachable


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def working_tree_repository(root: Path, target: Path) -> Path:
    """A git repository whose one commit holds the working tree of ``root`` as it is now."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=root)
    for name in sorted(set(filter(None, listed.split("\0")))):
        source, copy = root / name, target / name
        if not source.is_symlink() and not source.is_file():
            continue  # deleted in the working tree, or a submodule
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            copy.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, copy)
    git("init", "-q", cwd=target)
    git("add", "-A", cwd=target)
    git(
        "-c", "user.name=ketenx tests", "-c", "user.email=tests@ketenx.invalid",
        "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "working tree",
        cwd=target,
    )  # fmt: skip
    return target


def test_the_hook_repository_is_the_working_tree(tmp_path: Path) -> None:
    """Changed, new and deleted files as the working tree has them; ignored files left out."""
    root = tmp_path / "work"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / ".gitignore").write_text("*.secret\n")
    for name in ("kept.txt", "changed.txt", "deleted.txt"):
        (root / name).write_text("committed\n")
    (root / "linked").symlink_to("kept.txt")
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "c", cwd=root)
    (root / "changed.txt").write_text("changed, not committed\n")
    (root / "deleted.txt").unlink()
    (root / "new.txt").write_text("new\n")
    (root / "key.secret").write_text("ignored\n")

    copy = working_tree_repository(root, tmp_path / "copy")
    committed = set(git("ls-tree", "-r", "--name-only", "HEAD", cwd=copy).split())
    assert committed == {".gitignore", "kept.txt", "changed.txt", "linked", "new.txt"}
    assert git("show", "HEAD:changed.txt", cwd=copy) == "changed, not committed\n"
    assert (copy / "linked").is_symlink() and os.readlink(copy / "linked") == "kept.txt"
    assert git("status", "--porcelain", cwd=copy) == ""


@pytest.mark.interop
@pytest.mark.slow
def test_hook_from_this_repository(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    if not Path(pre_commit).exists():
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: pre-commit installs hooks from a git repository")
    unreachable = package_index_unreachable()
    if unreachable:
        pytest.skip(f"pre-commit installs the hook from a package index: {unreachable}")
    source = working_tree_repository(ROOT, tmp_path / "ketenx-src")
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
