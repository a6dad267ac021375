"""`pseudonymise --to parquet` for a contract that allows suppression (docs/privacy.md §5):
the Parquet delivery holds exactly the records the CSV delivery of the same contract, data and
secret holds, in the same order; a delivery of nothing is refused as for CSV; the same input
gives the same bytes; the recipient's re-measurement agrees with the metadata."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ketenx
from ketenx.storage.secrets import new_secret
from tests.helpers import make_contract

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "pc": {"type": "string"},
        "jaar": {"type": ["integer", "null"]},
        "gewicht": {"type": ["number", "null"]},
        "mail": {"type": ["string", "null"]},
        "diag": {"type": ["string", "null"]},
    },
    "required": ["id", "pc"],
}
FIELDS = {
    "id": {"treatment": "pseudonymise"},
    "pc": {"treatment": "keep"},
    "jaar": {"treatment": "keep"},
    "gewicht": {"treatment": "keep"},
    "mail": {"treatment": "encrypt"},
    "diag": {"treatment": "keep", "scan": False},
}


def contract(k: int = 3, max_suppression: float = 1.0) -> ketenx.Contract:
    privacy = {"quasi_identifiers": ["pc"], "k": k, "max_suppression": max_suppression}
    made: ketenx.Contract = make_contract("pq-suppress", SCHEMA, FIELDS, privacy=privacy)
    return made


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    for folder in ("data", "out", "keys"):
        (root / folder).mkdir(mode=0o700)
    new_secret(root / "keys" / "p.secret")
    return root


def export(site: Path, sizes: list[int], name: str = "in.csv") -> Path:
    """Classes of postcode `P<i>` with ``sizes[i]`` records each, interleaved."""
    rows = []
    left = list(sizes)
    n = 0
    while any(left):
        for c, remaining in enumerate(left):
            if remaining:
                left[c] -= 1
                jaar = "" if n % 5 == 0 else str(1950 + n % 60)
                gewicht = "" if n % 7 == 0 else f"{40 + n % 50}.{n % 10}"
                mail = "" if n % 3 == 0 else f"m{n}@example.nl"
                diag = "" if n % 4 == 0 else f'd "{n % 3}", x'
                rows.append([f"id{n:05d}", f"P{c}", jaar, gewicht, mail, diag])
                n += 1
    path = site / "data" / name
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["id", "pc", "jaar", "gewicht", "mail", "diag"])
        writer.writerows(rows)
    return path


def deliver(site: Path, data: Path, c: ketenx.Contract, out: str) -> ketenx.PseudonymiseResult:
    return ketenx.pseudonymise(data, c, site / "out" / out, secret=site / "keys" / "p.secret")


def csv_rows(path: Path) -> list[dict[str, Any]]:
    """The delivered CSV's records as JSON values, an empty cell absent."""
    out = []
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        rec: dict[str, Any] = {}
        for name, cell in row.items():
            if cell != "":
                kind = SCHEMA["properties"][name]["type"]  # type: ignore[index]
                rec[name] = (
                    int(cell) if "integer" in kind else float(cell) if "number" in kind else cell
                )
        out.append(rec)
    return out


def parquet_rows(path: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if v is not None} for r in pq.read_table(path).to_pylist()]


def both(site: Path, sizes: list[int], k: int, tag: str) -> dict[str, ketenx.PseudonymiseResult]:
    data = export(site, sizes, f"{tag}.csv")
    c = contract(k)
    return {fmt: deliver(site, data, c, f"{tag}.{fmt}") for fmt in ("csv", "parquet")}


@pytest.mark.parametrize(
    ("sizes", "k", "suppressed"),
    [
        ([4, 5, 3, 6], 3, 0),  # no class below k
        ([4, 1, 5, 2, 3, 1], 3, 4),  # some
        ([2, 1, 9, 2, 1], 3, 6),  # all classes but one
    ],
)
def test_parquet_holds_exactly_the_records_the_csv_delivery_holds(
    site: Path, sizes: list[int], k: int, suppressed: int
) -> None:
    done = both(site, sizes, k, f"case{suppressed}")
    for result in done.values():
        assert result.records_suppressed == suppressed
        assert result.records_out == sum(sizes) - suppressed
        assert result.metadata["privacy"]["records_suppressed"] == suppressed
    as_csv = csv_rows(done["csv"].output)
    as_parquet = parquet_rows(done["parquet"].output)
    assert as_parquet == as_csv
    assert len(as_parquet) == sum(sizes) - suppressed
    meta = done["parquet"].metadata
    assert meta["output"]["records"] == len(as_parquet)
    assert meta["privacy"] == done["csv"].metadata["privacy"]
    # The digest and size are of the delivered bytes.
    raw = done["parquet"].output.read_bytes()
    assert done["parquet"].output_digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert done["parquet"].output_bytes == len(raw)
    assert [p.name for p in (site / "out").iterdir() if p.name.startswith(".")] == []


