"""``ketenx contract init --from EXPORT``: a draft contract from an export's header and values.

The draft is a starting point that ``contract lint`` rejects until a person fills it in:
placeholders for the parties, purpose and legal basis, and **every field dropped**
(minimisation: the user opts fields in). The schema is inferred from the values read:

* the JSON type of each column (CSV: a column whose every cell is a plain integer without
  a leading zero is an integer, a plain number a number, ``true``/``false`` a boolean; any
  other column stays a string, so codes and identifiers keep their leading zeros);
* a ketenx format when every value passes it (nl-bsn by the 11-proef, nl-postcode, date,
  date-time, email, iban);
* ``null`` and not ``required`` when a cell is empty (a key is missing or null in JSON);
* an ``enum`` only for a column of **short codes** (:data:`ENUM_RULE`).

The draft never carries a value from the data other than those short codes, and never a
column name that could be personal data (a header glued to a data row): such a name is
replaced by its position (``column_4``) and the draft says so.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import InputFileError, RejectedError
from ..records.formats import is_bsn, is_date, is_datetime, is_email, is_iban, is_postcode
from ..records.names import safe_name
from ..records.readers import CsvReader, InputFormat, Malformed, json_array_batches, jsonl_batches
from ..records.reports import NOT_AN_OBJECT, rejection

#: Formats tried on a string column, in this order; the first that every value passes wins.
DETECTED_FORMATS: tuple[tuple[str, Any, str], ...] = (
    ("nl-bsn", is_bsn, "every value passes the 11-proef: a BSN"),
    ("nl-postcode", is_postcode, "every value is a Dutch postcode"),
    ("date", is_date, "every value is an RFC 3339 date"),
    ("date-time", is_datetime, "every value is an RFC 3339 date-time"),
    ("email", is_email, "every value is an e-mail address"),
    ("iban", is_iban, "every value is an IBAN with a valid checksum"),
)

ENUM_MAX_VALUES = 10
ENUM_MAX_LENGTH = 3
ENUM_MIN_REPEATS = 2
ENUM_RULE = (
    f"an enum is drafted only for a string column of at most {ENUM_MAX_VALUES} distinct values, "
    f"each of 1 to {ENUM_MAX_LENGTH} ASCII letters or digits and each seen at least "
    f"{ENUM_MIN_REPEATS} times (short codes such as M/V/X); never from names or identifiers"
)
_CODE = re.compile(rf"[A-Za-z0-9]{{1,{ENUM_MAX_LENGTH}}}")
_CSV_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_CSV_NUM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_BOOL_WORDS = frozenset({"true", "false"})
_MAX_COLUMNS = 2000

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "~"})


def _finite(text: str) -> bool:
    return math.isfinite(float(text))


def safe_column_name(name: str) -> bool:
    """Whether a name read from the data may be written into the draft: the rule reports
    use for names from the data (:func:`ketenx.records.names.safe_name`)."""
    return safe_name(name)


@dataclass
class _Column:
    """What the draft needs to know about one column, in bounded memory."""

    name: str
    seen: int = 0  # records that have the column at all (JSON) or every record (CSV)
    empty: int = 0  # empty cells (CSV), nulls (JSON)
    kinds: set[str] = field(default_factory=set)  # JSON types of the non-empty values
    strings: int = 0
    formats: dict[str, bool] = field(
        default_factory=lambda: {f: True for f, _, _ in DETECTED_FORMATS}
    )
    csv_int: bool = True
    csv_num: bool = True
    csv_bool: bool = True
    digits: bool = True
    codes: dict[str, int] | None = field(default_factory=dict)  # None: not a code column

    def add_cell(self, cell: str) -> None:
        """A CSV cell (always a string; empty means no value)."""
        self.seen += 1
        if cell == "":
            self.empty += 1
            return
        short = len(cell) <= 300  # a longer number is no everyday value (nor a safe int)
        self.csv_int = self.csv_int and short and _CSV_INT.fullmatch(cell) is not None
        self.csv_num = (
            self.csv_num and short and _CSV_NUM.fullmatch(cell) is not None and _finite(cell)
        )
        self.csv_bool = self.csv_bool and cell.lower() in _BOOL_WORDS
        self.digits = self.digits and cell.isascii() and cell.isdigit()
        self._add_string(cell)

    def add_value(self, value: Any) -> None:
        """A JSON value of a record that has this key."""
        self.seen += 1
        if value is None:
            self.empty += 1
        elif isinstance(value, bool):
            self.kinds.add("boolean")
        elif isinstance(value, int):
            self.kinds.add("integer")
        elif isinstance(value, float):
            self.kinds.add("number")
        elif isinstance(value, str):
            self.kinds.add("string")
            self._add_string(value)
        elif isinstance(value, dict):
            self.kinds.add("object")
        else:
            self.kinds.add("array")

    def _add_string(self, text: str) -> None:
        self.strings += 1
        for name, check, _ in DETECTED_FORMATS:
            if self.formats[name] and not check(text):
                self.formats[name] = False
        if self.codes is not None:
            if _CODE.fullmatch(text) and (text in self.codes or len(self.codes) < ENUM_MAX_VALUES):
                self.codes[text] = self.codes.get(text, 0) + 1
            else:
                self.codes = None


@dataclass(frozen=True)
class DraftField:
    """One drafted property: its name in the draft, its schema and why."""

    name: str
    schema: dict[str, Any]
    required: bool
    reasons: tuple[str, ...]
    withheld: bool = False  # the data's name was replaced by the column's position


@dataclass(frozen=True)
class Draft:
    """A drafted contract: ``text`` is the YAML to write; the rest is for callers and tests."""

    text: str
    records: int
    fields: tuple[DraftField, ...]


def _csv_columns(
    stream: IO[bytes], delimiter: str | None, sample: int | None
) -> tuple[list[_Column], int]:
    reader = CsvReader(stream, delimiter=delimiter)
    if reader.header is None:
        raise RejectedError("the export has no header line: nothing to draft from")
    if len(reader.header) > _MAX_COLUMNS:
        raise RejectedError(f"the export has more than {_MAX_COLUMNS} columns")
    columns = [_Column(name) for name in reader.header]
    records = 0
    for batch in reader.batches():
        for row in batch:
            if sample is not None and records >= sample:
                return columns, records
            records += 1
            if len(row) != len(columns):
                raise RejectedError(
                    f"record {records}: rule row-length: the row has {len(row)} cells, the "
                    f"header {len(columns)}"
                )
            for column, cell in zip(columns, row, strict=True):
                column.add_cell(cell)
    return columns, records


def _json_columns(
    batches: Iterable[list[Any]], sample: int | None, names: Sequence[str] = ()
) -> tuple[list[_Column], int]:
    """The columns of JSON records (``names``: columns known up front, in their order, such
    as a Parquet file's, even when it holds no record)."""
    columns: dict[str, _Column] = {name: _Column(name) for name in names}
    records = 0
    for batch in batches:
        for record in batch:
            if sample is not None and records >= sample:
                return list(columns.values()), records
            records += 1
            if not isinstance(record, dict):
                raise rejection("input", records, "", "type", NOT_AN_OBJECT)
            for key, value in record.items():
                column = columns.get(key)
                if column is None:
                    if len(columns) >= _MAX_COLUMNS:
                        raise RejectedError(f"the records have more than {_MAX_COLUMNS} keys")
                    column = columns[key] = _Column(key)
                column.add_value(value)
    return list(columns.values()), records


def _kinds(column: _Column, values: int, csv: bool) -> set[str]:
    """The JSON types a column's values have (a CSV cell's type as it reads)."""
    if not csv:
        kinds = set(column.kinds)
        if {"integer", "number"} <= kinds:
            kinds.discard("integer")
        return kinds
    if not values:
        return set()
    if column.csv_bool:
        return {"boolean"}
    if column.csv_int and not column.formats["nl-bsn"]:
        return {"integer"}
    if column.csv_num and not column.csv_int:
        return {"number"}
    return {"string"}


def _infer(column: _Column, records: int, csv: bool) -> tuple[dict[str, Any], bool, list[str]]:
    """Schema, required and the reasons for one column."""
    reasons: list[str] = []
    values = column.seen - column.empty
    kinds = _kinds(column, values, csv)
    schema: dict[str, Any] = {}
    order = ("string", "integer", "number", "boolean", "object", "array")
    types = [t for t in order if t in kinds]
    if column.empty or not values:
        types.append("null")
    if not types:
        types = ["null"]
    schema["type"] = types[0] if len(types) == 1 else types
    if kinds == {"string"}:
        detected = next(((n, why) for n, _, why in DETECTED_FORMATS if column.formats[n]), None)
        if detected is not None:
            schema["format"] = detected[0]
            reasons.append(detected[1])
        elif (
            column.codes
            and all(n >= ENUM_MIN_REPEATS for n in column.codes.values())
            and column.strings == values
        ):
            # An enum constrains null too: a nullable column's enum must list it.
            schema["enum"] = [*sorted(column.codes), *([None] if "null" in types else [])]
            reasons.append(f"{len(column.codes)} short codes")
        elif csv and column.digits:
            reasons.append("digits with leading zeros or an identifier: kept as a string")
    elif kinds:
        reasons.append(f"every value is {'an' if types[0] == 'integer' else 'a'} {types[0]}")
    required = values == records and column.seen == records and records > 0
    if required:
        reasons.append("never empty: required")
    elif records:
        reasons.append("sometimes empty or missing: nullable, not required")
    return schema, required, reasons


def _fields(columns: Sequence[_Column], records: int, csv: bool) -> list[DraftField]:
    drafted: list[DraftField] = []
    used: set[str] = set()
    for position, column in enumerate(columns, start=1):
        schema, required, reasons = _infer(column, records, csv)
        name, withheld = column.name, False
        if not safe_column_name(name) or name in used:
            name, withheld = f"column_{position}", True
            reasons.insert(0, f"the name of column {position} is withheld: it may be data")
        used.add(name)
        drafted.append(DraftField(name, schema, required, tuple(reasons), withheld))
    return drafted


def _yaml_key(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name) and name.lower() not in _YAML_WORDS:
        return name
    return json.dumps(name)


_PLAIN_VALUE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _yaml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if (
        isinstance(value, str)
        and _PLAIN_VALUE.fullmatch(value)
        and value.lower() not in _YAML_WORDS
    ):
        return value
    return json.dumps(value, ensure_ascii=False)


def _flow(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in mapping.items()) + "}"


_TREATMENT_HINTS = {
    "nl-bsn": "pseudonymise (as: persoon_id) if the recipient must link records",
    "nl-postcode": "generalise (to: pc4) if the region is needed",
    "date": "generalise (to: year or year-month, or age-band) if needed",
    "date-time": "generalise (to: year or year-month) if needed",
    "email": "drop, or encrypt if the recipient must contact people via you",
    "iban": "drop",
}


def _render(fields: Sequence[DraftField], records: int, source: str) -> str:
    width = max([len(_yaml_key(f.name)) for f in fields] + [8]) + 1
    lines = [
        f"# Draft exchange contract, written by `ketenx contract init` from {source}",
        f"# ({records} record{'' if records == 1 else 's'} read). Fill in every <...> "
        "placeholder and every empty value:",
        "# `ketenx contract lint` rejects this draft until you have done so.",
        "# Every field is dropped (minimisation): give each field the purpose needs a",
        "# treatment (keep, pseudonymise, encrypt, generalise, mask, redact; see",
        "# docs/pseudonymise.md). Check every inferred type, format and `required`.",
        *textwrap.wrap(f"Enums: {ENUM_RULE}.", 88, initial_indent="# ", subsequent_indent="# "),
        "ketenx: 1",
        "id: <contract-id>              # lower-case letters, digits, . _ -",
        "version: 1",
        "title: <title>",
        'sender:    {name: <sender name>, oin: "<sender OIN: 20 digits>"}',
        'recipient: {name: <recipient name>, oin: "<recipient OIN: 20 digits>"}',
        'purpose: ""                    # the one purpose of this exchange (doelbinding)',
        'legal_basis: ""                # the legal basis (grondslag)',
        "schema:",
        "  type: object",
        "  properties:",
    ]
    for f in fields:
        key = _yaml_key(f.name) + ":"
        lines.append(f"    {key:<{width}} {_flow(f.schema)}  # {'; '.join(f.reasons)}")
    required = [_yaml_key(f.name) for f in fields if f.required]
    lines.append(f"  required: [{', '.join(required)}]")
    lines.append("  additionalProperties: false")
    lines.append("fields:")
    for f in fields:
        key = _yaml_key(f.name) + ":"
        hint = _TREATMENT_HINTS.get(str(f.schema.get("format")), "")
        comment = f"  # e.g. {hint}" if hint else ""
        lines.append(f"  {key:<{width}} {{treatment: drop}}{comment}")
    lines += [
        "pseudonymisation:",
        "  policy: deterministic",
        "privacy:",
        "  quasi_identifiers: []          # e.g. the generalised birth date, PC4 and sex",
        "  k: 5",
    ]
    return "\n".join(lines) + "\n"


def draft_contract(
    stream: IO[bytes],
    input_format: InputFormat,
    *,
    source: str = "an export",
    delimiter: str | None = None,
    sample: int | None = None,
) -> Draft:
    """Draft a contract from an export (CSV, JSON Lines, a JSON array or Parquet).

    ``sample`` limits how many records are read (default: all, so that ``ketenx check`` of
    the same export against the completed draft passes). ``source`` names the export in the
    draft's first comment line."""
    if sample is not None and sample < 1:
        raise ValueError("sample must be at least 1")
    try:
        if input_format == "csv":
            columns, records = _csv_columns(stream, delimiter, sample)
        elif input_format == "parquet":
            from ..records.engine.parquetcolumns import parquet_records

            names, parquet_batches = parquet_records(stream)
            columns, records = _json_columns(parquet_batches, sample, names)
        else:
            batches: Iterator[list[Any]] = (
                jsonl_batches(stream) if input_format == "jsonl" else json_array_batches(stream)
            )
            columns, records = _json_columns(batches, sample)
    except Malformed as problem:
        raise RejectedError(
            f"cannot draft from the export: record {problem.record}: rule {problem.rule}"
            + (f": {problem.message}" if problem.message else "")
        ) from None
    except OSError as exc:
        raise InputFileError(f"{source}: cannot read: {exc.strerror}") from None
    if not columns:
        raise RejectedError("the export has no columns or keys: nothing to draft from")
    fields = _fields(columns, records, input_format == "csv")
    return Draft(_render(fields, records, source), records, tuple(fields))
