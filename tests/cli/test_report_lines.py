"""Reports point at lines: every listed error of a record carries the physical line where the
record starts — CSV with quoted line breaks and blank lines, JSON Lines and JSON arrays alike
— so code scanning and annotations land on the right line of a committed export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import Result, contract_document

Run = Callable[..., Result]
SCHEMA = {
    "type": "object",
    "properties": {"bsn": {"type": "string", "format": "nl-bsn"}, "opmerking": {"type": "string"}},
    "required": ["bsn"],
}
BAD = "111222334"  # fails the 11-proef: every record is an error, so every record is listed


def contract(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "c.yaml"
    doc = contract_document(
        "lines", SCHEMA, {"bsn": {"treatment": "drop"}, "opmerking": {"treatment": "keep"}}
    )
    path.write_text(yaml.safe_dump(doc))
    return path


def lines_of(run: Run, data: Path, c: Path) -> dict[int, int | None]:
    done = run("check", data, "-c", c, "-f", "json", "--max-errors", "100000")
    report = json.loads(done.out)
    return {e["record"]: e.get("line") for e in report["errors"] if e["record"]}


note = st.lists(st.sampled_from(["a", " ", "\n", "\r\n", ","]), max_size=6).map("".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=st.lists(note, min_size=1, max_size=12),
    blanks=st.lists(st.integers(0, 2), min_size=13, max_size=13),
    crlf=st.booleans(),
)
def test_csv_lines(
    tmp_path: Path, run: Run, notes: list[str], blanks: list[int], crlf: bool
) -> None:
    end = "\r\n" if crlf else "\n"
    text = "\n" * blanks[0] + "bsn,opmerking" + end  # blank lines before the header count too
    line = blanks[0] + 2
    expected = {}
    for i, value in enumerate(notes, start=1):
        text += end * blanks[i]
        line += blanks[i]
        expected[i] = line
        quoted = '"' + value.replace('"', '""') + '"'
        text += f"{BAD},{quoted}{end}"
        line += 1 + value.count("\n")  # "\r\n" inside a cell holds one "\n" too
    data = tmp_path / "e.csv"
    data.write_bytes(text.encode())
    assert lines_of(run, data, contract(tmp_path)) == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blanks=st.lists(st.integers(0, 3), min_size=1, max_size=15))
def test_jsonl_lines(tmp_path: Path, run: Run, blanks: list[int]) -> None:
    text, line, expected = "", 1, {}
    for i, gap in enumerate(blanks, start=1):
        text += "\n" * gap
        line += gap
        expected[i] = line
        text += json.dumps({"bsn": BAD}) + "\n"
        line += 1
    data = tmp_path / "e.jsonl"
    data.write_text(text)
    assert lines_of(run, data, contract(tmp_path)) == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(gaps=st.lists(st.integers(0, 3), min_size=1, max_size=12), spread=st.booleans())
def test_json_array_lines(tmp_path: Path, run: Run, gaps: list[int], spread: bool) -> None:
    text, line, expected = "[", 1, {}
    for i, gap in enumerate(gaps, start=1):
        text += ("," if i > 1 else "") + "\n" * gap
        line += gap
        expected[i] = line
        record = json.dumps({"bsn": BAD, "opmerking": "x"}, indent=1 if spread else None)
        text += record
        line += record.count("\n")
    data = tmp_path / "e.json"
    data.write_text(text + "\n]\n")
    assert lines_of(run, data, contract(tmp_path)) == expected


def test_every_format_points_at_the_line(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "e.csv"
    data.write_text(f'bsn,opmerking\n111222333,"two\nlines"\n\n{BAD},x\n')
    c = contract(tmp_path)
    sarif = json.loads(run("check", data, "-c", c, "-f", "sarif").out)
    (result,) = sarif["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 5}
    github = run("check", data, "-c", c, "-f", "github").out
    assert f"::error file={data},line=5,title=ketenx nl-bsn::record 2" in github
    junit = run("check", data, "-c", c, "-f", "junit").out
    assert 'line="5"' in junit and f'file="{data}"' in junit
    text = run("check", data, "-c", c).out
    assert BAD not in text + github + junit + json.dumps(sarif)


def test_report_schema_allows_the_line(tmp_path: Path, run: Run) -> None:
    from jsonschema import Draft202012Validator

    from tests.helpers import ROOT

    schema: dict[str, Any] = json.loads((ROOT / "schemas" / "report.schema.json").read_text())
    data = tmp_path / "e.csv"
    data.write_text(f"bsn,opmerking\n{BAD},x\n")
    report = json.loads(run("check", data, "-c", contract(tmp_path), "-f", "json").out)
    Draft202012Validator(schema).validate(report)
    assert report["errors"][0]["line"] == 2
