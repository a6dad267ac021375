"""`ketenx unpack` against hostile bundles: the strict streaming tar reader, verification
before the disk, the inbox that appears whole or not at all, and the escaped receipt.

Every refusal asserts the exit code, one `ketenx: error:` line and no traceback, that the
inbox's parent folder holds exactly what it held before (no inbox, no work folder), and
that no planted value shows in any output.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys
import tarfile
from pathlib import Path

import pyrage
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli import test_delivery_cli as delivery
from tests.helpers import ROOT, SAMPLE_CONTRACT

ex = delivery.ex  # the exchange fixture: keys, secret, partners, an export
PLANTED = ("Zoë", "111222333", "Jansen", "GNUSparse", "evil")


# --------------------------------------------------------------------------- helpers


def packed(run, ex) -> tuple[list[tuple[tarfile.TarInfo, bytes]], bytes]:
    """A valid unencrypted bundle: its members (read back with tarfile) and its bytes."""
    result, path = ex.pack(run, "--no-encrypt", out="valid.tar")
    assert result.code == 0, result.err
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    return members, path.read_bytes()


def header(name: str, size: int, mtime: int, **fields) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, mtime, 0o644, 0, 0
    info.uname = info.gname = ""
    pax = fields.pop("pax", None)
    fmt = fields.pop("format", tarfile.PAX_FORMAT)
    for key, value in fields.items():
        setattr(info, key, value)
    if pax:
        info.pax_headers = pax
    return info.tobuf(fmt, "utf-8", "surrogateescape")


def member(name: str, content: bytes, mtime: int, **fields) -> bytes:
    size = fields.pop("size", len(content))
    return header(name, size, mtime, **fields) + content + bytes(-len(content) % 512)


def tar_of(parts: list[bytes], *, end: bytes = bytes(1024)) -> bytes:
    body = b"".join(parts) + end
    return body + bytes(-len(body) % 10240)


def rebuild(members, *, mtime: int | None = None, **changes) -> list[bytes]:
    """The valid members as raw parts, with ``changes[name](content) -> content``."""
    parts = []
    for info, content in members:
        content = changes.get(info.name, lambda b: b)(content)
        parts.append(member(info.name, content, info.mtime if mtime is None else mtime))
    return parts


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def unpack_file(run, ex, bundle: bytes, *extra, name: str = "hostile.tar"):
    path = ex.root / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(bundle)
    return run("unpack", path, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox, *extra)


def refused(run, ex, bundle: bytes, *extra, code: int = 1, message: str = ""):
    before = listing(ex.inbox.parent)
    result = unpack_file(run, ex, bundle, *extra)
    assert result.code == code, result.err
    assert result.err.startswith("ketenx: error: "), result.err
    assert len([line for line in result.err.splitlines() if not line.startswith("hint:")]) == 1
    assert "Traceback" not in result.err and result.out == ""
    assert message in result.err, result.err
    assert not ex.inbox.exists()
    assert listing(ex.inbox.parent) == before
    for value in PLANTED:
        assert value not in result.err
    return result


def resign(run, ex, members, change) -> list[bytes]:
    """The valid members with the statement's predicate changed by ``change`` and signed
    again by the sender's registered key (a registered sender that lies)."""
    from ketenx._cli.sign import load_signing_key
    from ketenx.exchange.attest import PREDICATE_TYPE
    from ketenx.exchange.dsse import make_statement, sign_statement
    from ketenx.exchange.partners import public_key_id

    key = load_signing_key(ex.key)
    (info, raw), rest = members[0], members[1:]
    envelope = json.loads(raw)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    predicate = statement["predicate"]
    change(predicate)
    subjects = [(s["name"], "sha256:" + s["digest"]["sha256"]) for s in statement["subject"]]
    signed = sign_statement(
        make_statement(subjects, PREDICATE_TYPE, predicate), key, public_key_id(key.public_key())
    )
    return rebuild([(info, json.dumps(signed).encode()), *rest])


@pytest.fixture
def valid(run, ex):
    return packed(run, ex)


# --------------------------------------------------------------------------- member types


