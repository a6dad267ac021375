"""transform.fastrisk: the Arrow path of `ketenx risk` gives exactly the precise path's figures,
or steps aside (Unsuitable) — never another answer — on generated CSV files, hostile bytes
included, with tiny blocks and memories so that every carry and merge is exercised."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.records.readers import MAX_CELL_BYTES
from ketenx.transform import fastrisk
from ketenx.transform.gates import measuring_transformer
from ketenx.transform.privacy_reports import read_columns
from ketenx.transform.risk import Policy, RiskCounter, assess
from tests.helpers import contract_document, invoke

DATES = [
    "1950-01-01",
    "1984-02-29",
    "1999-12-31",
    "2000-02-29",
    "2010-06-15",
    "2016-01-01",
    "2020-12-31",
    "2025-12-31",
]
ODD_DATES = ["2017-02-30", "0999-05-01", "2017-6-3", "2017-06-03T10:00", "abcd", "", "1900-02-29"]
POSTCODES = ["1234 AB", "1234AB", "9999 ZZ", "1000 AA", "1234 ab", "0234 AB", "", "12", "1234-AB"]
CELLS = st.text(alphabet=st.sampled_from([*'ab,;"\n\r x', "é", "\u2028"]), max_size=5)
TREATMENTS = [
    {"treatment": "generalise", "to": "age-band", "reference_date": "2026-01-01"},
    {"treatment": "generalise", "to": "age-band", "reference_date": "2026-03-01", "top": 60},
    {"treatment": "generalise", "to": "year"},
    {"treatment": "generalise", "to": "year-month"},
    {"treatment": "keep"},
]


def _contract(born: dict[str, Any], dated: bool, missing: str = "category") -> Any:
    from ketenx.contract.model import Contract

    return Contract.from_document(_document(born, dated, missing))


def _document(born: dict[str, Any], dated: bool, missing: str = "category") -> dict[str, Any]:
    born_schema: dict[str, Any] = {"type": "string"}
    if dated:
        born_schema["format"] = "date"
    return contract_document(
        "fast",
        {
            "type": "object",
            "properties": {
                "born": born_schema,
                "pc": {"type": "string"},
                "sex": {"type": "string"},
                "dx": {"type": "string"},
                "note": {"type": "string"},
            },
        },
        {
            "born": born,
            "pc": {"treatment": "generalise", "to": "pc4"},
            "sex": {"treatment": "keep"},
            "dx": {"treatment": "keep"},
            "note": {"treatment": "keep", "scan": False},
        },
        privacy={
            "quasi_identifiers": ["born", "pc", "sex"],
            "sensitive": ["dx"],
            "k": 2,
            "l": 2,
            "missing": missing,
        },
    )


ROWS = st.lists(
    st.tuples(
        st.sampled_from(DATES * 6 + ODD_DATES),  # mostly real dates: the fast path answers
        st.sampled_from(POSTCODES[:5] * 4 + POSTCODES[5:]),
        st.sampled_from(["M", "V", "X", ""]),
        st.sampled_from(["a", "b", "c", ""]),
        CELLS,
    ),
    max_size=40,
)


def _csv(rows: list[tuple[str, ...]], delimiter: str, newline: str, bom: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["born", "pc", "sex", "dx", "note"])
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def _precise(path: Path, contract: Any) -> Any:
    """The precise path, as ``ketenx risk`` runs it on standard input."""
    policy = Policy.from_contract(contract)
    transformer = measuring_transformer(contract)
    names = [
        n
        for n, spec in contract.fields.items()
        if spec.output_name in {*policy.quasi_identifiers, *policy.sensitive}
    ]
    counter = RiskCounter(policy)
    with path.open("rb") as fh:
        for columns, n in read_columns(fh, "csv", dict(contract.schema), names=names):
            counter.add(transformer.stage(columns, n).out, n)
    return counter


def _fast(path: Path, contract: Any) -> Any:
    policy = Policy.from_contract(contract)
    transformer = measuring_transformer(contract)
    quasi, sensitive = fastrisk.risk_columns(policy, dict(contract.schema), transformer)
    counter = RiskCounter(policy)
    fastrisk.count_csv(str(path), counter, quasi, sensitive)
    return counter


def _figures(counter: Any) -> dict[str, Any]:
    a = assess(counter)
    figures = dataclasses.asdict(dataclasses.replace(a, suppressed_keys=frozenset()))
    figures["suppressed_keys"] = len(a.suppressed_keys)
    figures["sizes"] = sorted(counter.classes.values())
    figures["pairs"] = [sorted(p.values()) for p in counter.pairs]
    return figures


def _same(fast: Any, precise: Any) -> None:
    a, b = _figures(fast), _figures(precise)
    for key in a.keys() | b.keys():
        if isinstance(a[key], float):
            assert math.isclose(a[key], b[key], rel_tol=1e-12), key
        elif isinstance(a[key], dict) and any(isinstance(v, float) for v in a[key].values()):
            assert a[key].keys() == b[key].keys(), key
            for k in a[key]:
                assert math.isclose(a[key][k], b[key][k], rel_tol=1e-12), (key, k)
        else:
            assert a[key] == b[key], key


def _compare(path: Path, contract: Any) -> bool:
    """Fast and precise agree (True), or the fast path stepped aside (False)."""
    try:
        precise = _precise(path, contract)
    except Exception:  # the precise path refuses the file: the fast one must not answer
        with pytest.raises(fastrisk.Unsuitable):
            _fast(path, contract)
        return False
    try:
        fast = _fast(path, contract)
    except fastrisk.Unsuitable:
        return False
    _same(fast, precise)
    return True


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=ROWS,
    born=st.sampled_from(TREATMENTS),
    dated=st.booleans(),
    delimiter=st.sampled_from([",", ";"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    block=st.sampled_from([16, 64, 1 << 21]),
    missing=st.sampled_from(["category", "wildcard"]),
)
def test_fast_and_precise_agree_on_written_files(
    tmp_path: Path,
    rows: list[tuple[str, ...]],
    born: dict[str, Any],
    dated: bool,
    delimiter: str,
    newline: str,
    bom: bool,
    block: int,
    missing: str,
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(_csv(rows, delimiter, newline, bom))
    with (
        mock.patch.object(fastrisk, "PIECE_BYTES", block),
        mock.patch.object(fastrisk, "MEMO_LIMIT", 3),
        mock.patch.object(fastrisk._Tally, "LIMIT", 4),
    ):
        _compare(path, _contract(born, dated, missing))


HOSTILE = [b"\x00", b"\xff", b'"', b"\r", b"\n", b" ", b",", b"\n\n", b'""', b"\xc3", b"\n   \n"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=ROWS,
    born=st.sampled_from(TREATMENTS),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE)), min_size=1, max_size=3),
    block=st.sampled_from([16, 64, 1 << 21]),
)
def test_hostile_bytes_never_give_another_answer(
    tmp_path: Path,
    rows: list[tuple[str, ...]],
    born: dict[str, Any],
    cuts: list[tuple[float, bytes]],
    block: int,
) -> None:
    data = _csv(rows, ",", "\n", False)
    for where, junk in cuts:
        at = int(where * len(data))
        data = data[:at] + junk + data[at:]
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    with mock.patch.object(fastrisk, "PIECE_BYTES", block):
        _compare(path, _contract(born, True))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("text after a closing quote", b'born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,"x"y\n'),
        ("space after a closing quote", b'born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,"x" \n'),
        ("quote inside an unquoted cell", b'born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,x"y\n'),
        ("unclosed quote", b'born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,"x\n'),
        ("NUL byte", b"born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,x\x00\n"),
        (
            "bad UTF-8 in a column not measured",
            b"born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,\xff\n",
        ),
        ("ragged row", b"born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a\n"),
        ("white-space line", b"born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,x\n  \n"),
        ("blank line before the header", b"\nborn,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,x\n"),
        ("duplicate column", b"born,pc,sex,dx,dx\n2000-02-29,1234 AB,M,a,x\n"),
        ("no records", b"born,pc,sex,dx,note\n"),
        ("empty file", b""),
    ],
)
def test_broken_files_go_to_the_precise_path(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    contract = _contract(TREATMENTS[0], True)
    try:
        precise = _precise(path, contract)
    except Exception:
        precise = None
    try:
        fast = _fast(path, contract)
    except fastrisk.Unsuitable:
        return
    assert precise is not None, name
    _same(fast, precise)
    # Answered, and the same: a duplicate column is read as the precise reader reads it (the
    # first of the name).
    assert name in {"blank line before the header", "no records", "duplicate column"}


def test_a_long_cell_goes_to_the_precise_path(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    cell = '"' + "x\n" * (MAX_CELL_BYTES // 2 + 1) + '"'
    path.write_text(f"born,pc,sex,dx,note\n2000-02-29,1234 AB,M,a,{cell}\n")
    with pytest.raises(fastrisk.Unsuitable):
        _fast(path, _contract(TREATMENTS[0], True))


def test_a_clean_file_takes_the_fast_path(tmp_path: Path) -> None:
    rows = [(d, p, s, x, "n") for d in DATES for p in POSTCODES[:4] for s in "MV" for x in "ab"]
    path = tmp_path / "data.csv"
    path.write_bytes(_csv(rows, ",", "\n", False))
    for born in TREATMENTS:
        contract = _contract(born, True)
        assert _compare(path, contract), born


def test_the_cli_counts_a_file_as_standard_input_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ketenx risk FILE` (Arrow) and `ketenx risk - < FILE` (precise) print the same."""
    rows = [(d, p, s, x, "n") for d in DATES for p in POSTCODES[:4] for s in "MVX" for x in "abc"]
    data = _csv(rows, ",", "\n", False)
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    contract = tmp_path / "c.yaml"
    contract.write_text(yaml.safe_dump(_document(TREATMENTS[0], True)), encoding="utf-8")
    args = ["--contract", contract, "--format", "json"]
    with mock.patch.object(fastrisk, "count_csv", wraps=fastrisk.count_csv) as spy:
        fast = invoke(monkeypatch, "risk", path, *args)
    assert spy.call_count == 1 and spy.call_args.args[1].records == len(rows)  # it answered
    slow = invoke(monkeypatch, "risk", "-", "--input-format", "csv", *args, stdin=data)
    assert (fast.code, fast.err) == (slow.code, slow.err)
    assert fast.out.replace(str(path), "-") == slow.out
    assert f'"records": {len(rows)}' in fast.out
