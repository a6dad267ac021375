"""Nothing unkeyed computed from personal input leaves the sender (issue 9, item 2).

A small delivery is planted (1–3 records with known BSNs). The recipient knows the contract,
the layout of the export and every kept column, so for each candidate BSN it can rebuild the
sender's input file byte for byte and hash it. These tests run that attack over a small
candidate set against every artefact the recipient gets — the metadata sidecar, the signed
predicate (the DSSE payload decoded), the receipt, the inbox files and every output stream —
and assert that no digest or size of any candidate input, and no digest of any candidate
value, is found there. The keyed fingerprint that replaces the plain digest is recomputed
from the secret, as the sender would to prove which input it used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ketenx.storage.secrets import parse_secret
from ketenx.transform.pseudonym import HKDF_SALT, INFO_FINGERPRINT, domain_id, hkdf_sha256
from tests.cli.test_delivery_cli import Exchange, ex  # noqa: F401 - the fixture
from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

PLANTED = ("111222333", "123456782", "012345672")  # the BSNs of GOOD_ROWS


def _valid_bsns(count: int) -> list[str]:
    """The first ``count`` nine-digit strings from 100000000 on that pass the 11-proef."""
    out: list[str] = []
    n = 100_000_000
    while len(out) < count:
        digits = f"{n:09d}"
        total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
        if total % 11 == 0:
            out.append(digits)
        n += 1
    return out


CANDIDATES = [*PLANTED, *_valid_bsns(200)]


def _rows(count: int, first_bsn: str) -> list[str]:
    """The planted rows, the first one's BSN replaced by a guess."""
    rows = list(GOOD_ROWS[:count])
    rows[0] = first_bsn + rows[0][len(PLANTED[0]) :]
    return rows


def _guesses(count: int) -> Iterator[bytes]:
    """Every input file the recipient can rebuild from a candidate BSN."""
    for bsn in CANDIDATES:
        text = csv_text(*_rows(count, bsn))
        yield text.encode("utf-8")
        yield text.replace("\n", "\r\n").encode("utf-8")


def _unkeyed(count: int) -> tuple[set[str], set[int]]:
    """Digests (hex and base64) and sizes the attack would compare with what it received."""
    digests: set[str] = set()
    sizes: set[int] = set()
    for raw in _guesses(count):
        for algo in ("sha256", "sha1", "md5", "sha512", "blake2b"):
            h = hashlib.new(algo, raw)
            digests |= {h.hexdigest(), base64.b64encode(h.digest()).decode().rstrip("=")}
        sizes.add(len(raw))
    for bsn in CANDIDATES:  # a plain hash of a single value
        h = hashlib.sha256(bsn.encode())
        digests |= {h.hexdigest(), base64.b64encode(h.digest()).decode().rstrip("=")}
    return digests, sizes


