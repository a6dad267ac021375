"""Families of inputs for issue 9 item 2 and the keyed-scalar rule.

* Whatever bytes the input holds (valid or not, read to its end or rejected early), the input
  fingerprint is the keyed HMAC of all of them, and nothing in the metadata or predicate is a
  plain digest or the size of the input.
* An object or array anywhere in a keyed field is refused, at its record, naming no value;
  through the whole file-writing path, nothing is written.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.errors import RejectedError
from ketenx.exchange.attest import build_predicate
from ketenx.exchange.delivery import delivery_meta, write_pseudonymised
from ketenx.storage.secrets import new_secret
from ketenx.transform.pipeline import pseudonymise_stream
from ketenx.transform.pseudonym import HKDF_SALT, INFO_FINGERPRINT, Keyring, hkdf_sha256
from tests.helpers import make_contract

SECRET = bytes(range(32))
DOMAIN = "00000001009876543000/c"
KEYRING = Keyring.derive(SECRET, DOMAIN)
FP_KEY = hkdf_sha256(SECRET, salt=HKDF_SALT, info=INFO_FINGERPRINT + DOMAIN.encode(), length=32)
CONTRACT = make_contract(
    "c",
    {
        "type": "object",
        "properties": {"bsn": {"type": "string", "format": "nl-bsn"}, "naam": {"type": "string"}},
        "required": ["bsn"],
    },
    {"bsn": {"treatment": "pseudonymise"}, "naam": {"treatment": "encrypt"}},
)
# The same, with `naam` allowed to be anything: only the keyed-scalar rule stands in the way.
UNTYPED = make_contract(
    "c",
    {"type": "object", "properties": {"bsn": {"type": "string"}, "naam": {}}},
    {"bsn": {"treatment": "pseudonymise"}, "naam": {"treatment": "encrypt"}},
)
WHEN = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)


def _bsn(n: int) -> str:
    """A nine-digit string passing the 11-proef, from any integer."""
    n = 100_000_000 + n % 800_000_000
    while True:
        d = f"{n:09d}"
        if sum(int(c) * w for c, w in zip(d, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True)) % 11 == 0:
            return d
        n += 1


def _integers(doc: Any) -> set[int]:
    if isinstance(doc, bool):
        return set()
    if isinstance(doc, int):
        return {doc}
    if isinstance(doc, dict):
        return set().union(*map(_integers, doc.values())) if doc else set()
    if isinstance(doc, list):
        return set().union(*map(_integers, doc)) if doc else set()
    return set()


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["csv", "jsonl", "json"]))
def test_the_fingerprint_is_the_keyed_mac_of_every_input_byte(raw: bytes, fmt: str) -> None:
    result = pseudonymise_stream(io.BytesIO(raw), fmt, io.BytesIO(), "jsonl", CONTRACT, KEYRING)  # type: ignore[arg-type]
    assert result.input_fingerprint == "kx1f_" + hmac.new(FP_KEY, raw, "sha256").hexdigest()
    assert hashlib.sha256(raw).hexdigest() not in result.input_fingerprint


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0), st.text(max_size=12).map(str.strip)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_metadata_and_predicate_hold_no_plain_digest_or_size_of_the_input(
    rows: list[tuple[int, str]], eol: str
) -> None:
    records = [{"bsn": _bsn(n), "naam": naam} for n, naam in rows]
    raw = "".join(json.dumps(r, ensure_ascii=False) + eol for r in records).encode()
    result = pseudonymise_stream(io.BytesIO(raw), "jsonl", io.BytesIO(), "jsonl", CONTRACT, KEYRING)
    assert not result.rejected
    info = {"scheme": "kx1", "policy": "deterministic", "domain": DOMAIN, "shared_domain": False}
    meta = delivery_meta(
        CONTRACT,
        result,
        {**info, "nonce": None, "key_id": "kx1k_0fbac25a15245687"},
        input_name="export-jansen.jsonl",
        input_format="jsonl",
        output_name="d.jsonl",
        output_format="jsonl",
        created=WHEN,
    )
    predicate = build_predicate(contract=CONTRACT, meta=meta, created=WHEN)
    text = json.dumps([meta, predicate])
    for h in (hashlib.sha256(raw), hashlib.sha1(raw), hashlib.md5(raw)):
        assert h.hexdigest() not in text
    assert len(raw) not in _integers(meta) | _integers(predicate)
    assert "jansen" not in text
    for r in records:
        assert r["bsn"] not in text
        assert hashlib.sha256(r["bsn"].encode()).hexdigest() not in text


json_structures = st.recursive(
    st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
).filter(lambda v: isinstance(v, dict | list))


@settings(max_examples=60, deadline=None)
@given(
    json_structures,
    st.integers(min_value=0, max_value=4),
    st.sampled_from(["pseudonymise", "encrypt"]),
    st.sampled_from(["jsonl", "json"]),
)
def test_a_structure_in_a_keyed_field_is_refused_at_its_record(
    planted: Any, at: int, treatment: str, fmt: str
) -> None:
    contract = make_contract(
        "c", {"type": "object", "properties": {"x": {}}}, {"x": {"treatment": treatment}}
    )
    records = [{"x": "waarde"} for _ in range(5)]
    records[at] = {"x": planted}
    if fmt == "jsonl":
        raw = "".join(json.dumps(r) + "\n" for r in records).encode()
    else:
        raw = json.dumps(records).encode()
    result = pseudonymise_stream(io.BytesIO(raw), fmt, io.BytesIO(), "jsonl", contract, KEYRING)  # type: ignore[arg-type]
    assert result.rejected
    first = result.report.errors[0]
    assert (first.record, first.field, first.rule) == (at + 1, "/x", "keyed-scalar")
    assert json.dumps(planted) not in first.message


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    folder.chmod(0o700)
    new_secret(folder / "s.secret")
    return folder / "s.secret"


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(json_structures.filter(lambda v: json.dumps(v) != "[]"), st.integers(0, 2))
def test_nothing_is_written_for_a_structure_in_a_keyed_field(
    secret_file: Path, tmp_path_factory: pytest.TempPathFactory, planted: Any, at: int
) -> None:
    folder = tmp_path_factory.mktemp("data")
    rows = [{"bsn": _bsn(i), "naam": "Jansen"} for i in range(3)]
    rows[at]["naam"] = planted
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = folder / "out.jsonl"
    with pytest.raises(RejectedError) as info:
        write_pseudonymised(data=str(source), contract=UNTYPED, secret=secret_file, output=out)
    assert sorted(p.name for p in folder.iterdir()) == ["in.jsonl"]
    text = info.value.diagnostics()
    assert "keyed-scalar" in text and f"record {at + 1}" in text
    assert json.dumps(planted) not in text and "Jansen" not in text
