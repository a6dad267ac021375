"""docs/library.md is run: its ```python blocks, in order, in one namespace, in a folder
holding the files the page names (tests/api/agencies.py makes them); so is the README's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.api.agencies import make_agencies
from tests.helpers import ROOT

LIBRARY = ROOT / "docs" / "library.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(LIBRARY.read_text(encoding="utf-8"))


def test_the_page_has_examples() -> None:
    assert len(_blocks()) >= 9


def test_the_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_agencies(tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "library_md"}
    for number, block in enumerate(_blocks(), 1):
        code = compile(block, f"docs/library.md, python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples
    assert (tmp_path / "inbox" / "RECEIPT.txt").exists()


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    make_agencies(tmp_path)
    monkeypatch.chdir(tmp_path)
    printed: list[tuple[object, ...]] = []
    exec(compile(block, "README.md", "exec"), {"print": lambda *a: printed.append(a)})  # noqa: S102
    assert printed == [(True, 3, 0)]


def test_the_whole_exchange_takes_about_a_dozen_statements() -> None:
    statements = ast.parse(_blocks()[0]).body
    assert len(statements) <= 14, [ast.unparse(s)[:40] for s in statements]
