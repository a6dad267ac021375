"""The privacy gates' semantics through the library verbs (moved from the CLI tests: they
test what the gates decide, not how the CLI prints it; tests/cli/test_privacy_gates.py keeps
the messages, exit codes and the CLI's refusals).

Each case is one the outside-in audit of the gates reproduced."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import ketenx
from ketenx import RejectedError
from ketenx.storage.secrets import new_secret
from tests.helpers import make_contract

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "pc": {"type": ["string", "null"]},
        "jaar": {"type": ["integer", "null"]},
        "diag": {"type": ["string", "null"]},
    },
}


def contract(privacy: dict[str, Any], **fields: Any) -> ketenx.Contract:
    base = {"id": {"treatment": "keep", "scan": False}, "pc": {"treatment": "keep"},
            "jaar": {"treatment": "keep"}, "diag": {"treatment": "keep"}}  # fmt: skip
    return make_contract("audit", SCHEMA, {**base, **fields}, privacy=privacy)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for folder in ("data", "out", "keys"):
        (tmp_path / folder).mkdir(mode=0o700)
    new_secret(tmp_path / "keys" / "p.secret")
    return tmp_path


def rows(site: Path, name: str, lines: list[str]) -> Path:
    path = site / "data" / name
    path.write_text("id,pc,jaar,diag\n" + "".join(r + "\n" for r in lines), encoding="utf-8")
    return path


def pseudonymise(site: Path, data: Path, c: ketenx.Contract, out: str) -> Any:
    return ketenx.pseudonymise(data, c, site / "out" / out, secret=site / "keys" / "p.secret")


def test_max_suppression_is_exact_at_its_boundary(site: Path) -> None:
    lines = [f"r{i},P{i % 7},,x" for i in range(71)] + [f"u{i},U{i},,x" for i in range(29)]
    data = rows(site, "b.csv", lines)
    done = pseudonymise(site, data, contract({"quasi_identifiers": ["pc"], "k": 5,
                                              "max_suppression": 0.29}), "b.csv")  # fmt: skip
    assert done.records_suppressed == 29  # 0.29 × 100 is 28.999… in floating point; 29 may go
    assert done.metadata["privacy"]["records_suppressed"] == 29
    tight = contract({"quasi_identifiers": ["pc"], "k": 5, "max_suppression": 0.28})
    with pytest.raises(RejectedError) as info:
        pseudonymise(site, data, tight, "c.csv")
    assert "k-anonymity" in info.value.message and "max_suppression" in info.value.hint
    assert not (site / "out" / "c.csv").exists()


def test_csv_to_csv_measures_what_the_recipient_reads(site: Path) -> None:
    """A kept integer written `05` in the export is the number 5: one class with `5`."""
    c = contract({"quasi_identifiers": ["jaar"], "k": 2})
    done = pseudonymise(
        site, rows(site, "j.csv", ["a,,5,", "b,,05,", "c,,7,", "d,,7,"]), c, "j.csv"
    )
    assert done.metadata["privacy"]["achieved"]["k"] == 2
    assert ketenx.check(done.output, c, side="output").valid


def test_a_privacy_refusal_is_named_also_when_invalid_records_are_dropped(site: Path) -> None:
    data = rows(site, "s.csv", ["a,A,5,x", "b,A,x,x", "c,B,5,x"])
    c = contract({"quasi_identifiers": ["pc"], "k": 2})
    with pytest.raises(RejectedError) as info:
        ketenx.pseudonymise(data, c, site / "out" / "s.csv", secret=site / "keys" / "p.secret",
                            skip_check=True)  # fmt: skip
    assert "re-identification risk above the contract's thresholds: k-anonymity" in str(info.value)
    assert "input rejected" not in str(info.value)


def test_entropy_l_is_compared_unrounded(site: Path) -> None:
    lines = [f"x{i},A,,x" for i in range(710)] + [f"y{i},A,,y" for i in range(711)]
    c = contract({"quasi_identifiers": ["pc"], "sensitive": ["diag"], "l": 2, "l_kind": "entropy"})
    with pytest.raises(RejectedError, match="l-diversity"):  # exp(entropy) is 1.9999995 < 2
        pseudonymise(site, rows(site, "e.csv", lines), c, "e.csv")


def test_an_empty_sensitive_value_is_no_value(site: Path) -> None:
    c = contract({"quasi_identifiers": ["pc"], "k": 2, "sensitive": ["diag"], "l": 2})
    with pytest.raises(RejectedError, match="l-diversity"):  # one known value only
        pseudonymise(site, rows(site, "l.csv", ["a,A,,hiv", "b,A,,hiv", "c,A,,"]), c, "l.csv")
    done = pseudonymise(
        site, rows(site, "l2.csv", ["a,A,,hiv", "b,A,,griep", "c,A,,"]), c, "l2.csv"
    )
    assert done.records_out == 3


def test_every_quasi_identifier_dropped_is_one_class(site: Path) -> None:
    c = contract({"quasi_identifiers": ["pc"], "k": 5}, pc={"treatment": "drop"})
    small = rows(site, "d.csv", ["a,A,,x", "b,B,,x", "c,C,,x"])
    with pytest.raises(RejectedError, match="smallest class 3 < k 5"):
        pseudonymise(site, small, c, "d.csv")
    assert not ketenx.risk(small, c).passed
    done = pseudonymise(site, rows(site, "e.csv", [f"r{i},P{i},,x" for i in range(6)]), c, "e.csv")
    privacy = done.metadata["privacy"]
    assert privacy["risk"] == "passed" and privacy["achieved"]["k"] == 6


def test_an_integral_number_goes_into_csv_as_an_integer(site: Path) -> None:
    data = site / "data" / "n.jsonl"
    data.write_text('{"id": "a", "jaar": 1.0}\n{"id": "b", "jaar": 1}\n', encoding="utf-8")
    c = contract({"quasi_identifiers": ["jaar"], "k": 2})
    done = pseudonymise(site, data, c, "n.csv")
    with done.output.open(newline="", encoding="utf-8") as fh:
        assert [row["jaar"] for row in csv.DictReader(fh)] == ["1", "1"]
    assert ketenx.check(done.output, c, side="output").valid
