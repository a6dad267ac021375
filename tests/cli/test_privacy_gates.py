"""The privacy gates where data leaves and arrives: `pseudonymise` and `pack` refuse a delivery
that does not meet the contract's thresholds (or suppress records when the contract allows
it), scan kept fields for identifiers, record what they found in the metadata and the signed
statement; `unpack` and `check --side output` re-measure. No value in any message."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, Result, load_generator

EXAMPLE = ROOT / "examples" / "contract.yaml"
PASSPHRASE = "a passphrase for the privacy gate tests"


GEN = load_generator()


class Site:
    """A sender and a recipient with keys, a registry and a municipality's export."""

    def __init__(self, root: Path, run: Any) -> None:
        self.root, self.run = root, run
        for d in ("keys", "data", "out", "ggd"):
            (root / d).mkdir(mode=0o700)
        self.secret = root / "keys" / "p.secret"
        assert run("keys", "new-secret", self.secret).code == 0
        assert run("keys", "new-signing", root / "keys" / "sign").code == 0
        made = run("keys", "new-identity", root / "ggd" / "ggd")
        assert made.code == 0
        self.identity = root / "ggd" / "ggd.age"
        self.partners = root / "partners.yaml"
        self.partners.write_text(
            yaml.safe_dump(
                {
                    "ketenx": 1,
                    "partners": [
                        {
                            "name": "Gemeente Voorbeeldstad",
                            "oin": "00000001001234567000",
                            "signing_keys": [
                                {"public_key_file": "keys/sign.pub", "valid_from": "2026-01-01"}
                            ],
                        },
                        {
                            "name": "GGD Voorbeeldregio",
                            "oin": "00000001009876543000",
                            "age_recipients": [made.out.strip()],
                        },
                    ],
                }
            )
        )

    def export(self, rows: int = 1000, name: str = "export.csv", **kw: Any) -> Path:
        path = self.root / "data" / name
        records = GEN.iter_records(rows, seed=42, gemeente="Gouda", **kw)
        with path.open("w", encoding="utf-8", newline="") as fp:
            GEN.WRITERS[path.suffix.lstrip(".")](records, fp)
        return path

    def contract(self, text: str, name: str = "c.yaml") -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def pseudonymise(self, data: Path, contract: Path, out: str, *extra: Any) -> Result:
        return self.run(
            "pseudonymise", data, "-c", contract, "-s", self.secret, "-o", self.root / "out" / out,
            *extra,
        )  # fmt: skip

    def pack(self, data: Path, contract: Path, *extra: Any) -> tuple[Result, Path]:
        target = self.root / "out" / "delivery.ketenx"
        done = self.run(
            "pack", data, "-c", contract, "-s", self.secret, "-k", self.root / "keys" / "sign.key",
            "-p", self.partners, "-o", target, *extra,
        )  # fmt: skip
        return done, target

    def unpack(self, delivery: Path, contract: Path, *extra: Any) -> Result:
        return self.run(
            "unpack", delivery, "-c", contract, "-p", self.partners, "-i", self.identity,
            "-o", self.root / "ggd" / "inbox", *extra,
        )  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, run: Any, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("KETENX_PASSPHRASE", PASSPHRASE)
    return Site(tmp_path, run)


