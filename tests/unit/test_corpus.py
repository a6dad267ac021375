"""The benchmark corpus (benchmarks/corpus/): contracts as agencies write them, and their data.

Every corpus contract lints; its generated valid data passes `ketenx check`, `pseudonymise`
and `check --side output`; its generated invalid data (three errors in every record) is
rejected with exactly the planted errors and nothing is written. Where today's engine is
wrong about a contract the specification allows, the case is marked ``xfail(strict=True)``
with the bug: when the fix lands the case passes, the strict marker fails, and the marker
must go. The generator itself is checked against a specification oracle (jsonschema with
ketenx's formats and an exact decimal ``multipleOf``), independent of ketenx's engine.
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
import tracemalloc
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from ketenx.contract.model import load_contract
from ketenx.records.formats import FORMATS, is_bsn, is_iban

ROOT = Path(__file__).resolve().parents[2]
sys.path.append(str(ROOT / "benchmarks"))  # for _common; never shadows another module
from _common import corpus  # noqa: E402

gen = corpus()
ROWS = 100

# --- known engine bugs ---------------------------------------------------------------------

# Strict xfails of known engine bugs, per (contract, format, step): none left. A bug found
# later goes here with its reason, so that the case fails loudly once it is fixed.
KNOWN: dict[tuple[str, str, str], str] = {}

CASES = [(name, fmt) for name, spec in gen.CONTRACTS.items() for fmt in spec.formats]


def cases(step: str) -> list[Any]:
    """Every (contract, format), with the strict xfail of a known bug for ``step``."""
    out = []
    for name, fmt in CASES:
        reason = KNOWN.get((name, fmt, step))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(name, fmt, marks=marks, id=f"{name}-{fmt}"))
    return out


def test_known_bugs_name_real_cases() -> None:
    assert {(n, f) for n, f, _ in KNOWN} <= set(CASES)
    assert {s for _, _, s in KNOWN} <= {"check", "pseudonymise", "invalid"}


# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_has_the_shapes_of_issue_10() -> None:
    """At least ten contracts, a 40+ and a 3-column table, a JSON Lines-only contract, each
    described in the corpus README."""
    names = list(gen.CONTRACTS)
    assert len(names) >= 10
    widths = {len(spec.columns) for spec in gen.CONTRACTS.values()}
    assert max(widths) >= 40 and min(widths) == 3
    assert any(spec.formats == ("jsonl",) for spec in gen.CONTRACTS.values())
    readme = (ROOT / "benchmarks" / "corpus" / "README.md").read_text(encoding="utf-8")
    yamls = sorted(p.stem for p in (ROOT / "benchmarks" / "corpus").glob("*.yaml"))
    assert yamls == sorted(names)
    for name in names:
        assert f"`{name}.yaml`" in readme


@pytest.mark.parametrize("name", list(gen.CONTRACTS))
def test_contract_lints_and_matches_its_generator(run, name: str) -> None:
    path = gen.contract_path(name)
    result = run("contract", "lint", path)
    assert result.code == 0, result.out + result.err
    contract = load_contract(path)
    assert list(contract.schema["properties"]) == [c.name for c in gen.CONTRACTS[name].columns]
    treatments = {f.treatment for f in contract.fields.values()}
    assert "pseudonymise" in treatments
    if len(contract.fields) > 3:  # the narrow table has a BSN, a date and a code only
        assert "encrypt" in treatments
    assert contract.privacy.get("quasi_identifiers")


# --- valid and invalid data through the CLI ---------------------------------------------------


@pytest.fixture
def work(run, tmp_path: Path) -> tuple[Path, Path]:
    """A data folder, and a secret in a folder of its own (mode 0700)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "keys").mkdir(mode=0o700)
    assert run("keys", "new-secret", tmp_path / "keys" / "s.secret").code == 0
    return tmp_path / "data", tmp_path / "keys" / "s.secret"