def test_the_valid_bundle_unpacks_and_a_zero_padded_end_is_fine(run, ex, valid):
    members, raw = valid
    shortest = tar_of(rebuild(members), end=bytes(1024))[: -10240 or None]
    # without the padding to a whole record
    body = b"".join(rebuild(members)) + bytes(1024)
    for bundle in (raw, body, shortest if shortest.endswith(bytes(1024)) else body):
        result = unpack_file(run, ex, bundle)
        assert result.code == 0, result.err
        assert listing(ex.inbox) == [
            "RECEIPT.txt",
            "data.csv",
            "data.meta.json",
            "statement.dsse.json",
        ]
        for p in ex.inbox.iterdir():
            p.unlink()
        ex.inbox.rmdir()


@pytest.mark.parametrize(
    "typeflag",
    [
        tarfile.LNKTYPE,
        tarfile.SYMTYPE,
        tarfile.CHRTYPE,
        tarfile.BLKTYPE,
        tarfile.DIRTYPE,
        tarfile.FIFOTYPE,
        tarfile.CONTTYPE,
        tarfile.GNUTYPE_SPARSE,
        tarfile.GNUTYPE_LONGNAME,
        b"g",
        b"V",
        b"\x00",
    ],
)
@pytest.mark.parametrize("position", [0, 3])
def test_members_other_than_plain_files_are_refused(run, ex, valid, typeflag, position):
    members, _ = valid
    parts = rebuild(members)
    info, content = members[position]
    extra = {"linkname": "/etc/passwd"} if typeflag in (tarfile.LNKTYPE, tarfile.SYMTYPE) else {}
    parts[position] = member(info.name, content, info.mtime, type=typeflag, **extra)
    refused(run, ex, tar_of(parts), message="not a valid ketenx bundle")


@pytest.mark.parametrize(
    "pax",
    [
        # GNU sparse 0.0 / 0.1 / 1.0, as pax records: a 1 TiB file from a few bytes
        {"GNU.sparse.size": str(1 << 40), "GNU.sparse.numblocks": "1",
         "GNU.sparse.offset": str((1 << 40) - 10), "GNU.sparse.numbytes": "10"},
        {"GNU.sparse.size": str(1 << 40), "GNU.sparse.numblocks": "1",
         "GNU.sparse.map": f"{(1 << 40) - 10},10"},
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
         "GNU.sparse.name": "data.csv", "GNU.sparse.realsize": str(1 << 40)},
        {"path": "data.csv"},
        {"linkpath": "/etc/shadow"},
        {"mtime": "1.5"},
        {"size": "10", "comment": "evil"},
    ],
)  # fmt: skip
@pytest.mark.parametrize("position", [0, 3])
def test_pax_sparse_and_other_pax_records_are_refused(run, ex, valid, pax, position):
    members, _ = valid
    parts = rebuild(members)
    info, content = members[position]
    name = "GNUSparseFile.0/" + info.name if "GNU.sparse.major" in pax else info.name
    parts[position] = member(name, content, info.mtime, pax=pax)
    refused(run, ex, tar_of(parts), message="not a valid ketenx bundle")


@pytest.mark.parametrize(
    "fields",
    [
        {"mode": 0o755},
        {"mode": 0o4644},
        {"uid": 1000},
        {"gid": 5},
        {"uname": "root"},
        {"gname": "wheel"},
        {"format": tarfile.GNU_FORMAT},  # "ustar  " magic
    ],
)
def test_header_fields_other_than_documented_are_refused(run, ex, valid, fields):
    members, _ = valid
    parts = rebuild(members)
    info, content = members[1]
    parts[1] = member(info.name, content, info.mtime, **fields)
    refused(run, ex, tar_of(parts), message="not a valid ketenx bundle")


def patched(good: bytes, start: int, value: bytes) -> bytes:
    """A member whose header has ``value`` at ``start``, with a correct checksum."""
    block = bytearray(good[:512])
    block[start : start + len(value)] = value
    block[148:156] = b"        "
    block[148:156] = f"{sum(block):06o}\x00 ".encode()
    return bytes(block) + good[512:]


