"""The CI recipes shipped in the repository run as a runner would run them.

GitHub runs a composite action's `run:` with `bash --noprofile --norc -eo pipefail`; GitLab
runs each `script:` line in a shell that stops at the first failing command. The scripts are
run here in exactly that way, with a rejected export, and must write every report first and
then end with ketenx's exit code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import GOOD_ROWS, ROOT, SAMPLE_CONTRACT, csv_text

ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "ci" / "github-action.sh"
GITLAB = ROOT / "ci" / "gitlab-ketenx.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
SARIF_SCHEMA = ROOT.parent / "shared" / "third-party" / "sarif" / "sarif-schema-2.1.0.json"
PLANTED = "111222334"  # fails the 11-proef; must never appear in any report
BAD_ROW = GOOD_ROWS[0].replace("111222333", PLANTED)


def _env(tmp_path: Path, **inputs: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_", "KETENX_"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CI"] = "true"
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    env["GITHUB_OUTPUT"] = str(tmp_path / "github-output")
    env["INPUT_INSTALL"] = "none"  # ketenx of this checkout is on PATH already
    env["INPUT_CONTRACT"] = str(SAMPLE_CONTRACT)
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return env


def _action(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(SCRIPT)],
        cwd=tmp_path,
        env=_env(tmp_path, **inputs),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "github-output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "good.csv").write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    return folder


def test_action_inputs_match_the_script() -> None:
    action = yaml.safe_load(ACTION.read_text())
    step = action["runs"]["steps"][0]
    assert action["runs"]["using"] == "composite"
    assert step["shell"] == "bash" and "ci/github-action.sh" in step["run"]
    env_names = {name.removeprefix("INPUT_").lower().replace("_", "-") for name in step["env"]}
    assert env_names == set(action["inputs"])
    script = SCRIPT.read_text()
    for name in step["env"]:
        assert name in script, name
    assert os.access(SCRIPT, os.X_OK)


def test_rejected_export_writes_every_report_then_fails_with_1(
    tmp_path: Path, exports: Path
) -> None:
    (exports / "bad.csv").write_text(csv_text(BAD_ROW), encoding="utf-8")
    done = _action(tmp_path, files="exports/*.csv", formats="github sarif junit json summary")
    assert done.returncode == 1, done.stdout + done.stderr
    sarif = json.loads((tmp_path / "ketenx.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["nl-bsn"]
    assert (tmp_path / "ketenx-junit.xml").is_file()
    assert json.loads((tmp_path / "ketenx-report.json").read_text())["valid"] is False
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### ketenx check") and "REJECTED" in summary
    assert "::error" in done.stdout and "bad.csv" in done.stdout
    assert _outputs(tmp_path) == {"exit-code": "1", "sarif-file": "ketenx.sarif"}
    written = [p.read_text() for p in tmp_path.iterdir() if p.is_file()]
    for text in [done.stdout, done.stderr, *written]:
        assert PLANTED not in text


def test_sarif_of_the_action_is_valid_sarif(tmp_path: Path, exports: Path) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the OASIS SARIF schema is not at {SARIF_SCHEMA}")
    from jsonschema import Draft7Validator

    (exports / "bad.csv").write_text(csv_text(BAD_ROW), encoding="utf-8")
    assert _action(tmp_path, files="exports/bad.csv", formats="sarif").returncode == 1
    schema = json.loads(SARIF_SCHEMA.read_text())
    Draft7Validator(schema).validate(json.loads((tmp_path / "ketenx.sarif").read_text()))


def test_valid_export_passes(tmp_path: Path, exports: Path) -> None:
    done = _action(tmp_path, files="exports/**/*.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "ketenx.sarif").read_text())["runs"][0]["results"] == []
    assert _outputs(tmp_path)["exit-code"] == "0"


def test_fail_on_never_reports_but_passes(tmp_path: Path, exports: Path) -> None:
    (exports / "bad.csv").write_text(csv_text(BAD_ROW), encoding="utf-8")
    done = _action(tmp_path, files="exports/bad.csv", **{"fail_on": "never"})
    assert done.returncode == 0
    assert "::warning" in done.stdout
    assert _outputs(tmp_path)["exit-code"] == "1"
    assert (tmp_path / "ketenx.sarif").is_file()


@pytest.mark.parametrize(
    ("inputs", "code"),
    [
        ({"files": "nothing/*.csv"}, 2),  # a pattern that matches nothing fails closed
        ({"files": "exports/good.csv", "formats": "xml"}, 2),
        ({"files": "exports/good.csv", "fail_on": "sometimes"}, 2),
        ({"files": ""}, 2),
        ({"files": "exports/good.csv", "contract": "missing.yaml"}, 3),
    ],
)
def test_bad_inputs_fail_the_step(
    tmp_path: Path, exports: Path, inputs: dict[str, str], code: int
) -> None:
    done = _action(tmp_path, **inputs)
    assert done.returncode == code, done.stdout + done.stderr
    assert "::error" in done.stdout or "error" in done.stderr


def _gitlab_job() -> dict[str, Any]:
    job: dict[str, Any] = yaml.safe_load(GITLAB.read_text())[".ketenx-check"]
    return job


def test_gitlab_template_installs_without_git() -> None:
    job = _gitlab_job()
    assert job["image"].startswith("python:") and "slim" in job["image"]
    install = " ".join(job["before_script"])
    assert "git+" not in install and "$KETENX_PACKAGE" in install
    assert job["variables"]["KETENX_PACKAGE"].endswith(".tar.gz")
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] in job["artifacts"]["paths"]


def test_gitlab_script_writes_junit_then_fails(tmp_path: Path, exports: Path) -> None:
    (exports / "bad.csv").write_text(csv_text(BAD_ROW), encoding="utf-8")
    job = _gitlab_job()
    env = _env(tmp_path)
    env.update({k: v for k, v in job["variables"].items() if not k.startswith("KETENX_P")})
    env["KETENX_CONTRACT"] = str(SAMPLE_CONTRACT)
    done = subprocess.run(
        ["bash", "-e", "-c", "\n".join(job["script"])],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    junit = (tmp_path / job["artifacts"]["reports"]["junit"]).read_text()
    assert "<failure" in junit and PLANTED not in junit


def test_pre_commit_default_files_pass_over_config_json() -> None:
    (hook,) = [h for h in yaml.safe_load(HOOKS.read_text()) if h["id"] == "ketenx-check"]
    files = re.compile(hook["files"])
    for name in ["exports/a.csv", "data/x.jsonl", "sub/export/y.json", "deliveries/z.ndjson"]:
        assert files.search(name), name
    for name in ["renovate.json", "contract.json", ".github/x.json", "package.json", "a.csv"]:
        assert not files.search(name), name


def test_pre_commit_lint_hook_takes_contract_folders_only() -> None:
    (hook,) = [h for h in yaml.safe_load(HOOKS.read_text()) if h["id"] == "ketenx-contract-lint"]
    assert hook["entry"] == "ketenx contract lint"
    files = re.compile(hook["files"])
    for name in ["contracts/ggd.yaml", "x/contract/a.yml", "contracts/b.json"]:
        assert files.search(name), name
    for name in ["exports/a.json", "renovate.json", "contracts/old/x.yaml", "ggd.yaml"]:
        assert not files.search(name), name
