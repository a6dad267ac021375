"""Two fictitious agencies on disk, for the library tests and the docs/library.md examples.

:func:`make_agencies` writes, under one folder, what ``ketenx keys …`` and a partner registry
would give the sender (a municipality) and the recipient (a GGD): the contract, an export,
the pseudonymisation secret, a signing key (passphrase :data:`PASSPHRASE`), the GGD's age
identity and the partner registry. Its file names are the ones docs/library.md uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.helpers import GOOD_ROWS, SAMPLE_CONTRACT, csv_text

PASSPHRASE = b"correct horse battery staple"
SENDER_OIN = "00000001001234567000"
RECIPIENT_OIN = "00000001009876543000"


@dataclass(frozen=True)
class Agencies:
    root: Path
    contract: Path
    export: Path
    secret: Path
    signing_key: Path
    signing_pub: Path
    identity: Path
    partners: Path


def make_agencies(root: Path, *, rows: list[str] | None = None) -> Agencies:
    """The files of both agencies under ``root`` (secrets and keys in 0700 folders apart
    from the data, as ketenx requires)."""
    from ketenx.storage.keys import new_age_identity, new_signing_key
    from ketenx.storage.secrets import new_secret

    for folder in ("keys", "data", "out"):
        (root / folder).mkdir(mode=0o700, exist_ok=True)
    contract = root / "contract.yaml"
    contract.write_bytes(SAMPLE_CONTRACT.read_bytes())
    export = root / "data" / "export.csv"
    export.write_text(csv_text(*(rows if rows is not None else GOOD_ROWS)), encoding="utf-8")
    secret = root / "keys" / "ggd.secret"
    new_secret(secret)
    # Few KDF iterations: the key is for tests (ketenx itself writes 600,000).
    key, pub = new_signing_key(root / "keys" / "gemeente", PASSPHRASE, _kdf_iterations=1000)
    identity, recipient_file = new_age_identity(root / "keys" / "ggd")
    partners = root / "partners.yaml"
    partners.write_text(
        yaml.safe_dump(
            {
                "ketenx": 1,
                "partners": [
                    {
                        "name": "Gemeente Voorbeeldstad",
                        "oin": SENDER_OIN,
                        "signing_keys": [
                            {"public_key_file": "keys/gemeente.pub", "valid_from": "2026-01-01"}
                        ],
                    },
                    {
                        "name": "GGD Voorbeeldregio",
                        "oin": RECIPIENT_OIN,
                        "age_recipients": [recipient_file.read_text().strip()],
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    return Agencies(root, contract, export, secret, key, pub, identity, partners)