def test_bad_checksum_prefix_base256_link_and_device_fields_are_refused(run, ex, valid):
    members, _ = valid
    info, content = members[2]
    good = member(info.name, content, info.mtime)
    broken = bytearray(good)
    broken[0] ^= 0x01  # the name changes, the checksum no longer matches
    prefixed = header(
        "x" * 120 + "/data.meta.json", len(content), info.mtime, format=tarfile.USTAR_FORMAT
    )
    variants = [
        bytes(broken),
        prefixed + content + bytes(-len(content) % 512),
        patched(good, 124, b"\x80" + len(content).to_bytes(11, "big")),  # base-256 size
        patched(good, 157, b"/etc/passwd"),  # a link name on a regular file
        patched(good, 329, b"0000010\x00"),  # a device number
        patched(good, 345, b"evil/"),  # a name prefix
        patched(good, 505, b"x"),  # bytes after the prefix field
        patched(good, 0, b"data.meta.json\x00evil"),  # a NUL inside the name field
        patched(good, 124, b"0000000001x\x00"),  # not octal
        patched(good, 263, b"01"),  # ustar version
    ]
    for variant in variants:
        parts = rebuild(members)
        parts[2] = variant
        refused(run, ex, tar_of(parts), message="not a valid ketenx bundle")


# --------------------------------------------------------------------------- names and order


def test_unknown_names_are_refused_and_never_named(run, ex, valid):
    members, _ = valid
    for index, name in (
        (0, "Zoë-111222333.txt"),
        (3, "data.xml"),
        (3, "../data.csv"),
        (3, "/data.csv"),
    ):
        parts = rebuild(members)
        info, content = members[index]
        parts[index] = member(name, content, info.mtime)
        refused(run, ex, tar_of(parts), message="not a valid ketenx bundle")


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ([1, 0, 2, 3], "out of order"),
        ([0, 2, 1, 3], "out of order"),
        ([0, 1, 3, 2], "out of order"),
        ([3, 0, 1, 2], "out of order"),
        ([0, 0, 1, 2, 3], "occurs twice"),
        ([0, 1, 2, 3, 3], "occurs twice"),
        ([0, 1, 2, 3, 2], "occurs twice"),
        ([0, 1, 2], "exactly one data file is missing"),
        ([0, 1], "data.meta.json is missing"),
        ([], "statement.dsse.json is missing"),
    ],
)
def test_members_in_the_wrong_order_twice_or_missing(run, ex, valid, order, message):
    members, _ = valid
    parts = rebuild(members)
    refused(run, ex, tar_of([parts[i] for i in order]), message=message)


def test_a_second_data_member_is_refused(run, ex, valid):
    members, _ = valid
    parts = rebuild(members)
    info = members[3][0]
    parts.append(member("data.jsonl", b"{}\n", info.mtime))
    refused(run, ex, tar_of(parts), message="out of order")


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("position", [0, 1, 2])
def test_small_members_over_the_cap_are_refused_before_reading(run, ex, valid, position):
    """The header claims more than the cap; the content is never there (nor read)."""
    from ketenx.exchange.bundle import CAPS

    members, _ = valid
    parts = rebuild(members)
    info, _ = members[position]
    for claim in (CAPS[info.name] + 1, 1 << 40):
        cut = header(info.name, claim, info.mtime)
        refused(
            run, ex, b"".join(parts[:position]) + cut + b"x" * 512, message="larger than allowed"
        )


def test_data_larger_or_smaller_than_signed_and_changed_data(run, ex, valid):
    members, _ = valid
    grown = rebuild(members, **{"data.csv": lambda b: b + "111222333,Zoë\n".encode()})
    refused(run, ex, tar_of(grown), message="not the size the signed metadata states")
    shrunk = rebuild(members, **{"data.csv": lambda b: b[:-2] + b"\n"})
    refused(run, ex, tar_of(shrunk), message="not the size the signed metadata states")
    flipped = rebuild(members, **{"data.csv": lambda b: b[:-3] + bytes([b[-3] ^ 1]) + b[-2:]})
    refused(run, ex, tar_of(flipped), message="does not match its signed digest")


def test_headers_claiming_a_tebibyte_of_data_are_refused_without_reading(run, ex, valid):
    members, _ = valid
    parts = rebuild(members)
    info, content = members[3]
    claim = header(info.name, 1 << 40, info.mtime)  # pax size record
    refused(run, ex, b"".join(parts[:3]) + claim + content, message="not the size")


# --------------------------------------------------------------------------- the end of the tar


