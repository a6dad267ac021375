r"""Contract lint: every rule a contract must meet beyond its JSON Schema shape, one generator
of :class:`Problem`\ s per rule (references that resolve inside the contract, treatments that
fit their fields, near-miss keywords, the parties, the privacy block, …). :func:`lint_document`
runs them all; :func:`rule_message` words a schema violation without quoting a value."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from ..canonical import pointer
from ..records.formats import FORMATS, is_test_oin, oin_problem
from ..records.validation import (
    DIALECT,
    KEYWORDS_2020_12,
    NOT_A_REGEX,
    JsonPath,
    declared_types,
    ecma_regex,
    is_dialect,
    json_type,
    schema_nodes,
    subschemas,
)
from ..records.writers import FORMULA_START
from ..resources import load_schema

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a contract: where (JSON Pointer) and what."""

    pointer: str
    message: str
    severity: Severity = "error"

    def render(self, path: str) -> str:
        """One line; a name from the document that looks like key material is withheld."""
        from ..storage.material import withhold_key_material

        line = f"{path}: {self.pointer or '/'}: {self.severity}: {self.message}"
        return withhold_key_material(line)


def lint_document(doc: Mapping[str, Any]) -> list[Problem]:
    """Every problem with a contract document: its shape first, then its consistency."""
    validator = Draft202012Validator(
        load_schema("contract.schema.json"), format_checker=FormatChecker()
    )
    problems = [
        Problem(pointer(*err.absolute_path), rule_message(err, "schemas/contract.schema.json"))
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
    ]
    problems.extend(_unrepresentable(doc))
    if not isinstance(doc, Mapping):
        return problems
    problems.extend(_consistency(doc))
    problems.extend(_privacy_problems(doc))
    return problems


def _code(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def rule_message(
    error: ValidationError | SchemaError, schema_name: str, extra: Mapping[str, str] | None = None
) -> str:
    """A message for one JSON Schema error, written from the keyword, the schema and the type
    of the offending value, never from the value itself.

    jsonschema's own ``error.message`` quotes the instance, and a document may hold a pasted
    secret; so it is never used. ``extra`` gives a document kind's own words for a keyword.
    """
    keyword, instance = str(error.validator), error.instance
    rule: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if extra and keyword in extra:
        return f"breaks the `{keyword}` rule: {extra[keyword]}"
    if keyword == "required" and isinstance(instance, Mapping):
        missing = [name for name in rule if name not in instance]
        return "the required member " + ", ".join(f"`{n}`" for n in missing) + " is missing"
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = set(schema.get("properties", {}))
        unknown = sorted(k for k in instance if k not in known)
        return "a member the format does not know: " + ", ".join(f"`{k}`" for k in unknown)
    if keyword == "type":
        wanted = " or ".join(rule) if isinstance(rule, list) else str(rule)
        return f"must be of type {wanted}, not {json_type(instance)}"
    texts: dict[str, Callable[[], str]] = {
        "enum": lambda: "must be one of " + ", ".join(_code(v) for v in rule),
        "const": lambda: f"must be {_code(rule)}",
        "pattern": lambda: f"does not have the required form (pattern `{rule}`)",
        "format": lambda: f"is not a valid `{rule}`",
        "minLength": lambda: f"must have at least {rule} character{'s' * (rule != 1)}",
        "maxLength": lambda: f"must have at most {rule} characters",
        "minimum": lambda: f"must be at least {rule}",
        "maximum": lambda: f"must be at most {rule}",
        "minItems": lambda: f"must have at least {rule} item{'s' * (rule != 1)}",
        "maxItems": lambda: f"must have at most {rule} items",
        "uniqueItems": lambda: "holds an item more than once",
        "minProperties": lambda: f"must have at least {rule} member{'s' * (rule != 1)}",
    }
    if keyword in texts:
        return texts[keyword]()
    return f"breaks the `{keyword}` rule of {schema_name}"


_SAFE_INTEGER = 2**53 - 1


def _nodes(
    value: Any, path: JsonPath = (), skip: frozenset[str] = frozenset()
) -> Iterator[tuple[JsonPath, Any]]:
    """Every value of a JSON document with its path, depth first (keys in ``skip`` are not
    entered)."""
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip:
                yield from _nodes(item, (*path, key), skip)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nodes(item, (*path, i), skip)


def _unrepresentable(doc: Any) -> Iterator[Problem]:
    """Numbers that RFC 8785 canonical JSON (and so the contract digest) cannot carry:
    integers beyond ±(2^53 − 1) and NaN or infinite floats."""
    for path, value in _nodes(doc):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and abs(value) > _SAFE_INTEGER:
            yield Problem(
                pointer(*path),
                "an integer beyond ±(2^53 − 1) cannot be written as canonical JSON (RFC 8785); "
                "the contract digest needs it",
            )
        elif isinstance(value, float) and not math.isfinite(value):
            yield Problem(pointer(*path), "NaN and infinity are not JSON numbers")


# JSON Schema 2020-12's own format names: annotations that ketenx does not check (docs/formats.md).
_ANNOTATION_FORMATS = frozenset(
    {
        "time", "duration", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6", "uri",
        "uri-reference", "iri", "iri-reference", "uuid", "uri-template", "json-pointer",
        "relative-json-pointer", "regex",
    }
)  # fmt: skip


_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})  # values, not schemas