def check_json(run, path: Path, contract: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run(
        "check", path, "-c", contract, "--format", "json", "--no-progress",
        "--max-errors", "100000", *extra,
    )  # fmt: skip
    report = json.loads(result.out) if result.out.strip() else {}
    return result.code, report, result.out + result.err


def keyed_values(name: str, path: Path, fmt: str) -> set[str]:
    """The values of the pseudonymised and encrypted fields in a data file (never in the
    output), at least six characters long."""
    fields = load_contract(gen.contract_path(name)).fields
    keyed = {n for n, f in fields.items() if f.treatment in ("pseudonymise", "encrypt")}
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {str(r[k]) for r in rows for k in keyed if r.get(k) and len(str(r[k])) >= 6}


@pytest.mark.parametrize(("name", "fmt"), cases("check"))
def test_valid_data_passes_check(run, work, name: str, fmt: str) -> None:
    data = work[0] / f"in.{fmt}"
    summary = gen.generate(name, ROWS, path=data, fmt=fmt)
    assert summary.records == ROWS and summary.invalid_records == 0
    code, report, text = check_json(run, data, gen.contract_path(name))
    assert code == 0, report.get("error_counts")
    assert report["records"] == ROWS and report["invalid_records"] == 0
    assert not keyed_values(name, data, fmt) & set(text.split('"'))


@pytest.mark.parametrize(("name", "fmt"), cases("pseudonymise"))
def test_pseudonymise_output_passes_output_check(run, work, name: str, fmt: str) -> None:
    (folder, secret), contract = work, gen.engine_contract_path(name, work[0].parent)
    data, out = folder / f"in.{fmt}", folder / f"out.{fmt}"
    gen.generate(name, ROWS, path=data, fmt=fmt)
    result = run("pseudonymise", data, "-c", contract, "-s", secret, "-o", out, "--jobs", "1")
    assert result.code == 0, result.err
    code, report, text = check_json(run, out, contract, "--side", "output")
    assert code == 0, report.get("error_counts")
    assert report["records"] == ROWS
    written = out.read_text(encoding="utf-8") + Path(f"{out}.meta.json").read_text("utf-8")
    streams = result.out + result.err + text
    for value in keyed_values(name, data, fmt):  # no BSN, IBAN, e-mail … leaves in clear
        assert value not in written and value not in streams


@pytest.mark.parametrize(("name", "fmt"), cases("invalid"))
def test_invalid_data_reports_exactly_the_planted_errors(run, work, name: str, fmt: str) -> None:
    (folder, secret), contract = work, gen.engine_contract_path(name, work[0].parent)
    data = folder / f"bad.{fmt}"
    planted: list[tuple[int, str, str]] = []
    summary = gen.generate(name, ROWS, path=data, fmt=fmt, invalid_rate=1.0, planted=planted)
    assert summary.invalid_records == ROWS and summary.errors == 3 * ROWS == len(planted)
    code, report, text = check_json(run, data, contract)
    assert code == 1
    assert report["invalid_records"] == ROWS
    assert sum(report["error_counts"].values()) == 3 * ROWS
    assert report["error_counts"] == dict(summary.error_counts)
    got = Counter((e["record"], e["field"], e["rule"]) for e in report["errors"])
    assert got == Counter(planted)
    out = folder / f"out.{fmt}"
    refused = run("pseudonymise", data, "-c", contract, "-s", secret, "-o", out, "--jobs", "1")
    assert refused.code == 1
    assert not out.exists() and not Path(f"{out}.meta.json").exists()
    assert list(folder.iterdir()) == [data]
    streams = text + refused.out + refused.err
    assert not keyed_values(name, data, fmt) & set(streams.replace("\n", " ").split())


# --- the generator -----------------------------------------------------------------------------


def _decimal_multiple_of(validator: Any, m: Any, instance: Any, schema: Any) -> Any:
    """multipleOf as the specification means it: exact, on the number as written."""
    number = isinstance(instance, int | float) and not isinstance(instance, bool)
    if number and Decimal(repr(instance)) % Decimal(repr(m)) != 0:
        yield ValidationError(f"not a multiple of {m}")


def oracle(name: str) -> Any:
    """The specification's verdict on a JSON record of ``name``: jsonschema Draft 2020-12
    with ketenx's formats, and an exact decimal multipleOf."""
    checker = FormatChecker(formats=())
    for fmt, check in FORMATS.items():
        checker.checks(fmt)(check)
    exact = validators.extend(Draft202012Validator, {"multipleOf": _decimal_multiple_of})
    return exact(load_contract(gen.contract_path(name)).schema, format_checker=checker)


def json_form(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not gen.ABSENT}


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32), name=st.sampled_from(list(gen.CONTRACTS)))
def test_generated_records_are_valid_or_break_exactly_the_planted_rules(seed: int, name: str):
    validator = oracle(name)
    records = gen.iter_records(name, 40, seed=seed, invalid_rate=0.5)
    for number, (record, planted) in enumerate(records, start=1):
        errors = list(validator.iter_errors(json_form(record)))
        if not planted:
            assert errors == [], (number, [e.validator for e in errors])
            continue
        assert len(planted) == 3
        assert Counter(map(_rule, errors)) == Counter(rule for _, _, rule in planted), number