@pytest.mark.parametrize(
    "tail",
    [
        b"garbage",
        b"\x00" * 1024 + b"x",
        b"\x00" * 10240 * 2,  # zero blocks beyond the record
        b"\x00" * 1023,
    ],
)
def test_trailing_data_is_refused(run, ex, valid, tail):
    _, raw = valid
    refused(run, ex, raw + tail, message="not a valid ketenx bundle")


def test_a_member_after_the_end_marker_is_refused(run, ex, valid):
    members, _ = valid
    info = members[3][0]
    body = b"".join(rebuild(members)) + bytes(1024) + member("data.csv", b"evil", info.mtime)
    refused(run, ex, body, message="data follows the end of the tar")


def test_a_single_end_block_or_nonzero_padding_is_refused(run, ex, valid):
    members, _ = valid
    parts = rebuild(members)
    refused(run, ex, b"".join(parts) + bytes(512) + b"\x01" + bytes(511), message="end-of-archive")
    padded = bytearray(parts[1])
    padded[-1] = 0x20
    parts[1] = bytes(padded)
    refused(run, ex, tar_of(parts), message="padding")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_truncated_tar_is_refused_wherever_it_is_cut(run, ex, valid, data):
    members, _ = valid
    body = b"".join(rebuild(members)) + bytes(1024)
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    refused(run, ex, body[:cut])


# --------------------------------------------------------------------------- signature, predicate


def test_an_unsigned_or_badly_signed_bundle_is_refused(run, ex, valid):
    members, _ = valid
    for envelope in (
        b"{}",
        b"[[[[" * 100000,
        b"not json",
        json.dumps(
            {"payload": "", "payloadType": "application/vnd.in-toto+json", "signatures": []}
        ).encode(),
    ):
        refused(
            run, ex, tar_of(rebuild(members, **{"statement.dsse.json": lambda b, e=envelope: e}))
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(purpose="Iets anders \x1b[31m"), "signed purpose differs"),
        (lambda p: p.update(legal_basis=None), "signed legal_basis differs"),
        (lambda p: p.update(processing_activity="evil"), "signed processing_activity differs"),
        (lambda p: p.pop("records"), "states no record counts"),
        (
            lambda p: p.update(records={"input": 3, "output": 2, "dropped": 1}),
            "differs from the metadata",
        ),
        (lambda p: p.update(created=p["created"][:-1] + ".5Z"), "malformed at created"),
        (lambda p: p.update(created="2026-11-30T00:00:00Z"), "modification time"),
    ],
)  # fmt: skip
def test_a_predicate_that_disagrees_is_refused(run, ex, valid, change, message):
    members, _ = valid
    refused(run, ex, tar_of(resign(run, ex, members, change)), message=message)


def test_member_mtimes_must_agree_with_the_signed_time(run, ex, valid):
    members, _ = valid
    parts = rebuild(members)
    info, content = members[1]
    parts[1] = member(info.name, content, info.mtime + 1)
    refused(run, ex, tar_of(parts), message="modification times differ")
    refused(run, ex, tar_of(rebuild(members, mtime=info.mtime + 60)), message="modification time")


def test_contract_member_must_be_the_contract_held(run, ex, valid):
    members, _ = valid
    changed = rebuild(
        members, **{"contract.json": lambda b: b.replace(b"Voorbeeldstad", b"Evilstad")}
    )
    refused(run, ex, tar_of(changed), message="signed digest")


# --------------------------------------------------------------------------- encryption


def test_hostile_tar_inside_age_is_refused_the_same_way(run, ex, valid):
    members, _ = valid
    recipient = yaml.safe_load(ex.partners.read_text())["partners"][1]["age_recipients"][0]
    parts = rebuild(members)
    info, content = members[3]
    parts[3] = member(info.name, content, info.mtime, pax={"GNU.sparse.size": str(1 << 40)})
    sealed = pyrage.encrypt(tar_of(parts), [pyrage.x25519.Recipient.from_str(recipient)])
    refused(run, ex, sealed, "-i", ex.identity, message="not a valid ketenx bundle")


def test_an_unencrypted_bundle_with_an_identity_is_refused(run, ex, valid):
    _, raw = valid
    refused(run, ex, raw, "-i", ex.identity, message="not encrypted")