def test_everything_suppressed_is_refused_as_for_csv(site: Path) -> None:
    data = export(site, [2, 1, 2], "none.csv")
    messages = {}
    for fmt in ("csv", "parquet"):
        with pytest.raises(ketenx.RejectedError) as info:
            deliver(site, data, contract(3), f"none.{fmt}")
        messages[fmt] = (info.value.message, info.value.hint)
        assert not (site / "out" / f"none.{fmt}").exists()
        assert not (site / "out" / f"none.{fmt}.meta.json").exists()
    assert messages["parquet"] == messages["csv"]
    assert "every record" in messages["parquet"][0]


def test_too_little_suppression_allowed_is_refused_as_for_csv(site: Path) -> None:
    data = export(site, [5, 1, 5], "tight.csv")
    for fmt in ("csv", "parquet"):
        with pytest.raises(ketenx.RejectedError) as info:
            deliver(site, data, contract(3, max_suppression=0.05), f"tight.{fmt}")
        assert "k-anonymity" in info.value.message
        assert "max_suppression" in (info.value.hint or "")
        assert not (site / "out" / f"tight.{fmt}").exists()


def test_the_same_input_gives_the_same_parquet_bytes(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also over several row groups of the spill and of the delivery (a row group per batch
    of 4,096 records read)."""
    from ketenx.records import parquetwriter

    monkeypatch.setattr(parquetwriter, "ROW_GROUP_ROWS", 8)
    data = export(site, [3000, 1, 2500, 2, 3000, 3], "again.csv")
    first = deliver(site, data, contract(3), "a.parquet")
    second = deliver(site, data, contract(3), "b.parquet")
    assert first.records_suppressed == 3
    assert first.output.read_bytes() == second.output.read_bytes()
    assert first.output_digest == second.output_digest
    assert pq.ParquetFile(first.output).metadata.num_row_groups > 1
    csv_out = deliver(site, data, contract(3), "a.csv")
    assert parquet_rows(first.output) == csv_rows(csv_out.output)


def test_the_recipient_re_measures_a_suppressed_parquet_delivery(site: Path) -> None:
    done = both(site, [4, 1, 5, 2, 3, 1], 3, "remeasure")
    c = contract(3)
    figures = {}
    for fmt, result in done.items():
        assert ketenx.check(result.output, c, side="output").valid
        measured = json.loads(ketenx.risk(result.output, c, side="output").render("json"))
        (entry,) = measured["files"]
        entry.pop("file")
        figures[fmt] = entry
    assert figures["parquet"] == figures["csv"]
    achieved = done["parquet"].metadata["privacy"]["achieved"]
    assert figures["parquet"]["smallest_class"] == achieved["k"] >= 3
    assert figures["parquet"]["equivalence_classes"] == achieved["classes"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=8), k=st.integers(2, 4))
def test_parquet_and_csv_deliveries_agree_on_generated_classes(
    site: Path, sizes: list[int], k: int
) -> None:
    data = export(site, sizes, "gen.csv")
    c = contract(k)
    outcomes: dict[str, Any] = {}
    for fmt in ("csv", "parquet"):
        try:
            outcomes[fmt] = deliver(site, data, c, f"gen.{fmt}")
        except ketenx.RejectedError as refused:
            outcomes[fmt] = refused.message
    if isinstance(outcomes["csv"], str):
        assert outcomes["parquet"] == outcomes["csv"]
        assert all(s < k for s in sizes)  # only a delivery of nothing is refused here
        return
    assert parquet_rows(outcomes["parquet"].output) == csv_rows(outcomes["csv"].output)
    kept = sum(s for s in sizes if s >= k)
    assert outcomes["parquet"].records_out == kept
