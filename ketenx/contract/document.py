"""Strict loading of the YAML and JSON documents ketenx reads (a contract, its referenced
schema, a partner registry): a size limit, no duplicate key, no YAML tag or alias tricks, no
NaN; messages name the document and the member, never a value. :func:`read_document` also
inlines a contract's ``$ref``'d input schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..canonical import to_json_model
from ..errors import ContractError
from ..records.strictjson import (
    DECODER,
    DuplicateKey,
    NotANumber,
    OutOfRange,
    duplicate_at,
    whole_text,
)
from ..storage.fileio import open_file
from ..storage.secrets import refuse_key_material


def read_document(path: str | Path) -> dict[str, Any]:
    """Read a contract file (YAML or JSON) and inline a ``$ref``'d input schema.

    Raises :class:`ContractError` when the file cannot be read or parsed.
    """
    path = Path(path)
    doc = read_structured(path, what="contract")
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: a contract must be a mapping at the top level")
    schema = doc.get("schema")
    if isinstance(schema, dict) and set(schema) == {"$ref"} and isinstance(schema["$ref"], str):
        ref = schema["$ref"]
        if not ref.startswith("#"):
            # The file name is the contract's text: messages name the member, not the value.
            doc["schema"] = read_structured(
                path.parent / ref,
                what="schema referenced by the contract",
                shown=f"{path}: /schema/$ref",
            )
    return doc


#: The largest contract, schema or partner registry file that is read (docs/contract.md).
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def read_structured(path: Path, *, what: str, shown: str | None = None) -> Any:
    """Read a YAML or JSON document (a contract, a schema, a partner registry) as JSON data.

    Every failure is :class:`ContractError` naming the file as ``shown`` (default: the path)
    and a line and column, never a text from the document: a file larger than
    ``MAX_DOCUMENT_BYTES``, one nested more than ``canonical.MAX_DEPTH`` deep or holding more
    than ``canonical.MAX_VALUES`` values (YAML aliases expanded), invalid UTF-8, JSON or
    YAML, a key given twice. A path that looks like key material is refused unseen."""
    if shown is None:
        refuse_key_material(path, what)
        shown = str(path)
    if "\0" in str(path):  # no file has such a name (a document may hold one)
        raise ContractError(f"{shown}: {what} not found (the name holds a NUL character)")
    with open_file(path, what=what, shown=shown, error=ContractError) as handle:
        raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ContractError(f"{shown}: {what} is larger than {MAX_DOCUMENT_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"{shown}: {what} is not UTF-8 (byte {exc.start})") from None
    value = _parse(text, json_syntax=path.suffix.lower() == ".json", what=what, shown=shown)
    try:
        model = to_json_model(value)  # refuses a structure that refers to itself, first
    except ContractError as exc:  # name the file: the message names only the place in it
        raise ContractError(f"{shown}: {exc.message}", hint=exc.hint) from None
    if not whole_text(model):  # a lone surrogate escape (`\\ud800`): no Unicode text
        raise ContractError(f"{shown}: {what} holds a lone surrogate escape (no Unicode text)")
    return model


def _parse(text: str, *, json_syntax: bool, what: str, shown: str) -> Any:
    """The document's value (JSON or YAML); every failure a :class:`ContractError`."""
    try:
        if json_syntax:
            value = DECODER.decode(text.removeprefix("\ufeff"))  # a BOM, as YAML allows
        else:
            value = yaml.load(text, Loader=_ContractLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise ContractError(f"{shown}: {what} is nested too deeply") from None
    except _DuplicateKey as exc:
        raise ContractError(f"{shown}{exc.where}: {what} has the key `{exc.key}` twice") from None
    except DuplicateKey as exc:  # JSON: the key by its place (a name only where it is safe)
        where = duplicate_at(text.removeprefix("\ufeff"))
        raise ContractError(
            f"{shown}: {what} has a key twice, at {where}"
            if where
            else f"{shown}: {what} has the key `{exc.key}` twice"
        ) from None
    except NotANumber:
        raise ContractError(f"{shown}: {what} is not valid JSON: NaN or Infinity") from None
    except OutOfRange:
        raise ContractError(
            f"{shown}: {what} is not valid JSON: a number too large for a 64-bit float"
        ) from None
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"{shown}:{exc.lineno}:{exc.colno}: {what} is not valid JSON: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark is not None else shown
        # PyYAML quotes what it found (a tag, an alias, a character): never repeated.
        problem = _QUOTED.sub("…", getattr(exc, "problem", None) or "cannot be parsed")
        raise ContractError(f"{where}: {what} is not valid YAML: {problem}") from None
    except ValueError:  # an integer of more digits than Python converts (JSON or YAML)
        raise ContractError(
            f"{shown}: {what} holds a number of more digits than can be read"
        ) from None
    return value


class _DuplicateKey(ValueError):
    def __init__(self, key: str, where: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.where = where


class _ContractLoader(yaml.SafeLoader):
    """YAML as a contract needs it: a key given twice is an error (a reviewer would read one
    value and ketenx use the other), and timestamps stay the text that was written, so a YAML
    contract and its JSON twin have the same digest."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: keys it brings
                continue  # may be overridden here, as YAML merge keys intend
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: construct_mapping reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise _DuplicateKey(str(key), f":{mark.line + 1}:{mark.column + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