# --------------------------------------------------------------------------- the inbox


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o027, 0o077])
def test_inbox_modes(run, ex, valid, umask):
    _, raw = valid
    old = os.umask(umask)
    try:
        result = unpack_file(run, ex, raw)
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    modes = {p.name: p.stat().st_mode & 0o777 for p in ex.inbox.iterdir()}
    assert modes.pop("data.csv") == 0o600
    assert set(modes.values()) == {0o666 & ~umask}
    assert ex.inbox.stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_non_empty_inbox_is_refused_and_untouched(run, ex, valid):
    _, raw = valid
    ex.inbox.mkdir()
    (ex.inbox / "other.txt").write_text("kept")
    before = listing(ex.inbox.parent)
    result = unpack_file(run, ex, raw)
    assert result.code == 3 and "not empty" in result.err
    assert listing(ex.inbox) == ["other.txt"] and listing(ex.inbox.parent) == before
    (ex.inbox / "other.txt").unlink()
    assert unpack_file(run, ex, raw).code == 0  # an empty folder is fine


@pytest.mark.parametrize("where", ["publish", "create_file"])
def test_a_failure_after_verification_leaves_nothing(run, ex, valid, monkeypatch, where):
    import ketenx.exchange.bundle
    from ketenx.errors import OperationalError

    _, raw = valid
    real = getattr(ketenx.exchange.bundle, where)
    calls = []

    def failing(path, *args, **kwargs):
        calls.append(path)
        if where == "publish" or Path(path).name == "RECEIPT.txt":
            raise OperationalError("no space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ketenx.exchange.bundle, where, failing)
    refused(run, ex, raw, code=3, message="no space left")
    assert calls


def test_nested_missing_inbox_parents_appear_only_on_success(run, ex, valid):
    _, raw = valid
    ex.inbox = ex.root / "new" / "deeper" / "inbox"
    result = unpack_file(run, ex, raw[:1000])
    assert result.code == 1 and not (ex.root / "new").exists()
    assert unpack_file(run, ex, raw).code == 0
    assert listing(ex.root / "new" / "deeper") == ["inbox"]


# --------------------------------------------------------------------------- the receipt


def test_receipt_escapes_control_characters_from_the_contract(run, ex, tmp_path):
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text(encoding="utf-8"))
    doc["purpose"] = "Signaleren\nforged: line\r\x1b[31mrood\x1b[0m\u2028\u202eevil\\x41"
    doc["legal_basis"] = "Wet\x00publieke\x7f gezondheid\x9b"
    doc["sender"]["name"] = "Gemeente\u2029Voorbeeldstad\t"
    contract = tmp_path / "hostile-contract.yaml"
    contract.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    target = ex.root / "gemeente" / "out" / "d.age"
    packed = run(
        "pack",
        ex.export,
        "-c",
        contract,
        "-s",
        ex.secret,
        "-k",
        ex.key,
        "-p",
        ex.partners,
        "-o",
        target,
    )
    assert packed.code == 0, packed.err
    result = run(
        "unpack", target, "-c", contract, "-p", ex.partners, "-i", ex.identity, "-o", ex.inbox
    )
    assert result.code == 0, result.err
    receipt = (ex.inbox / "RECEIPT.txt").read_text(encoding="utf-8")
    for text in (result.out, receipt):
        assert len(text.split("\n")) == 14 and len(text.splitlines()) == 13
        for raw in ("\x1b", "\r", "\x00", "\x7f", "\x9b", "\u2028", "\u2029", "\u202e", "\t"):
            assert raw not in text
        escaped = "Signaleren\\x0aforged: line\\x0d\\x1b[31mrood\\x1b[0m\\u2028\\u202eevil"
        assert escaped + "\\\\x41" in text
        assert "Wet\\x00publieke\\x7f gezondheid\\x9b" in text
        assert "Gemeente\\u2029Voorbeeldstad\\x09" in text
    assert "encryption:   age, to your identity\n" in receipt


def test_printable_escapes_every_control_and_separator():
    from ketenx.exchange.bundle import printable

    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200B, 0xFEFF, 0x202E]:
        text = printable(f"a{chr(code)}b")
        assert chr(code) not in text and text.startswith("a\\") and text.endswith("b")
    assert printable("Zoë 's-Hertogenbosch") == "Zoë 's-Hertogenbosch"


# --------------------------------------------------------------------------- memory


