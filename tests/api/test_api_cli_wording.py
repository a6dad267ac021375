"""The command line says the library's option-free refusals in terms of its options
(ketenx/_cli/_wording.py), with the exit code of the library's error class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.api.agencies import PASSPHRASE, Agencies
from tests.helpers import Result, invoke

Run = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, agencies: Agencies) -> Run:
    monkeypatch.delenv("KETENX_SECRET_FILE", raising=False)
    monkeypatch.delenv("KETENX_IDENTITY", raising=False)
    env = {"KETENX_PASSPHRASE": PASSPHRASE.decode()}

    def run(*args: str | Path) -> Result:
        return invoke(monkeypatch, *args, env=env)

    return run


def _error(result: Result) -> str:
    return result.err.strip()


def test_pseudonymise_wordings(cli: Run, agencies: Agencies) -> None:
    out = agencies.root / "out"
    no_secret = cli("pseudonymise", agencies.export, "-c", agencies.contract, "-o", out / "d.csv")
    assert no_secret.code == 3
    assert "a pseudonymisation secret is needed: --secret PATH or KETENX_SECRET_FILE" in (
        _error(no_secret)
    )
    common = ("-c", agencies.contract, "-s", agencies.secret)
    to = cli("pseudonymise", agencies.export, *common, "--to", "json", "-o", out / "d.csv")
    assert to.code == 2 and "the name says csv but --to says json" in to.err
    stream = cli("pseudonymise", agencies.export, *common, "-o", "-")
    assert stream.code == 2 and "-o -: a delivery is written as a file" in stream.err
    nameless = agencies.root / "data" / "export"
    nameless.write_bytes(agencies.export.read_bytes())
    unknown = cli("pseudonymise", nameless, *common, "-o", out / "d.csv")
    assert unknown.code == 2 and "use --input-format" in unknown.err
    assert sorted(p.name for p in out.iterdir()) == []


def test_reidentify_and_sign_wordings(cli: Run, agencies: Agencies) -> None:
    out = agencies.root / "out"
    common = ("-c", agencies.contract, "-s", agencies.secret)
    assert cli("pseudonymise", agencies.export, *common, "-o", out / "d.csv").code == 0
    (out / "d.csv.meta.json").rename(out / "elsewhere.json")
    lost = cli("reidentify", out / "d.csv", *common, "-o", out / "back.csv")
    assert lost.code == 3 and "delivery metadata not found (pass it with --meta)" in lost.err
    lone = out / "lone.txt"
    lone.write_text("x", encoding="utf-8")
    nameless = cli("sign", lone, "-k", agencies.signing_key, "-o", out / "lone.dsse.json")
    assert nameless.code == 2 and "give --contract (or sign a delivery" in nameless.err


def test_pack_and_unpack_wordings(cli: Run, agencies: Agencies) -> None:
    out, inbox = agencies.root / "out", agencies.root / "inbox"
    common = ("-c", agencies.contract, "-p", agencies.partners)
    keys = ("-s", agencies.secret, "-k", agencies.signing_key)
    sealed, plain = out / "d.ketenx", out / "plain.ketenx"
    assert cli("pack", agencies.export, *common, *keys, "-o", sealed).code == 0
    assert cli("pack", agencies.export, *common, *keys, "--no-encrypt", "-o", plain).code == 0
    locked = cli("unpack", sealed, *common, "-o", inbox)
    assert locked.code == 3 and "give the age identity (--identity)" in locked.err
    opened = cli("unpack", plain, *common, "-i", agencies.identity, "-o", inbox)
    assert opened.code == 1 and "unpack it without --identity" in opened.err
    early = cli("unpack", sealed, *common, "-i", agencies.identity, "-o", inbox,
                "--not-before", "2999-01-01")  # fmt: skip
    assert early.code == 1 and "before --not-before" in early.err
    assert not inbox.exists() or not list(inbox.iterdir())
    doc = yaml.safe_load(agencies.partners.read_text(encoding="utf-8"))
    del doc["partners"][1]["age_recipients"]
    agencies.partners.write_text(yaml.safe_dump(doc), encoding="utf-8")
    nobody = cli("pack", agencies.export, *common, *keys, "-o", out / "e.ketenx")
    assert nobody.code == 3 and "or use --no-encrypt" in nobody.err