def _integers(doc: Any) -> Iterator[int]:
    if isinstance(doc, bool):
        return
    if isinstance(doc, int):
        yield doc
    elif isinstance(doc, dict):
        for v in doc.values():
            yield from _integers(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _integers(v)


def _assert_nothing_matches(texts: list[str], documents: list[Any], count: int) -> None:
    digests, sizes = _unkeyed(count)
    assert len(digests) > 1000 and len(sizes) == 2  # the attack has something to compare
    blob = "\n".join(texts + [json.dumps(d) for d in documents])
    words = set(re.findall(r"[A-Za-z0-9+/_-]{16,}", blob))
    assert not (words & digests), "an unkeyed digest of the personal input left the sender"
    for bsn in PLANTED:
        assert bsn not in blob
    numbers = {n for d in documents for n in _integers(d)}
    assert not (numbers & sizes), "the size of the personal input left the sender"


def _fingerprint(secret_file: Path, raw: bytes) -> str:
    from ketenx.contract.model import load_contract

    secret = parse_secret(secret_file.read_text(encoding="ascii"))
    domain = domain_id(load_contract(SAMPLE_CONTRACT)).encode()
    key = hkdf_sha256(
        secret.secret_bytes, salt=HKDF_SALT, info=INFO_FINGERPRINT + domain, length=32
    )
    return "kx1f_" + hmac.new(key, raw, "sha256").hexdigest()


def _payload(envelope: dict[str, Any]) -> dict[str, Any]:
    statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


@pytest.mark.parametrize("count", [1, 2, 3])
def test_pack_and_unpack_carry_no_unkeyed_fingerprint_of_the_input(run, ex, count):  # noqa: F811
    ex.export.write_text(csv_text(*_rows(count, PLANTED[0])), encoding="utf-8")
    packed, delivery = ex.pack(run, "--no-encrypt")
    assert packed.code == 0, packed.err
    # Unencrypted: unpacked without an identity (with one it is refused).
    opened = run("unpack", delivery, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox)
    assert opened.code == 0, opened.err
    meta = json.loads((ex.inbox / "data.meta.json").read_text())
    envelope = json.loads((ex.inbox / "statement.dsse.json").read_text())
    statement = _payload(envelope)
    receipt = (ex.inbox / "RECEIPT.txt").read_text()
    inbox = [p.read_text() for p in sorted(ex.inbox.iterdir())]
    streams = [packed.out, packed.err, opened.out, opened.err]
    _assert_nothing_matches([receipt, *inbox, *streams], [meta, statement], count)
    raw = ex.export.read_bytes()  # the attack would find it, were it there:
    assert hashlib.sha256(raw).hexdigest() in _unkeyed(count)[0] and len(raw) in _unkeyed(count)[1]
    # what replaces the digest: a keyed fingerprint the sender can recompute, and only that
    fingerprint = _fingerprint(ex.secret, ex.export.read_bytes())
    assert meta["input"] == {"format": "csv", "fingerprint": fingerprint, "records": count}
    assert statement["predicate"]["input"] == {"format": "csv", "fingerprint": fingerprint}
    assert statement["predicate"]["pseudonymisation"]["shared_domain"] is False


@pytest.mark.parametrize("count", [1, 3])
def test_pseudonymise_and_sign_carry_no_unkeyed_fingerprint(run, ex, count):  # noqa: F811
    ex.export.write_text(csv_text(*_rows(count, PLANTED[0])), encoding="utf-8")
    out = ex.root / "gemeente/out/d.csv"
    made = run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out)
    assert made.code == 0, made.err
    meta_path = out.with_name("d.csv.meta.json")
    envelope_path = ex.root / "gemeente/out/d.dsse.json"
    signed = run("sign", out, meta_path, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope_path)
    assert signed.code == 0, signed.err
    verified = run(
        "verify",
        out,
        meta_path,
        "--signature",
        envelope_path,
        "-p",
        ex.partners,
        "-c",
        SAMPLE_CONTRACT,
    )
    assert verified.code == 0, verified.err
    meta = json.loads(meta_path.read_text())
    statement = _payload(json.loads(envelope_path.read_text()))
    streams = [r.out + r.err for r in (made, signed, verified)]
    _assert_nothing_matches([meta_path.read_text(), *streams], [meta, statement], count)
    assert "name" not in meta["input"]  # a file name can name a person
    assert meta["input"]["fingerprint"] == _fingerprint(ex.secret, ex.export.read_bytes())
    assert meta["$schema"] == "https://ketenx.example/schemas/delivery-meta/v4"


def test_the_fingerprint_is_keyed_per_domain_and_per_input(run, ex):  # noqa: F811
    """Another input, or the same input under another secret, gives another fingerprint."""
    out = ex.root / "gemeente/out/d.csv"
    fingerprints = set()
    for rows in (GOOD_ROWS[:1], GOOD_ROWS[:2]):
        ex.export.write_text(csv_text(*rows), encoding="utf-8")
        out.unlink(missing_ok=True)
        out.with_name("d.csv.meta.json").unlink(missing_ok=True)
        made = run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out)
        assert made.code == 0, made.err
        meta = json.loads(out.with_name("d.csv.meta.json").read_text())
        fingerprints.add(meta["input"]["fingerprint"])
    assert len(fingerprints) == 2
    raw = ex.export.read_bytes()
    assert _fingerprint(ex.secret, raw) in fingerprints
    assert "kx1f_" + hashlib.sha256(raw).hexdigest() not in fingerprints


