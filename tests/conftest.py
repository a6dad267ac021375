"""Fixtures and the Hypothesis profiles; shared helpers live in ``tests/helpers.py``.

Hypothesis profiles (CONTRIBUTING.md, "Tests"):

``dev``
    The default for a local run: few examples per property, so the inner loop stays quick.
``ci``
    Chosen when ``CI`` is set (``.ci/run`` sets ``CI=true``): more examples, the failing
    example printed as a reproducible blob, no example database carried between runs.

``--hypothesis-profile=NAME`` (or ``HYPOTHESIS_PROFILE=NAME``) picks one explicitly. No
profile has a deadline: a test never fails because a shared machine was slow. A test that
sets ``max_examples`` itself keeps its own number under every profile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import SAMPLE_CONTRACT, Result, invoke

_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=25, **_UNTIMED)
settings.register_profile("ci", max_examples=150, print_blob=True, database=None, **_UNTIMED)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE", "").strip()
    if chosen:
        return chosen
    ci = os.environ.get("CI", "").strip().lower()
    return "ci" if ci not in {"", "0", "false", "no", "off"} else "dev"


settings.load_profile(_profile())

_PROPERTY = Path(__file__).resolve().parent / "property"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests below tests/property/ carry the ``property`` marker (``make test-fast`` skips them)."""
    for item in items:
        if _PROPERTY in Path(item.path).parents:
            item.add_marker(pytest.mark.property)


@pytest.fixture
def contract_path() -> Path:
    return SAMPLE_CONTRACT


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a data file into tmp_path: ``write("x.csv", text_or_bytes)``."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return _write


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``ketenx`` in-process: ``run("check", ..., stdin=b"...")`` → Result."""

    def _run(
        *args: str | Path, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return invoke(monkeypatch, *args, stdin=stdin, env=env)

    return _run


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A data folder and a secrets folder (0700, apart from the data), as a user keeps them."""
    data, secrets = tmp_path / "data", tmp_path / "secrets"
    data.mkdir()
    secrets.mkdir(mode=0o700)
    return data, secrets


@pytest.fixture
def secret(run: Callable[..., Result], dirs: tuple[Path, Path]) -> Path:
    """A new pseudonymisation secret in the secrets folder, made by ``ketenx keys new-secret``."""
    path = dirs[1] / "s.secret"
    result = run("keys", "new-secret", path)
    assert result.code == 0, result.err
    assert result.out.strip().startswith("kx1k_")
    return path
