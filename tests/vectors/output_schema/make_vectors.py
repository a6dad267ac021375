"""Generate output_schemas.json: contract → output schema → output_schema_digest.

A second implementation of docs/spec/delivery.md §8 that does NOT import ketenx: the derivation
is written out here from the spec's steps, the canonical form comes from the `rfc8785` package
and the digest from `hashlib`. tests/unit/test_output_schema_vectors.py checks ketenx against
the file and that this script reproduces it byte for byte.

    python tests/vectors/output_schema/make_vectors.py [OUT]
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import rfc8785
import yaml

PSEUDONYM = "^kx1_[A-Za-z0-9_-]{27}$"
CIPHERTEXT = "^kx1e_[A-Za-z0-9_-]{22,}$"
YEAR_MONTH = "^[0-9]{4}-(0[1-9]|1[0-2])$"
PC4 = "^[1-9][0-9]{3}$"
AGE_BAND = "^([0-9]+-[0-9]+|[0-9]+\\+|<[0-9]+)$"


# --- the derivation, step by step (docs/spec/delivery.md §8) -------------------------------------


def nullable(prop: dict[str, Any]) -> bool:
    t = prop.get("type")
    return t == "null" or (isinstance(t, list) and "null" in t)


def typed(base: dict[str, Any], null: bool) -> dict[str, Any]:
    return {**base, "type": [base["type"], "null"]} if null else base


def number_label(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def bucket_labels(f: dict[str, Any]) -> list[str]:
    edges = {float(b) for b in f.get("bins", [])}
    if f.get("bottom") is not None:
        edges = {e for e in edges if e >= f["bottom"]} | {float(f["bottom"])}
    if f.get("top") is not None:
        edges = {e for e in edges if e <= f["top"]} | {float(f["top"])}
    e = sorted(edges)
    inner = [f"[{number_label(lo)},{number_label(hi)})" for lo, hi in itertools.pairwise(e)]
    return [f"<{number_label(e[0])}", *inner, f">={number_label(e[-1])}"]


def output_property(f: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any] | None:
    null = nullable(prop)
    t = f["treatment"]
    if t == "drop":
        return None
    if t == "keep":
        return copy.deepcopy(prop)
    if t == "pseudonymise":
        return typed({"type": "string", "pattern": PSEUDONYM}, null)
    if t == "encrypt":
        return typed({"type": "string", "pattern": CIPHERTEXT}, null)
    if t == "mask":
        return typed({"type": "string"}, null)
    if t == "redact":
        r = f.get("replacement", "[redacted]")
        return (
            {"type": ["string", "null"], "enum": [r, None]}
            if null
            else {"type": "string", "enum": [r]}
        )
    to = f["to"]
    if to == "year":
        return typed({"type": "integer", "minimum": 1, "maximum": 9999}, null)
    if to == "year-month":
        return typed({"type": "string", "pattern": YEAR_MONTH}, null)
    if to == "pc4":
        return typed({"type": "string", "pattern": PC4}, null)
    if to == "age-band":
        return typed({"type": "string", "pattern": AGE_BAND}, null)
    labels: list[Any] = bucket_labels(f)
    if null:
        return {"type": ["string", "null"], "enum": [*labels, None]}
    return {"type": "string", "enum": labels}


def output_schema(contract: dict[str, Any]) -> dict[str, Any]:
    schema = contract["schema"]
    props = schema.get("properties", {})
    required_in = set(schema.get("required", []))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, f in contract["fields"].items():
        out = output_property(f, props.get(name, {}))
        if out is None:
            continue
        properties[f.get("as", name)] = out
        if name in required_in:
            required.append(f.get("as", name))
    derived: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Delivered record of {contract['id']} v{contract['version']}",
        "type": "object",
        "properties": properties,
        "required": sorted(required, key=lambda s: s.encode("utf-16-be")),
        "additionalProperties": False,
    }
    for key in ("$defs", "definitions"):
        if key in schema:
            derived[key] = copy.deepcopy(schema[key])
    return derived


def digest(doc: Any) -> str:
    return "sha256:" + hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


# --- the corpus ----------------------------------------------------------------------------------


def contract(
    cid: str, schema: dict[str, Any], fields: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "ketenx": 1,
        "id": cid,
        "version": 3,
        "sender": {"name": "Gemeente Voorbeeldstad", "oin": "00000001001234567000"},
        "recipient": {"name": "GGD Voorbeeldregio", "oin": "00000001009876543000"},
        "purpose": "vectors",
        "legal_basis": "vectors",
        "schema": {"type": "object", **schema},
        "fields": fields,
        **extra,
    }


S = {"type": "string"}
DATE = {"type": "string", "format": "date"}
PC = {"type": "string", "format": "nl-postcode"}
NUM = {"type": "number"}
BSN = {"type": "string", "format": "nl-bsn"}


def nulled(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "type": [p["type"], "null"]}


EVERY_TREATMENT_FIELDS = {
    "bsn": {"treatment": "pseudonymise", "as": "persoon_id"},
    "email": {"treatment": "encrypt", "normalise": "email"},
    "naam": {"treatment": "drop"},
    "opmerking": {"treatment": "redact"},
    "status": {"treatment": "redact", "replacement": "***"},
    "telefoon": {"treatment": "mask", "keep_last": 2},
    "geboortedatum": {"treatment": "generalise", "to": "year", "as": "geboortejaar"},
    "meetdatum": {"treatment": "generalise", "to": "year-month"},
    "postcode": {"treatment": "generalise", "to": "pc4"},
    "leeftijd": {"treatment": "generalise", "to": "age-band", "reference_date": "2026-01-01",
                 "band_width": 5, "top": 18, "bottom": 2},
    "lengte": {"treatment": "generalise", "to": "bucket", "bins": [60, 30, 90, 2.5], "top": 120},
    "gemeente": {"treatment": "keep"},
}  # fmt: skip
EVERY_TREATMENT_PROPS = {
    "bsn": BSN,
    "email": {"type": "string", "format": "email"},
    "naam": S,
    "opmerking": S,
    "status": S,
    "telefoon": S,
    "geboortedatum": DATE,
    "meetdatum": DATE,
    "postcode": PC,
    "leeftijd": DATE,
    "lengte": NUM,
    "gemeente": {"type": "string", "minLength": 1, "maxLength": 80},
}


WHY = [
    "each treatment and generalisation once, with `as:` renames; bucket edges unsorted, one "
    "fractional, cut by `top`",
    "the same fields with every property's `type` allowing null",
    "the first contract with `fields` in reverse order: same contract digest, same output "
    "schema digest",
    "kept and keyed `$ref` properties; `$defs` copied whole; nullability is read from the "
    "property's own `type` only",
    "the older `definitions` keyword is copied too; a dropped property disappears",
    "kept enums (with null) stay as written; a pseudonymised enum becomes a pattern",
    "`required` in RFC 8785 order (UTF-16 code units): `Z` `_` `b` `z_a` `ä` `é`",
    "a property without `type` is kept as `{}`; no `required` in the input gives `[]`",
]


def corpus() -> list[tuple[str, str, dict[str, Any]]]:
    every = contract(
        "every-treatment",
        {
            "properties": EVERY_TREATMENT_PROPS,
            "required": ["bsn", "naam", "geboortedatum", "lengte", "gemeente"],
        },
        EVERY_TREATMENT_FIELDS,
    )
    nullable_all = contract(
        "every-treatment-nullable",
        {"properties": {k: nulled(v) for k, v in EVERY_TREATMENT_PROPS.items()}},
        EVERY_TREATMENT_FIELDS,
    )
    reordered = copy.deepcopy(every)
    reordered["fields"] = dict(reversed(list(every["fields"].items())))
    refs = contract(
        "defs-and-refs",
        {
            "$defs": {"bsn": BSN, "code": {"type": "string", "enum": ["A", "B", None]}},
            "properties": {
                "bsn": {"$ref": "#/$defs/bsn"},
                "kind_bsn": {"$ref": "#/$defs/bsn"},
                "code": {"$ref": "#/$defs/code"},
                "ouder": {"type": ["string", "null"], "$ref": "#/$defs/bsn"},
            },
            "required": ["kind_bsn", "bsn", "code"],
        },
        {
            "bsn": {"treatment": "pseudonymise"},
            "kind_bsn": {"treatment": "keep"},
            "code": {"treatment": "keep", "as": "Code"},
            "ouder": {"treatment": "encrypt"},
        },
    )
    definitions = contract(
        "legacy-definitions",
        {
            "definitions": {"pc": PC},
            "properties": {"postcode": {"$ref": "#/definitions/pc"}, "wijk": S},
        },
        {"postcode": {"treatment": "keep"}, "wijk": {"treatment": "drop"}},
    )
    enums = contract(
        "enums",
        {
            "properties": {
                "geslacht": {"type": "string", "enum": ["M", "V", "X"]},
                "score": {"type": ["integer", "null"], "enum": [1, 2, 3, None]},
                "klasse": {"type": "string", "enum": ["laag", "hoog"]},
            },
            "required": ["geslacht"],
        },
        {
            "geslacht": {"treatment": "keep"},
            "score": {"treatment": "keep"},
            "klasse": {"treatment": "pseudonymise", "normalise": "text"},
        },
    )
    names = contract(
        "names-order",
        {
            "properties": {"b": S, "a": S, "Z": S, "é": S, "ä": S, "_": S},
            "required": ["b", "a", "Z", "é", "ä", "_"],
        },
        {
            "b": {"treatment": "keep"},
            "a": {"treatment": "keep", "as": "z_a"},
            "Z": {"treatment": "keep"},
            "é": {"treatment": "keep"},
            "ä": {"treatment": "keep"},
            "_": {"treatment": "keep"},
        },
    )
    untyped = contract(
        "untyped-and-empty-required",
        {"properties": {"vrij": {}, "bsn": {"type": "string"}}},
        {"vrij": {"treatment": "keep"}, "bsn": {"treatment": "pseudonymise"}},
    )
    return [
        ("every treatment", WHY[0], every),
        ("every treatment, nullable", WHY[1], nullable_all),
        ("every treatment, reordered", WHY[2], reordered),
        ("$defs and $ref", WHY[3], refs),
        ("definitions", WHY[4], definitions),
        ("enums", WHY[5], enums),
        ("name order", WHY[6], names),
        ("untyped, no required", WHY[7], untyped),
    ]


# YAML contracts (§1): timestamps stay the text that was written.
YAML_CONTRACT = """\
ketenx: 1
id: yaml-timestamps
version: 1
sender: {name: Gemeente Voorbeeldstad, oin: "00000001001234567000"}
recipient: {name: GGD Voorbeeldregio, oin: "00000001009876543000"}
purpose: vectors
legal_basis: vectors
schema:
  type: object
  properties:
    meetdatum: {type: string, format: date, default: 2026-01-01}
    tijdstip: {type: string, examples: [2026-01-01 10:00:00+01:00, 2026-01-01T09:00:00Z, 2026-1-1]}