#: Runs ketenx in the child and, as it exits, writes the child's own peak resident memory
#: (VmHWM, KiB: the high-water mark of this program, not of the process it was forked from).
_MEASURED = """
import atexit, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(sys.argv[1], "w").write(line.split()[1])
atexit.register(peak)
from ketenx._cli import main
main(sys.argv[2:])
"""


def _unpack_process(ex, path: Path, preexec=None) -> tuple[int, int, bytes]:
    """Exit code, peak resident memory (KiB) and stderr of ``ketenx unpack PATH`` run in a
    subprocess (``preexec`` runs in the child before ketenx starts)."""
    args = ["unpack", path, "-c", SAMPLE_CONTRACT, "-p", ex.partners, "-o", ex.inbox]
    measured = ex.root / "peak"
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, measured, *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        preexec_fn=preexec,
        check=False,
    )
    return result.returncode, int(measured.read_text()), result.stderr


def test_memory_stays_bounded_whatever_the_headers_claim(run, ex, valid):
    """The 1 TiB sparse, oversized and endless-member bundles are refused by a real process
    whose peak resident memory stays far below what the headers claim."""
    members, _ = valid
    parts = rebuild(members)
    info, content = members[0]
    sparse = member(info.name, content, info.mtime, pax={"GNU.sparse.size": str(1 << 40)})
    hostile = {
        "sparse.tar": tar_of([sparse, *parts[1:]]),
        "huge-statement.tar": header(info.name, 1 << 40, info.mtime) + b"{" * (4 << 20),
        "huge-data.tar": b"".join(parts[:3]) + header(members[3][0].name, 1 << 40, info.mtime),
        "full-statement.tar": header(info.name, 1 << 20, info.mtime) + b"[" * (1 << 20),
    }
    for name, bundle in hostile.items():
        path = ex.root / name
        path.write_bytes(bundle)
        code, peak, err = _unpack_process(ex, path)
        assert code == 1, err
        assert b"Traceback" not in err and not ex.inbox.exists()
        assert peak < 128 * 1024, (name, peak)  # KiB; the claims were 1 TiB each


def test_bounded_memory_under_an_address_space_limit(run, ex, valid):
    """Run unpack with a 1 GiB address-space limit over a bundle that claims 1 TiB: it is
    refused cleanly (not MemoryError, not killed)."""
    members, _ = valid
    parts = rebuild(members)
    bundle = b"".join(parts[:3]) + header(members[3][0].name, 1 << 40, members[0][0].mtime)
    path = ex.root / "claim.tar"
    path.write_bytes(bundle)
    limit = 1 << 30

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    code, _, err = _unpack_process(ex, path, limited)
    assert code == 1, err
    assert b"not the size" in err and not ex.inbox.exists()


@pytest.mark.parametrize(
    "meta",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a": 1, "a": 2}', b'{"a": 1e999}', b"\xff\xfe"],
    ids=["deep", "duplicate", "infinity", "not-utf8"],
)
def test_a_signed_metadata_member_that_is_not_strict_json_is_refused(run, ex, valid, meta):
    """A registered sender that signs hostile metadata: the member is parsed strictly and
    within limits before anything is written (found by this session's audit)."""
    import hashlib

    from ketenx._cli.sign import load_signing_key
    from ketenx.exchange.attest import PREDICATE_TYPE
    from ketenx.exchange.dsse import make_statement, sign_statement
    from ketenx.exchange.partners import public_key_id

    members, _ = valid
    key = load_signing_key(ex.key)
    (info, raw), rest = members[0], members[1:]
    statement = json.loads(base64.b64decode(json.loads(raw)["payload"]))
    subjects = [
        (
            s["name"],
            "sha256:"
            + (
                hashlib.sha256(meta).hexdigest()
                if s["name"] == "data.meta.json"
                else s["digest"]["sha256"]
            ),
        )
        for s in statement["subject"]
    ]
    signed = sign_statement(
        make_statement(subjects, PREDICATE_TYPE, statement["predicate"]),
        key,
        public_key_id(key.public_key()),
    )
    parts = rebuild(
        [(info, json.dumps(signed).encode()), *rest], **{"data.meta.json": lambda _b: meta}
    )
    result = refused(run, ex, tar_of(parts))
    assert "metadata" in result.err, result.err
