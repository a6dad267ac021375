"""The partner registry: which keys may sign for which OIN, and when; to whom deliveries for
an OIN are encrypted. Format version 1, ``schemas/partners.schema.json``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jsonschema import Draft202012Validator, FormatChecker

from ..canonical import canonical_digest, pointer
from ..contract.document import read_structured
from ..contract.lint import Problem, rule_message
from ..errors import ContractError, KeyMaterialError, VerificationError
from ..records.formats import oin_problem
from ..resources import load_schema
from ..storage.keys import load_public_key

_RULES = {  # the registry's own words where the keyword alone says too little
    "pattern": "a value of the wrong form (age recipients are age1…)",
    "oneOf": "give either public_key_file or public_key, not both",
}


def public_key_id(key: Ed25519PublicKey) -> str:
    """``sha256:`` + hex SHA-256 of the DER SubjectPublicKeyInfo."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PublicKey = field(repr=False)
    key_id: str
    valid_from: _dt.date
    valid_until: _dt.date | None
    revoked: bool

    def valid_at(self, when: _dt.datetime) -> bool:
        day = when.astimezone(_dt.UTC).date()
        if day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True)
class Partner:
    name: str
    oin: str
    signing_keys: tuple[SigningKey, ...]
    age_recipients: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    partners: tuple[Partner, ...]
    source: str = "<partners>"
    digest: str = ""

    def partner(self, oin: str) -> Partner | None:
        for p in self.partners:
            if p.oin == oin:
                return p
        return None

    def age_recipients(self, oin: str) -> list[str]:
        p = self.partner(oin)
        return list(p.age_recipients) if p else []

    def check_signer(
        self, oin: str, key_id: str, created: _dt.datetime, now: _dt.datetime
    ) -> SigningKey:
        """The registered key ``key_id`` of ``oin`` if it may have signed at ``created``;
        otherwise :class:`VerificationError` saying which check failed."""
        partner = self.partner(oin)
        if partner is None:
            # Not repeated: an OIN the registry does not hold is the statement's own text.
            raise VerificationError("the statement's sender OIN is not in the partner registry")
        matches = [k for k in partner.signing_keys if k.key_id == key_id]
        if not matches:
            raise VerificationError(
                f"the signing key {key_id} is not registered for the sender OIN {oin}"
            )
        if any(k.revoked for k in matches):
            raise VerificationError(f"the signing key {key_id} of {oin} is revoked")
        if created > now + _dt.timedelta(minutes=5):
            raise VerificationError("the statement's creation time lies in the future")
        for k in matches:
            if k.valid_at(created):
                return k
        raise VerificationError(
            f"the statement's creation time lies outside the validity of signing key {key_id}"
        )


def _date(value: Any) -> _dt.date:
    return _dt.date.fromisoformat(str(value))


def _load_key(spec: Mapping[str, Any], base: Path) -> Ed25519PublicKey:
    """The key of one ``signing_keys`` entry. Messages name the member, never its value (the
    file name is the registry's text too)."""
    if "public_key" in spec:
        return load_public_key(str(spec["public_key"]).encode(), shown="public_key")
    return load_public_key(base / str(spec["public_key_file"]), shown="public_key_file")


def lint_registry(doc: Any, base: Path) -> list[Problem]:
    """Every problem with a registry document: shape, OINs, keys, validity periods."""
    validator = Draft202012Validator(
        load_schema("partners.schema.json"), format_checker=FormatChecker()
    )
    # jsonschema's own messages quote the offending value, and a registry may hold a pasted
    # private key by mistake: messages are written from the rule only.
    problems = [
        Problem(pointer(*e.absolute_path), rule_message(e, "schemas/partners.schema.json", _RULES))
        for e in validator.iter_errors(doc)
    ]
    if problems or not isinstance(doc, Mapping):
        return problems
    seen_oins: dict[str, int] = {}
    key_owner: dict[str, int] = {}  # key id -> the first partner that registers it
    for i, p in enumerate(doc.get("partners", [])):
        oin = p["oin"]
        why = oin_problem(oin)
        if why is not None:
            problems.append(Problem(pointer("partners", i, "oin"), f"not a valid OIN: {why}"))
        if oin in seen_oins:
            problems.append(
                Problem(
                    pointer("partners", i, "oin"), f"duplicate OIN (also partner {seen_oins[oin]})"
                )
            )
        seen_oins.setdefault(oin, i)
        windows: dict[str, list[tuple[_dt.date, _dt.date]]] = {}
        for j, spec in enumerate(p.get("signing_keys", [])):
            where = pointer("partners", i, "signing_keys", j)
            try:
                key = _load_key(spec, base)
            except KeyMaterialError as exc:
                problems.append(Problem(where, exc.message))
                continue
            kid = public_key_id(key)
            start = _date(spec["valid_from"])
            end = _date(spec["valid_until"]) if "valid_until" in spec else _dt.date.max
            if end < start:
                problems.append(Problem(where, "valid_until lies before valid_from"))
            for other_start, other_end in windows.get(kid, []):
                if start <= other_end and other_start <= end:
                    problems.append(
                        Problem(where, f"key {kid} is listed twice with overlapping validity")
                    )
            windows.setdefault(kid, []).append((start, end))
            owner = key_owner.setdefault(kid, i)
            if owner != i and doc["partners"][owner]["oin"] != oin:
                problems.append(
                    Problem(where, f"key {kid} is also registered for partner {key_owner[kid]}")
                )
    return problems


def load_registry(path: str | Path) -> Registry:
    """Read and lint a partner registry; :class:`ContractError` (exit 3) when unusable."""
    path = Path(path)
    doc = read_structured(path, what="partner registry")
    errors = lint_registry(doc, path.parent)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ContractError(
            f"invalid partner registry: {errors[0].render(str(path))}{more}",
            hint=f"run `ketenx partners lint {path}`",
        )
    partners = []
    for p in doc["partners"]:
        keys = []
        for spec in p.get("signing_keys", []):
            key = _load_key(spec, path.parent)
            keys.append(
                SigningKey(
                    key=key,
                    key_id=public_key_id(key),
                    valid_from=_date(spec["valid_from"]),
                    valid_until=_date(spec["valid_until"]) if "valid_until" in spec else None,
                    revoked=bool(spec.get("revoked", False)),
                )
            )
        partners.append(
            Partner(
                name=p["name"],
                oin=p["oin"],
                signing_keys=tuple(keys),
                age_recipients=tuple(p.get("age_recipients", [])),
            )
        )
    return Registry(tuple(partners), source=str(path), digest=canonical_digest(doc))
