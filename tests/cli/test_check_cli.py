"""`ketenx check` from the command line: exit codes, formats, bad input, privacy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketenx.records.reports import RENDERERS, OutputFormat
from tests.helpers import GOOD_ROWS, HEADER, csv_text

SARIF_SCHEMA = (
    Path(__file__).resolve().parents[1] / "vectors" / "third_party" / "sarif-schema-2.1.0.json"
)

# Distinctive values planted in invalid cells: none may appear in any output.
PLANTED_BSN = "987654321"  # fails the 11-proef
PLANTED_NAME = "Zwanettetje"
PLANTED_EMAIL = "geheim.adres@nergens"
PLANTED_POSTCODE = "0666 QQ"
BAD_ROW = (
    f"{PLANTED_BSN},Jan,Klaassen,2015-02-30,Q,{PLANTED_POSTCODE},abc,Utrecht,{PLANTED_EMAIL},12,"
)
BAD_NAME_ROW = f"111222333,,{PLANTED_NAME}x{'y' * 300},2015-01-01,V,1234 AB,1,Utrecht,,,"


def test_valid_file_exits_0(run, write, contract_path):
    data = write("ok.csv", csv_text(*GOOD_ROWS))
    result = run("check", data, "--contract", contract_path)
    assert result.code == 0, result.err
    assert "OK" in result.out and "3 records valid" in result.out


def test_invalid_file_exits_1_and_names_record_field_rule(run, write, contract_path):
    data = write("bad.csv", csv_text(GOOD_ROWS[0], BAD_ROW))
    result = run("check", data, "-c", contract_path, "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["valid"] is False
    assert report["records"] == 2 and report["invalid_records"] == 1
    found = {(e["record"], e["field"], e["rule"]) for e in report["errors"]}
    assert found == {
        (2, "/bsn", "nl-bsn"),
        (2, "/geboortedatum", "date"),
        (2, "/geslacht", "enum"),
        (2, "/postcode", "nl-postcode"),
        (2, "/huisnummer", "type"),
        (2, "/email_ouder", "email"),
        (2, "/lengte_cm", "minimum"),
    }
    assert report["error_counts"]["nl-bsn"] == 1


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
def test_no_planted_value_appears_in_any_format(run, write, contract_path, fmt):
    data = write("bad.csv", csv_text(BAD_ROW, BAD_NAME_ROW))
    jsonl = write(
        "bad.jsonl",
        json.dumps({"bsn": PLANTED_BSN, "voornamen": PLANTED_NAME, "email_ouder": PLANTED_EMAIL})
        + "\n",
    )
    for max_errors in ("1000", "1"):
        result = run(
            "check", data, jsonl, "-c", contract_path, "-f", fmt, "--max-errors", max_errors
        )
        assert result.code == 1
        text = result.out + result.err
        for planted in (PLANTED_BSN, PLANTED_NAME, PLANTED_EMAIL, PLANTED_POSTCODE, "abc"):
            assert planted not in text, (fmt, planted)


def test_every_output_format_has_a_renderer():
    assert set(RENDERERS) == set(OutputFormat)


def test_json_report_matches_its_schema(run, write, contract_path):
    from jsonschema import Draft202012Validator

    from ketenx.resources import load_schema

    data = write("bad.csv", csv_text(GOOD_ROWS[0], BAD_ROW))
    report = json.loads(run("check", data, "-c", contract_path, "-f", "json").out)
    Draft202012Validator(load_schema("report.schema.json")).validate(report)


def test_sarif_validates_against_oasis_schema(run, write, contract_path):
    from jsonschema import Draft4Validator

    schema_file = SARIF_SCHEMA
    data = write("bad.csv", csv_text(GOOD_ROWS[0], BAD_ROW))
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    sarif = json.loads(run("check", data, ok, "-c", contract_path, "-f", "sarif").out)
    Draft4Validator(json.loads(schema_file.read_text())).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"nl-bsn", "date", "enum"}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def test_sarif_uris_are_percent_encoded(run, write, contract_path, tmp_path, monkeypatch):
    from urllib.parse import unquote, urlsplit

    bad = write("bad 100% #1.csv", csv_text(GOOD_ROWS[0], BAD_ROW))
    absolute = json.loads(run("check", bad, "-c", contract_path, "-f", "sarif").out)
    uri = absolute["runs"][0]["artifacts"][0]["location"]["uri"]
    assert uri.startswith("file:///") and " " not in uri and "#" not in uri
    assert unquote(urlsplit(uri).path) == str(bad)
    monkeypatch.chdir(tmp_path)
    relative = json.loads(run("check", bad.name, "-c", contract_path, "-f", "sarif").out)
    result_uri = relative["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert result_uri["artifactLocation"]["uri"] == "bad%20100%25%20%231.csv"


def test_junit_is_readable_by_junitparser(run, write, contract_path, tmp_path):
    from junitparser import JUnitXml

    bad = write("bad.csv", csv_text(GOOD_ROWS[0], BAD_ROW, BAD_ROW))
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    out = tmp_path / "report.xml"
    result = run("check", bad, ok, "-c", contract_path, "-f", "junit", "-o", out)
    assert result.code == 1
    xml = JUnitXml.fromfile(str(out))
    suites = {suite.name: suite for suite in xml}
    assert suites[str(bad)].failures == 2  # one failure per rejected record
    assert suites[str(ok)].failures == 0 and suites[str(ok)].tests == 1


def test_github_annotations(run, write, contract_path):
    data = write("bad.csv", csv_text(BAD_ROW))
    lines = run("check", data, "-c", contract_path, "-f", "github").out.splitlines()
    assert lines and all(line.startswith("::error file=") for line in lines)
    assert any("title=ketenx nl-bsn::record 1, field /bsn" in line for line in lines)


def test_text_is_uncoloured_off_a_terminal(run, write, contract_path):
    data = write("bad.csv", csv_text(BAD_ROW))
    assert "\x1b[" not in run("check", data, "-c", contract_path).out


def test_several_files_worst_exit_code(run, write, contract_path):
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    bad = write("bad.csv", csv_text(BAD_ROW))
    result = run("check", ok, bad, "-c", contract_path, "-f", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert [f["valid"] for f in report["files"]] == [True, False]


def test_missing_file_is_operational_error(run, write, contract_path, tmp_path):
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    result = run("check", ok, tmp_path / "nope.csv", "-c", contract_path)
    assert result.code == 3
    assert "nope.csv: file not found" in result.err
    assert "Traceback" not in result.err


def test_invalid_contract_is_operational_error(run, write, tmp_path):
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    broken = write("c.yaml", "ketenx: 1\nid: x\n")
    result = run("check", ok, "-c", broken)
    assert result.code == 3
    assert "invalid contract" in result.err


def test_stdin_needs_input_format(run, contract_path):
    data = csv_text(*GOOD_ROWS).encode()
    assert run("check", "-", "-c", contract_path, stdin=data).code == 2
    result = run("check", "-", "-c", contract_path, "--input-format", "csv", stdin=data)
    assert result.code == 0, result.err


def test_unknown_extension_is_usage_error(run, write, contract_path):
    data = write("data.txt", csv_text(*GOOD_ROWS))
    result = run("check", data, "-c", contract_path)
    assert result.code == 2
    assert "--input-format" in result.err


def test_max_errors_limits_listing_but_keeps_counting(run, write, contract_path):
    data = write("bad.csv", csv_text(*([BAD_ROW] * 20)))
    report = json.loads(
        run("check", data, "-c", contract_path, "-f", "json", "--max-errors", "5").out
    )
    assert len(report["errors"]) == 5
    assert report["truncated"] is True
    assert report["invalid_records"] == 20
    assert report["error_counts"]["nl-bsn"] == 20
    assert sum(report["error_counts"].values()) == 20 * 7


def test_report_to_file_is_written_atomically(run, write, contract_path, tmp_path):
    data = write("ok.csv", csv_text(*GOOD_ROWS))
    out = tmp_path / "r.json"
    result = run("check", data, "-c", contract_path, "-f", "json", "-o", out)
    assert result.code == 0
    assert json.loads(out.read_text())["valid"] is True
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


# --- bad input: one clear line, the right exit code, never a traceback -------------------------

BAD_INPUTS = {
    "empty.csv": (b"", "no-records"),
    "header-only.csv": ((HEADER + "\n").encode(), "no-records"),
    "binary.csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "latin1.csv": (csv_text(GOOD_ROWS[0]).replace("Zoë", "Zo\xeb").encode("latin-1"), "encoding"),
    "quotes.csv": (
        csv_text(GOOD_ROWS[0], '111222333,"Jan,Klaassen,2015-01-01').encode(),
        "csv-syntax",
    ),
    "ragged.csv": (csv_text(GOOD_ROWS[0], "111222333,Jan").encode(), "row-length"),
    "bigcell.csv": (
        csv_text(GOOD_ROWS[0], "111222333," + "x" * (10 << 20) + ",a,b").encode(),
        "cell-size",
    ),
    "nul.csv": (csv_text(GOOD_ROWS[0]).replace("Jansen", "Jan\x00sen").encode(), "binary"),
    "broken.jsonl": (b'{"bsn": "111222333"}\n{"bsn": \n', "json-syntax"),
    "object.json": (b'{"bsn": "111222333"}', "json-structure"),
    "scalars.json": (b"[1, 2]", "type"),
    "truncated.json": (b'[{"bsn": "111222333"},', "json-syntax"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_reported_cleanly(run, write, contract_path, name):
    content, rule = BAD_INPUTS[name]
    data = write(name, content)
    result = run("check", data, "-c", contract_path, "-f", "json")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    report = json.loads(result.out)
    assert rule in report["error_counts"], report["error_counts"]
    text = run("check", data, "-c", contract_path).out
    assert f"rule {rule}" in text


def test_allow_empty(run, write, contract_path):
    data = write("empty.csv", HEADER + "\n")
    assert run("check", data, "-c", contract_path, "--allow-empty").code == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [("e.csv", ""), ("e.jsonl", ""), ("e.json", ""), ("e.json", " \n"), ("e.json", "[]")],
)
def test_an_empty_file_is_no_records_in_every_format(run, write, contract_path, name, content):
    data = write(name, content)
    rejected = run("check", data, "-c", contract_path, "--format", "json")
    assert rejected.code == 1
    assert [e["rule"] for e in json.loads(rejected.out)["errors"]] == ["no-records"]
    assert run("check", data, "-c", contract_path, "--allow-empty").code == 0


def test_version_and_help(run):
    result = run("--version")
    assert result.code == 0 and result.out.startswith("ketenx ")
    assert run("check", "--help").code == 0


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--debug",), {}),
        ((), {"KETENX_DEBUG": "1"}),
        ((), {"KETENX_DEBUG": "true"}),
        ((), {"KETENX_DEBUG": "2"}),
        ((), {"KETENX_DEBUG": "Yes"}),
    ],
)
def test_debug_shows_traceback_and_keeps_exit_code(run, write, contract_path, tmp_path, args, env):
    ok = write("ok.csv", csv_text(*GOOD_ROWS))
    missing = run(*args, "check", ok, tmp_path / "missing.csv", "-c", contract_path, env=env)
    assert missing.code == 3
    assert "Traceback (most recent call last)" in missing.err
    assert "InputFileError" in missing.err
    assert missing.err.rstrip().splitlines()[-1].startswith("ketenx: error: ")
    stdin = run(*args, "check", "-", "-c", contract_path, env=env)
    assert stdin.code == 2 and "Traceback" in stdin.err


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "", "OFF", " 0 "])
def test_debug_env_false_values_keep_traceback_off(run, contract_path, tmp_path, value):
    result = run(
        "check", tmp_path / "missing.csv", "-c", contract_path, env={"KETENX_DEBUG": value}
    )
    assert result.code == 3
    assert "Traceback" not in result.err and result.err.startswith("ketenx: error: ")


def test_text_report_counts_read_naturally(run, write, contract_path):
    blank = write("blank.csv", "\r\n\r\n")
    first = run("check", blank, "-c", contract_path).out.splitlines()[0]
    assert first.endswith(": REJECTED: 0 of 0 records invalid, 1 error")
    one = write("one.csv", csv_text(GOOD_ROWS[0]))
    assert run("check", one, "-c", contract_path).out.strip().endswith(": OK: 1 record valid")


def test_record_zero_is_the_header_only_for_header_rules(run, write, contract_path):
    blank = write("blank.csv", "")
    assert "  file: rule no-records" in run("check", blank, "-c", contract_path).out
    obj = write("obj.json", '{"a": 1}')
    assert "  file: rule json-structure" in run("check", obj, "-c", contract_path).out
    no_bsn = write("no-bsn.csv", csv_text(*GOOD_ROWS).replace("bsn,", "x,", 1))
    text = run("check", no_bsn, "-c", contract_path).out
    assert "  header, field /bsn: rule required" in text
    junit = run("check", blank, "-c", contract_path, "-f", "junit").out
    assert 'name="file"' in junit and 'name="header"' not in junit


@pytest.mark.parametrize("where", ["closed", "full"])
def test_an_output_that_cannot_be_written_is_exit_3(write, contract_path, where):
    import stat
    import subprocess
    import sys

    if where == "full" and not (
        Path("/dev/full").exists() and stat.S_ISCHR(Path("/dev/full").stat().st_mode)
    ):
        pytest.skip("no /dev/full here")
    data = write("ok.csv", csv_text(*GOOD_ROWS))
    for args in (
        ("check", str(data), "-c", str(contract_path)),
        ("contract", "digest", str(contract_path)),
    ):
        cmd = [sys.executable, "-m", "ketenx", *args]
        if where == "full":
            with open("/dev/full", "w") as full:
                done = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True)
        else:
            done = subprocess.run(
                ["sh", "-c", 'exec "$@" >&-', "sh", *cmd], stderr=subprocess.PIPE, text=True
            )
        assert done.returncode == 3, done.stderr
        assert done.stderr.startswith("ketenx: error: ") and "Traceback" not in done.stderr


def test_a_reader_that_went_away_is_exit_3_with_one_line(contract_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "ketenx", "contract", "output-schema", str(contract_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait() == 3, err
    assert err == "ketenx: error: cannot write the output: Broken pipe\n"


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_reader_that_leaves_halfway_is_exit_3(write, contract_path, unbuffered):
    """The report is larger than a pipe holds; the reader takes a little and goes away."""
    import os
    import subprocess
    import sys

    data = write("bad.csv", csv_text(*[BAD_ROW] * 3000))
    cmd = [sys.executable, "-m", "ketenx", "check", str(data), "-c", str(contract_path)]
    cmd += ["-f", "json", "--max-errors", "100000"]
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10) == b'{\n  "$sche'
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait() == 3, err
    assert err == "ketenx: error: cannot write the output: Broken pipe\n"
