"""Contracts written as JSON, found by the outside-in audit of 2026-12-02: a 5000-digit
integer and a lone surrogate escape are contract errors (exit 3), never a traceback; a
duplicate key before a syntax error still says which; a byte order mark is read, as in YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import SAMPLE_CONTRACT


def _json_contract(tmp_path: Path, prefix: str) -> Path:
    text = json.dumps(yaml.safe_load(SAMPLE_CONTRACT.read_text()), default=str)
    path = tmp_path / "c.json"
    path.write_text(text.replace("{", "{" + prefix, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("verb", ["lint", "digest"])
def test_json_contract_with_a_5000_digit_integer_is_a_contract_error(run, tmp_path, verb):
    result = run("contract", verb, _json_contract(tmp_path, '"x": ' + "9" * 5000 + ","))
    assert result.code == 3, result.err[-300:]


@pytest.mark.parametrize("verb", ["lint", "digest"])
def test_json_contract_with_a_lone_surrogate_is_a_contract_error(run, tmp_path, verb):
    path = _json_contract(tmp_path, "")
    path.write_text(path.read_text().replace('"voornamen"', '"voor\\udc80namen"'))
    result = run("contract", verb, path)
    assert result.code == 3, result.err[-300:]


def test_json_contract_duplicate_key_before_a_syntax_error_still_says_where(run, tmp_path):
    result = run("contract", "lint", _json_contract(tmp_path, '"a": {"k": 1, "k": 2}, ]'))
    assert result.code == 3
    assert "/a/k" in result.err or "the key `k` twice" in result.err, result.err


def test_json_contract_with_a_bom_is_read_as_yaml_and_data_json_are(run, tmp_path):
    path = _json_contract(tmp_path, "")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert run("contract", "lint", path).code == 0


def test_contract_init_never_writes_over_a_dangling_link(run, tmp_path):
    export = tmp_path / "e.csv"
    export.write_text("a,b\n1,2\n", encoding="utf-8")
    link = tmp_path / "draft.yaml"
    link.symlink_to(tmp_path / "nowhere.yaml")
    result = run("contract", "init", "--from", export, "-o", link)
    assert result.code == 3 and "already exists" in result.err
    assert link.is_symlink() and not (tmp_path / "nowhere.yaml").exists()