def _unchecked_formats(schema: Any) -> Iterator[Problem]:
    """A warning for a ``format`` that is neither ketenx's nor a standard one: most likely a
    typo (``nl-bsm``), which would silently turn a check off."""
    for path, value in _nodes(schema, ("schema",), _DATA_KEYWORDS):
        if path[-1] != "format" or not isinstance(value, str):
            continue
        if value not in FORMATS and value not in _ANNOTATION_FORMATS:
            yield Problem(
                pointer(*path),
                f"an unknown format is not checked (ketenx checks: {', '.join(FORMATS)}); a typo?",
                "warning",
            )


ANNOTATION_PREFIX = "x-"


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring characters."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]


def near_keyword(key: str) -> str | None:
    """The JSON Schema 2020-12 keyword that ``key`` (not one itself) most likely misspells:
    equal but for letter case, ``-``/``_``, or within one edit (two for keywords of eight
    characters or more); ``None`` when it is not a near miss."""
    if key in KEYWORDS_2020_12 or key.startswith(ANNOTATION_PREFIX):
        return None
    folded = key.casefold().replace("-", "").replace("_", "")
    best: tuple[int, str] | None = None
    for keyword in KEYWORDS_2020_12:
        if folded == keyword.casefold():
            return keyword
        if abs(len(key) - len(keyword)) > 2:
            continue
        distance = _edits(key, keyword)
        if distance <= (2 if len(keyword) >= 8 else 1) and (best is None or distance < best[0]):
            best = (distance, keyword)
    return None if best is None else best[1]


def _keyword_problems(schema: Any) -> Iterator[Problem]:
    """A member of a schema object that is a near miss of a keyword (``requierd``,
    ``propertise``, ``maxlength``): JSON Schema ignores it, so it would silently turn a rule
    off. An annotation of one's own is marked with the prefix ``x-``."""
    for path, node in schema_nodes(schema):
        for key in node:
            keyword = near_keyword(key) if isinstance(key, str) else None
            if keyword is not None:
                yield Problem(
                    pointer(*path, key),
                    f"not a JSON Schema 2020-12 keyword: did you mean `{keyword}`? (JSON "
                    "Schema would ignore it; mark an annotation of your own with the prefix "
                    f"`{ANNOTATION_PREFIX}`)",
                )


_BASE = "urn:ketenx:contract-schema"