def year_variant() -> str:
    """The sample contract one step finer: birth year instead of five-year age bands."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('to: age-band, band_width: 5, reference_date: "2026-01-01",', "to: year,")
    text = text.replace("                   as: leeftijdsgroep}", "}")
    assert "to: year," in text and "leeftijdsgroep" not in text
    return text


def with_privacy(text: str, **changes: Any) -> str:
    doc = yaml.safe_load(text)
    doc["privacy"].update(changes)
    for key, value in list(doc["privacy"].items()):
        if value is None:
            del doc["privacy"][key]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def class_values(path: Path) -> set[str]:
    """Every postcode, birth date and year of an export: none may appear in a message."""
    values: set[str] = set()
    for record in GEN.iter_records(1000, seed=42, gemeente="Gouda"):
        values |= {record["postcode"], record["postcode"][:4], record["geboortedatum"]}
    return values


def leaked(text: str, values: set[str]) -> list[str]:
    # Four-digit PC4s are also counts and years; a report may print counts. A PC4 is a leak
    # only where it stands where a value would, so look for postcodes and dates, not numbers.
    return sorted(v for v in values if len(v) > 4 and v in text)


def test_pseudonymise_refuses_a_contract_too_fine_for_the_data(site: Site) -> None:
    data = site.export()
    done = site.pseudonymise(data, site.contract(year_variant()), "d.csv")
    assert done.code == 1, done.err
    assert "k-anonymity: smallest class 1 < k 5" in done.err
    assert re.search(r"\(1000 records, \d+ classes, \d+ in classes below k, \d+ unique\)", done.err)
    assert "nothing was written" in done.err
    assert list((site.root / "out").iterdir()) == []
    assert leaked(done.err + done.out, class_values(data)) == []


def test_pack_refuses_too_and_leaves_no_spill(site: Site) -> None:
    data = site.export()
    done, target = site.pack(data, site.contract(year_variant()))
    assert done.code == 1 and "k-anonymity" in done.err
    assert list((site.root / "out").iterdir()) == []
    assert not target.exists()


def test_the_sample_contract_suppresses_the_smallest_classes(site: Site, run: Any) -> None:
    data = site.export()
    done = site.pseudonymise(data, EXAMPLE, "d.csv")
    assert done.code == 0, done.err
    suppressed = int(re.search(r"(\d+) records? suppressed", done.err).group(1))  # type: ignore[union-attr]
    assert 0 < suppressed <= 10  # max_suppression 0.01 of 1000
    meta = json.loads((site.root / "out" / "d.csv.meta.json").read_text())
    assert meta["$schema"].endswith("/delivery-meta/v4")
    privacy = meta["privacy"]
    assert privacy["risk"] == "passed" and privacy["records_suppressed"] == suppressed
    assert privacy["achieved"]["k"] >= 5
    assert meta["output"]["records"] == 1000 - suppressed
    assert meta["checks"]["records_dropped"] == 0
    # The delivery is what the metadata says, and the recipient's re-measurement agrees.
    lines = (site.root / "out" / "d.csv").read_text().splitlines()
    assert len(lines) == 1 + 1000 - suppressed
    check = run("check", site.root / "out" / "d.csv", "-c", EXAMPLE, "--side", "output")
    assert check.code == 0, check.out
    risk = run("risk", site.root / "out" / "d.csv", "-c", EXAMPLE, "--side", "output", "-f", "json")
    figures = json.loads(risk.out)["files"][0]
    assert figures["smallest_class"] == privacy["achieved"]["k"]
    assert figures["equivalence_classes"] == privacy["achieved"]["classes"]
    assert figures["suppressed"] == 0


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet"])
def test_suppression_keeps_every_other_record_byte_for_byte(site: Site, fmt: str) -> None:
    """The spill copy drops whole records of the suppressed classes and nothing else: the
    output equals the unsuppressed output without those records (Parquet: record for
    record)."""
    data = site.export()
    plain = site.pseudonymise(
        data, site.contract(with_privacy(EXAMPLE.read_text(), k=None, max_suppression=None)),
        f"all.{fmt}",
    )  # fmt: skip
    assert plain.code == 0, plain.err
    done = site.pseudonymise(data, EXAMPLE, f"kept.{fmt}")
    assert done.code == 0, done.err
    full = _records(site.root / "out" / f"all.{fmt}", fmt)
    kept = _records(site.root / "out" / f"kept.{fmt}", fmt)
    suppressed = json.loads((site.root / "out" / f"kept.{fmt}.meta.json").read_text())["privacy"][
        "records_suppressed"
    ]
    assert len(kept) == len(full) - suppressed > 0
    it = iter(full)
    assert all(any(k == f for f in it) for k in kept)  # an ordered sub-sequence
    if fmt == "json":
        assert json.loads((site.root / "out" / f"kept.{fmt}").read_text())  # still one array


def _records(path: Path, fmt: str) -> list[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [json.dumps(r) for r in pq.read_table(path).to_pylist()]
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        return [json.dumps(r) for r in json.loads(text)]
    return text.splitlines()[1 if fmt == "csv" else 0 :]


def test_too_little_suppression_allowed_is_refused(site: Site) -> None:
    data = site.export()
    contract = site.contract(with_privacy(EXAMPLE.read_text(), max_suppression=0.001))
    done = site.pseudonymise(data, contract, "d.csv")
    assert done.code == 1
    assert "k-anonymity" in done.err and "max_suppression" in done.err
    assert list((site.root / "out").iterdir()) == []


def test_every_threshold_is_enforced(site: Site) -> None:
    data = site.export()
    for changes, rule in (
        ({"max_risk": 0.1}, "record-risk"),
        ({"max_risk": {"average": 0.01}}, "average-risk"),
        ({"sensitive": ["gewicht_kg"], "l": 40}, "l-diversity"),
    ):
        contract = site.contract(with_privacy(EXAMPLE.read_text(), **changes))
        done = site.pseudonymise(data, contract, "d.csv")
        assert done.code == 1, (changes, done.err)
        assert rule in done.err, (changes, done.err)
        assert list((site.root / "out").iterdir()) == []


def test_unsafe_skip_risk_warns_and_is_recorded_and_signed(site: Site) -> None:
    data = site.export()
    contract = site.contract(year_variant())
    done, target = site.pack(data, contract, "--unsafe-skip-risk")
    assert done.code == 0, done.err
    assert "warning: --unsafe-skip-risk" in done.err
    # The recipient re-measures: the delivery does not meet its own contract.
    refused = site.unpack(target, contract)
    assert refused.code == 1
    assert "does not meet its contract's privacy thresholds" in refused.err
    assert "k-anonymity" in refused.err
    assert not (site.root / "ggd" / "inbox").exists()
    assert leaked(refused.err + refused.out, class_values(data)) == []
    accepted = site.unpack(target, contract, "--unsafe-skip-risk")
    assert accepted.code == 0, accepted.err
    assert "privacy:      NOT re-measured (--unsafe-skip-risk)" in accepted.out
    statement = json.loads((site.root / "ggd" / "inbox" / "statement.dsse.json").read_text())
    predicate = json.loads(base64.b64decode(statement["payload"]))["predicate"]
    assert predicate["privacy"]["outcome"]["risk"] == "skipped"
    assert predicate["privacy"]["k"] == 5
    meta = json.loads((site.root / "ggd" / "inbox" / "data.meta.json").read_text())
    assert meta["privacy"]["risk"] == "skipped" and meta["privacy"]["achieved"] is None


def test_pack_records_the_achieved_figures_and_unpack_re_measures(site: Site) -> None:
    data = site.export()
    done, target = site.pack(data, EXAMPLE)
    assert done.code == 0, done.err
    assert "suppressed to meet the contract's privacy thresholds" in done.err
    opened = site.unpack(target, EXAMPLE)
    assert opened.code == 0, opened.err
    assert "privacy:      thresholds met, re-measured: smallest class" in opened.out
    statement = json.loads((site.root / "ggd" / "inbox" / "statement.dsse.json").read_text())
    predicate = json.loads(base64.b64decode(statement["payload"]))["predicate"]
    outcome = predicate["privacy"]["outcome"]
    assert outcome["risk"] == "passed" and outcome["achieved"]["k"] >= 5
    assert predicate["privacy"]["max_suppression"] == 0.01
    records = predicate["records"]
    assert records["input"] == 1000 and records["dropped"] == 0
    assert records["output"] + records["suppressed"] == 1000 and records["suppressed"] > 0


def test_a_suppressed_parquet_delivery_is_packed_unpacked_and_re_measured(
    site: Site, run: Any
) -> None:
    """The sample contract suppresses; as Parquet the delivery holds the records of its CSV
    delivery, and `unpack` and `check --side output` re-measure it as they do the CSV."""
    data = site.export()
    as_csv = site.pseudonymise(data, EXAMPLE, "d.csv")
    assert as_csv.code == 0, as_csv.err
    done, target = site.pack(data, EXAMPLE, "--to", "parquet")
    assert done.code == 0, done.err
    assert "suppressed to meet the contract's privacy thresholds" in done.err
    opened = site.unpack(target, EXAMPLE)
    assert opened.code == 0, opened.err
    assert "privacy:      thresholds met, re-measured: smallest class" in opened.out
    delivered = site.root / "ggd" / "inbox" / "data.parquet"
    meta = json.loads((site.root / "ggd" / "inbox" / "data.meta.json").read_text())
    csv_meta = json.loads((site.root / "out" / "d.csv.meta.json").read_text())
    assert meta["privacy"] == csv_meta["privacy"]
    assert meta["output"]["records"] == csv_meta["output"]["records"]
    suppressed = meta["privacy"]["records_suppressed"]
    assert 0 < suppressed <= 10
    import pyarrow.parquet as pq

    assert pq.read_table(delivered).num_rows == 1000 - suppressed
    figures = {}
    for path in (delivered, site.root / "out" / "d.csv"):
        check = run("check", path, "-c", EXAMPLE, "--side", "output")
        assert check.code == 0, check.out
        risk = run("risk", path, "-c", EXAMPLE, "--side", "output", "-f", "json")
        assert risk.code == 0, risk.out
        (entry,) = json.loads(risk.out)["files"]
        entry.pop("file")
        figures[path.suffix] = entry
    assert figures[".parquet"] == figures[".csv"]
    assert figures[".parquet"]["smallest_class"] == meta["privacy"]["achieved"]["k"]
    assert leaked(done.err + opened.out + opened.err, class_values(data)) == []


def test_check_side_output_re_measures_a_delivery(site: Site, run: Any) -> None:
    data = site.export()
    contract = site.contract(year_variant())
    done = site.pseudonymise(data, contract, "d.csv", "--unsafe-skip-risk")
    assert done.code == 0, done.err
    meta = json.loads((site.root / "out" / "d.csv.meta.json").read_text())
    assert meta["privacy"]["risk"] == "skipped"
    for fmt in ("text", "json", "sarif"):
        check = run("check", site.root / "out" / "d.csv", "-c", contract, "--side", "output",
                    "-f", fmt)  # fmt: skip
        assert check.code == 1, check.out
        assert "k-anonymity" in check.out
        assert leaked(check.out + check.err, class_values(data)) == []


SCAN_SCHEMA = {
    "type": "object",
    "properties": {
        "bsn": {"type": "string", "format": "nl-bsn"},
        "opmerking": {"type": ["string", "null"]},
        "afspraak": {"type": ["string", "null"]},
    },
}


def _scan_contract(site: Site, **opmerking: Any) -> Path:
    from tests.helpers import contract_document

    doc = contract_document(
        "scan-gate", SCAN_SCHEMA,
        {"bsn": {"treatment": "pseudonymise"}, "opmerking": {"treatment": "keep", **opmerking},
         "afspraak": {"treatment": "keep", "scan": {"ignore": ["date"]}}},
    )  # fmt: skip
    return site.contract(yaml.safe_dump(doc), "scan.yaml")


def test_pseudonymise_scans_kept_fields_by_default(site: Site) -> None:
    phone = "06-12345678"
    data = site.root / "data" / "notes.csv"
    data.write_text(
        "bsn,opmerking,afspraak\n"
        "111222333,geen bijzonderheden,2026-03-01\n"
        f"123456782,bel moeder {phone},\n"
    )
    done = site.pseudonymise(data, _scan_contract(site), "d.csv")
    assert done.code == 1
    assert "identifiers in a field the contract keeps: field /opmerking: rule nl-phone" in done.err
    assert "record 2" in done.err
    assert phone not in done.err and "12345678" not in done.err
    assert list((site.root / "out").iterdir()) == []
    # The contract turns the rule off for the field: accepted. (`afspraak` holds a date and
    # ignores that rule already.)
    contract = _scan_contract(site, scan={"ignore": ["nl-phone"]})
    assert site.pseudonymise(data, contract, "d.csv").code == 0
    meta = json.loads((site.root / "out" / "d.csv.meta.json").read_text())
    assert meta["privacy"] == {
        "risk": "not-measured", "scan": "passed", "records_suppressed": 0, "achieved": None,
    }  # fmt: skip


def test_a_delivery_of_version_2_metadata_is_still_read(site: Site, run: Any) -> None:
    """reidentify reads a delivery made before the privacy gates (metadata version 2)."""
    from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

    data = site.root / "data" / "three.csv"
    data.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    assert site.pseudonymise(data, SAMPLE_CONTRACT, "d.csv").code == 0
    meta_path = site.root / "out" / "d.csv.meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["privacy"]
    meta["$schema"] = meta["$schema"].replace("/v4", "/v2")
    meta_path.write_text(json.dumps(meta))
    back = run("reidentify", site.root / "out" / "d.csv", "-c", SAMPLE_CONTRACT, "-s",
               site.secret, "-o", site.root / "out" / "back.csv")  # fmt: skip
    assert back.code == 0, back.err
    meta["$schema"] = meta["$schema"].replace("/v2", "/v3")  # v3 without privacy: refused
    meta_path.write_text(json.dumps(meta))
    again = run("reidentify", site.root / "out" / "d.csv", "-c", SAMPLE_CONTRACT, "-s",
                site.secret, "-o", site.root / "out" / "back2.csv")  # fmt: skip
    assert again.code == 3, again.err
    assert "not a complete ketenx delivery metadata file" in again.err


# The audit's cases of the gates' semantics (max_suppression at its boundary, entropy l,
# empty sensitive values, every quasi-identifier dropped, integral numbers) are library tests:
# tests/api/test_privacy_gates_api.py.
