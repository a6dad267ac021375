"""Key material given to any command where a path belongs (option or environment variable) is
refused with exit 3 or 2, and never appears in any output stream or file; documents' values are
never quoted in lint messages."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ketenx.storage.material import unmistakably_key_material
from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, Result, csv_text, invoke
from tests.unit.test_key_material import BECH32, SMALL_ORDER, material_family, spki_pem

PASSPHRASE = "correct horse battery staple"


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """``ketenx`` in-process, with only the variables given (the module's setup outlives a
    test's monkeypatch)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("KETENX_CONTRACT", "KETENX_PARTNERS", "KETENX_IDENTITY"):
            mp.delenv(name, raising=False)
        mp.delenv("KETENX_SIGNING_KEY", raising=False)
        mp.delenv("KETENX_SECRET_FILE", raising=False)
        return invoke(mp, *args, stdin=b"", env={"KETENX_PASSPHRASE": PASSPHRASE, **(env or {})})


@dataclass
class Setup:
    root: Path
    data: Path
    secret: Path
    key: Path
    partners: Path
    identity: Path
    delivery: Path
    out: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("km")
    for d in ("g/keys", "g/data", "g/out", "r/keys", "outputs"):
        (root / d).mkdir(parents=True, mode=0o700)
    assert run("keys", "new-secret", root / "g/keys/p.secret").code == 0
    assert run("keys", "new-signing", root / "g/keys/sign").code == 0
    recipient = run("keys", "new-identity", root / "r/keys/r").out.strip()
    data = root / "g/data/export.csv"
    data.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    partners = root / "partners.yaml"
    partners.write_text(yaml.safe_dump(registry_doc(recipient)))
    delivery = root / "g/out/delivery.age"
    s = Setup(root, data, root / "g/keys/p.secret", root / "g/keys/sign.key", partners,
              root / "r/keys/r.age", delivery, root / "outputs")  # fmt: skip
    packed = run(*pack_args(s, "-o", delivery))
    assert packed.code == 0, packed.err
    yield s


def registry_doc(recipient: str) -> dict[str, object]:
    return {
        "ketenx": 1,
        "partners": [
            {
                "name": "Gemeente Voorbeeldstad",
                "oin": "00000001001234567000",
                "signing_keys": [
                    {"public_key_file": "g/keys/sign.pub", "valid_from": "2026-01-01"}
                ],
            },
            {
                "name": "GGD Voorbeeldregio",
                "oin": "00000001009876543000",
                "age_recipients": [recipient],
            },
        ],
    }


def pack_args(s: Setup, *extra: str | Path) -> list[str | Path]:
    return ["pack", s.data, "-c", SAMPLE_CONTRACT, "-s", s.secret, "-k", s.key, "-p", s.partners,
            *extra]  # fmt: skip


# (command line with {M} where the material goes, environment variable that can carry it)
def invocations(s: Setup) -> list[tuple[list[str | Path], str | None]]:
    out = s.out / "x"
    unpack = ["unpack", s.delivery, "-c", SAMPLE_CONTRACT, "-p", s.partners, "-i", s.identity,
              "-o", out]  # fmt: skip
    pack = pack_args(s, "-o", out)
    sign = ["sign", s.data, "-c", SAMPLE_CONTRACT, "-k", s.key, "-o", out]
    verify = ["verify", s.data, "--signature", s.data, "-p", s.partners]
    pseudo = ["pseudonymise", s.data, "-c", SAMPLE_CONTRACT, "-s", s.secret, "-o", out]
    reid = ["reidentify", s.data, "-c", SAMPLE_CONTRACT, "-s", s.secret, "-o", out]

    def put(args: list[str | Path], flag: str) -> list[str | Path]:
        i = args.index(flag)
        return [*args[: i + 1], "{M}", *args[i + 2 :]]

    def drop(args: list[str | Path], flag: str) -> list[str | Path]:
        i = args.index(flag)
        return [*args[:i], *args[i + 2 :]]

    cases: list[tuple[list[str | Path], str | None]] = []
    for args, flag, var in [
        (unpack, "-i", "KETENX_IDENTITY"),
        (unpack, "-p", "KETENX_PARTNERS"),
        (unpack, "-c", "KETENX_CONTRACT"),
        (pack, "-k", "KETENX_SIGNING_KEY"),
        (pack, "-s", "KETENX_SECRET_FILE"),
        (pack, "-p", "KETENX_PARTNERS"),
        (pack, "-c", "KETENX_CONTRACT"),
        (sign, "-k", "KETENX_SIGNING_KEY"),
        (sign, "-c", "KETENX_CONTRACT"),
        (verify, "-p", "KETENX_PARTNERS"),
        (pseudo, "-s", "KETENX_SECRET_FILE"),
        (pseudo, "-c", "KETENX_CONTRACT"),
        (reid, "-s", "KETENX_SECRET_FILE"),
        (reid, "-c", "KETENX_CONTRACT"),
    ]:
        cases.append((put(args, flag), None))
        cases.append((drop(args, flag), var))
    for command in (
        ["contract", "lint"],
        ["contract", "digest"],
        ["partners", "lint"],
        ["keys", "new-secret"],
        ["keys", "new-signing"],
        ["keys", "new-identity"],
    ):
        cases.append(([*command, "{M}"], None))
    return cases


def assert_unseen(material: str, text: str) -> None:
    for piece in [material, *material.split()]:
        if len(piece) >= 16:
            assert piece not in text, piece


def files_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_key_material_in_every_path_option_and_variable_is_refused_unseen(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forms of key material (tests.unit.test_key_material.material_family, where hypothesis
    varies the bytes and every form meets every loader) in every path option and its
    environment variable: each invocation gets three forms, in turn, so every form is met."""
    monkeypatch.chdir(tmp_path)  # a relative "path" would land here
    before = files_under(setup.root)
    raw = hashlib.sha256(b"seed").digest()
    bech = "".join(BECH32[b % 32] for b in hashlib.sha512(b"seed").digest()[:58])
    forms = material_family(raw, bech)
    for i, (args, var) in enumerate(invocations(setup)):
        for material in (
            forms[i % len(forms)],
            forms[(i + 5) % len(forms)],
            forms[(i + 11) % len(forms)],
        ):
            if args[0] == "keys" and not unmistakably_key_material(material):
                continue  # a new file's name: only unmistakable key material is refused
            if var is None:
                argv = [material if a == "{M}" else a for a in args]
                result = run(*argv)
            else:
                result = run(*args, env={var: material})
            assert result.code in (2, 3), (args, var, result.err)
            assert "Traceback" not in result.err
            assert_unseen(material, result.out + result.err)
    assert files_under(setup.root) == before  # nothing was written, nothing changed
    assert list(tmp_path.iterdir()) == []


def test_the_setup_works(setup: Setup) -> None:
    """The invocations above fail because of the material only: with real paths they pass."""
    result = run("unpack", setup.delivery, "-c", SAMPLE_CONTRACT, "-p", setup.partners,
                 "-i", setup.identity, "-o", setup.out / "ok")  # fmt: skip
    assert result.code == 0, result.err


# --- documents: a planted value is never quoted ------------------------------------------------

PLANTED = "PLANTEDxSECRETx7Q2"


def string_positions(doc: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple]:
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from string_positions(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from string_positions(v, (*path, i))
    elif isinstance(doc, str):
        yield path


def set_at(doc: dict, path: tuple, value: object) -> dict:
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def planted_variants(doc: dict, *, quick: bool = False) -> Iterator[tuple[tuple, dict]]:
    """For every string position: the planted string alone, with a leading formula character,
    as a too-long value, in a list, as a one-member mapping, with a format or domain look."""
    values: list[object] = [PLANTED, f"={PLANTED}", [PLANTED], {"x": PLANTED}]
    if not quick:
        values += [PLANTED * 20, f"#{PLANTED}", f"nl-{PLANTED}", f" {PLANTED}/delivery/"]
    for path in string_positions(doc):
        for value in values:
            yield path, set_at(doc, path, value)


def test_contract_lint_never_quotes_a_value(tmp_path: Path) -> None:
    doc = yaml.safe_load(SAMPLE_CONTRACT.read_text())
    doc["schema"]["properties"]["bsn"]["default"] = "x"
    for n, (path, variant) in enumerate(planted_variants(doc, quick=True)):
        target = tmp_path / f"c{n}.json"
        target.write_text(json.dumps(variant))
        result = run("contract", "lint", target)
        assert PLANTED not in result.out + result.err, (path, result.err)
    # the planted value in a `$ref` to a schema file that does not exist
    variant = dict(doc, schema={"$ref": f"{PLANTED}.json"})
    target = tmp_path / "ref.json"
    target.write_text(json.dumps(variant))
    for command in ("lint", "digest"):
        result = run("contract", command, target)
        assert result.code == 3 and PLANTED not in result.out + result.err


def test_registry_lint_never_quotes_a_value(setup: Setup, tmp_path: Path) -> None:
    doc = yaml.safe_load(setup.partners.read_text())
    doc["partners"][0]["signing_keys"][0]["public_key_file"] = str(setup.root / "g/keys/sign.pub")
    doc["partners"][0]["signing_keys"][0]["valid_until"] = "2027-01-01"
    for n, (_path, variant) in enumerate(planted_variants(doc)):
        target = tmp_path / f"p{n}.yaml"
        target.write_text(yaml.safe_dump(variant))
        for cmd in (["partners", "lint", target], ["verify", setup.data, "--signature",
                                                   setup.data, "-p", target]):  # fmt: skip
            result = run(*cmd)
            assert PLANTED not in result.out + result.err, (_path, result.err)
    # and the inline public key: a pasted private key is not shown
    private = material_family(bytes(range(32)), "q" * 58)[10]
    doc["partners"][0]["signing_keys"][0] = {"public_key": private, "valid_from": "2026-01-01"}
    target = tmp_path / "inline.yaml"
    target.write_text(yaml.safe_dump(doc))
    result = run("partners", "lint", target)
    assert result.code == 1
    assert_unseen(private, result.out + result.err)


@pytest.mark.parametrize("encoding", SMALL_ORDER)
def test_a_registry_with_a_small_order_key_does_not_load(
    setup: Setup, tmp_path: Path, encoding: str
) -> None:
    """With the identity point registered, R = identity, S = 0 would verify any message: the
    registry with such a key is refused before any signature is looked at (exit 3)."""
    doc = yaml.safe_load(setup.partners.read_text())
    pem = spki_pem(bytes.fromhex(encoding)).decode()
    doc["partners"][0]["signing_keys"] = [{"public_key": pem, "valid_from": "2026-01-01"}]
    target = tmp_path / "weak.yaml"
    target.write_text(yaml.safe_dump(doc))
    lint = run("partners", "lint", target)
    assert lint.code == 1 and "small order" in lint.err
    forged = forged_envelope(setup, bytes.fromhex(encoding), tmp_path)
    result = run("verify", setup.data, "--signature", forged, "-p", target)
    assert result.code == 3 and "small order" in result.err and "OK" not in result.out


def forged_envelope(setup: Setup, public: bytes, folder: Path) -> Path:
    """A DSSE envelope over the data 'signed' R = identity, S = 0 by the weak key."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": setup.data.name,
                     "digest": {"sha256": hashlib.sha256(setup.data.read_bytes()).hexdigest()}}],
        "predicateType": "https://ketenx.nl/delivery/v1",
        "predicate": {},
    }  # fmt: skip
    der = bytes.fromhex("302a300506032b6570032100") + public
    signature = bytes.fromhex("01" + "00" * 31) + bytes(32)
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
        "signatures": [
            {
                "keyid": "sha256:" + hashlib.sha256(der).hexdigest(),
                "sig": base64.b64encode(signature).decode(),
            }
        ],
    }
    path = folder / "forged.dsse.json"
    path.write_text(json.dumps(envelope))
    return path