def _v1(meta: dict[str, Any], input_name: str, raw: bytes) -> dict[str, Any]:
    """The same metadata as version 1 wrote it (plain digest, size and name of the input)."""
    old = dict(meta)
    old.pop("privacy")  # version 1 had no privacy gates
    old["$schema"] = "https://ketenx.example/schemas/delivery-meta/v1"
    old["input"] = {
        "name": input_name,
        "format": meta["input"]["format"],
        "digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
        "records": meta["input"]["records"],
    }
    return old


def test_version_1_metadata_is_still_read_and_its_digest_never_signed(run, ex):  # noqa: F811
    out = ex.root / "gemeente/out/d.csv"
    assert (
        run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out).code == 0
    )
    meta_path = out.with_name("d.csv.meta.json")
    raw = ex.export.read_bytes()
    old = _v1(json.loads(meta_path.read_text()), "export.csv", raw)
    meta_path.write_text(json.dumps(old, indent=2))
    back = ex.root / "gemeente/out/back.csv"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", back)
    assert result.code == 0, result.err
    envelope_path = ex.root / "gemeente/out/d.dsse.json"
    signed = run("sign", out, meta_path, "-k", ex.key, "-c", SAMPLE_CONTRACT, "-o", envelope_path)
    assert signed.code == 0, signed.err
    predicate = _payload(json.loads(envelope_path.read_text()))["predicate"]
    assert predicate["input"] == {"format": "csv", "fingerprint": None}
    assert hashlib.sha256(raw).hexdigest() not in json.dumps(predicate)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["input"].update(digest="sha256:" + "0" * 64),  # a plain digest in v2
        lambda m: m["input"].update(bytes=10),
        lambda m: m["input"].update(fingerprint="sha256:" + "0" * 64),
        lambda m: m["input"].pop("fingerprint"),
        lambda m: m.update({"$schema": "https://ketenx.example/schemas/delivery-meta/v5"}),
        lambda m: m.pop("privacy"),  # version 3 has the privacy gates' outcome
        lambda m: m["privacy"].update(records_suppressed=-1),
        lambda m: m["privacy"].update(risk="failed"),  # a refused delivery is never written
    ],
)
def test_malformed_metadata_is_refused(run, ex, change):  # noqa: F811
    out = ex.root / "gemeente/out/d.csv"
    assert (
        run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out).code == 0
    )
    meta_path = out.with_name("d.csv.meta.json")
    meta = json.loads(meta_path.read_text())
    change(meta)
    meta_path.write_text(json.dumps(meta))
    back = ex.root / "gemeente/out/back.csv"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", back)
    assert result.code == 3
    assert result.err.startswith("ketenx: error: ") and "not a complete" in result.err
    assert not back.exists()


@pytest.mark.parametrize(
    "content",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested beyond the parser's recursion limit
        b'{"input": ' + b"7" * 5000 + b"}",  # an integer beyond 4300 digits
        b"\xff\xfeGEHEIM-111222333",  # not UTF-8
        b'{"input": "GEHEIM-111222333"',  # not JSON
        b'"GEHEIM-111222333"',  # JSON, not an object
    ],
    ids=["deep", "long-integer", "not-utf8", "not-json", "not-object"],
)
def test_hostile_metadata_is_one_line_exit_3(run, ex, content):  # noqa: F811
    out = ex.root / "gemeente/out/d.csv"
    made = run("pseudonymise", ex.export, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", out)
    assert made.code == 0, made.err
    out.with_name("d.csv.meta.json").write_bytes(content)
    back = ex.root / "gemeente/out/back.csv"
    result = run("reidentify", out, "-c", SAMPLE_CONTRACT, "-s", ex.secret, "-o", back)
    assert result.code == 3
    assert result.err.startswith("ketenx: error: ") and "Traceback" not in result.err
    assert len([ln for ln in result.err.splitlines() if not ln.startswith("hint:")]) == 1
    assert "GEHEIM" not in result.err + result.out and "111222333" not in result.err
    assert not back.exists()
