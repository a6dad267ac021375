"""Regressions found in review: privacy of odd inputs, tracebacks, fail-closed corners."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.helpers import GOOD_ROWS, HEADER, SAMPLE_CONTRACT, csv_text


@pytest.fixture
def secret(run, tmp_path) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    assert run("keys", "new-secret", keys / "s.secret").code == 0
    return keys / "s.secret"


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_headerless_csv_names_no_cell(run, data):
    path = data / "nohdr.csv"
    path.write_text("\n".join(GOOD_ROWS) + "\n", encoding="utf-8")
    for fmt in ("text", "json", "sarif"):
        result = run("check", path, "-c", SAMPLE_CONTRACT, "-f", fmt)
        assert result.code == 1
        for value in ("111222333", "Zoë", "Jansen", "2015-03-02"):
            assert value not in result.out + result.err
    assert "rule header" in run("check", path, "-c", SAMPLE_CONTRACT).out


PASTED_PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGEHEIM\n-----END PRIVATE KEY-----"
)


def test_partners_lint_never_echoes_a_pasted_key(run, tmp_path):
    doc = {
        "ketenx": 1,
        "partners": [
            {
                "name": "X",
                "oin": "00000001001234567000",
                "signing_keys": [
                    {
                        "public_key": PASTED_PRIVATE_KEY,
                        "public_key_file": "x.pub",
                        "valid_from": "2026-01-01",
                    }
                ],
                "age_recipients": ["AGE-SECRET-KEY-1QQQQQQQQQQ"],
            }
        ],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run("partners", "lint", path)
    assert result.code == 1
    assert (
        "GEHEIM" not in result.err.upper().replace("EHEIM", "GEHEIM") or "MC4CAQ" not in result.err
    )
    assert "MC4CAQ" not in result.err and "AGE-SECRET-KEY" not in result.err


def test_lone_surrogate_is_rejected_at_check(run, data):
    path = data / "s.jsonl"
    path.write_text('{"bsn": "111222333", "gemeente": "Rot\\ud800dam"}\n')
    result = run("check", path, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1
    assert "encoding" in json.loads(result.out)["error_counts"]


def test_huge_integer_cell_is_a_type_error(run, data):
    row = GOOD_ROWS[0].replace(",12,", "," + "9" * 5000 + ",")
    path = data / "big.csv"
    path.write_text(csv_text(row), encoding="utf-8")
    result = run("check", path, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1 and "Traceback" not in result.err
    assert json.loads(result.out)["error_counts"] == {"type": 1}


@pytest.mark.parametrize("name", ["deep.jsonl", "deep.json"])
def test_deeply_nested_json(run, data, name):
    nested = "[" * 100_000 + "]" * 100_000
    body = '{"bsn": ' + nested + "}"
    (data / name).write_text(body if name.endswith("jsonl") else "[" + body + "]")
    result = run("check", data / name, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1 and "Traceback" not in result.err
    assert "json-syntax" in json.loads(result.out)["error_counts"]


def test_output_that_is_a_directory(run, data, secret):
    src = data / "in.csv"
    src.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    (data / "adir").mkdir()
    assert (
        run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", data / "adir").code == 3
    )
    assert run("check", src, "-c", SAMPLE_CONTRACT, "-o", data / "adir").code == 3


def test_usage_errors(run, data, secret, tmp_path):
    src = data / "in.csv"
    src.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    out = data / "o.csv"
    assert (
        run(
            "pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--delimiter", "ab"
        ).code
        == 2
    )
    assert run("check", src, "-c", SAMPLE_CONTRACT, "--delimiter", '"').code == 2
    os.chdir(tmp_path)
    assert run("keys", "new-signing", "", "--unsafe-no-passphrase").code == 2
    assert run("keys", "new-identity", "").code == 2


def test_skip_check_does_not_pass_a_file_missing_a_required_column(run, data, secret):
    header = HEADER.replace(",huisnummer", "")
    rows = [",".join(c for i, c in enumerate(GOOD_ROWS[0].split(",")) if i != 6)]
    src = data / "in.csv"
    src.write_text(csv_text(*rows, header=header), encoding="utf-8")
    out = data / "o.csv"
    result = run(
        "pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--unsafe-skip-check"
    )
    assert result.code == 1
    assert not out.exists()


def test_postcode_forms_accepted_by_check_generalise(run, data, secret):
    src = data / "in.csv"
    src.write_text(csv_text(GOOD_ROWS[0].replace("1234 AB", "NL-3058 ad")), encoding="utf-8")
    assert run("check", src, "-c", SAMPLE_CONTRACT).code == 0
    out = data / "o.csv"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 0, result.err
    assert out.read_text().splitlines()[1].split(",")[3] == "3058"


def test_rows_before_a_broken_quote_are_counted(run, data):
    rows = [GOOD_ROWS[0]] * 49 + ['111222333,"Jan,Klaassen,2015-01-01']
    src = data / "q.csv"
    src.write_text(csv_text(*rows), encoding="utf-8")
    report = json.loads(run("check", src, "-c", SAMPLE_CONTRACT, "-f", "json").out)
    assert report["records"] == 49
    assert [(e["record"], e["rule"]) for e in report["errors"]] == [(50, "csv-syntax")]


def test_private_keys_readable_by_others_are_refused(run, tmp_path, monkeypatch):
    monkeypatch.setenv("KETENX_PASSPHRASE", "pass phrase for tests")
    keys = tmp_path / "k"
    keys.mkdir(mode=0o700)
    assert run("keys", "new-signing", keys / "s").code == 0
    assert run("keys", "new-identity", keys / "i").code == 0
    from ketenx.errors import KeyMaterialError
    from ketenx.storage.keys import load_age_identity, load_private_key

    load_private_key(keys / "s.key", b"pass phrase for tests")
    load_age_identity(keys / "i.age")
    for path in (keys / "s.key", keys / "i.age"):
        path.chmod(0o644)
    with pytest.raises(KeyMaterialError, match="group or others"):
        load_private_key(keys / "s.key", b"pass phrase for tests")
    with pytest.raises(KeyMaterialError, match="group or others"):
        load_age_identity(keys / "i.age")