fields:
  meetdatum: {treatment: generalise, to: year-month}
  tijdstip: {treatment: drop}
"""


class _TextTimestamps(yaml.SafeLoader):
    """YAML 1.1 as PyYAML's SafeLoader reads it, without the timestamp type."""


_TextTimestamps.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def yaml_entries() -> list[dict[str, Any]]:
    model = yaml.load(YAML_CONTRACT, Loader=_TextTimestamps)  # noqa: S506 - a SafeLoader
    return [
        {
            "why": "dates and date-times stay the text written (no UTC, no RFC 3339): the "
            "JSON twin, which must quote them, has the same digest",
            "yaml": YAML_CONTRACT,
            "json_model": model,
            "contract_digest": digest(model),
        }
    ]


def vectors() -> dict[str, Any]:
    cases = []
    for name, why, doc in corpus():
        derived = output_schema(doc)
        cases.append(
            {
                "name": name,
                "why": why,
                "contract": doc,
                "contract_digest": digest(doc),
                "output_schema": derived,
                "output_schema_rfc8785": rfc8785.dumps(derived).decode("utf-8"),
                "output_schema_digest": digest(derived),
            }
        )
    return {
        "description": "contract → output schema → output_schema_digest; "
        "the spec is docs/spec/delivery.md §8",
        "generator": "tests/vectors/output_schema/make_vectors.py",
        "cases": cases,
        "yaml_contracts": yaml_entries(),
    }


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("output_schemas.json")
    text = json.dumps(vectors(), indent=1, ensure_ascii=False) + "\n"
    out.write_text(text, encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
