"""`ketenx pseudonymise`, `reidentify`, `keys new-secret` and `check --side output`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, contract_document, csv_text

NAMES = ("Zoë", "Jansen", "Bülent", "Çelik", "Anna, Maria", "van der Meer")
BSNS = ("111222333", "012345672", "123456782")


def make_input(dirs, rows=GOOD_ROWS, name="in.csv") -> Path:
    path = dirs[0] / name
    path.write_text(csv_text(*rows), encoding="utf-8")
    return path


def test_pseudonymise_writes_delivery_and_metadata(run, dirs, secret):
    src = make_input(dirs)
    out = dirs[0] / "out.csv"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    assert (
        header
        == "persoon_id,geboortedatum,geslacht,postcode,gemeente,email_ouder,lengte_cm,gewicht_kg"
    )
    assert len(rows) == 3
    for value in (*NAMES, *BSNS, "ouder@example.nl", "1234 AB", "2015-03-02"):
        assert value not in text
    meta = json.loads((dirs[0] / "out.csv.meta.json").read_text())
    assert meta["output"]["records"] == 3 and meta["input"]["records"] == 3
    assert meta["pseudonymisation"]["key_id"] == secret.read_text().split()[-2]
    assert secret.read_text().split()[-1] not in json.dumps(meta)
    from jsonschema import Draft202012Validator

    from ketenx.resources import load_schema

    Draft202012Validator(load_schema("delivery-meta.schema.json")).validate(meta)
    check = run("check", out, "-c", SAMPLE_CONTRACT, "--side", "output")
    assert check.code == 0, check.out
    # the input does not pass as a delivery
    assert run("check", src, "-c", SAMPLE_CONTRACT, "--side", "output").code == 1


def test_jsonl_output(run, dirs, secret):
    src = make_input(dirs)
    out = dirs[0] / "out.jsonl"
    assert (
        run(
            "pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--to", "jsonl"
        ).code
        == 0
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["persoon_id"].startswith("kx1_") and records[0]["postcode"] == "1234"
    assert "email_ouder" in records[0] and records[1]["email_ouder"] is None
    assert run("check", out, "-c", SAMPLE_CONTRACT, "--side", "output").code == 0


def json_input(dirs, name="in.json") -> Path:
    """GOOD_ROWS as a JSON array (a JSON Lines file when the name says .jsonl)."""
    from tests.unit.test_readers import records_json

    recs = [*records_json(), dict(records_json()[1], email_ouder="Ouder.Naam@Example.NL")]
    path = dirs[0] / name
    if name.endswith(".json"):
        path.write_text(json.dumps(recs, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("src_name", "out_name", "to", "expected"),
    [
        ("in.json", "out.json", None, "json"),  # follows the input (and the name)
        ("in.json", "out.jsonl", None, "jsonl"),  # the output's name decides
        ("in.csv", "out.json", None, "json"),
        ("in.jsonl", "out.ndjson", None, "jsonl"),
        ("in.csv", "out.json", "json", "json"),
        ("in.json", "out.data", None, "json"),  # no telling name: the input's format
        ("in.csv", "out.data", "jsonl", "jsonl"),
    ],
)
def test_output_format_follows_to_then_name_then_input(
    run, dirs, secret, src_name, out_name, to, expected
):
    src = make_input(dirs) if src_name.endswith(".csv") else json_input(dirs, src_name)
    out = dirs[0] / out_name
    extra = ("--to", to) if to else ()
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, *extra)
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    meta = json.loads((dirs[0] / f"{out_name}.meta.json").read_text())
    assert meta["output"]["format"] == expected
    if expected == "json":
        records = json.loads(text)
        assert isinstance(records, list) and len(records) == meta["output"]["records"]
        assert text.startswith("[\n{") and text.endswith("}\n]\n")
    elif expected == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
    if expected != "csv":
        assert all(r["persoon_id"].startswith("kx1_") for r in records)
    fmt_args = (
        ()
        if out_name.rsplit(".", 1)[-1] in ("csv", "json", "jsonl", "ndjson")
        else (
            "--input-format",
            expected,
        )
    )
    check = run("check", out, "-c", SAMPLE_CONTRACT, "--side", "output", *fmt_args)
    assert check.code == 0, check.out


@pytest.mark.parametrize(("out_name", "to"), [("out.json", "jsonl"), ("out.csv", "json")])
def test_to_contradicting_the_output_name_is_refused(run, dirs, secret, out_name, to):
    src = make_input(dirs)
    out = dirs[0] / out_name
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--to", to)
    assert result.code == 2 and "--to" in result.err
    assert not out.exists()


def test_json_array_delivery_round_trip(run, dirs, secret):
    src = json_input(dirs)
    out = dirs[0] / "out.json"
    assert run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out).code == 0
    assert "Naam@Example" not in out.read_text(encoding="utf-8")
    back = dirs[0] / "back.json"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", back)
    assert result.code == 0, result.err
    records = json.loads(back.read_text(encoding="utf-8"))
    # exactly as sent: `encrypt` does not normalise by default (no lower-casing)
    assert [r.get("email_ouder") for r in records] == [None, None, "Ouder.Naam@Example.NL"]
    assert "email_ouder" in records[0]  # null stays null, absent stays absent
    assert "email_ouder" not in records[1]
    # and into another format, by the output's name
    as_jsonl = dirs[0] / "back.jsonl"
    assert run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", as_jsonl).code == 0
    assert [json.loads(line) for line in as_jsonl.read_text().splitlines()] == records


def test_rejected_input_writes_nothing(run, dirs, secret):
    src = make_input(dirs, [GOOD_ROWS[0], GOOD_ROWS[1].replace("012345672", "012345673")])
    out = dirs[0] / "out.csv"
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 1
    assert "record 2, field /bsn: rule nl-bsn" in result.err
    assert "012345673" not in result.err
    assert sorted(p.name for p in dirs[0].iterdir()) == ["in.csv"]


def test_unsafe_skip_check_drops_and_records(run, dirs, secret):
    src = make_input(dirs, [GOOD_ROWS[0], GOOD_ROWS[1].replace("012345672", "012345673")])
    out = dirs[0] / "out.csv"
    result = run(
        "pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--unsafe-skip-check"
    )
    assert result.code == 0
    assert "warning" in result.err
    meta = json.loads((dirs[0] / "out.csv.meta.json").read_text())
    assert meta["checks"]["input"].startswith("skipped") and meta["checks"]["records_dropped"] == 1
    assert len(out.read_text().splitlines()) == 2


def pseudonyms(path: Path) -> list[str]:
    return [line.split(",")[0] for line in path.read_text().splitlines()[1:]]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_keyed_fields_are_checked_and_keyed_in_normalised_form(run, dirs, secret, fmt):
    """The BSN default (strip, left-pad to nine) applies before the input check, so an export
    that lost a BSN's leading zero or padded a cell gets the same pseudonyms; `ketenx check`
    still reports the export as it is."""
    clean = [GOOD_ROWS[0], GOOD_ROWS[1]]
    messy = [
        GOOD_ROWS[0].replace("111222333", '" 111222333 "'),
        GOOD_ROWS[1].replace("012345672", "12345672"),  # leading zero lost in a spreadsheet
    ]
    outs = []
    for name, rows in (("clean", clean), ("messy", messy)):
        src = make_input(dirs, rows, name=f"{name}.csv")
        if fmt == "jsonl":  # the same records as JSON Lines (CSV cells stay strings)
            import csv as _csv

            with open(src, newline="", encoding="utf-8") as fh:
                recs = list(_csv.DictReader(fh))
            for r in recs:
                for k in ("huisnummer",):
                    r[k] = int(r[k])
                for k in ("lengte_cm", "gewicht_kg"):
                    r[k] = float(r[k]) if r[k] else None
                r["email_ouder"] = r["email_ouder"] or None
            src = dirs[0] / f"{name}.jsonl"
            src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        out = dirs[0] / f"{name}.out.{fmt}"
        result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
        assert result.code == 0, result.err
        outs.append(out.read_text(encoding="utf-8"))
        if name == "messy":
            checked = run("check", src, "-c", SAMPLE_CONTRACT, "-f", "json")
            assert checked.code == 1
            assert {e["rule"] for e in json.loads(checked.out)["errors"]} == {"nl-bsn"}
    ids = [
        [line.split(",")[0] if fmt == "csv" else json.loads(line)["persoon_id"] for line in o]
        for o in (x.splitlines()[1 if fmt == "csv" else 0 :] for x in outs)
    ]
    assert ids[0] == ids[1] and len(set(ids[0])) == 2


# Which pseudonyms a delivery gets (deterministic, per recipient, per delivery) is a library
# test: tests/api/test_pseudonyms_api.py.


def test_reidentify_round_trip_and_refusals(run, dirs, secret, tmp_path):
    src = make_input(dirs)
    out = dirs[0] / "out.csv"
    assert run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out).code == 0
    re = dirs[0] / "re.csv"
    result = run(
        "reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", re, "--field", "email_ouder"
    )
    assert result.code == 0, result.err
    rows = re.read_text().splitlines()
    assert rows[1].split(",")[5] == "ouder@example.nl"
    assert rows[1].split(",")[0].startswith("kx1_")  # one-way fields stay as they are
    refused = run(
        "reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", re, "--field", "persoon_id"
    )
    assert refused.code == 1 and "only encrypted fields" in refused.err
    other_secret = tmp_path / "secrets" / "other.secret"
    run("keys", "new-secret", other_secret)
    wrong = run(
        "reidentify", out, "-c", SAMPLE_CONTRACT, "-s", other_secret, "-o", dirs[0] / "x.csv"
    )
    assert wrong.code == 1 and "did not make the delivery" in wrong.err
    assert not (dirs[0] / "x.csv").exists()


def test_formula_cells_are_neutralised_and_restored(run, dirs, secret, tmp_path):
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    doc["fields"]["achternaam"] = {"treatment": "keep"}
    contract = tmp_path / "keepname.yaml"
    contract.write_text(yaml.safe_dump(doc, allow_unicode=True))
    src = make_input(
        dirs,
        [
            GOOD_ROWS[0].replace("Jansen", "=HYPERLINK(1)"),
            GOOD_ROWS[1].replace("Çelik", "'@quoted"),
        ],
    )
    out = dirs[0] / "out.csv"
    assert run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out).code == 0
    text = out.read_text()
    assert "'=HYPERLINK(1)" in text and "''@quoted" in text
    report = json.loads(run("check", out, "-c", contract, "--side", "output", "-f", "json").out)
    assert report["valid"]
    re = dirs[0] / "re.csv"
    assert run("reidentify", out, "-c", contract, "-s", secret, "-o", re).code == 0
    assert "'=HYPERLINK(1)" in re.read_text()  # CSV output again: neutralised again


# --- refusals of unsafe secret setups (exit 3) --------------------------------------------------


def test_secret_readable_by_group(run, dirs, secret):
    os.chmod(secret, 0o640)
    result = run(
        "pseudonymise",
        make_input(dirs),
        "-c",
        SAMPLE_CONTRACT,
        "-s",
        secret,
        "-o",
        dirs[0] / "o.csv",
    )
    assert result.code == 3 and "group or others" in result.err


def test_secret_next_to_the_data(run, dirs, secret):
    src = make_input(dirs)
    beside = dirs[0] / "s.secret"
    beside.write_bytes(secret.read_bytes())
    beside.chmod(0o600)
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", beside, "-o", dirs[0] / "o.csv")
    assert result.code == 3 and "same folder" in result.err
    # the output's folder counts too
    out_dir = dirs[1].parent / "out"
    out_dir.mkdir()
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", dirs[1] / "o.csv")
    assert result.code == 3


def test_secret_in_git_work_tree(run, dirs, secret, tmp_path):
    repo = tmp_path / "repo"
    (repo / "keys").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    tracked = repo / "keys" / "s.secret"
    tracked.write_bytes(secret.read_bytes())
    tracked.chmod(0o600)
    src = make_input(dirs)
    result = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", tracked, "-o", dirs[0] / "o.csv")
    assert result.code == 3 and "git work tree" in result.err
    (repo / ".gitignore").write_text("*.secret\n")
    assert (
        run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", tracked, "-o", dirs[0] / "o.csv").code
        == 0
    )


def test_short_secret(run, dirs, secret):
    from ketenx.storage.secrets import MAGIC, key_id_for

    short = dirs[1] / "short.secret"
    raw = b"\x01" * 16
    import base64

    short.write_text(
        f"{MAGIC} {key_id_for(raw)} {base64.urlsafe_b64encode(raw).decode().rstrip('=')}\n"
    )
    short.chmod(0o600)
    result = run(
        "pseudonymise",
        make_input(dirs),
        "-c",
        SAMPLE_CONTRACT,
        "-s",
        short,
        "-o",
        dirs[0] / "o.csv",
    )
    assert result.code == 3 and "128 bits" in result.err


def test_secret_value_on_the_command_line(run, dirs, secret):
    value = secret.read_text().split()[-1]
    result = run(
        "pseudonymise",
        make_input(dirs),
        "-c",
        SAMPLE_CONTRACT,
        "-s",
        value,
        "-o",
        dirs[0] / "o.csv",
    )
    assert result.code == 3 and "file path only" in result.err
    assert value not in result.err


def keep_only_contract(tmp_path: Path) -> Path:
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text(encoding="utf-8"))
    doc["fields"] = {
        name: ({"treatment": "keep"} if name in ("geslacht", "gemeente") else {"treatment": "drop"})
        for name in doc["fields"]
    }
    path = tmp_path / "keep-only.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_an_unneeded_secret_is_still_refused_when_unsafe(run, dirs, secret, tmp_path):
    contract = keep_only_contract(tmp_path)
    src, out = make_input(dirs), dirs[0] / "o.csv"
    value = secret.read_text().split()[-1]
    as_value = run("pseudonymise", src, "-c", contract, "-s", value, "-o", out)
    assert as_value.code == 3 and "file path only" in as_value.err and value not in as_value.err
    beside = dirs[0] / "s.secret"
    beside.write_bytes(secret.read_bytes())
    beside.chmod(0o600)
    assert run("pseudonymise", src, "-c", contract, "-s", beside, "-o", out).code == 3
    assert not out.exists()
    # no secret at all, or a safe one: a contract that keys nothing needs none
    assert run("pseudonymise", src, "-c", contract, "-o", out).code == 0
    assert run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out).code == 0


def test_secret_from_environment(run, dirs, secret):
    out = dirs[0] / "o.csv"
    result = run(
        "pseudonymise",
        make_input(dirs),
        "-c",
        SAMPLE_CONTRACT,
        "-o",
        out,
        env={"KETENX_SECRET_FILE": str(secret)},
    )
    assert result.code == 0, result.err


def test_missing_secret(run, dirs):
    result = run("pseudonymise", make_input(dirs), "-c", SAMPLE_CONTRACT, "-o", dirs[0] / "o.csv")
    assert result.code == 3 and "new-secret" in result.err


def test_new_secret_refuses_overwrite_and_is_private(run, secret):
    assert (secret.stat().st_mode & 0o777) == 0o600
    result = run("keys", "new-secret", secret)
    assert result.code == 3 and "never overwritten" in result.err


def test_output_schema_command(run):
    result = run("contract", "output-schema", SAMPLE_CONTRACT)
    assert result.code == 0
    schema = json.loads(result.out)
    assert schema["additionalProperties"] is False and "persoon_id" in schema["properties"]


def test_an_empty_string_csv_cannot_carry_rejects_a_csv_delivery(run, dirs, secret, tmp_path):
    doc = contract_document(
        "leeg",
        {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "opm": {"type": "string"},
                "tel": {"type": ["string", "null"]},
            },
            "required": ["id", "opm", "tel"],
            "additionalProperties": False,
        },
        {
            "id": {"treatment": "pseudonymise"},
            "opm": {"treatment": "keep"},
            "tel": {"treatment": "mask", "keep_last": 2},
        },
    )
    contract = tmp_path / "leeg.json"
    contract.write_text(json.dumps(doc))
    src = dirs[0] / "in.jsonl"
    src.write_text('{"id": "a", "opm": "", "tel": ""}\n')
    out = dirs[0] / "o.csv"
    refused = run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out)
    assert refused.code == 1 and "/opm" in refused.err and "--to jsonl" in refused.err
    assert not out.exists()
    # JSON carries the empty string; a nullable column reads an empty cell as null
    as_json = dirs[0] / "o.jsonl"
    assert run("pseudonymise", src, "-c", contract, "-s", secret, "-o", as_json).code == 0
    assert run("check", as_json, "-c", contract, "--side", "output").code == 0
    src.write_text('{"id": "a", "opm": "x", "tel": ""}\n')
    assert run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out).code == 0
    assert run("check", out, "-c", contract, "--side", "output").code == 0


def test_a_kept_ref_property_keeps_its_defs_in_the_output_schema(run, dirs, secret, tmp_path):
    from jsonschema import Draft202012Validator

    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text(encoding="utf-8"))
    doc["schema"]["$defs"] = {"gemeente": {"type": "string", "minLength": 2}}
    doc["schema"]["properties"]["gemeente"] = {"$ref": "#/$defs/gemeente"}
    contract = tmp_path / "defs.yaml"
    contract.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    schema = json.loads(run("contract", "output-schema", contract).out)
    assert schema["properties"]["gemeente"] == {"$ref": "#/$defs/gemeente"}
    assert schema["$defs"] == doc["schema"]["$defs"]
    out = dirs[0] / "out.jsonl"
    result = run("pseudonymise", make_input(dirs), "-c", contract, "-s", secret, "-o", out)
    assert result.code == 0, result.err
    validator = Draft202012Validator(schema)
    for line in out.read_text(encoding="utf-8").splitlines():
        validator.validate(json.loads(line))
    assert run("check", out, "-c", contract, "--side", "output").code == 0
    as_csv = dirs[0] / "out.csv"  # the $ref'd type is a string: CSV can carry it
    assert (
        run("pseudonymise", make_input(dirs), "-c", contract, "-s", secret, "-o", as_csv).code == 0
    )
    assert run("check", as_csv, "-c", contract, "--side", "output").code == 0


@pytest.mark.parametrize(
    ("name", "content", "delivered"),
    [
        ("empty.csv", "", None),
        ("header.csv", csv_text(), None),
        ("empty.json", "[]", "[]\n"),
        ("empty.jsonl", "", ""),
    ],
)
def test_an_empty_input_is_refused_unless_allowed(run, dirs, secret, name, content, delivered):
    src = dirs[0] / name
    src.write_text(content, encoding="utf-8")
    out = dirs[0] / ("out." + name.split(".")[1])
    refused = run("pseudonymise", src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert refused.code == 1 and "no-records" in refused.err and "--allow-empty" in refused.err
    assert not out.exists()
    args = ("-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--allow-empty")
    assert run("pseudonymise", src, *args).code == 0
    text = out.read_text(encoding="utf-8")
    if delivered is not None:
        assert text == delivered
    else:
        assert text.count("\n") == 1 and text.startswith("persoon_id,")
    meta = json.loads(out.with_name(out.name + ".meta.json").read_text())
    assert meta["output"]["records"] == 0
    assert run("check", out, "-c", SAMPLE_CONTRACT, "--side", "output", "--allow-empty").code == 0
    back = dirs[0] / ("back." + name.split(".")[1])
    assert run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", back).code == 0


def test_a_delivery_must_be_a_file(run, dirs, secret):
    result = run(
        "pseudonymise", make_input(dirs), "-c", SAMPLE_CONTRACT, "-s", secret, "-o", "/dev/null"
    )
    assert result.code == 2 and "must be a file" in result.err


def test_reidentify_refuses_csv_for_a_delivery_with_structures(run, dirs, secret, tmp_path):
    doc = contract_document(
        "nested",
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "o": {"type": "object"}},
            "required": ["a"],
        },
        {"a": {"treatment": "encrypt"}, "o": {"treatment": "keep"}},
    )
    contract = tmp_path / "nested.json"
    contract.write_text(json.dumps(doc))
    src = dirs[0] / "in.jsonl"
    src.write_text('{"a": "x,y", "o": {"k": [1, 2]}}\n')
    out = dirs[0] / "out.jsonl"
    assert run("pseudonymise", src, "-c", contract, "-s", secret, "-o", out).code == 0
    back = dirs[0] / "back.csv"
    refused = run("reidentify", out, "-c", contract, "-s", secret, "-o", back)
    assert refused.code == 2 and "objects or arrays" in refused.err and not back.exists()
    ok = dirs[0] / "back.jsonl"
    assert run("reidentify", out, "-c", contract, "-s", secret, "-o", ok).code == 0
    assert json.loads(ok.read_text()) == {"a": "x,y", "o": {"k": [1, 2]}}


def test_missing_output_and_secret_folders_are_created(run, dirs, tmp_path):
    import stat

    secret = tmp_path / "new-secrets" / "deeper" / "s.secret"
    assert run("keys", "new-secret", secret).code == 0
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    out = dirs[0] / "out" / "2026" / "delivery.csv"
    result = run("pseudonymise", make_input(dirs), "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out)
    assert result.code == 0, result.err
    assert out.exists() and (out.parent / "delivery.csv.meta.json").exists()