def _reference_problems(schema: Mapping[str, Any]) -> Iterator[Problem]:
    """Every ``$ref`` and ``$dynamicRef`` must resolve inside the input schema: the digest
    covers the contract and its one inlined schema file, and nothing is ever fetched (no
    network at validation time). Relative to the schema's root, only ``#/$defs/…`` (or
    ``#/definitions/…``) is allowed, so that the delivered record's schema, which carries
    ``$defs`` along, can carry what they point to; inside a subschema with its own ``$id``,
    any reference that resolves (its anchors, its ``$defs``, itself)."""
    root = DRAFT202012.create_resource(schema)
    root_resolver = Registry().with_resource(_BASE, root).resolver(base_uri=_BASE)
    stack: list[tuple[JsonPath, Any, Any, bool]] = [(("schema",), schema, root_resolver, True)]
    # Schema objects (by identity) → the ones applied to the same value: in-place applicators
    # and reference targets, with the reference's pointer. A cycle never ends.
    in_place: dict[int, list[tuple[Any, str | None]]] = {}
    nodes: list[Mapping[str, Any]] = []
    while stack:
        path, node, resolver, at_root = stack.pop()
        if not isinstance(node, Mapping):
            continue
        nodes.append(node)
        edges = in_place.setdefault(id(node), [])
        edges.extend((sub, None) for below, sub in subschemas(node) if below[0] in _IN_PLACE)
        if isinstance(node.get("$id"), str) and path != ("schema",):
            resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
            at_root = False
        if "$schema" in node and not is_dialect(node["$schema"]):
            yield Problem(
                pointer(*path, "$schema"),
                f"a contract's schema is JSON Schema 2020-12 throughout (`{DIALECT}`): "
                "ketenx neither switches dialects nor fetches a meta-schema",
            )
        for key in ("$ref", "$dynamicRef"):
            target = node.get(key)
            if not isinstance(target, str):
                continue
            where = pointer(*path, key)
            if at_root and not target.startswith(("#/$defs/", "#/definitions/")):
                yield Problem(
                    where,
                    "the reference does not point into `$defs`: relative to the schema's root "
                    "only references to `#/$defs/…` are allowed (the whole schema may be one "
                    "file `$ref`; a subschema with its own `$id` may refer inside itself), so "
                    "the delivered record's schema can carry what they point to; ketenx never "
                    "fetches a schema",
                )
                continue
            try:
                edges.append((resolver.lookup(target).contents, where))
            except (Unresolvable, ValueError, TypeError):
                yield Problem(
                    where,
                    "the reference points to nothing in the contract's schema (ketenx never "
                    "fetches a schema: no network at validation time)",
                )
        stack.extend(((*path, *below), sub, resolver, at_root) for below, sub in subschemas(node))
    for where in _loops(nodes, in_place):
        yield Problem(
            where,
            "the reference leads back to itself without going into the value (through "
            "`$ref`, `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else` or "
            "`dependentSchemas` alone): validating it would never end",
        )


_IN_PLACE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas"})


def _loops(
    nodes: list[Mapping[str, Any]], edges: Mapping[int, list[tuple[Any, str | None]]]
) -> list[str]:
    """The pointers of the references that close a cycle of in-place applications."""
    found: list[str] = []
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in nodes:
        if id(start) not in state:
            state[id(start)] = 1
            _depth_first(start, edges, state, found)
    return sorted(set(found))


def _depth_first(
    start: Mapping[str, Any],
    edges: Mapping[int, list[tuple[Any, str | None]]],
    state: dict[int, int],
    found: list[str],
) -> None:
    stack: list[tuple[Any, int]] = [(start, 0)]
    while stack:
        node, i = stack.pop()
        out = edges.get(id(node), [])
        if i == len(out):
            state[id(node)] = 2
            continue
        stack.append((node, i + 1))
        target, where = out[i]
        seen = state.get(id(target))
        if seen == 1 and where is not None:
            found.append(where)
        elif seen is None and isinstance(target, Mapping):
            state[id(target)] = 1
            stack.append((target, 0))


def _regex(pattern: object) -> bool:
    if isinstance(pattern, str):
        ecma_regex(pattern)
    return True


def _meta_format_checker() -> FormatChecker:
    """The meta-schema's formats, with ``regex`` as ECMA-262 (what ``pattern`` and the keys
    of ``patternProperties`` are), not Python's ``re``: ``\\p{Letter}`` is a regular
    expression, ``(?P<name>…)`` is not."""
    checker = FormatChecker()
    checker.checks("regex", raises=NOT_A_REGEX)(_regex)
    return checker


_SCALARS = frozenset({"string", "integer", "number", "boolean", "null"})


