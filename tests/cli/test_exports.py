"""Exports as real systems produce them: Excel's Windows-1252 and UTF-16, tab-separated
files, headers that differ only in case or spaces, trailing white space, and `-o -`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import GOOD_ROWS, HEADER, SAMPLE_CONTRACT, Result, csv_text

Run = Callable[..., Result]
TEXT = csv_text(*GOOD_ROWS)  # holds ë, ü, Ç and â-free Latin letters: all in Windows-1252


@pytest.fixture
def secret(tmp_path: Path, run: Run) -> Path:
    keys = tmp_path / "keys"
    path = keys / "s.secret"
    assert run("keys", "new-secret", path).code == 0
    return path


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_a_windows_1252_export_names_the_cause_and_the_fix(
    tmp_path: Path, run: Run, codec: str
) -> None:
    data = tmp_path / "excel.csv"
    data.write_bytes(TEXT.encode(codec))
    refused = run("check", data, "-c", SAMPLE_CONTRACT)
    assert refused.code == 1
    assert "Windows-1252" in refused.out and "--encoding cp1252" in refused.out
    assert "Zo" not in refused.out and "Çelik" not in refused.out
    ok = run("check", data, "-c", SAMPLE_CONTRACT, "--encoding", codec)
    assert ok.code == 0, ok.out
    assert "3 records valid" in ok.out


def test_an_undefined_byte_is_reported_at_its_record(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "excel.csv"
    bad = GOOD_ROWS[1].replace("Bülent", "B\x81lent")  # 0x81 is no Windows-1252 character
    data.write_bytes(csv_text(GOOD_ROWS[0], bad, GOOD_ROWS[2]).encode("latin-1"))
    done = run("check", data, "-c", SAMPLE_CONTRACT, "--encoding", "cp1252", "-f", "json")
    assert done.code == 1
    report = json.loads(done.out)
    assert report["files"][0]["records"] == 1  # the record before the break is counted
    (error,) = report["errors"]
    assert error["record"] == 2 and error["rule"] == "encoding"
    assert "not valid cp1252" in error["message"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_recognised(tmp_path: Path, run: Run, codec: str) -> None:
    data = tmp_path / "unicode.csv"
    body = TEXT.encode(codec)
    if codec != "utf-16":  # the -le/-be codecs write no BOM: add it as Excel does
        body = ("\ufeff" + TEXT).encode(codec)
    data.write_bytes(body)
    done = run("check", data, "-c", SAMPLE_CONTRACT)
    assert done.code == 0, done.out
    assert "NUL" not in done.out


def test_utf16_without_bom_hints_at_the_encoding(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "unicode.csv"
    data.write_bytes(TEXT.encode("utf-16-le"))
    done = run("check", data, "-c", SAMPLE_CONTRACT)
    assert done.code == 1 and "--encoding utf-16" in done.out
    assert run("check", data, "-c", SAMPLE_CONTRACT, "--encoding", "utf-16").code == 0


def test_unknown_encoding_is_a_usage_error(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "e.csv"
    data.write_text(TEXT)
    done = run("check", data, "-c", SAMPLE_CONTRACT, "--encoding", "rot13")
    assert done.code == 2 and "--encoding takes one of" in done.err


def test_pseudonymise_an_excel_export_gives_the_same_records(
    tmp_path: Path, run: Run, secret: Path
) -> None:
    (tmp_path / "data").mkdir()
    utf8, excel = tmp_path / "data" / "u.csv", tmp_path / "data" / "e.csv"
    utf8.write_text(TEXT, encoding="utf-8")
    excel.write_bytes(TEXT.encode("cp1252"))
    out = tmp_path / "out"
    a = run("pseudonymise", utf8, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out / "a.csv")
    b = run(
        "pseudonymise",
        excel,
        "-c",
        SAMPLE_CONTRACT,
        "-s",
        secret,
        "-o",
        out / "b.csv",
        "--encoding",
        "cp1252",
    )
    assert a.code == 0 and b.code == 0, a.err + b.err
    assert (out / "a.csv").read_bytes() == (out / "b.csv").read_bytes()
    meta_a = json.loads((out / "a.csv.meta.json").read_text())
    meta_b = json.loads((out / "b.csv.meta.json").read_text())
    # The keyed fingerprint is of the bytes as given: another file, another fingerprint.
    assert meta_a["input"]["fingerprint"] != meta_b["input"]["fingerprint"]


@pytest.mark.parametrize("how", [None, "tab", "TAB", "\\t", "\t"])
def test_tab_separated_files(tmp_path: Path, run: Run, how: str | None) -> None:
    rows = [HEADER.replace(",", "\t")]
    rows += ["111222333\tZoë\tJansen\t2015-03-02\tV\t1234 AB\t12\tUtrecht\t\t\t"]
    data = tmp_path / ("e.tsv" if how is None else "e.txt")
    data.write_text("\n".join(rows) + "\n")
    extra = [] if how is None else ["--delimiter", how, "--input-format", "csv"]
    done = run("check", data, "-c", SAMPLE_CONTRACT, *extra)
    assert done.code == 0, done.out + done.err


def test_a_bad_delimiter_name_is_a_usage_error(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "e.csv"
    data.write_text(TEXT)
    done = run("check", data, "-c", SAMPLE_CONTRACT, "--delimiter", "tabs")
    assert done.code == 2 and "`tab`" in done.err


def test_header_differing_in_case_or_spaces_names_the_contracts_column(
    tmp_path: Path, run: Run
) -> None:
    header = HEADER.replace("bsn", "BSN ").replace("geboortedatum", "Geboortedatum")
    data = tmp_path / "e.csv"
    data.write_text(csv_text(*GOOD_ROWS, header=header))
    done = run("check", data, "-c", SAMPLE_CONTRACT)
    assert done.code == 1
    assert "column 1 differs from the contract's column `bsn` only in letter case" in done.out
    assert "`geboortedatum`" in done.out
    assert "BSN " not in done.out and "Geboortedatum" not in done.out
    assert "does not name the columns" not in done.out


@pytest.mark.parametrize("tail", ["   \n", "\t\r\n", " \n\n  \n", "   "])
def test_a_trailing_line_of_white_space_is_blank(tmp_path: Path, run: Run, tail: str) -> None:
    data = tmp_path / "e.csv"
    data.write_text(TEXT + tail)
    done = run("check", data, "-c", SAMPLE_CONTRACT)
    assert done.code == 0, done.out


def test_o_dash_is_standard_output(tmp_path: Path, run: Run, secret: Path) -> None:
    os.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    data = tmp_path / "data" / "e.csv"
    data.write_text(TEXT)
    done = run("check", data, "-c", SAMPLE_CONTRACT, "-f", "json", "-o", "-")
    assert done.code == 0 and json.loads(done.out)["valid"] is True
    assert "report on standard output" in done.err
    refused = run("pseudonymise", data, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", "-")
    assert refused.code == 2 and "cannot go to standard output" in refused.err
    delivery = tmp_path / "out" / "d.csv"
    assert run("pseudonymise", data, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", delivery).code == 0
    back = run("reidentify", delivery, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", "-")
    assert back.code == 0, back.err
    assert back.out.splitlines()[0].startswith("persoon_id,")
    assert not (tmp_path / "-").exists()


def test_encoding_for_the_other_readers(tmp_path: Path, run: Run) -> None:
    data = tmp_path / "excel.csv"
    data.write_bytes(TEXT.encode("cp1252"))
    for args in (["scan"], ["risk"]):
        done = run(*args, data, "-c", SAMPLE_CONTRACT, "--encoding", "cp1252")
        assert done.code in (0, 1) and "encoding" not in done.err, done.err
    draft = run("contract", "init", "--from", data, "--encoding", "cp1252")
    assert draft.code == 0 and "voornamen" in draft.out


@pytest.mark.parametrize("command", ["new-secret", "new-signing", "new-identity"])
def test_keys_never_go_to_a_file_named_dash(tmp_path: Path, run: Run, command: str) -> None:
    os.chdir(tmp_path)
    extra = ["--unsafe-no-passphrase"] if command == "new-signing" else []
    done = run("keys", command, "-", *extra)
    assert done.code == 2 and "is written to a file of its own" in done.err
    assert list(tmp_path.iterdir()) == []