def _rule(error: ValidationError) -> str:
    """The rule of a jsonschema error as ketenx names it (the format name for a format; for a
    nullable written as anyOf/oneOf with a null branch, the rule its other branch breaks)."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches = [
            e
            for e in error.context
            if e.validator != "type" or "null" not in str(e.validator_value)
        ]
        if len({e.relative_schema_path[0] for e in branches}) == 1:
            return _rule(branches[0])
    if error.validator == "format":
        return str(error.validator_value)
    return "false" if error.validator is None else str(error.validator)


def test_generated_values_are_real() -> None:
    """BSNs pass the 11-proef (about a tenth with a leading zero); IBANs their mod-97 check;
    amounts are whole cents; postcodes never start with 0."""
    bsns, ibans, amounts = [], [], []
    for record, _ in gen.iter_records("uwv-uitkeringen", 3000):
        bsns.append(record["bsn"])
        ibans.append(record["rekeningnummer"])
        amounts += [record["bedrag_bruto"], record["bedrag_netto"]]
        assert record["postcode"][0] != "0"
    assert all(map(is_bsn, bsns)) and all(map(is_iban, ibans))
    assert 0.05 < sum(b[0] == "0" for b in bsns) / len(bsns) < 0.15
    assert all(Decimal(repr(a)) == Decimal(repr(a)).quantize(Decimal("0.01")) for a in amounts)
    assert any(not (Decimal(repr(a)) * 100 % 10) for a in amounts)  # 5.10 comes out as 5.1


def test_planting_changes_only_the_planted_cells(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    gen.generate("ggd-jeugd", 300, path=good)
    planted: list[tuple[int, str, str]] = []
    gen.generate("ggd-jeugd", 300, path=bad, invalid_rate=0.3, planted=planted)
    with (
        open(good, newline="", encoding="utf-8") as a,
        open(bad, newline="", encoding="utf-8") as b,
    ):
        rows_a, rows_b = list(csv.DictReader(a)), list(csv.DictReader(b))
    changed = {
        (i, f"/{k}")
        for i, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=True), start=1)
        for k in ra
        if ra[k] != rb[k]
    }
    assert changed == {(row, field) for row, field, _ in planted}
    assert 0.2 < len({row for row, _, _ in planted}) / 300 < 0.4


def test_same_seed_same_bytes_and_rows_do_not_depend_on_the_count(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    gen.generate("jeugdzorg-trajecten", 100, path=a, fmt="jsonl", seed=3, invalid_rate=0.1)
    gen.generate("jeugdzorg-trajecten", 100, path=b, fmt="jsonl", seed=3, invalid_rate=0.1)
    gen.generate("jeugdzorg-trajecten", 50, path=c, fmt="jsonl", seed=3, invalid_rate=0.1)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().splitlines()[:50] == c.read_text().splitlines()
    gen.generate("jeugdzorg-trajecten", 100, path=b, fmt="jsonl", seed=4)
    assert a.read_bytes() != b.read_bytes()


def test_generator_streams(tmp_path: Path) -> None:
    """Records are made one at a time (a trillion-row generator yields its first at once),
    and once the 4,096-row write buffer has filled, twice the rows take no more memory."""
    first = list(itertools.islice(gen.iter_records("ggd-jeugd", 10**12, invalid_rate=0.5), 3))
    assert len(first) == 3

    def peak(rows: int) -> int:
        tracemalloc.start()
        gen.generate("rivm-vaccinaties-smal", rows, path=tmp_path / "n.csv", invalid_rate=0.5)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(4_500), peak(9_000)
    assert large < small + 128 * 1024


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "csv"}, "no 'csv' data"),
        ({"invalid_rate": 1.5}, "between 0 and 1"),
        ({"errors_per_record": 0}, "at least 1"),
        ({"invalid_rate": 1.0, "errors_per_record": 8}, "can be broken"),
    ],
)
def test_generator_refuses_what_it_cannot_make(tmp_path: Path, kwargs: Any, message: str) -> None:
    target = tmp_path / "x.data"
    with pytest.raises(ValueError, match=message):
        gen.generate("jeugdzorg-trajecten", 10, path=target, **{"fmt": "jsonl", **kwargs})
    assert not target.exists()
    with pytest.raises(ValueError, match="no corpus contract"):
        gen.generate("no-such-contract", 10, path=target)