#: What each treatment can treat: (the JSON types it accepts, null included, and in words).
_FITS: Mapping[str, tuple[frozenset[str], str]] = {
    "pseudonymise": (_SCALARS, "a string, number or boolean"),
    "encrypt": (_SCALARS, "a string, number or boolean"),
    "year": (frozenset({"string", "null"}), "a date or date-time string"),
    "year-month": (frozenset({"string", "null"}), "a date or date-time string"),
    "age-band": (frozenset({"string", "null"}), "a date or date-time string"),
    "pc4": (frozenset({"string", "null"}), "a postcode string"),
    "bucket": (frozenset({"integer", "number", "null"}), "a number"),
}


def _treatment_fit(
    fields: Mapping[str, Any], properties: Mapping[str, Any], schema: Mapping[str, Any]
) -> Iterator[Problem]:
    """Every treatment fits every JSON type its field can hold (:func:`declared_types`:
    ``type``, ``enum``/``const``, ``$ref``, ``anyOf``/``oneOf``/``allOf``), so that a
    contract lint accepts never fails in ``pseudonymise`` blaming the data. A field whose
    schema states no type at all is a warning: its values are judged one by one."""
    for name, spec in fields.items():
        if not isinstance(spec, Mapping) or name not in properties:
            continue
        treatment = spec.get("treatment")
        how = spec.get("to") if treatment == "generalise" else treatment
        if not isinstance(how, str) or how not in _FITS:
            continue
        allowed, words = _FITS[how]
        types = declared_types(properties[name], schema)
        if types is not None and types <= allowed:
            continue
        shown = treatment if how == treatment else f"{treatment} to {how}"
        if types is None:  # it may work, value by value: what does not fit is rejected
            yield Problem(
                pointer("fields", name),
                f"`{shown}` needs {words}, but the schema of field `{name}` states no type "
                "(records whose value does not fit are rejected): state its type",
                "warning",
            )
            continue
        held = " or ".join(sorted(types - allowed - ({"integer"} if "number" in types else set())))
        yield Problem(
            pointer("fields", name),
            f"`{shown}` needs {words}, but field `{name}` may hold {held}: "
            "no such value can be treated; change the field's type or its treatment",
        )


def _consistency(doc: Mapping[str, Any]) -> list[Problem]:
    """The checks beyond the contract's own schema, one generator per rule, in this order;
    the schema's checks only when it is a valid JSON Schema, the fields' only when it lists
    properties."""
    problems = [*_party_problems(doc)]
    schema = doc.get("schema")
    if not isinstance(schema, Mapping):
        return problems
    meta = _meta_schema_problem(schema)
    if meta is not None:
        return [*problems, meta]
    problems += [
        *_reference_problems(schema),
        *_keyword_problems(schema),
        *_unchecked_formats(schema),
        *_record_shape_problems(schema),
    ]
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return problems
    problems += _required_problems(schema, properties)
    fields = doc.get("fields")
    if isinstance(fields, Mapping):
        problems += [
            *_coverage_problems(fields, properties),
            *_output_name_problems(fields),
            *_treatment_fit(fields, properties, schema),
            *_encrypted_type_problems(fields, properties, schema),
        ]
    return [*problems, *_domain_problems(doc)]


def _party_problems(doc: Mapping[str, Any]) -> Iterator[Problem]:
    for role in ("sender", "recipient"):
        party = doc.get(role)
        if isinstance(party, Mapping) and isinstance(party.get("oin"), str):
            oin = party["oin"]
            why = oin_problem(oin)
            if why is not None:
                yield Problem(pointer(role, "oin"), f"not a valid OIN: {why}")
            elif is_test_oin(oin):
                yield Problem(pointer(role, "oin"), "a test OIN (prefix 00000099)", "warning")


def _meta_schema_problem(schema: Mapping[str, Any]) -> Problem | None:
    try:
        Draft202012Validator.check_schema(schema, format_checker=_meta_format_checker())
    except SchemaError as exc:
        return Problem(
            pointer("schema", *exc.path),
            "not a valid JSON Schema 2020-12: "
            + rule_message(exc, "the JSON Schema 2020-12 meta-schema"),
        )
    return None


def _record_shape_problems(schema: Mapping[str, Any]) -> Iterator[Problem]:
    if schema.get("type") != "object":
        yield Problem("/schema/type", "the input schema must have type: object")
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        yield Problem("/schema/properties", "the input schema must list the record's properties")