def test_pack_refuses_a_secret_in_the_data_tree_or_linked_beside_the_data(
    setup: Setup, tmp_path: Path
) -> None:
    """Through the command: a secret below the data's folder, a symbolic link beside the data
    to the secret kept elsewhere, a second hard link: exit 3, and no output appears."""
    data = tmp_path / "export" / "export.csv"
    (data.parent / "sub").mkdir(parents=True)
    data.write_bytes(setup.data.read_bytes())
    below = data.parent / "sub" / "p.secret"
    below.write_bytes(setup.secret.read_bytes())
    below.chmod(0o600)
    link = data.parent / "p.secret"
    link.symlink_to(setup.secret)
    out = tmp_path / "out" / "delivery.age"
    for secret, message in ((below, "same folder as the data"), (link, "same folder as the data")):
        result = run("pack", data, "-c", SAMPLE_CONTRACT, "-s", secret, "-k", setup.key,
                     "-p", setup.partners, "-o", out)  # fmt: skip
        assert result.code == 3 and message in result.err, result.err
        assert (not out.exists() and not out.parent.exists()) or not list(out.parent.iterdir())
    twice = tmp_path / "vault" / "p.secret"
    twice.parent.mkdir()
    twice.write_bytes(setup.secret.read_bytes())
    twice.chmod(0o600)
    (tmp_path / "vault2").mkdir()
    (tmp_path / "vault2" / "again").hardlink_to(twice)
    result = run("pack", data, "-c", SAMPLE_CONTRACT, "-s", twice, "-k", setup.key,
                 "-p", setup.partners, "-o", out)  # fmt: skip
    assert result.code == 3 and "2 hard links" in result.err
    assert not out.exists()
