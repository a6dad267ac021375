"""Names from the data, duplicate keys and nesting limits, from the command line: `check`
(every format, input and output side), `pseudonymise`, `reidentify`, `pack` and `unpack`
refuse without quoting a name that could be personal data, and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.reports import OutputFormat
from ketenx.records.strictjson import MAX_DEPTH
from tests.cli.test_delivery_cli import Exchange, ex  # noqa: F401 - the fixture
from tests.helpers import GOOD_ROWS, HEADER, SAMPLE_CONTRACT, csv_text
from tests.property.test_data_names import HOSTILE, forms

# Names that are data: a BSN (11-proef), an e-mail address, a date, an IBAN, a full name.
PLANTED = ("123456782", "jan@voorbeeld.nl", "2015-03-02", "NL91ABNA0417164300", "Zwanet Jansen")


def files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_no_planted(*texts: str) -> None:
    joined = "\n".join(texts)
    for planted in PLANTED:
        assert planted not in joined, planted
        assert json.dumps(planted)[1:-1] not in joined, planted


def hostile_csv(path: Path) -> Path:
    header = HEADER + "," + ",".join(f'"{p}"' for p in PLANTED) + ",extra"
    rows = [row + "," * (len(PLANTED) + 1) for row in GOOD_ROWS]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def hostile_jsonl(path: Path) -> Path:
    record = dict(zip(HEADER.split(","), GOOD_ROWS[0].split(","), strict=True))
    record.update(dict.fromkeys(PLANTED, 1), extra=1)
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
@pytest.mark.parametrize("make", [hostile_csv, hostile_jsonl])
def test_check_withholds_names_that_could_be_data_in_every_format(run, tmp_path, fmt, make):
    data = make(tmp_path / ("in.csv" if make is hostile_csv else "in.jsonl"))
    result = run("check", data, "-c", SAMPLE_CONTRACT, "-f", fmt)
    assert result.code == 1
    assert_no_planted(result.out, result.err)
    assert "extra" in result.out  # a plausible name is still named
    out = tmp_path / "report.out"
    result = run("check", data, "-c", SAMPLE_CONTRACT, "-f", fmt, "-o", out)
    assert result.code == 1
    assert_no_planted(result.out, result.err, out.read_text(encoding="utf-8"))


def test_check_json_report_names_positions(run, tmp_path):
    result = run("check", hostile_csv(tmp_path / "in.csv"), "-c", SAMPLE_CONTRACT, "-f", "json")
    report = json.loads(result.out)
    assert {e["field"] for e in report["errors"]} == {
        *(f"/<column {12 + i}>" for i in range(len(PLANTED))),
        "/extra",
    }
    assert report["error_counts"] == {"unknown-column": len(PLANTED) + 1}


@pytest.fixture
def secret(run, tmp_path_factory) -> Path:
    # Apart from the data: a secret anywhere in the data's folder tree is refused.
    keys = tmp_path_factory.mktemp("keys")
    keys.chmod(0o700)
    path = keys / "s.secret"
    assert run("keys", "new-secret", path).code == 0
    return path


@pytest.mark.parametrize("make", [hostile_csv, hostile_jsonl])
def test_pseudonymise_refuses_without_quoting_a_name(run, tmp_path, secret, make):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    src = make(data_dir / ("in.csv" if make is hostile_csv else "in.jsonl"))
    before = files_under(data_dir)
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", data_dir / "o.csv")
    assert result.code == 1
    assert result.err.startswith("ketenx: error: input rejected: ")
    assert "<column 12>" in result.err or "<key 12>" in result.err
    assert_no_planted(result.out, result.err)
    assert files_under(data_dir) == before


DUPLICATES = [
    '{"persoon_id": "123456782", "persoon_id": "kx1_AAAAAAAAAAAAAAAAAAAAAAAAAAA"}',
    '{"persoon_id": "kx1_AAAAAAAAAAAAAAAAAAAAAAAAAAA", "x": {"Zwanet Jansen": 1, '
    '"Zwanet Jansen": "123456782"}}',
]


@pytest.fixture
def delivery(run, tmp_path, secret) -> Path:
    """A JSON Lines delivery of the three good rows, and its metadata."""
    src = tmp_path / "in.csv"
    src.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out).code == 0
    return out


def _with_duplicate(delivery: Path, duplicate: str) -> list[str]:
    lines = delivery.read_text(encoding="utf-8").splitlines()
    good = json.loads(lines[0])
    extra = json.loads(duplicate.replace('"123456782"', '"y"').replace(': "kx1_A', ': "kx1_B'))
    pairs = duplicate[1:-1]
    rest = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in good.items() if k not in extra)
    lines[0] = "{" + pairs + ", " + rest + "}"
    return lines


@pytest.mark.parametrize("duplicate", DUPLICATES)
def test_duplicate_keys_are_rejected_on_the_output_side(run, tmp_path, secret, delivery, duplicate):
    lines = _with_duplicate(delivery, duplicate)
    for to in ("jsonl", "json"):
        target = tmp_path / f"edited.{to}"
        text = "\n".join(lines) + "\n" if to == "jsonl" else "[" + ",\n".join(lines) + "]"
        target.write_text(text, encoding="utf-8")
        (tmp_path / f"edited.{to}.meta.json").write_bytes(
            (tmp_path / "out.jsonl.meta.json").read_bytes()
        )
        result = run("check", target, "-c", SAMPLE_CONTRACT, "--side", "output", "-f", "json")
        assert result.code == 1
        assert_no_planted(result.out, result.err)
        report = json.loads(result.out)
        assert report["error_counts"] == {"duplicate-key": 1}
        assert report["errors"][0]["field"] in ("/persoon_id", "/x/<key 2>")
        back = tmp_path / f"back.{to}"
        result = run(
            "reidentify", target, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", back,
            "--field", "email_ouder",
        )  # fmt: skip
        assert result.code == 1 and "duplicate-key" in result.err
        assert_no_planted(result.out, result.err)
        assert not back.exists()


def test_duplicate_keys_are_rejected_on_the_input_side(run, tmp_path, secret):
    record = dict(zip(HEADER.split(","), GOOD_ROWS[0].split(","), strict=True))
    body = json.dumps(record)[:-1] + ', "bsn": "123456782"}'
    src = tmp_path / "in.jsonl"
    src.write_text(body + "\n", encoding="utf-8")
    result = run("check", src, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1
    assert json.loads(result.out)["errors"][0]["field"] == "/bsn"
    assert_no_planted(result.out, result.err)
    out = tmp_path / "o.jsonl"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 1 and "rule duplicate-key" in result.err
    assert not out.exists()


@pytest.mark.parametrize(
    ("inserted", "expected"),
    [
        (b'"persoon_id":"123456782",', "field /persoon_id: rule duplicate-key"),
        (b'"Zwanet Jansen":"123456782",', "field /<key 1>: rule additionalProperties"),
        (b'"jan@voorbeeld.nl":1,', "field /<key 1>: rule additionalProperties"),
    ],
)
def test_unpack_rejects_a_signed_delivery_without_quoting_its_keys(
    run,
    ex,  # noqa: F811
    monkeypatch,
    inserted,
    expected,
):
    """A sender with a valid key who writes a key twice, or a key that is data: the
    signature verifies, the check after it refuses, and nothing reaches the inbox."""
    from ketenx.records import writers

    write = writers.HashingWriter.write

    def edited(self: writers.HashingWriter, data: object) -> int:
        raw = bytes(memoryview(data))  # type: ignore[arg-type]
        write(self, raw.replace(b'{"persoon_id":', b"{" + inserted + b'"persoon_id":', 1))
        return len(raw)

    monkeypatch.setattr(writers.HashingWriter, "write", edited)
    result, target = ex.pack(run, "--to", "jsonl")
    monkeypatch.setattr(writers.HashingWriter, "write", write)
    assert result.code == 0, result.err
    opened = ex.unpack(run, target)
    assert opened.code == 1
    assert expected in opened.err
    assert_no_planted(opened.out, opened.err)
    assert not ex.inbox.exists() or not any(ex.inbox.iterdir())


# --- nesting limits ----------------------------------------------------------------------------


def _nested(depth: int) -> str:
    """A record whose `bsn` holds arrays nested so that the record has ``depth`` levels."""
    return '{"bsn": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_nesting_up_to_the_limit_is_read_and_deeper_is_refused(run, tmp_path, fmt):
    for depth, rule in ((MAX_DEPTH, "type"), (MAX_DEPTH + 1, "json-syntax")):
        body = _nested(depth)
        data = tmp_path / f"d{depth}.{fmt}"
        data.write_text(body + "\n" if fmt == "jsonl" else f"[{body}]", encoding="utf-8")
        result = run("check", data, "-c", SAMPLE_CONTRACT, "-f", "json")
        assert result.code == 1 and "Traceback" not in result.err
        report = json.loads(result.out)
        assert rule in report["error_counts"], (depth, report["error_counts"])


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
def test_deep_nesting_is_one_clean_refusal_everywhere(run, tmp_path, secret, fmt, depth):
    body = _nested(depth)
    data = tmp_path / f"deep.{fmt}"
    data.write_text(body + "\n" if fmt == "jsonl" else f"[{body}]", encoding="utf-8")
    for side in ("input", "output"):
        result = run("check", data, "-c", SAMPLE_CONTRACT, "--side", side, "-f", "sarif")
        assert result.code == 1 and "Traceback" not in result.err
        assert "json-syntax" in result.out
    out = tmp_path / f"out.{fmt}"
    result = run("pseudonymise", data, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 1 and "Traceback" not in result.err
    assert len(result.err.splitlines()) == 2 and "rule json-syntax" in result.err
    assert not out.exists()


def test_pack_refuses_an_export_with_unsafe_column_names_without_quoting_them(
    run,
    ex,  # noqa: F811
):
    hostile_csv(ex.export)
    before = files_under(ex.root)
    result, target = ex.pack(run)
    assert result.code == 1
    assert "header, field /<column 12>: rule unknown-column" in result.err
    assert_no_planted(result.out, result.err)
    assert not target.exists() and files_under(ex.root) == before


def test_empty_and_control_character_header_cells_are_positions(run, tmp_path):
    data = tmp_path / "in.csv"
    rows = [row + ",,," for row in GOOD_ROWS]
    data.write_text(csv_text(*rows, header=HEADER + ',,"a\x1b[31mb",extra'), encoding="utf-8")
    result = run("check", data, "-c", SAMPLE_CONTRACT, "-f", "json")
    assert result.code == 1 and "\x1b" not in result.out and "\\u001b" not in result.out
    fields = {e["field"] for e in json.loads(result.out)["errors"]}
    assert fields == {"/<column 12>", "/<column 13>", "/extra"}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(planted=HOSTILE, duplicate=st.booleans(), to=st.sampled_from(["jsonl", "json"]))
def test_pseudonymise_error_lines_never_quote_a_generated_name(
    run, tmp_path, secret, planted, duplicate, to
):
    record = dict(zip(HEADER.split(","), GOOD_ROWS[0].split(","), strict=True))
    record["huisnummer"] = 12
    for name in ("lengte_cm", "gewicht_kg"):
        record[name] = float(record[name])
    body = json.dumps(record)[:-1]
    key = json.dumps(planted)
    body += f", {key}: 1, {key}: 2}}" if duplicate else f", {key}: 1}}"
    src = tmp_path / f"in.{to}"
    src.write_text(body + "\n" if to == "jsonl" else f"[{body}]", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 1
    rule = "duplicate-key" if duplicate else "additionalProperties"
    position = 13 if duplicate else 12  # a duplicate is named at its second occurrence
    assert f"record 1, field /<key {position}>: rule {rule}" in result.err
    for form in forms(planted):
        assert form not in result.out + result.err, form
    assert not out.exists()
