"""Helpers the tests share: the sample contract, small data, an in-process CLI runner.

Import them with ``from tests.helpers import ...``; ``conftest.py`` holds only fixtures
and the Hypothesis profiles (a test module never imports ``conftest``).
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import io
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The sample contract without privacy thresholds (see the file): what most tests use.
SAMPLE_CONTRACT = ROOT / "tests" / "vectors" / "contracts" / "sample.yaml"

#: The clock of tests that call the library: pass it as ``now=`` (no test reads the wall clock).
NOW = _dt.datetime(2026, 6, 2, 12, 0, tzinfo=_dt.UTC)

HEADER = (
    "bsn,voornamen,achternaam,geboortedatum,geslacht,postcode,huisnummer,gemeente,"
    "email_ouder,lengte_cm,gewicht_kg"
)
GOOD_ROWS = [
    "111222333,Zoë,Jansen,2015-03-02,V,1234 AB,12,Utrecht,ouder@example.nl,120.5,22.1",
    "012345672,Bülent,Çelik,2012-11-30,M,9999 ZZ,7,'s-Hertogenbosch,,,",
    '123456782,"Anna, Maria",van der Meer,2019-01-01,X,1000 AA,1,Súdwest-Fryslân,,98,15',
]


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


@dataclass
class Result:
    code: int
    out: str
    err: str


def invoke(
    mp: pytest.MonkeyPatch,
    *args: str | Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``ketenx`` in-process with ``mp`` patching stdout, stderr, stdin and ``env``."""
    from ketenx._cli import main

    out, err = io.StringIO(), io.StringIO()
    mp.setattr(sys, "stdout", out)
    mp.setattr(sys, "stderr", err)
    mp.delenv("CI", raising=False)
    for key, value in (env or {}).items():
        mp.setenv(key, value)
    if stdin is not None:
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def all_output(results: Sequence[Result]) -> str:
    return "\n".join(r.out + r.err for r in results)


def contract_document(
    contract_id: str,
    schema: dict[str, Any],
    fields: dict[str, Any],
    *,
    recipient_oin: str = "00000001009876543000",
    **extra: Any,
) -> dict[str, Any]:
    """A minimal valid contract document for tests, around a schema and fields."""
    return {
        "ketenx": 1,
        "id": contract_id,
        "version": 1,
        "sender": {"name": "S", "oin": "00000001001234567000"},
        "recipient": {"name": "R", "oin": recipient_oin},
        "purpose": "tests",
        "legal_basis": "tests",
        "schema": schema,
        "fields": fields,
        **extra,
    }


def make_contract(
    contract_id: str, schema: dict[str, Any], fields: dict[str, Any], **kw: Any
) -> Any:
    """:func:`contract_document` as a :class:`ketenx.contract.model.Contract`."""
    from ketenx.contract.model import Contract

    return Contract.from_document(contract_document(contract_id, schema, fields, **kw))


def package_index_unreachable(python: str | Path = sys.executable) -> str | None:
    """Why pip cannot fetch from its package index now (None when it can).

    Tests that build or install ketenx the way a user does (an isolated build needs hatchling;
    pre-commit installs the hook's dependencies) skip with this reason instead of failing on a
    machine without a network. One small download, with a short timeout and no retries.
    """
    with tempfile.TemporaryDirectory() as dest:
        try:
            done = subprocess.run(
                [str(python), "-m", "pip", "download", "--quiet", "--no-deps", "--no-cache-dir",
                 "--retries", "0", "--timeout", "15", "--dest", dest, "hatchling>=1.27"],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return "no package index is reachable (pip download timed out)"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip download failed"])[-1]
        return f"no package index is reachable ({last[:200]})"
    return None


def load_generator() -> ModuleType:
    """examples/generate.py as a module (examples/ is not a package), loaded once."""
    if "ketenx_generate" in sys.modules:
        return sys.modules["ketenx_generate"]
    spec = importlib.util.spec_from_file_location(
        "ketenx_generate", ROOT / "examples" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
