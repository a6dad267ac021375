"""`ketenx contract init --from EXPORT`: a draft that lint rejects until it is filled in, that
never carries a value from the data (short codes excepted), and that the same export passes
once it is completed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.contract.draft import ENUM_MAX_VALUES, draft_contract, safe_column_name
from ketenx.errors import RejectedError
from tests.helpers import GOOD_ROWS, Result, csv_text

Run = Callable[..., Result]
SENDER, RECIPIENT = "00000001001234567000", "00000001009876543000"


def complete(draft_text: str, keep: str | None = None) -> dict[str, Any]:
    """What a user does with the draft: fill in the placeholders and opt one field in."""
    doc: dict[str, Any] = yaml.safe_load(draft_text)
    doc.update(
        id="drafted",
        title="t",
        purpose="tests",
        legal_basis="tests",
        sender={"name": "S", "oin": SENDER},
        recipient={"name": "R", "oin": RECIPIENT},
    )
    name = keep or next(iter(doc["fields"]))
    doc["fields"][name] = {"treatment": "keep"}
    doc["privacy"]["quasi_identifiers"] = [name]  # the draft's k needs them (lint says so)
    return doc


def draft_of(text: str | bytes, fmt: str = "csv") -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return draft_contract(io.BytesIO(data), fmt)  # type: ignore[arg-type]


def props(draft: Any) -> dict[str, Any]:
    return dict(yaml.safe_load(draft.text)["schema"]["properties"])


def test_sample_export_types_and_formats() -> None:
    draft = draft_of(csv_text(*GOOD_ROWS))
    p = props(draft)
    assert p["bsn"] == {"type": "string", "format": "nl-bsn"}
    assert p["geboortedatum"] == {"type": "string", "format": "date"}
    assert p["postcode"] == {"type": "string", "format": "nl-postcode"}
    assert p["huisnummer"] == {"type": "integer"}
    assert p["email_ouder"] == {"type": ["string", "null"], "format": "email"}
    assert p["lengte_cm"] == {"type": ["number", "null"]}
    doc = yaml.safe_load(draft.text)
    assert "email_ouder" not in doc["schema"]["required"]
    assert "bsn" in doc["schema"]["required"]
    assert {f["treatment"] for f in doc["fields"].values()} == {"drop"}
    assert draft.records == 3


def test_draft_is_rejected_by_lint_until_completed(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "export.csv"
    data.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    draft = tmp_path / "draft.yaml"
    made = run("contract", "init", "--from", data, "-o", draft)
    assert made.code == 0, made.err
    assert "every one dropped" in made.err
    linted = run("contract", "lint", draft)
    assert linted.code in (1, 3)
    assert "/privacy/k" in linted.err  # a k without quasi-identifiers is a placeholder too
    done = tmp_path / "done.yaml"
    done.write_text(yaml.safe_dump(complete(draft.read_text(), keep="geslacht")))
    assert run("contract", "lint", done).code == 0
    checked = run("check", data, "--contract", done)
    assert checked.code == 0, checked.out + checked.err


def test_every_field_dropped_is_rejected_by_lint(tmp_path: Path, run: Run) -> None:
    doc = complete(draft_of(csv_text(*GOOD_ROWS)).text)
    for name in doc["fields"]:
        doc["fields"][name] = {"treatment": "drop"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert run("contract", "lint", path).code == 1


def test_no_value_from_the_data_in_the_draft() -> None:
    rows = [
        "111222333,Zoë,Jansen,2015-03-02,V,1234 AB,12,Utrecht,ouder@example.nl,120.5,22.1",
        "012345672,Bülent,Çelik,2012-11-30,M,9999 ZZ,7,Amersfoort,x@voorbeeld.nl,,",
    ]
    text = draft_of(csv_text(*rows)).text
    for value in [
        "111222333",
        "Zoë",
        "Jansen",
        "2015-03-02",
        "1234 AB",
        "ouder@example",
        "Utrecht",
        "120.5",
        "Çelik",
        "012345672",
        "Amersfoort",
    ]:
        assert value not in text, value


def test_header_that_is_data_is_withheld(tmp_path: Path, run: Run) -> None:
    # A header row that is really a record (or glued to one): names withheld, positions used.
    export = "111222333,jan@example.nl,2015-03-02,Zoë Jansen,1234 AB,naam\n" + (
        "123456782,a@b.nl,2019-01-01,x,1000 AA,y\n"
    )
    draft = draft_of(export)
    assert [f.name for f in draft.fields] == [
        "column_1",
        "column_2",
        "column_3",
        "column_4",
        "column_5",
        "naam",
    ]
    for value in ["111222333", "jan@example.nl", "2015-03-02", "Zoë", "1234 AB"]:
        assert value not in draft.text
    assert "withheld" in draft.text
    data = tmp_path / "e.csv"
    data.write_text(export)
    made = run("contract", "init", "--from", data, "-o", tmp_path / "d.yaml")
    assert "5 column name(s) withheld" in made.err
    assert "111222333" not in made.out + made.err


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("bsn", True),
        ("geboorte_datum", True),
        ("gemeente-code", True),
        ("lengte_cm", True),
        ("111222333", False),
        ("a@b.nl", False),
        ("2015-03-02", False),
        ("1234 AB", False),
        ("Zoë", False),
        ("Jansen", False),  # a capitalised word may be a surname
        ("tel0612345678", False),
        ("", False),
        ("x" * 65, False),
        ("=SUM(A1)", False),
        ("geboorte datum", False),
    ],
)
def test_safe_column_name(name: str, safe: bool) -> None:
    assert safe_column_name(name) is safe


def test_enum_only_for_repeated_short_codes() -> None:
    rows = [
        f"{c},{n},{s}"
        for c, n, s in [
            ("M", "Anna", "A1"),
            ("V", "Bob", "A1"),
            ("M", "Cees", "B2"),
            ("V", "Dirk", "B2"),
            ("X", "Eva", "C3"),
            ("X", "Fenna", "C4"),
        ]
    ]
    p = props(draft_of(csv_text(*rows, header="geslacht,naam,klas")))
    assert p["geslacht"]["enum"] == ["M", "V", "X"]
    assert "enum" not in p["naam"]  # names are not codes
    assert "enum" not in p["klas"]  # C4 seen once: a rare value is no code
    many = [f"c{i % (ENUM_MAX_VALUES + 1)}" for i in range(60)]
    assert "enum" not in props(draft_of(csv_text(*many, header="code")))["code"]


def test_leading_zeros_and_bsn_stay_strings() -> None:
    p = props(draft_of(csv_text("007,012345672,1", "012,111222333,2", header="code,bsn,n")))
    assert p["code"] == {"type": "string"}
    assert p["bsn"]["type"] == "string"
    assert p["n"] == {"type": "integer"}


def test_jsonl_export(tmp_path: Path, run: Run) -> None:
    records = [
        {"bsn": "111222333", "n": 1, "x": 1.5, "ok": True, "adres": {"s": "t"}, "codes": [1]},
        {"bsn": "012345672", "n": 2, "x": 2, "ok": False, "adres": {}, "codes": [], "e": None},
    ]
    text = "".join(json.dumps(r) + "\n" for r in records)
    draft = draft_of(text, "jsonl")
    p = props(draft)
    assert p["bsn"] == {"type": "string", "format": "nl-bsn"}
    assert p["n"] == {"type": "integer"} and p["x"] == {"type": "number"}
    assert p["ok"] == {"type": "boolean"}
    assert p["adres"] == {"type": "object"} and p["codes"] == {"type": "array"}
    assert p["e"] == {"type": "null"}
    assert yaml.safe_load(draft.text)["schema"]["required"] == [
        "bsn",
        "n",
        "x",
        "ok",
        "adres",
        "codes",
    ]
    data = tmp_path / "e.jsonl"
    data.write_text(text)
    done = tmp_path / "c.yaml"
    done.write_text(yaml.safe_dump(complete(draft.text, keep="n")))
    assert run("check", data, "--contract", done).code == 0


@pytest.mark.parametrize(
    "export",
    [b"", b"\n\n", b"a,b\n1\n", b"a,b\n1,\xff\n", b'a\n"unclosed\n'],
    ids=["empty", "blank", "ragged", "bad-utf8", "unbalanced-quote"],
)
def test_broken_exports_are_refused(export: bytes) -> None:
    with pytest.raises(RejectedError) as info:
        draft_of(export)
    assert "\xff" not in str(info.value)


def test_cli_refuses_overwrite_and_unknown_format(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "e.csv"
    data.write_text(csv_text(*GOOD_ROWS))
    existing = tmp_path / "draft.yaml"
    existing.write_text("mine\n")
    assert run("contract", "init", "--from", data, "-o", existing).code == 3
    assert existing.read_text() == "mine\n"
    other = tmp_path / "e.txt"
    other.write_text("x\n")
    assert run("contract", "init", "--from", other).code == 2
    assert run("contract", "init", "--from", tmp_path / "missing.csv").code == 3
    out = run("contract", "init", "--from", data, "--sample", "1")
    assert out.code == 0 and "(1 record read)" in out.out


# --- the property: a completed draft accepts the export it was drafted from -----------------

_cells = {
    "int": st.integers(-(10**12), 10**12).map(str),
    "decimal": st.decimals(-(10**6), 10**6, places=2, allow_nan=False).map(str),
    "bsn": st.sampled_from(["111222333", "012345672", "123456782"]),
    "postcode": st.sampled_from(["1234 AB", "9999ZZ", "1000 aa"]),
    "date": st.dates().map(lambda d: d.isoformat()),
    "code": st.sampled_from(["M", "V", "X"]),
    "digits": st.from_regex(r"0[0-9]{1,5}", fullmatch=True),
    "bool": st.sampled_from(["true", "false", "TRUE"]),
    "text": st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
    ),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    kinds = draw(st.lists(st.sampled_from(sorted(_cells)), min_size=1, max_size=6))
    rows = draw(st.integers(1, 12))
    table = []
    for _ in range(rows):
        row = []
        for kind in kinds:
            empty = draw(st.booleans()) and draw(st.booleans())
            row.append("" if empty else draw(_cells[kind]))
        table.append(row)
    return [f"c{i}_{k}" for i, k in enumerate(kinds)], table


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=tables())
def test_completed_draft_accepts_its_export(tmp_path: Path, run: Run, table: Any) -> None:
    header, rows = table
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = tmp_path / "export.csv"
    data.write_text(buf.getvalue(), encoding="utf-8")
    try:
        draft = draft_of(buf.getvalue())
    except RejectedError:
        return  # e.g. every row blank: nothing to draft, and no crash
    contract = tmp_path / "c.yaml"
    contract.write_text(yaml.safe_dump(complete(draft.text)), encoding="utf-8")
    assert run("contract", "lint", contract).code == 0
    checked = run("check", data, "--contract", contract, "--allow-empty")
    assert checked.code == 0, (draft.text, checked.out)