def _required_problems(
    schema: Mapping[str, Any], properties: Mapping[str, Any]
) -> Iterator[Problem]:
    for i, name in enumerate(schema.get("required", [])):
        if name not in properties:
            yield Problem(
                pointer("schema", "required", i), "a required field not among the properties"
            )


def _coverage_problems(
    fields: Mapping[str, Any], properties: Mapping[str, Any]
) -> Iterator[Problem]:
    """One treatment per property, and no treatment of a field the schema does not have."""
    for name in fields:
        if name not in properties:
            yield Problem(pointer("fields", name), f"treated field `{name}` is not in the schema")
    for name in properties:
        if name not in fields:
            yield Problem(
                pointer("schema", "properties", name),
                f"schema property `{name}` has no treatment; minimisation means nothing "
                "is passed on by default: give it one (`drop` if it is not needed)",
            )


def _output_name_problems(fields: Mapping[str, Any]) -> Iterator[Problem]:
    """Output column names: no formula start, no two fields to one name, not all dropped."""
    outputs: dict[str, str] = {}
    for name, spec in fields.items():
        if not isinstance(spec, Mapping) or spec.get("treatment") == "drop":
            continue
        out = spec.get("as", name)
        if not isinstance(out, str):
            continue
        if out.startswith(FORMULA_START):
            yield Problem(
                pointer("fields", name),
                "the output column name starts like a spreadsheet formula "
                "(= + - @ TAB CR): a CSV header would carry it; rename it with `as:`",
            )
        if out in outputs:
            yield Problem(
                pointer("fields", name),
                f"the output name is also produced by field `{outputs[out]}`",
            )
        outputs[out] = name
    if fields and not outputs and all(isinstance(v, Mapping) for v in fields.values()):
        yield Problem("/fields", "every field is dropped: the delivery would carry nothing")


def _encrypted_type_problems(
    fields: Mapping[str, Any], properties: Mapping[str, Any], schema: Mapping[str, Any]
) -> Iterator[Problem]:
    for name, spec in fields.items():
        prop = properties.get(name)
        if not (isinstance(spec, Mapping) and spec.get("treatment") == "encrypt"):
            continue
        if not isinstance(prop, Mapping):
            continue
        listed = declared_types(prop, schema) or frozenset()
        if "string" in listed and listed & {"integer", "number", "boolean"}:
            yield Problem(
                pointer("fields", name),
                f"encrypted field `{name}` may be a string or a number/boolean: "
                '`reidentify` gives a string back for both (7 and "7" encrypt alike)',
                "warning",
            )


def _domain_problems(doc: Mapping[str, Any]) -> Iterator[Problem]:
    pseudonymisation = doc.get("pseudonymisation")
    if isinstance(pseudonymisation, Mapping):
        domain = pseudonymisation.get("domain")
        if isinstance(domain, str) and "/delivery/" in domain:
            yield Problem(
                pointer("pseudonymisation", "domain"),
                "an explicit domain must not contain `/delivery/`: it could coincide with "
                "the per-delivery domain of another delivery (docs/spec/pseudonyms.md §3)",
            )


# Field names and formats of direct identifiers: a contract that keeps one as it is gets a
# warning (docs/privacy.md). Dutch names compound: `emailadres`, `bsnnummer`, `roepnaam`.
_DIRECT_FORMATS = frozenset({"nl-bsn", "email", "iban"})


_DIRECT_PARTS = re.compile(  # anywhere in the name
    r"bsn|burgerservicenummer|sofinummer|e_?mail|telefoon|mobiel|iban|rekeningnummer|"
    r"voornaam|voornamen|achternaam|roepnaam|geslachtsnaam|woonadres|straatnaam|huisnummer",
    re.IGNORECASE,
)


_DIRECT_WORDS = re.compile(  # as a word of the name (`gemeentenaam` is no person's name)
    r"(?:^|_)(?:naam|namen|name|surname|phone|address|adres|straat|a_?nummer)(?:$|_)",
    re.IGNORECASE,
)


def _formats(prop: Any) -> Iterator[Any]:
    """The formats a property can carry, through ``anyOf``/``oneOf``/``allOf`` branches."""
    if isinstance(prop, Mapping):
        yield prop.get("format")
        for key in ("anyOf", "oneOf", "allOf"):
            branches = prop.get(key)
            if isinstance(branches, list):
                for branch in branches:
                    yield from _formats(branch)


def _privacy_problems(doc: Mapping[str, Any]) -> Iterator[Problem]:
    """The ``privacy`` block against the fields: what is measured must be delivered, and
    measurable; and a kept field that looks like a direct identifier is warned about."""
    schema = doc.get("schema")
    fields = doc.get("fields")
    if not isinstance(schema, Mapping) or not isinstance(fields, Mapping):
        return
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}

    def treatment(name: str) -> Any:
        spec = fields.get(name)
        return spec.get("treatment") if isinstance(spec, Mapping) else None

    yield from _direct_identifier_problems(properties, treatment)
    privacy = doc.get("privacy")
    if not isinstance(privacy, Mapping):
        return
    qis = [q for q in privacy.get("quasi_identifiers") or [] if isinstance(q, str)]
    sensitive = [s for s in privacy.get("sensitive") or [] if isinstance(s, str)]
    yield from _quasi_identifier_problems(qis, properties, treatment)
    yield from _sensitive_problems(sensitive, qis, properties, treatment)
    yield from _threshold_problems(privacy, qis, sensitive)


def _direct_identifier_problems(
    properties: Mapping[str, Any], treatment: Callable[[str], Any]
) -> Iterator[Problem]:
    for name, prop in properties.items():
        if treatment(name) != "keep" or not isinstance(name, str):
            continue
        direct_format = any(f in _DIRECT_FORMATS for f in _formats(prop))
        if direct_format or _DIRECT_PARTS.search(name) or _DIRECT_WORDS.search(name):
            yield Problem(
                pointer("fields", name),
                "looks like a direct identifier and is kept as it is: drop, pseudonymise or "
                "encrypt it (or rename the field if it is not one)",
                "warning",
            )


def _quasi_identifier_problems(
    qis: list[str], properties: Mapping[str, Any], treatment: Callable[[str], Any]
) -> Iterator[Problem]:
    for i, name in enumerate(qis):
        where = pointer("privacy", "quasi_identifiers", i)
        how = treatment(name)
        if name not in properties:
            yield Problem(where, "an unknown quasi-identifier: not a schema property")
        elif how == "drop":
            yield Problem(
                where,
                "a dropped field is not delivered, so it is not measured: remove it from "
                "quasi_identifiers",
                "warning",
            )
        elif how in ("pseudonymise", "encrypt"):
            done = "pseudonymised" if how == "pseudonymise" else "encrypted"
            yield Problem(
                where,
                f"a quasi-identifier that is {done} stays exactly as identifying (equal values "
                "give equal tokens): generalise it instead, or drop it",
                "warning",
            )


def _sensitive_problems(
    sensitive: list[str],
    qis: list[str],
    properties: Mapping[str, Any],
    treatment: Callable[[str], Any],
) -> Iterator[Problem]:
    for i, name in enumerate(sensitive):
        where = pointer("privacy", "sensitive", i)
        if name not in properties:
            yield Problem(where, "an unknown sensitive attribute: not a schema property")
        elif name in qis:
            yield Problem(where, "a sensitive attribute cannot also be a quasi-identifier")
        elif treatment(name) == "drop":
            yield Problem(
                where, "a dropped field is not delivered: its l-diversity cannot be measured"
            )


def _threshold_problems(
    privacy: Mapping[str, Any], qis: list[str], sensitive: list[str]
) -> Iterator[Problem]:
    thresholds = [t for t in ("k", "l", "max_risk") if t in privacy]
    if thresholds and not qis:
        yield Problem(
            pointer("privacy", thresholds[0]),
            "a threshold without quasi_identifiers measures nothing: list them",
        )
    if "l" in privacy and not sensitive:
        yield Problem(pointer("privacy", "l"), "l needs the sensitive attributes it applies to")
    if sensitive and "l" not in privacy:
        yield Problem(
            pointer("privacy", "sensitive"),
            "sensitive attributes without l: their diversity is reported, not enforced",
            "warning",
        )
    if privacy.get("max_suppression") and not thresholds:
        yield Problem(
            pointer("privacy", "max_suppression"),
            "max_suppression without a threshold suppresses nothing",
            "warning",
        )
